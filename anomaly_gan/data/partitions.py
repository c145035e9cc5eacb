"""Splitting input files into independent partitions, for scoring on a cluster.

A ``Piece`` names a slice of one source that a worker can read on its own: a
byte range of a plain CSV file (cut at line ends, read with the file's header
line in front), a run of row groups of one Parquet file, or a whole compressed
CSV file or network log (which cannot be cut). Each piece knows the row number of its first
record in its source, so rows rejected on a worker carry the same file and row
as in the single-machine job. Row numbers of CSV slices are counted in lines:
they equal the records' numbers unless the file holds blank lines or quoted
fields with line breaks, which Parquet input avoids. This module knows nothing
of models.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from anomaly_gan.data.tables import (
    TableBatch,
    _csv_batches,
    _parquet_batches,
    iter_batches,
    source_format,
)
from anomaly_gan.exceptions import DataError

_SCAN_BYTES = 16 << 20  # read this much at a time while counting lines
_READ_ROWS = 1_000_000  # parser chunk inside one piece


@dataclass(frozen=True)
class Piece:
    """One partition of the input: a slice of one source file.

    Attributes
    ----------
    index : int
        The piece's place in the whole input, from 0 (names the output part).
    source : str
        The input as the user named it (a file, or a folder of Parquet files).
    file : str
        The file this piece reads (inside ``source`` for a Parquet folder).
    kind : str
        ``"csv"``, ``"csv-whole"`` (compressed, read whole), ``"parquet"``, or a
        log format (``"zeek"``, ``"zeek-json"``, ``"kdd"``; read whole).
    start, end : int
        Byte range of a CSV slice (``end`` excluded).
    row_groups : tuple of int
        Row groups of a Parquet piece.
    first_row : int
        Row number of the piece's first record in ``source``, from 1.
    """

    index: int
    source: str
    file: str
    kind: str
    start: int = 0
    end: int = 0
    row_groups: tuple[int, ...] = ()
    first_row: int = 1


def plan_pieces(sources: Sequence[Path], *, target_bytes: int) -> list[Piece]:
    """Cut every source into pieces of about ``target_bytes`` (input order kept).

    Raises
    ------
    DataError
        A source cannot be read as its format.
    """
    if target_bytes < 1:
        msg = (
            f"partition size: expected a positive number of bytes, found {target_bytes}"
        )
        raise DataError(msg)
    pieces: list[Piece] = []
    for source in sources:
        kind = source_format(source)
        if kind not in ("csv", "parquet"):  # a log is one piece, read whole
            found = [Piece(len(pieces), str(source), str(source), kind)]
        elif kind == "parquet":
            found = _parquet_pieces(source, target_bytes, len(pieces))
        elif str(source).lower().endswith(".csv"):
            found = _csv_pieces(source, target_bytes, len(pieces))
        else:
            found = [Piece(len(pieces), str(source), str(source), "csv-whole")]
        pieces.extend(found)
    return pieces


def read_piece(piece: Piece, *, text_columns: Sequence[str] = ()) -> TableBatch:
    """Read one piece as a ``TableBatch`` (the single-machine job's unit).

    Raises
    ------
    DataError
        The piece cannot be read as its format; the message names the file.
    """
    source = Path(piece.source)
    if piece.kind == "parquet":
        return _read_parquet_piece(piece)
    if piece.kind not in ("csv", "csv-whole"):  # a network log, read whole
        return _concat(list(iter_batches([source])), source)
    if piece.kind == "csv-whole":
        batches = list(_csv_batches(source, _READ_ROWS, text_columns))
        return _concat(batches, source)
    with Path(piece.file).open("rb") as fh:
        header = fh.readline()
        fh.seek(piece.start)
        body = fh.read(piece.end - piece.start)
    handle = io.BytesIO(header + body)
    batches = list(
        _csv_batches(
            source, _READ_ROWS, text_columns, handle=handle, first_row=piece.first_row
        )
    )
    return _concat(batches, source)


# ------------------------------------------------------------------ CSV
def _csv_pieces(path: Path, target_bytes: int, first_index: int) -> list[Piece]:
    """Cut into byte ranges ending at a newline; count rows before each in one scan."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            header = fh.readline()
            data_start = len(header)
            cuts = [data_start]
            lines_before = [0]
            lines = 0
            position = data_start
            next_cut = data_start + target_bytes
            while True:
                chunk = fh.read(_SCAN_BYTES)
                if not chunk:
                    break
                offset = 0
                while next_cut < position + len(chunk):
                    at = chunk.find(b"\n", max(next_cut - position, offset))
                    if at < 0:
                        break
                    lines += chunk.count(b"\n", offset, at + 1)
                    offset = at + 1
                    cuts.append(position + offset)
                    lines_before.append(lines)
                    next_cut = position + offset + target_bytes
                lines += chunk.count(b"\n", offset)
                position += len(chunk)
    except OSError as exc:
        msg = f"file '{path}': cannot be read as CSV ({exc})"
        raise DataError(msg) from exc
    if not header.strip():
        msg = f"file '{path}': expected a CSV header and rows, found an empty file"
        raise DataError(msg)
    if cuts[-1] < size or len(cuts) == 1:
        cuts.append(size)
        lines_before.append(lines)
    return [
        Piece(
            index=first_index + i,
            source=str(path),
            file=str(path),
            kind="csv",
            start=cuts[i],
            end=cuts[i + 1],
            first_row=lines_before[i] + 1,
        )
        for i in range(len(cuts) - 1)
    ]


# -------------------------------------------------------------- Parquet
def _parquet_pieces(source: Path, target_bytes: int, first_index: int) -> list[Piece]:
    """Cut into runs of whole row groups of about ``target_bytes`` (uncompressed)."""
    import pyarrow.dataset as ds

    try:
        files = ds.dataset(source, format="parquet").files
        pieces: list[Piece] = []
        next_row = 1
        for file in files:
            meta = pq.ParquetFile(file).metadata
            group: list[int] = []
            group_bytes = 0
            group_first = next_row
            for g in range(meta.num_row_groups):
                group.append(g)
                group_bytes += meta.row_group(g).total_byte_size
                next_row += meta.row_group(g).num_rows
                last = g == meta.num_row_groups - 1
                if group_bytes >= target_bytes or last:
                    pieces.append(
                        Piece(
                            first_index + len(pieces),
                            str(source),
                            file,
                            "parquet",
                            row_groups=tuple(group),
                            first_row=group_first,
                        )
                    )
                    group, group_bytes, group_first = [], 0, next_row
            if meta.num_row_groups == 0:  # schema only: still checked
                pieces.append(
                    Piece(first_index + len(pieces), str(source), file, "parquet")
                )
    except (pa.ArrowException, OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        msg = f"file '{source}': cannot be read as PARQUET ({reason})"
        raise DataError(msg) from exc
    if not pieces:  # a folder without files: the single-machine reader says why
        list(_parquet_batches(source, 1))
    return pieces


def _read_parquet_piece(piece: Piece) -> TableBatch:
    try:
        handle = pq.ParquetFile(piece.file)
        if piece.row_groups:
            table = handle.read_row_groups(list(piece.row_groups))
        else:
            table = handle.schema_arrow.empty_table()
        frame = table.to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        msg = f"file '{piece.file}': cannot be read as PARQUET ({reason})"
        raise DataError(msg) from exc
    rows = np.arange(piece.first_row, piece.first_row + len(frame))
    return TableBatch(frame, Path(piece.source), rows)


def _concat(batches: list[TableBatch], source: Path) -> TableBatch:
    if not batches:
        return TableBatch(pd.DataFrame(), source, np.zeros(0, np.int64))
    if len(batches) == 1:
        return batches[0]
    frame = pd.concat([b.frame for b in batches], ignore_index=True)
    rows = np.concatenate([b.row_numbers for b in batches])
    malformed = [m for b in batches for m in b.malformed]
    return TableBatch(frame, source, rows, malformed)
