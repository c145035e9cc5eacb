"""Work over many rows.

Batch scoring (streaming, and on Dask), the scheduled
retraining job and the detection benchmark.
"""

from anomaly_gan._lazy import lazy_exports

__all__ = [
    "DaskScoreJob",
    "RetrainConfig",
    "ScoreJob",
    "ScoreSummary",
    "report",
    "run",
    "run_retrain",
    "score_frame",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "DaskScoreJob": "dask_batch",
        "RetrainConfig": "retrain_config",
        "ScoreJob": "batch",
        "ScoreSummary": "batch",
        "report": "benchmark_report",
        "run": "benchmark",
        "run_retrain": "retrain",
        "score_frame": "scored_rows",
    },
)
