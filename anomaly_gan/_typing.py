"""Type aliases shared across the package; no logic."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float32]
Float64Array = npt.NDArray[np.float64]
FrameLike = pd.DataFrame | npt.ArrayLike
