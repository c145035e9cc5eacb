"""Scoring tables with a fitted detector: the one place output rows are shaped.

``score_frame`` turns a DataFrame into the scored output (id columns, kept
columns, ``anomaly_score``, ``is_anomaly``, the components and the top-k
reasons); the CLI, the dashboard and later the streaming job share it.
``score_file`` reads a file, scores it and writes the result atomically.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anomaly_gan.detector import GANomalyDetector
from anomaly_gan.exceptions import SchemaError
from anomaly_gan.io import read_table, write_table
from anomaly_gan.preprocessing import TransformReport


@dataclass
class ScoreSummary:
    """What one scoring run did; printed by the CLI, written as JSON for schedulers."""

    rows: int = 0
    flagged: int = 0
    threshold: float = float("nan")
    seconds: float = 0.0
    unseen: dict[str, int] = field(default_factory=dict)
    imputed: dict[str, int] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)
    roc_auc: float | None = None
    average_precision: float | None = None
    output: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def score_frame(
    detector: GANomalyDetector,
    frame: pd.DataFrame,
    *,
    id_cols: list[str] | None = None,
    keep_cols: list[str] | None = None,
    top_k: int = 3,
    report: TransformReport | None = None,
    row_offset: int = 0,
) -> pd.DataFrame:
    """Score a frame and shape the output rows.

    Parameters
    ----------
    detector : GANomalyDetector
        A fitted detector.
    frame : DataFrame
        Rows to score, with the model's feature columns.
    id_cols : list of str, optional
        Columns copied first; default: the model's ``id_cols`` that are present.
    keep_cols : list of str, optional
        More columns copied after the ids.
    top_k : int, default=3
        Number of contributing features reported per row.
    report : TransformReport, optional
        Accumulates unseen categories and imputations (no warnings then).
    row_offset : int, default=0
        Added to row numbers in error messages (for batches of a file).

    Returns
    -------
    DataFrame
        ids, kept columns, ``anomaly_score``, ``is_anomaly``, ``score_recon``,
        ``score_latent``, ``score_disc``, then ``feature_k``, ``share_k``,
        ``value_k``, ``expected_k`` for k = 1..top_k (values as text).
    """
    if id_cols is None:
        id_cols = [c for c in (detector.config_.id_cols or ()) if c in frame.columns]
    copied = list(dict.fromkeys([*id_cols, *(keep_cols or [])]))
    absent = [c for c in copied if c not in frame.columns]
    if absent:
        msg = f"column '{absent[0]}': asked to be copied to the output, missing from the input"
        raise SchemaError(msg)
    scores, x_hat, _ = detector._score_frame(
        frame,
        report if report is not None else TransformReport(),
        row_offset=row_offset,
    )
    parts = [frame[copied].reset_index(drop=True), detector._components_frame(scores)]
    if top_k > 0:
        reasons = detector._explain_frame(frame, scores, x_hat, top_k).reset_index(
            drop=True
        )
        for column in reasons.columns:
            if column.startswith(("value_", "expected_")):
                reasons[column] = _as_text(reasons[column].to_numpy())
        parts.append(reasons)
    return pd.concat(parts, axis=1)


def score_file(
    detector: GANomalyDetector,
    data: str | Path,
    out: str | Path,
    *,
    id_cols: list[str] | None = None,
    keep_cols: list[str] | None = None,
    label_col: str | None = None,
    top_k: int = 3,
    fmt: str | None = None,
) -> ScoreSummary:
    """Read ``data``, score it and write ``out`` atomically; return a summary."""
    started = time.perf_counter()
    frame = read_table(data)
    report = TransformReport()
    scored = score_frame(
        detector,
        frame,
        id_cols=id_cols,
        keep_cols=keep_cols,
        top_k=top_k,
        report=report,
    )
    summary = ScoreSummary(
        rows=len(scored),
        flagged=int(scored["is_anomaly"].sum()),
        threshold=float(detector.threshold_),
        unseen=report.unseen,
        imputed=report.imputed,
        extra_columns=report.extra_columns,
    )
    if label_col is not None:
        summary.roc_auc, summary.average_precision = _label_metrics(
            frame, label_col, scored["anomaly_score"].to_numpy()
        )
    write_table(scored, out, fmt=fmt)
    summary.output = str(out)
    summary.seconds = time.perf_counter() - started
    return summary


def anomaly_labels(
    values: pd.Series, column: str, normal_label: str = "normal"
) -> np.ndarray:
    """Return 0/1 labels (1 = anomaly) from a label column.

    Numbers and booleans are anomalies when non-zero; text is an anomaly unless
    it equals ``normal_label``, "0" or "false" (case-insensitive).
    """
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(
        values.dtype
    ):
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0]) + 1
            msg = f"column '{column}' (row {row}): expected a label, found a missing value"
            raise SchemaError(msg)
        return np.asarray(values.to_numpy(dtype=np.float64) != 0, dtype=np.int8)
    text = values.astype("string").str.strip().str.lower()
    normal = text.isin([normal_label.lower(), "0", "false"]).to_numpy(
        dtype=bool, na_value=False
    )
    return np.asarray(~normal, dtype=np.int8)


def _label_metrics(
    frame: pd.DataFrame, label_col: str, scores: np.ndarray
) -> tuple[float | None, float | None]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    if label_col not in frame.columns:
        msg = f"column '{label_col}' (named by --label-col): missing from the input"
        raise SchemaError(msg)
    y = anomaly_labels(frame[label_col], label_col)
    if y.min() == y.max():
        return None, None
    return float(roc_auc_score(y, scores)), float(average_precision_score(y, scores))


def _as_text(values: np.ndarray) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        if isinstance(v, (float, np.floating)):
            out[i] = "" if np.isnan(v) else f"{v:.6g}"
        elif v is None or v is pd.NA:
            out[i] = ""
        else:
            out[i] = str(v)
    return out
