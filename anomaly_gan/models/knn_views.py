"""The knn component: distance to the nearest normal rows, in several views.

Which rows are "near" depends on how numeric columns are scaled. A *view* is
one scaling of the model's columns (categorical, boolean and missing-value
handling are the same in every view):

- ``quantile``: each numeric column through its empirical quantiles onto a
  standard normal (heavy tails and monotone distortions no longer matter);
- ``standard``: mean and standard deviation (PyOD's KNN on ADBench);
- ``robust``: ``log1p`` on heavy-tailed columns, median and IQR (the GAN's).

In each view the mean distance from a row to its ``k`` nearest reference rows
(training rows, capped) is normalised by its median and spread on the held-out
normal rows; the component's raw value is the mean of these normalised
distances over the views. Two views that disagree on a row thus average out,
and neither view's units dominate. The view of the GAN's own encoding reuses
the model's encoded rows; every other view keeps its own preprocessor and
reference rows (saved with the model). Why two views: docs/benchmarks.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from anomaly_gan.features.preprocessing import TabularPreprocessor
from anomaly_gan.features.transform_report import TransformReport
from anomaly_gan.models.neighbors import mean_knn_distance
from anomaly_gan.scoring.scorer import robust_location

# Rows scored per call of the distance search (memory is bounded inside it).
_SCORE_ROWS = 65_536


@dataclass
class KnnView:
    """One view: its scaling, its encoder (None: the model's), its reference rows."""

    transform: str
    preprocessor: TabularPreprocessor | None
    reference: np.ndarray  # (m, d) float32
    center: float = 0.0
    spread: float = 1.0


class KnnViews:
    """Nearest-neighbour distance to normal rows, averaged over views."""

    def __init__(self, views: list[KnnView], k: int) -> None:
        self.views = views
        self.k = k

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        encoded: np.ndarray,
        *,
        transforms: tuple[str, ...],
        own: TabularPreprocessor,
        fit_rows: np.ndarray,
        reference_rows: np.ndarray,
        validation_rows: np.ndarray,
        k: int,
        device: torch.device,
    ) -> KnnViews:
        """Build the views from the training frame.

        ``own`` is the model's fitted preprocessor and ``encoded`` its output
        for ``frame``; a view with another transform fits its own preprocessor
        (same column options) on ``fit_rows``. Each view is normalised on
        ``validation_rows``, which must not be reference rows.
        """
        views: list[KnnView] = []
        if not len(reference_rows):
            return cls(views, k)
        for transform in transforms:
            if transform == own.numeric_transform:
                pre, enc = None, encoded
            else:
                params = own.get_params()
                params["numeric_transform"] = transform
                pre = TabularPreprocessor(**params).fit(frame.iloc[fit_rows])
                enc = pre.transform_with_report(frame, TransformReport())
            view = KnnView(transform, pre, enc[reference_rows].astype(np.float32))
            dist = _distances(enc[validation_rows], view.reference, k, device)
            view.center, view.spread = robust_location(dist)
            views.append(view)
        return cls(views, k)

    def distance(
        self,
        frame: pd.DataFrame,
        encoded: np.ndarray,
        device: torch.device,
        *,
        in_reference: np.ndarray | None = None,
    ) -> np.ndarray:
        """Return the component's raw value for each row of ``frame`` (float64).

        ``encoded`` is the model's encoding of ``frame``; ``in_reference`` marks
        rows that are themselves reference rows (they skip their own match).
        """
        total = np.zeros(len(frame), dtype=np.float64)
        for view in self.views:
            enc = (
                encoded
                if view.preprocessor is None
                else view.preprocessor.transform_with_report(frame, TransformReport())
            )
            dist = _distances(enc, view.reference, self.k, device, in_reference)
            total += (dist - view.center) / view.spread
        return total / max(1, len(self.views))

    # ----------------------------------------------------------- persistence
    def to_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Tensors (reference rows) and a JSON-ready description."""
        tensors = {
            f"knn_reference.{i}": torch.as_tensor(v.reference)
            for i, v in enumerate(self.views)
        }
        part = {
            "k": self.k,
            "views": [
                {
                    "transform": v.transform,
                    "preprocessor": None
                    if v.preprocessor is None
                    else v.preprocessor.to_dict(),
                    "center": v.center,
                    "spread": v.spread,
                }
                for v in self.views
            ],
        }
        return tensors, part

    @classmethod
    def from_state(
        cls, tensors: dict[str, torch.Tensor], part: dict[str, Any]
    ) -> KnnViews:
        """Inverse of ``to_state``."""
        views = []
        for i, spec in enumerate(part["views"]):
            pre = spec["preprocessor"]
            views.append(
                KnnView(
                    transform=str(spec["transform"]),
                    preprocessor=None
                    if pre is None
                    else TabularPreprocessor.from_dict(pre),
                    reference=tensors[f"knn_reference.{i}"].numpy().astype(np.float32),
                    center=float(spec["center"]),
                    spread=float(spec["spread"]),
                )
            )
        return cls(views, int(part["k"]))


def _distances(
    encoded: np.ndarray,
    reference: np.ndarray,
    k: int,
    device: torch.device,
    in_reference: np.ndarray | None = None,
) -> np.ndarray:
    out = np.zeros(len(encoded), dtype=np.float64)
    if not len(reference):
        return out
    ref = torch.as_tensor(reference, dtype=torch.float32).to(device)
    for start in range(0, len(encoded), _SCORE_ROWS):
        stop = start + _SCORE_ROWS
        xb = torch.as_tensor(encoded[start:stop], dtype=torch.float32).to(device)
        own = (
            None if in_reference is None else torch.as_tensor(in_reference[start:stop])
        )
        out[start:stop] = mean_knn_distance(xb, ref, k, skip_self=own).cpu().numpy()
    return out
