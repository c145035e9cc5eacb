"""Detection metrics for labelled data, one report for the CLI, dashboard and gate.

``evaluate_scores`` computes, from anomaly scores, 0/1 labels and a threshold:
ROC-AUC, average precision, precision/recall/F1 and the confusion matrix at the
threshold, recall at 1% and 0.1% false-positive rate, and precision at k. The
same JSON (``EvaluationReport.to_dict``) is what ``anomaly-gan evaluate`` writes,
the dashboard shows and the retraining gate compares. Pure numpy, pandas and
scikit-learn; no torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from anomaly_gan.exceptions import SchemaError

RECALL_AT_FPR = (0.01, 0.001)
PRECISION_AT_K = (10, 100, 1000)


def anomaly_labels(
    values: pd.Series, column: str, normal_label: str = "normal"
) -> np.ndarray:
    """Return 0/1 labels (1 = anomaly) from a label column.

    Numbers and booleans are anomalies when non-zero; text is an anomaly unless
    it equals ``normal_label``, "0" or "false" (case-insensitive). A missing
    label is a ``SchemaError`` naming its row.
    """
    missing = values.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0]) + 1
        msg = f"column '{column}' (row {row}): expected a label, found a missing value"
        raise SchemaError(msg)
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(
        values.dtype
    ):
        return np.asarray(values.to_numpy(dtype=np.float64) != 0, dtype=np.int8)
    text = values.astype("string").str.strip().str.lower()
    normal = text.isin([normal_label.lower(), "0", "false"]).to_numpy(
        dtype=bool, na_value=False
    )
    return np.asarray(~normal, dtype=np.int8)


@dataclass
class EvaluationReport:
    """Metrics of one scored, labelled set (see the module docstring)."""

    n_rows: int
    n_anomalies: int
    threshold: float
    roc_auc: float | None
    average_precision: float | None
    precision: float
    recall: float
    f1: float
    false_positive_rate: float
    confusion_matrix: dict[str, int]
    recall_at_fpr: dict[str, float | None] = field(default_factory=dict)
    precision_at_k: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)

    def to_text(self) -> str:
        """Return the report as an aligned table for a terminal."""

        def fmt(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.4f}"

        cm = self.confusion_matrix
        lines = [
            f"rows                 {self.n_rows:,} ({self.n_anomalies:,} labelled anomalies)",
            f"ROC-AUC              {fmt(self.roc_auc)}",
            f"average precision    {fmt(self.average_precision)}",
            f"threshold            {self.threshold:.4f}",
            f"  precision          {self.precision:.4f}",
            f"  recall             {self.recall:.4f}",
            f"  F1                 {self.f1:.4f}",
            f"  false-positive rate {self.false_positive_rate:.4f}",
        ]
        for key, value in self.recall_at_fpr.items():
            lines.append(f"recall at FPR {key:<7}{fmt(value)}")
        for key, value in self.precision_at_k.items():
            lines.append(f"precision at {key:<8}{value:.4f}")
        lines += [
            "confusion matrix     predicted normal  predicted anomaly",
            f"  actual normal      {cm['tn']:>16,}  {cm['fp']:>17,}",
            f"  actual anomaly     {cm['fn']:>16,}  {cm['tp']:>17,}",
        ]
        return "\n".join(lines)


@dataclass
class RankMetrics:
    """The threshold-free part of a report (the costly part on large sets)."""

    roc_auc: float | None
    average_precision: float | None
    recall_at_fpr: dict[str, float | None]
    precision_at_k: dict[str, float]


def rank_metrics(scores: np.ndarray, labels: np.ndarray) -> RankMetrics:
    """ROC-AUC, average precision, recall at fixed FPRs and precision at k."""
    scores = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    both = 0 < y.sum() < y.size
    recall_at_fpr: dict[str, float | None] = {}
    curve = roc_curve(y, scores) if both else None
    for target in RECALL_AT_FPR:
        key = f"{target:g}"
        if curve is None:
            recall_at_fpr[key] = None
        else:
            fpr, tpr = curve[0], curve[1]
            # Best recall among operating points whose FPR does not exceed the target.
            recall_at_fpr[key] = float(tpr[fpr <= target].max())
    order = np.argsort(-scores, kind="stable")
    precision_at_k = {
        str(k): float(y[order[:k]].mean()) for k in PRECISION_AT_K if k <= y.size
    }
    return RankMetrics(
        roc_auc=float(roc_auc_score(y, scores)) if both else None,
        average_precision=float(average_precision_score(y, scores)) if both else None,
        recall_at_fpr=recall_at_fpr,
        precision_at_k=precision_at_k,
    )


def require_both_classes(labels: np.ndarray, where: str) -> None:
    """Refuse labels with no rows or one class: there is nothing to measure.

    Raises
    ------
    SchemaError
        Naming ``where`` (the input and its label column) and what was found.
    """
    y = np.asarray(labels).astype(bool)
    if not y.size:
        msg = (
            f"{where}: expected labelled rows to evaluate, found none (a header only?)"
        )
        raise SchemaError(msg)
    if y.all() or not y.any():
        kind = "anomalous" if y.all() else "normal"
        msg = (
            f"{where}: expected both normal and anomalous rows to evaluate, "
            f"found only {y.size:,} {kind} row{'s' if y.size != 1 else ''}"
        )
        raise SchemaError(msg)


def evaluate_scores(
    scores: np.ndarray,
    labels: np.ndarray,
    threshold: float,
    *,
    ranked: RankMetrics | None = None,
) -> EvaluationReport:
    """Compute the report; rows with score above ``threshold`` are flagged.

    ``ranked`` reuses ``rank_metrics(scores, labels)`` computed earlier (the
    dashboard caches it while the threshold moves).
    """
    scores = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    ranked = ranked if ranked is not None else rank_metrics(scores, y)
    flagged = scores > threshold
    tp = int(np.sum(flagged & y))
    fp = int(np.sum(flagged & ~y))
    fn = int(np.sum(~flagged & y))
    tn = int(np.sum(~flagged & ~y))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return EvaluationReport(
        n_rows=int(y.size),
        n_anomalies=int(y.sum()),
        threshold=float(threshold),
        roc_auc=ranked.roc_auc,
        average_precision=ranked.average_precision,
        precision=precision,
        recall=recall,
        f1=f1,
        false_positive_rate=fp / (fp + tn) if fp + tn else 0.0,
        confusion_matrix={"tn": tn, "fp": fp, "fn": fn, "tp": tp},
        recall_at_fpr=dict(ranked.recall_at_fpr),
        precision_at_k=dict(ranked.precision_at_k),
    )
