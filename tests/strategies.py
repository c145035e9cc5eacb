"""Hypothesis strategies for mixed-type tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st


@st.composite
def mixed_frames(
    draw: st.DrawFn, min_rows: int = 5, max_rows: int = 40
) -> pd.DataFrame:
    """A frame with a numeric column (some missing), a categorical and a boolean one."""
    n = draw(st.integers(min_rows, max_rows))
    finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32)
    amounts = draw(
        st.lists(st.one_of(finite, st.just(float("nan"))), min_size=n, max_size=n)
    )
    if all(np.isnan(a) for a in amounts):
        amounts[0] = 1.0
    cats = draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=n, max_size=n))
    flags = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return pd.DataFrame({"amount": amounts, "kind": cats, "flag": flags})
