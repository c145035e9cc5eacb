"""The retraining trigger: retrain only when the fresh data has moved.

With ``[trigger] when_drift = true`` (or ``retrain --when-drift``) a run first
compares its data window with the model in service: per-feature drift against
the champion's training reference (``scoring.drift``, PSI bound
``psi_bound``) and the champion's flag rate on a sample of the window against
the share of its calibration rows above its threshold. It retrains when at
least ``min_drifted_features`` features drift or the flag rate is at least
``flag_rate_ratio`` times the calibration share; otherwise the run is skipped
(exit code 5, like a run on data already trained on) and its report says why.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from anomaly_gan.detectors.tabular import GANomalyDetector
from anomaly_gan.features.schema import RowIssues
from anomaly_gan.features.transform_report import TransformReport
from anomaly_gan.jobs.drift_check import monitor_for
from anomaly_gan.jobs.retrain_config import RetrainConfig
from anomaly_gan.scoring.drift import DriftSettings

# Rows of the window the champion scores for its flag rate (scoring is the
# costly part; the features' drift uses every row).
_FLAG_SAMPLE = 20_000


def drift_trigger(
    config: RetrainConfig,
    champion: GANomalyDetector,
    threshold: float,
    frame: pd.DataFrame,
) -> dict[str, Any]:
    """Return whether the window has moved enough to retrain, and the evidence."""
    monitor = monitor_for(
        champion,
        threshold=threshold,
        settings=DriftSettings(psi_bound=config.trigger_psi_bound),
    )
    issues = RowIssues(len(frame), raise_first=False)
    encoded = champion.preprocessor_.transform_with_report(
        frame, TransformReport(), issues=issues
    )
    kept = np.flatnonzero(~issues.mask)
    rng = np.random.default_rng(config.random_state)
    sample = np.zeros(len(kept), dtype=bool)
    sample[rng.choice(len(kept), min(_FLAG_SAMPLE, len(kept)), replace=False)] = True
    rest = encoded[kept[~sample]]
    if len(rest):
        monitor.update(rest)
    if sample.any():
        rows = kept[sample]
        scores = champion.score_encoded(frame.iloc[rows], encoded[rows]).scores
        flagged = int((scores.anomaly_score > threshold).sum())
        monitor.update(encoded[rows], scores.anomaly_score, flagged)
    report = monitor.report()
    reasons = []
    drifted = report["drifted_features"]
    if config.trigger_min_features and len(drifted) >= config.trigger_min_features:
        reasons.append(
            f"{len(drifted)} feature(s) drifted (PSI >= {config.trigger_psi_bound:g}): "
            + ", ".join(drifted)
        )
    flag = report["flag_rate"]
    if flag is not None and flag["ratio"] >= config.trigger_flag_ratio:
        reasons.append(
            f"the champion flags {flag['observed']:.2%} of the window, "
            f"{flag['ratio']:.1f}x its calibration rows' {flag['calibration']:.2%}"
        )
    return {
        "triggered": bool(reasons),
        "reasons": reasons,
        "drifted_features": drifted,
        "flag_rate": flag,
        "score": report["score"],
        "rows": report["rows"],
        "features": {f["name"]: f["statistic"] for f in report["features"]},
    }
