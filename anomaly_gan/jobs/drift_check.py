"""Drift of a file, or of a scoring run, against a model's training reference.

``monitor_for`` builds the ``scoring.drift.DriftMonitor`` of a tabular model:
its columns and their encoded positions, the normal reference rows its
marginal component keeps, and its calibration scores. ``score`` feeds it each
scored batch (features, scores and flags); ``check_files`` feeds it the
encoded rows of files without scoring them (``anomaly-gan drift``, the
retraining trigger), which costs one read and one encoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from anomaly_gan.data.tables import iter_batches
from anomaly_gan.detectors.tabular import GANomalyDetector
from anomaly_gan.exceptions import ArtifactError
from anomaly_gan.features.schema import CATEGORICAL, RowIssues
from anomaly_gan.features.transform_report import TransformReport
from anomaly_gan.jobs.network_features import derived_batches, deriver_for
from anomaly_gan.scoring.drift import DriftMonitor, DriftSettings, FeatureLayout


def monitor_for(
    detector: GANomalyDetector,
    *,
    threshold: float | None = None,
    settings: DriftSettings | None = None,
) -> DriftMonitor:
    """Return a drift monitor against ``detector``'s training reference.

    Raises
    ------
    ArtifactError
        The model keeps no reference rows (trained before 0.6).
    """
    reference = detector.marginal_.sorted_columns
    if reference.shape[0] == 0:
        msg = (
            "drift: this model keeps no training reference rows (trained with "
            "anomaly-gan before 0.6); retrain it to monitor drift"
        )
        raise ArtifactError(msg)
    pre = detector.preprocessor_
    slices = pre.feature_slices_
    layout = [
        FeatureLayout(
            spec["name"],
            spec["role"],
            *slices[spec["name"]],
            labels=tuple(spec.get("categories", ()))
            if spec["role"] == CATEGORICAL
            else (),
        )
        for spec in pre.columns_
    ]
    return DriftMonitor(
        layout,
        reference,
        calibration_scores=detector.validation_scores_,
        threshold=float(detector.threshold_ if threshold is None else threshold),
        settings=settings,
    )


def check_files(
    detector: GANomalyDetector,
    sources: Sequence[str | Path],
    *,
    settings: DriftSettings | None = None,
) -> dict[str, Any]:
    """Return the feature drift of the rows of ``sources`` (encoded, not scored).

    Rows whose values cannot be read as the model's columns are left out and
    counted (``rows_rejected``), as ``score`` rejects them.
    """
    monitor = monitor_for(detector, settings=settings)
    rejected = 0
    paths = [Path(s) for s in sources]
    for batch in derived_batches(iter_batches(paths), deriver_for(detector, paths)):
        issues = RowIssues(
            len(batch.frame), row_numbers=batch.row_numbers, raise_first=False
        )
        encoded = detector.preprocessor_.transform_with_report(
            batch.frame, TransformReport(), issues=issues
        )
        rejected += int(issues.mask.sum()) + len(batch.malformed)
        monitor.update(np.asarray(encoded)[~issues.mask])
    report = monitor.report()
    report["rows_rejected"] = rejected
    return report
