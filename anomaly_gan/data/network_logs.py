"""Reading network connection logs: Zeek ``conn.log`` (TSV or JSON lines) and KDD CSV.

The formats SOC teams export, read in bounded batches into the same
``TableBatch`` as CSV and Parquet, so every command takes them as they are:

- **Zeek TSV** (``.log``, ``.log.gz``): the ``#separator``, ``#set_separator``,
  ``#empty_field``, ``#unset_field``, ``#fields`` and ``#types`` header lines
  give the columns and their types. ``-`` (unset) is missing, ``(empty)`` is
  an empty value. A header met again mid-file (concatenated logs) starts a
  new part with its own fields.
- **Zeek JSON lines** (``.json``, ``.jsonl``, ``.ndjson``, optionally ``.gz``;
  also a ``.log`` whose first character is ``{``): one object per line; a field
  Zeek left out is missing. Known ``conn.log`` fields are always present, and
  other fields are those of the first batch, so every batch has the same
  columns (a field first seen later in the file is not read).
- **KDD CSV** (``.txt``, ``.data``, optionally ``.gz``): NSL-KDD or KDD-99
  records without a header: 41 features, the ``attack`` label (KDD-99's
  trailing dot removed) and, for NSL-KDD, ``difficulty``.

Typed by the log's own header: ``time`` becomes seconds since the epoch,
``count``/``int``/``double``/``interval`` numbers, ``port`` and ``addr`` text
(categories or derived features, never numbers to scale), ``bool`` ``T``/``F``.
A line that cannot be a record (wrong field count, a number field that is
not a number, bad JSON) is returned in ``malformed`` with its record number
and reason, so it reaches the rejection file like any other bad row. Record
numbers count data records from 1; header lines are not counted.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import pandas as pd

from anomaly_gan.data.tables import TableBatch, _csv_batches
from anomaly_gan.exceptions import DataError

ZEEK = "zeek"
ZEEK_JSON = "zeek-json"
KDD = "kdd"
LOG_FORMATS = (ZEEK, ZEEK_JSON, KDD)
_JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
_KDD_SUFFIXES = (".txt", ".data")

#: Zeek's conn.log fields and their Zeek types, in Zeek's order.
ZEEK_CONN_TYPES: dict[str, str] = {
    "ts": "time",
    "uid": "string",
    "id.orig_h": "addr",
    "id.orig_p": "port",
    "id.resp_h": "addr",
    "id.resp_p": "port",
    "proto": "enum",
    "service": "string",
    "duration": "interval",
    "orig_bytes": "count",
    "resp_bytes": "count",
    "conn_state": "string",
    "local_orig": "bool",
    "local_resp": "bool",
    "missed_bytes": "count",
    "history": "string",
    "orig_pkts": "count",
    "orig_ip_bytes": "count",
    "resp_pkts": "count",
    "resp_ip_bytes": "count",
    "tunnel_parents": "set[string]",
}

#: NSL-KDD's 43 column names (KDD-99 has the first 42).
KDD_COLUMNS = [
    "duration",
    "protocol_type",
    "service",
    "flag",
    "src_bytes",
    "dst_bytes",
    "land",
    "wrong_fragment",
    "urgent",
    "hot",
    "num_failed_logins",
    "logged_in",
    "num_compromised",
    "root_shell",
    "su_attempted",
    "num_root",
    "num_file_creations",
    "num_shells",
    "num_access_files",
    "num_outbound_cmds",
    "is_host_login",
    "is_guest_login",
    "count",
    "srv_count",
    "serror_rate",
    "srv_serror_rate",
    "rerror_rate",
    "srv_rerror_rate",
    "same_srv_rate",
    "diff_srv_rate",
    "srv_diff_host_rate",
    "dst_host_count",
    "dst_host_srv_count",
    "dst_host_same_srv_rate",
    "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate",
    "dst_host_srv_diff_host_rate",
    "dst_host_serror_rate",
    "dst_host_srv_serror_rate",
    "dst_host_rerror_rate",
    "dst_host_srv_rerror_rate",
    "attack",
    "difficulty",
]

_NUMBER_TYPES = frozenset({"count", "int", "double", "interval", "time"})


def log_format(path: str | Path) -> str | None:
    """Return the log format of ``path`` from its name (and first byte), or None."""
    p = Path(path)
    name = p.name.lower().removesuffix(".gz")
    if name.endswith(".log"):
        return ZEEK_JSON if _first_byte(p) == b"{" else ZEEK
    if name.endswith(_JSON_SUFFIXES):
        return ZEEK_JSON
    if name.endswith(_KDD_SUFFIXES):
        return KDD
    return None


def _first_byte(path: Path) -> bytes:
    try:
        with _open(path) as fh:
            return fh.read(1)
    except (OSError, EOFError):
        return b""  # the reader says what is wrong with the file


def _open(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return cast("IO[bytes]", gzip.open(path, "rb"))
    return path.open("rb")


def iter_log_batches(path: Path, fmt: str, batch_rows: int) -> Iterator[TableBatch]:
    """Yield bounded batches of one log file (at least one, maybe empty).

    Raises
    ------
    DataError
        The file cannot be read, or has no header where one is required.
    """
    readers = {ZEEK: _zeek_batches, ZEEK_JSON: _json_batches, KDD: _kdd_batches}
    try:
        yield from readers[fmt](path, batch_rows)
    except DataError:
        raise
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        msg = f"file '{path}': cannot be read as {_NAMES[fmt]} ({reason})"
        raise DataError(msg) from exc


_NAMES = {ZEEK: "a Zeek TSV log", ZEEK_JSON: "Zeek JSON lines", KDD: "KDD CSV"}


# ------------------------------------------------------------------ Zeek TSV
class _ZeekHeader:
    """The settings a Zeek TSV header declares."""

    def __init__(self) -> None:
        self.separator = b"\t"
        self.set_separator = ","
        self.empty = "(empty)"
        self.unset = "-"
        self.fields: list[str] = []
        self.types: list[str] = []

    def read(self, line: bytes) -> None:
        """Take one ``#`` header line."""
        text = line.rstrip(b"\r\n")
        if text.startswith(b"#separator"):
            escaped = text[len(b"#separator") :].strip()
            self.separator = escaped.decode("unicode_escape").encode("latin-1")
            return
        sep = self.separator.decode("latin-1")
        key, _, value = text.decode("utf-8").partition(sep)
        if key == "#set_separator":
            self.set_separator = value
        elif key == "#empty_field":
            self.empty = value
        elif key == "#unset_field":
            self.unset = value
        elif key == "#fields":
            self.fields = value.split(sep)
            self.types = []
        elif key == "#types":
            self.types = value.split(sep)


def _zeek_batches(path: Path, batch_rows: int) -> Iterator[TableBatch]:
    header = _ZeekHeader()
    lines: list[bytes] = []
    numbers: list[int] = []
    malformed: list[tuple[int, str]] = []
    record = 0
    yielded = False
    with _open(path) as fh:
        for raw in fh:
            if raw.startswith(b"#"):
                if lines or malformed:
                    yield _zeek_frame(path, header, lines, numbers, malformed)
                    yielded = True
                    lines, numbers, malformed = [], [], []
                header.read(raw)
                continue
            if not raw.strip():
                continue
            record += 1
            if not header.fields:
                msg = f"file '{path}': expected a Zeek '#fields' header line before the first record"
                raise DataError(msg)
            found = raw.count(header.separator) + 1
            if found != len(header.fields):
                malformed.append(
                    (
                        record,
                        f"expected {len(header.fields)} separated fields, found {found}",
                    )
                )
            else:
                lines.append(raw)
                numbers.append(record)
            if len(lines) >= batch_rows:
                yield _zeek_frame(path, header, lines, numbers, malformed)
                yielded = True
                lines, numbers, malformed = [], [], []
    if not header.fields:
        msg = f"file '{path}': expected a Zeek log with '#fields' and '#types' header lines, found none"
        raise DataError(msg)
    if lines or malformed or not yielded:
        yield _zeek_frame(path, header, lines, numbers, malformed)


def _zeek_frame(
    path: Path,
    header: _ZeekHeader,
    lines: list[bytes],
    numbers: list[int],
    malformed: list[tuple[int, str]],
) -> TableBatch:
    types = header.types or [ZEEK_CONN_TYPES.get(f, "string") for f in header.fields]
    if len(types) != len(header.fields):
        msg = f"file '{path}': the '#types' line names {len(types)} types for {len(header.fields)} '#fields'"
        raise DataError(msg)
    if lines:
        raw = pd.read_csv(
            io.BytesIO(b"".join(lines)),
            sep=header.separator.decode("latin-1"),
            header=None,
            names=header.fields,
            dtype=str,
            na_filter=False,
            quoting=csv.QUOTE_NONE,
            encoding="utf-8",
            encoding_errors="replace",
        )
    else:
        raw = pd.DataFrame({f: pd.Series(dtype=str) for f in header.fields})
    frame, bad = _typed(raw, dict(zip(header.fields, types, strict=True)), header)
    rows = np.asarray(numbers, dtype=np.int64)
    if bad.any():
        for position in np.flatnonzero(bad):
            malformed.append(
                (int(rows[position]), _bad_reason(raw, frame, int(position)))
            )
        frame = frame[~bad].reset_index(drop=True)
        rows = rows[~bad]
    malformed.sort()
    return TableBatch(frame, path, rows, malformed)


def _typed(
    raw: pd.DataFrame, types: dict[str, str], header: _ZeekHeader
) -> tuple[pd.DataFrame, np.ndarray]:
    """Convert text columns by their Zeek types; flag rows with a bad number."""
    out: dict[str, pd.Series] = {}
    bad = np.zeros(len(raw), dtype=bool)
    for name, kind in types.items():
        values = raw[name]
        unset = values == header.unset
        if kind in _NUMBER_TYPES:
            numbers = pd.to_numeric(values.where(~unset), errors="coerce")
            bad |= (numbers.isna() & ~unset).to_numpy()
            out[name] = numbers
        else:
            text = values.where(values != header.empty, "")
            if kind.startswith(("set[", "vector[")) and header.set_separator != ",":
                text = text.str.replace(header.set_separator, ",", regex=False)
            out[name] = text.where(~unset, None)
    return pd.DataFrame(out, index=raw.index), bad


def _bad_reason(raw: pd.DataFrame, typed: pd.DataFrame, position: int) -> str:
    for name in typed.columns:
        value = typed[name].iloc[position]
        text = raw[name].iloc[position]
        numeric = pd.api.types.is_numeric_dtype(typed[name].dtype)
        if numeric and pd.isna(value) and text not in ("-", ""):
            return f"field '{name}': expected a number, found {text!r}"
    return "a field could not be read"


# ------------------------------------------------------------- Zeek JSON
def _json_batches(path: Path, batch_rows: int) -> Iterator[TableBatch]:
    records: list[dict[str, Any]] = []
    numbers: list[int] = []
    malformed: list[tuple[int, str]] = []
    columns: list[str] | None = None
    record = 0
    yielded = False
    with _open(path) as fh:
        for raw in fh:
            if not raw.strip():
                continue
            record += 1
            try:
                item = json.loads(raw)
            except json.JSONDecodeError as exc:
                malformed.append(
                    (record, f"expected a JSON object, found bad JSON ({exc.msg})")
                )
                continue
            except ValueError:  # not UTF-8 text
                malformed.append(
                    (record, "expected a JSON object, found bytes that are not text")
                )
                continue
            if not isinstance(item, dict):
                malformed.append(
                    (record, f"expected a JSON object, found {type(item).__name__}")
                )
                continue
            records.append(item)
            numbers.append(record)
            if len(records) >= batch_rows:
                columns = columns or _json_columns(records)
                yield _json_frame(path, records, numbers, malformed, columns)
                yielded = True
                records, numbers, malformed = [], [], []
    if records or malformed or not yielded:
        columns = columns or _json_columns(records)
        yield _json_frame(path, records, numbers, malformed, columns)


def _json_columns(records: list[dict[str, Any]]) -> list[str]:
    """Zeek's conn fields first (when the records are connections), then the rest seen."""
    seen: dict[str, None] = {}
    for item in records:
        seen.update(dict.fromkeys(item))
    known = list(ZEEK_CONN_TYPES) if "id.orig_h" in seen or not seen else []
    return known + [c for c in seen if c not in ZEEK_CONN_TYPES]


def _json_frame(
    path: Path,
    records: list[dict[str, Any]],
    numbers: list[int],
    malformed: list[tuple[int, str]],
    columns: list[str],
) -> TableBatch:
    raw = pd.DataFrame.from_records(records, columns=columns)
    out: dict[str, pd.Series] = {}
    bad = np.zeros(len(raw), dtype=bool)
    for name in columns:
        kind = ZEEK_CONN_TYPES.get(name)
        values = raw[name] if name in raw else pd.Series([None] * len(raw))
        if kind == "time":
            out[name], wrong = _epoch_seconds(values)
            bad |= wrong
        elif kind in _NUMBER_TYPES:
            numbers_ = pd.to_numeric(values, errors="coerce")
            bad |= (numbers_.isna() & values.notna()).to_numpy()
            out[name] = numbers_
        elif kind == "bool":
            out[name] = values.map({True: "T", False: "F"}, na_action="ignore")
        elif kind is not None:
            out[name] = values.map(_as_text, na_action="ignore")
        else:
            out[name] = values
    frame = pd.DataFrame(out, index=raw.index)
    rows = np.asarray(numbers, dtype=np.int64)
    if bad.any():
        for position in np.flatnonzero(bad):
            field_ = next(
                (
                    c
                    for c in columns
                    if ZEEK_CONN_TYPES.get(c) in _NUMBER_TYPES
                    and pd.isna(frame[c].iloc[position])
                    and pd.notna(raw[c].iloc[position])
                ),
                "?",
            )
            value = raw[field_].iloc[position] if field_ in raw else None
            malformed.append(
                (
                    int(rows[position]),
                    f"field '{field_}': expected a number, found {value!r}",
                )
            )
        frame = frame[~bad].reset_index(drop=True)
        rows = rows[~bad]
    malformed.sort()
    return TableBatch(frame, path, rows, malformed)


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _epoch_seconds(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Seconds since the epoch from numbers or ISO 8601 text (Zeek's two JSON forms)."""
    numbers = pd.to_numeric(values, errors="coerce")
    text = values.notna() & numbers.isna()
    if text.any():
        parsed = pd.to_datetime(
            values[text], errors="coerce", utc=True, format="ISO8601"
        )
        seconds = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
        numbers = numbers.astype(float)
        numbers[text] = seconds
    wrong = (numbers.isna() & values.notna()).to_numpy()
    return numbers.astype(float), wrong


# ------------------------------------------------------------------ KDD CSV
def _kdd_batches(path: Path, batch_rows: int) -> Iterator[TableBatch]:
    with _open(path) as fh:
        first = fh.readline().decode("utf-8", errors="replace")
    n_fields = len(next(csv.reader([first]), [])) if first.strip() else 0
    if n_fields not in (len(KDD_COLUMNS), len(KDD_COLUMNS) - 1):
        msg = (
            f"file '{path}': expected NSL-KDD or KDD-99 records (41 features, the attack "
            f"label and optionally the difficulty; {len(KDD_COLUMNS) - 1} or "
            f"{len(KDD_COLUMNS)} comma-separated fields), found {n_fields}; other "
            "tables need a name ending in .csv or .parquet"
        )
        raise DataError(msg)
    text = ("protocol_type", "service", "flag", "attack")
    for batch in _csv_batches(path, batch_rows, text, names=KDD_COLUMNS[:n_fields]):
        batch.frame["attack"] = batch.frame["attack"].str.rstrip(".")
        yield batch
