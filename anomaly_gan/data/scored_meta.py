"""What a scored file records about how it was scored.

``score`` flags rows above a threshold that may be the model's own, a registry
operating point, ``--threshold`` or ``--fpr``; the dashboard must show the same
number, not guess it from the flags. The record (threshold, where it came from,
the model and its registry version, the target false-positive rate when known)
is kept in the Parquet schema's key-value metadata under ``anomaly_gan``, in
every part of a Dask output folder, and beside a CSV as ``OUT.meta.json``. This
module knows nothing of models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from anomaly_gan.data.tables import atomic_write

META_KEY = b"anomaly_gan"
SIDECAR_SUFFIX = ".meta.json"


def scoring_meta(
    *,
    threshold: float,
    threshold_source: str,
    model: str,
    model_version: int | None,
    target_fpr: float | None,
    version: str,
) -> dict[str, Any]:
    """Return the record a scored file carries (JSON-ready)."""
    return {
        "threshold": float(threshold),
        "threshold_source": threshold_source,
        "model": model,
        "model_version": model_version,
        "target_fpr": None if target_fpr is None else float(target_fpr),
        "anomaly_gan_version": version,
    }


def with_meta(schema: pa.Schema, meta: dict[str, Any] | None) -> pa.Schema:
    """Return ``schema`` carrying the record (unchanged when there is none)."""
    if meta is None:
        return schema
    return schema.with_metadata(
        {**(schema.metadata or {}), META_KEY: json.dumps(meta).encode()}
    )


def sidecar_path(out: str | Path) -> Path:
    """Where the record of a CSV output goes: ``OUT.meta.json``."""
    out = Path(out)
    return out.with_name(out.name + SIDECAR_SUFFIX)


def write_sidecar(out: str | Path, meta: dict[str, Any] | None) -> None:
    """Write (atomically) or, without a record, remove the CSV output's sidecar."""
    target = sidecar_path(out)
    if meta is None:
        target.unlink(missing_ok=True)  # an older run's record would mislead
        return
    with atomic_write(target) as tmp:
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def read_meta(path: str | Path) -> dict[str, Any] | None:
    """Return the record of a scored file or folder of parts; None when absent."""
    path = Path(path)
    try:
        if path.is_dir():
            parts = sorted(path.glob("*.parquet"))
            return _from_schema(pq.read_schema(parts[0])) if parts else None
        if path.name.lower().endswith((".parquet", ".pq")):
            return _from_schema(pq.read_schema(path))
        sidecar = sidecar_path(path)
        if sidecar.exists():
            data = json.loads(sidecar.read_text())
            return data if isinstance(data, dict) else None
    except (OSError, ValueError, pa.ArrowException):
        return None
    return None


def _from_schema(schema: pa.Schema) -> dict[str, Any] | None:
    raw = (schema.metadata or {}).get(META_KEY)
    if raw is None:
        return None
    data = json.loads(raw)
    return data if isinstance(data, dict) else None
