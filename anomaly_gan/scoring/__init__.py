"""From component residuals to one calibrated score.

From component residuals to one calibrated score, a threshold and reasons
(``ScoreCalibrator``), and the detection metrics on labelled data.

Pure numpy; no torch here.
"""

from anomaly_gan._lazy import lazy_exports

__all__ = [
    "EvaluationReport",
    "RawResiduals",
    "ScoreCalibrator",
    "Scores",
    "evaluate_scores",
    "rank_metrics",
    "threshold_for_fpr",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "EvaluationReport": "metrics",
        "RawResiduals": "scorer",
        "ScoreCalibrator": "scorer",
        "Scores": "scorer",
        "evaluate_scores": "metrics",
        "rank_metrics": "metrics",
        "threshold_for_fpr": "scorer",
    },
)
