"""Deriving the connection features of ``features.connections`` in every driver.

A model trained on connection records (``config_.network_features``) scores
rows that carry the derived ``net_*`` columns. Their window counts are over
the whole input, so each driver first counts the input in one pass
(``window_counts``), then derives every batch from those counts: the
streaming job, ``evaluate``, ``drift``, the Dask workers (the counts travel
to them with the task) and ``retrain``. The same counts give the same
columns however the input is cut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from anomaly_gan.data.tables import TableBatch, iter_batches
from anomaly_gan.exceptions import DataError
from anomaly_gan.features.connections import (
    DERIVED,
    REQUIRED,
    WindowCounts,
    derive_frame,
    is_connection_table,
    network_roles,
)

Deriver = Callable[[pd.DataFrame], pd.DataFrame]


def uses_network_features(detector: Any) -> bool:
    """Return True when ``detector`` was trained on connection records (derived columns)."""
    config = getattr(detector, "config_", None)
    return bool(getattr(config, "network_features", False))


def window_counts(
    sources: Sequence[Path], *, batch_rows: int = 500_000
) -> WindowCounts:
    """Count the connections of every source in one bounded pass."""
    counts = WindowCounts()
    for batch in iter_batches(list(sources), batch_rows=batch_rows):
        if len(batch.frame) and not is_connection_table(batch.frame.columns):
            _refuse(batch.source, batch.frame.columns)
        counts.add(batch.frame)
    return counts


def deriver_for(detector: Any, sources: Sequence[Path]) -> Deriver | None:
    """Return the function that adds the derived columns to a batch (None: other models)."""
    if not uses_network_features(detector):
        return None
    return window_counts(sources).derive


def derived_batches(
    batches: Iterator[TableBatch], derive: Deriver | None
) -> Iterator[TableBatch]:
    """``batches`` with the derived columns added (unchanged without ``derive``)."""
    for batch in batches:
        if derive is None or not len(batch.frame.columns):
            yield batch
        else:
            yield replace(batch, frame=derive(batch.frame))


def prepare_training_frame(
    frame: pd.DataFrame, params: dict[str, Any], mode: str, source: str
) -> pd.DataFrame:
    """Derive the connection features for training, and set the roles they need.

    ``mode``: ``"auto"`` (derive when the frame holds connection records),
    ``"on"`` (derive, or fail naming the missing column) or ``"off"``.
    ``params`` (the detector's parameters) gets ``network_features`` and the
    roles of ``NETWORK_ROLES`` for columns the user did not name.
    """
    if mode == "off" or (mode == "auto" and not is_connection_table(frame.columns)):
        params["network_features"] = False
        return frame
    if not is_connection_table(frame.columns):
        _refuse(source, frame.columns)
    params.update(network_roles(params, frame.columns))
    params["network_features"] = True
    return derive_frame(frame)


def _refuse(source: object, columns: Any) -> None:
    missing = [c for c in REQUIRED if c not in {str(x) for x in columns}]
    msg = (
        f"file '{source}': expected connection records with the columns "
        f"{', '.join(REQUIRED)} (the model derives {len(DERIVED)} network features "
        f"from them), found no '{missing[0]}'"
    )
    raise DataError(msg)
