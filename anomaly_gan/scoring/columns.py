"""The names of the columns a scored output carries, in one place.

Every writer of scored rows (the streaming job, Dask, the API's
``score_frame``, image scoring) and every reader (the verdict store, the
dashboard) takes the names from here.
"""

from __future__ import annotations

SCORE = "anomaly_score"
FLAG = "is_anomaly"
FPR = "fpr_estimate"
SUPPRESSED = "suppressed"  # with score --suppressions: the matching rule's name
REASON_PARTS = ("feature", "share", "value", "expected")


def component(name: str) -> str:
    """Return the column of one normalised score component (``score_knn``)."""
    return f"score_{name}"


def reason(part: str, k: int) -> str:
    """Return the column of the ``k``-th reason's ``part`` (``feature_1``, counted from 1)."""
    return f"{part}_{k}"
