"""How a tabular model directory is written and read back (``GANomalyDetector``'s part).

``model_parts`` lists what only a tabular model writes (knn views, marginal
tails, preprocessor, sizes); ``restore`` builds the detector from them, filling
in the defaults of older formats; ``check_calibration`` refuses calibration
values no fit could have written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from anomaly_gan.config import (
    DetectorConfig,
    ResolvedSizes,
)
from anomaly_gan.exceptions import ArtifactError
from anomaly_gan.features.preprocessing import TabularPreprocessor
from anomaly_gan.models.knn_views import KnnView, KnnViews
from anomaly_gan.models.marginal_tails import MarginalTails
from anomaly_gan.scoring.scorer import (
    ScoreCalibrator,
)

if TYPE_CHECKING:
    from anomaly_gan.detectors.tabular import GANomalyDetector


def model_parts(
    det: GANomalyDetector,
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Return the tensors and parts only a tabular model writes (see ``_base``)."""
    tensors: dict[str, torch.Tensor] = {}
    knn_tensors, knn_part = det.knn_views_.to_state()
    tensors.update(knn_tensors)
    marginal_arrays, marginal_part = det.marginal_.to_state()
    tensors.update({k: torch.from_numpy(v) for k, v in marginal_arrays.items()})
    parts = {
        "config": {
            "modality": "tabular",
            "params": det.config_.to_dict(),
            "sizes": {
                "hidden_dims": list(det.sizes_.hidden_dims),
                "latent_dim": det.sizes_.latent_dim,
                "batch_size": det.sizes_.batch_size,
                "epochs": det.sizes_.epochs,
            },
            "n_encoded": len(det.preprocessor_.output_names_),
            "n_features_in": det.n_features_in_,
            "feature_names_in": (
                [str(c) for c in det.feature_names_in_]
                if hasattr(det, "feature_names_in_")
                else None
            ),
        },
        "preprocessor": det.preprocessor_.to_dict(),
        "scorer": {"knn": knn_part, "marginal": marginal_part},
        "metadata": {
            "training_fingerprint": det.fingerprint_,
            "data_window": getattr(det, "data_window_", None),
            "feature_schema": det.preprocessor_.describe_schema(),
            "excluded_columns": det.preprocessor_.excluded_,
        },
    }
    return tensors, parts


def restore(
    cls: type[GANomalyDetector],
    config: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    parts: dict[str, Any],
) -> tuple[GANomalyDetector, torch.nn.Module, torch.nn.Module]:
    """Build a tabular detector and its empty networks from a model directory's parts."""
    params = dict(config["params"])
    # Written before score_combine existed (format 3 and older): the mean.
    params.setdefault("score_combine", "mean")
    if "knn" not in parts["scorer"]:
        # Written before knn views (format 2): one view, the model's own
        # encoding, distances used as they are.
        params["knn_views"] = (params.get("numeric_transform", "robust"),)
    det = cls(**params)
    det.config_ = DetectorConfig.from_dict(params)
    sizes = config["sizes"]
    det.sizes_ = ResolvedSizes(
        hidden_dims=tuple(sizes["hidden_dims"]),
        latent_dim=int(sizes["latent_dim"]),
        batch_size=int(sizes["batch_size"]),
        epochs=int(sizes["epochs"]),
    )
    det.preprocessor_ = TabularPreprocessor.from_dict(parts["preprocessor"])
    det.calibrator_ = ScoreCalibrator.from_dict(parts["scorer"]["calibrator"])
    det.threshold_ = float(parts["scorer"]["threshold"])
    det.n_features_in_ = int(config["n_features_in"])
    if config.get("feature_names_in") is not None:
        det.feature_names_in_ = np.asarray(config["feature_names_in"], dtype=object)
    else:
        det._array_input = True
    gen, disc = det._build_networks(int(config["n_encoded"]))
    det.knn_views_ = load_knn_views(det, tensors, parts)
    det.marginal_ = load_marginal(det, tensors, parts)
    return det, gen, disc


def load_knn_views(
    det: GANomalyDetector, tensors: dict[str, torch.Tensor], parts: dict[str, Any]
) -> KnnViews:
    if "knn" in parts["scorer"]:
        return KnnViews.from_state(tensors, parts["scorer"]["knn"])
    old = tensors.get("knn_reference")
    n_encoded = len(det.preprocessor_.output_names_)
    reference = (
        old.numpy().astype(np.float32)
        if old is not None
        else np.zeros((0, n_encoded), dtype=np.float32)
    )
    view = KnnView(det.preprocessor_.numeric_transform, None, reference)
    return KnnViews([view], det.config_.knn_neighbors)


def load_marginal(
    det: GANomalyDetector, tensors: dict[str, torch.Tensor], parts: dict[str, Any]
) -> MarginalTails:
    if "marginal" not in parts["scorer"]:
        # Written before the marginal component (format 4 and older): its
        # calibration gives it weight 0, so an empty one changes nothing.
        return MarginalTails.empty(len(det.preprocessor_.output_names_))
    arrays = {k: v.numpy() for k, v in tensors.items() if k.startswith("marginal.")}
    return MarginalTails.from_state(arrays, parts["scorer"]["marginal"])


def check_calibration(path: str | Path, det: GANomalyDetector) -> None:
    """Refuse calibration values no fit could have written (an edited model).

    A fitted threshold is a quantile of the model's own validation (or
    training) scores, so it lies within their range; centres and spreads are
    finite, spreads positive.
    """
    scores = np.concatenate([det.validation_scores_, det.decision_scores_])
    low, high = float(np.min(scores)), float(np.max(scores))
    threshold = float(det.threshold_)
    if not (np.isfinite(threshold) and low <= threshold <= high):
        msg = (
            f"model '{path}': threshold {threshold!r} lies outside its calibration "
            f"scores [{low:.4g}, {high:.4g}]; the model was altered, refusing to load "
            "it (use --threshold or a registry operating point to move the threshold)"
        )
        raise ArtifactError(msg)
    cal = det.calibrator_
    for name in cal.center:
        center, spread = cal.center[name], cal.spread[name]
        if not (np.isfinite(center) and np.isfinite(spread) and spread > 0):
            msg = f"model '{path}': calibration of '{name}' (centre {center!r}, spread {spread!r}) is not a fitted one; the model was altered, refusing to load it"
            raise ArtifactError(msg)


def data_window(X: Any, timestamp_cols: Any) -> dict[str, str] | None:
    """Return the first timestamp column's earliest and latest value in ``X``, if any."""
    import pandas as pd

    if not timestamp_cols or not isinstance(X, pd.DataFrame):
        return None
    column = str(next(iter(timestamp_cols)))
    if column not in X.columns:
        return None
    values = pd.to_datetime(X[column], errors="coerce", utc=True).dropna()
    if values.empty:
        return None
    return {
        "column": column,
        "start": values.min().isoformat(),
        "end": values.max().isoformat(),
    }
