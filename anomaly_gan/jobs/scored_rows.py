"""The rows a scored output carries, shaped from a detector's scores.

``score_frame`` turns one DataFrame into scored output rows (the API and the
dashboard use it); ``output_table`` is the same shaping for one batch of the
streaming job and Dask: copied id and kept columns, then ``anomaly_score``,
``is_anomaly`` and each component (``scoring.columns`` names them), then the
top reasons (``feature_k``, ``share_k``, ``value_k``, ``expected_k``), decoded
only for the rows and columns written.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from anomaly_gan.detectors.tabular import GANomalyDetector
from anomaly_gan.exceptions import SchemaError
from anomaly_gan.features.transform_report import TransformReport
from anomaly_gan.scoring import columns
from anomaly_gan.scoring.scorer import Scores, top_features


# ------------------------------------------------------------- one frame
def score_frame(
    detector: GANomalyDetector,
    frame: pd.DataFrame,
    *,
    id_cols: list[str] | None = None,
    keep_cols: list[str] | None = None,
    top_k: int = 3,
    threshold: float | None = None,
) -> pd.DataFrame:
    """Score a frame and shape the output rows (the API's and dashboard's path).

    Returns
    -------
    DataFrame
        ids, kept columns, ``anomaly_score``, ``is_anomaly``, ``score_recon``,
        ``score_latent``, ``score_disc``, ``score_knn``, ``score_marginal``,
        then ``feature_k``, ``share_k``, ``value_k``, ``expected_k`` for
        k = 1..top_k (values as text).

    Raises
    ------
    SchemaError
        A required or copied column is missing, or a value has the wrong type.
    """
    copied = copied_columns(detector, frame.columns, id_cols, keep_cols)
    scores, x_hat = detector.score_rows(frame, TransformReport())
    table = output_table(detector, frame, copied, scores, x_hat, top_k, threshold)
    return table.to_pandas()


def copied_columns(
    detector: GANomalyDetector,
    input_columns: Any,
    id_cols: list[str] | None,
    keep_cols: list[str] | None,
) -> list[str]:
    """Return the id and kept columns copied to the output, checked present."""
    present = [str(c) for c in input_columns]
    if id_cols is None:
        id_cols = [c for c in (detector.config_.id_cols or ()) if c in present]
    copied = list(dict.fromkeys([*id_cols, *(keep_cols or [])]))
    absent = [c for c in copied if c not in present]
    if absent:
        msg = f"column '{absent[0]}': asked to be copied to the output, missing from the input"
        raise SchemaError(msg)
    return copied


def output_table(
    detector: GANomalyDetector,
    frame: pd.DataFrame,
    copied: list[str],
    scores: Scores,
    x_hat: np.ndarray,
    top_k: int,
    threshold: float | None,
) -> pa.Table:
    """Return one batch's output rows: copied columns, scores, reasons."""
    table: dict[str, Any] = {}
    for name in copied:
        table[name] = pa.array(frame[name].to_numpy(), from_pandas=True)
    components = detector.components_frame(scores, threshold)
    for name in components.columns:
        table[name] = pa.array(components[name].to_numpy())
    if top_k > 0 and len(frame):
        table.update(_reason_columns(detector, frame, scores, x_hat, top_k))
    elif top_k > 0:
        for k in range(
            1, min(top_k, len(detector.preprocessor_.required_columns_)) + 1
        ):
            table[columns.reason("feature", k)] = pa.array([], pa.string())
            table[columns.reason("share", k)] = pa.array([], pa.float64())
            table[columns.reason("value", k)] = pa.array([], pa.string())
            table[columns.reason("expected", k)] = pa.array([], pa.string())
    return pa.table(table)


def _reason_columns(
    detector: GANomalyDetector,
    frame: pd.DataFrame,
    scores: Scores,
    x_hat: np.ndarray,
    top_k: int,
) -> dict[str, pa.Array]:
    names = detector.preprocessor_.required_columns_
    index, share = top_features(scores.feature_residuals, names, top_k)
    # Only the columns some row names among its reasons are decoded.
    picked = [names[int(j)] for j in np.unique(index)]
    expected = detector.preprocessor_.expected_values(x_hat, picked)
    label = np.asarray(names, dtype=object)
    out: dict[str, pa.Array] = {}
    for k in range(index.shape[1]):
        cols = index[:, k]
        out[columns.reason("feature", k + 1)] = pa.array(label[cols], pa.string())
        out[columns.reason("share", k + 1)] = pa.array(share[:, k])
        out[columns.reason("value", k + 1)] = _pick_text(frame, names, cols)
        out[columns.reason("expected", k + 1)] = _pick_text(expected, names, cols)
    return out


def _pick_text(frame: pd.DataFrame, names: list[str], cols: np.ndarray) -> pa.Array:
    """Per row, the text of column ``names[cols[row]]``; only those cells are formatted."""
    pieces, positions = [], []
    for j in np.unique(cols):
        rows = np.flatnonzero(cols == j)
        pieces.append(_as_text(frame[names[int(j)]].iloc[rows]))
        positions.append(rows)
    order = np.concatenate(positions)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return pa.concat_arrays(pieces).take(pa.array(inverse))


def _as_text(values: pd.Series) -> pa.Array:
    """Values as short text: floats to 6 significant digits, missing as ''."""
    if pd.api.types.is_float_dtype(values.dtype):
        x = values.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = np.isfinite(x) & (x != 0)
        magnitude = np.floor(np.log10(np.abs(np.where(finite, x, 1.0))))
        scale = 10.0 ** (5 - magnitude)
        rounded = np.where(finite, np.round(x * scale) / scale, x)
        text = pc.cast(pa.array(rounded, from_pandas=True), pa.string())
    elif pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_integer_dtype(
        values.dtype
    ):
        text = pc.cast(pa.array(values.to_numpy(), from_pandas=True), pa.string())
    else:
        text = pa.array(
            values.astype("string").to_numpy(dtype=object, na_value=None), pa.string()
        )
    return pc.fill_null(text, "")
