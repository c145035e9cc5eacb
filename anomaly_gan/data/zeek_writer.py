"""Writing connection records as Zeek logs: TSV with Zeek's header, or JSON lines.

Used by ``anomaly-gan generate --kind network`` so that generated traffic
enters through the same readers as a real sensor's logs. Known ``conn.log``
fields get their Zeek types; other columns are ``count``, ``double`` or
``string`` by dtype. Missing values are written as Zeek's unset ``-``, empty
text as ``(empty)``. Written atomically; a ``.gz`` name is gzip-compressed.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anomaly_gan.data.network_logs import ZEEK_CONN_TYPES
from anomaly_gan.data.tables import atomic_write


def zeek_types(frame: pd.DataFrame) -> list[str]:
    """Return the Zeek type of each column of ``frame``."""
    types = []
    for name in frame.columns:
        known = ZEEK_CONN_TYPES.get(str(name))
        if known is not None:
            types.append(known)
        elif pd.api.types.is_integer_dtype(frame[name].dtype):
            types.append("count")
        elif pd.api.types.is_float_dtype(frame[name].dtype):
            types.append("double")
        else:
            types.append("string")
    return types


def write_zeek_log(
    frame: pd.DataFrame, path: str | Path, *, as_json: bool = False
) -> Path:
    """Write ``frame`` as a Zeek TSV log (or JSON lines with ``as_json``), atomically."""
    target = Path(path)
    with atomic_write(target) as tmp:
        opener: Any = gzip.open if target.name.lower().endswith(".gz") else open
        with opener(tmp, "wt", encoding="utf-8", newline="\n") as fh:
            if as_json:
                _write_json(frame, fh)
            else:
                _write_tsv(frame, fh)
    return target


def _write_tsv(frame: pd.DataFrame, fh: Any) -> None:
    fields = [str(c) for c in frame.columns]
    fh.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n")
    fh.write("#unset_field\t-\n#path\tconn\n#open\t2026-01-01-00-00-00\n")
    fh.write("#fields\t" + "\t".join(fields) + "\n")
    fh.write("#types\t" + "\t".join(zeek_types(frame)) + "\n")
    text = pd.DataFrame(
        {
            name: _as_zeek_text(frame[name], kind)
            for name, kind in zip(frame.columns, zeek_types(frame), strict=True)
        }
    )
    text.to_csv(fh, sep="\t", header=False, index=False, lineterminator="\n", quoting=3)
    fh.write("#close\t2026-01-01-00-00-00\n")


def _as_zeek_text(values: pd.Series, kind: str) -> pd.Series:
    missing = values.isna().to_numpy()
    if kind in ("time", "interval", "double"):
        text = values.map(lambda v: f"{v:.6f}", na_action="ignore")
    elif kind in ("count", "int", "port"):
        text = values.map(lambda v: str(int(v)), na_action="ignore")
    else:
        text = values.astype(object).where(~missing, None).map(str, na_action="ignore")
        text = text.where(text != "", "(empty)")
    return text.where(~missing, "-")


def _write_json(frame: pd.DataFrame, fh: Any) -> None:
    types = dict(zip(frame.columns, zeek_types(frame), strict=True))
    columns = {name: frame[name].to_numpy(dtype=object) for name in frame.columns}
    for i in range(len(frame)):
        record: dict[str, Any] = {}
        for name, values in columns.items():
            value = values[i]
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue  # Zeek leaves unset fields out
            kind = types[name]
            if kind == "bool":
                record[name] = value in ("T", True)
            elif kind in ("count", "port", "int"):
                record[name] = int(value)
            elif kind in ("time", "interval", "double"):
                record[name] = float(value)
            else:
                record[name] = str(value)
        fh.write(json.dumps(record, separators=(",", ":")) + "\n")
