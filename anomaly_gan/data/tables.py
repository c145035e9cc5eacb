"""Reading and writing tables (CSV, compressed CSV, Parquet) and atomic writes.

Network logs (Zeek TSV and JSON, KDD CSV) are read by ``network_logs`` and
enter through the same ``read_table`` and ``iter_batches``.

Whole tables (``read_table``) or bounded batches (``iter_batches``): CSV through
pandas' C parser in chunks with types inferred per chunk, Parquet through
pyarrow record batches; ``scripts/bench_readers.py`` measured these as the
fastest bounded readers here (docs/results/readers.md). Every failure is a
``DataError`` naming the file and what was expected. Writers
go through ``atomic_write``: the data lands in a temporary file beside the
target and is renamed over it only when complete, so a killed run never leaves
a partial file under the target's name. This module knows nothing of models.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import hashlib
import os
import re
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from anomaly_gan.exceptions import DataError

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.zst", ".csv.bz2", ".csv.xz")
PARQUET_SUFFIXES = (".parquet", ".pq")


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's column names and values (row order counts)."""
    digest = hashlib.sha256()
    digest.update(repr([str(c) for c in frame.columns]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def table_format(path: str | Path, explicit: str | None = None) -> str:
    """Return ``"csv"`` or ``"parquet"`` from an explicit choice or the file name."""
    if explicit is not None:
        if explicit not in ("csv", "parquet"):
            msg = f"format: expected 'csv' or 'parquet', found {explicit!r}"
            raise DataError(msg)
        return explicit
    p = Path(path)
    name = p.name.lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(PARQUET_SUFFIXES) or p.is_dir():
        return "parquet"
    msg = (
        f"file '{path}': expected a name ending in {', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)} "
        "(or a folder of Parquet files), or give the format explicitly"
    )
    raise DataError(msg)


def source_format(path: str | Path) -> str:
    """Return an input's format: a table's (``csv``, ``parquet``) or a log's.

    Logs (``zeek``, ``zeek-json``, ``kdd``) are read by ``network_logs``.
    """
    from anomaly_gan.data.network_logs import log_format

    found = log_format(path)
    if found is not None:
        return found
    try:
        return table_format(path)
    except DataError:
        msg = (
            f"file '{path}': expected a name ending in {', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)}, "
            "a Zeek log (.log, .json, .jsonl, .ndjson, optionally .gz), a KDD file (.txt, .data) "
            "or a folder of Parquet files"
        )
        raise DataError(msg) from None


def read_table(path: str | Path, *, fmt: str | None = None) -> pd.DataFrame:
    """Read a whole CSV or Parquet file (or a folder of Parquet files), or a log.

    A log (see ``source_format``) is read whole; its first malformed record
    is an error naming the file and record.

    Raises
    ------
    DataError
        The file is missing, empty, or not a readable table of that format.
    """
    p = Path(path)
    if not p.exists():
        msg = f"file '{path}': not found"
        raise DataError(msg)
    kind = table_format(p, fmt) if fmt else source_format(p)
    if kind not in ("csv", "parquet"):
        return _read_log(p, kind)
    try:
        if kind == "csv":
            frame = pd.read_csv(p, low_memory=False)
        else:
            frame = pq.read_table(p).to_pandas()
    except _READ_ERRORS as exc:
        raise _read_error(path, kind, exc) from exc
    if frame.shape[1] == 0:
        msg = f"file '{path}': expected at least one column, found none"
        raise DataError(msg)
    return frame


def _read_log(path: Path, kind: str) -> pd.DataFrame:
    from anomaly_gan.data.network_logs import iter_log_batches

    frames = []
    for batch in iter_log_batches(path, kind, 1_000_000):
        if batch.malformed:
            row, reason = batch.malformed[0]
            msg = f"file '{path}': row {row}: {reason}"
            raise DataError(msg)
        frames.append(batch.frame)
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if frame.shape[1] == 0:
        msg = f"file '{path}': expected at least one column, found none"
        raise DataError(msg)
    return frame


_READ_ERRORS = (
    pd.errors.EmptyDataError,
    pd.errors.ParserError,
    UnicodeDecodeError,
    pa.ArrowException,
    OSError,
    EOFError,
    ValueError,
)


def _read_error(path: str | Path, kind: str, exc: Exception) -> DataError:
    """One-line error for a file that cannot be read as ``kind``."""
    if isinstance(exc, pd.errors.EmptyDataError):
        return DataError(
            f"file '{path}': expected a CSV header and rows, found an empty file"
        )
    reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return DataError(f"file '{path}': cannot be read as {kind.upper()} ({reason})")


@contextlib.contextmanager
def atomic_write(path: str | Path, *, create_parent: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    On an exception the temporary file is removed and ``path`` is untouched.
    Deleting the temporary file inside the block means: write nothing. With
    ``create_parent=False`` a missing folder raises ``FileNotFoundError``
    instead of being created.
    """
    target = Path(path)
    if create_parent:
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if not tmp.exists():
            return
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        # mkstemp creates 0600; give the output an ordinary file's permissions.
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_table(
    frame: pd.DataFrame, path: str | Path, *, fmt: str | None = None
) -> Path:
    """Write a frame as CSV or Parquet, atomically."""
    kind = table_format(path, fmt) if fmt or not Path(path).is_dir() else "parquet"
    target = Path(path)
    compression = "infer" if kind == "csv" else None
    with atomic_write(target) as tmp:
        if kind == "csv":
            # The temporary name hides the target's suffix from pandas.
            compression = _csv_compression(target)
            frame.to_csv(tmp, index=False, compression=compression)
        else:
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
    return target


def _csv_compression(target: Path) -> str | None:
    name = target.name.lower()
    for suffix, method in (
        (".gz", "gzip"),
        (".zst", "zstd"),
        (".bz2", "bz2"),
        (".xz", "xz"),
    ):
        if name.endswith(suffix):
            return method
    return None


# --------------------------------------------------------------- streaming
_SKIPPED_LINE = re.compile(r"Skipping line (\d+): (.*)")


@dataclass
class TableBatch:
    """A batch of rows from one source file.

    Attributes
    ----------
    frame : DataFrame
        The rows that parsed as records (possibly none).
    source : Path
        The file they come from.
    row_numbers : ndarray of int
        Each row's number in its file, from 1, the header excluded.
    malformed : list of (int, str)
        Records the CSV parser could not split into the header's fields: their
        row number and the parser's reason. They are not in ``frame``.
    """

    frame: pd.DataFrame
    source: Path
    row_numbers: np.ndarray
    malformed: list[tuple[int, str]] = field(default_factory=list)


def expand_sources(patterns: Sequence[str | Path]) -> list[Path]:
    """Expand paths and glob patterns to existing files or Parquet folders, in order.

    Raises
    ------
    DataError
        A path does not exist or a pattern matches nothing.
    """
    sources: list[Path] = []
    for pattern in patterns:
        text = str(pattern)
        if glob.has_magic(text):
            matches = sorted(glob.glob(text))  # noqa: PTH207 - absolute or relative patterns alike
            if not matches:
                msg = f"input '{text}': the pattern matches no file"
                raise DataError(msg)
            sources.extend(Path(m) for m in matches)
        else:
            path = Path(text)
            if not path.exists():
                msg = f"file '{path}': not found"
                raise DataError(msg)
            sources.append(path)
    for path in sources:
        source_format(path)
        if path.is_dir():
            _check_parquet_folder(path)
    return list(dict.fromkeys(sources))


def _check_parquet_folder(folder: Path) -> None:
    """Refuse a folder input that holds more than Parquet files.

    Names starting with ``_`` or ``.`` (``_SUCCESS``, ``_metadata``, hidden
    files) are skipped, as pyarrow's dataset reader does.
    """
    others = sorted(
        p.name
        for p in folder.iterdir()
        if not p.name.startswith(("_", "."))
        and not (p.is_file() and p.name.lower().endswith(PARQUET_SUFFIXES))
    )
    if others:
        more = f" and {len(others) - 1} more" if len(others) > 1 else ""
        msg = (
            f"folder '{folder}': expected only Parquet files (a folder is read as one "
            f"Parquet table), found '{others[0]}'{more}; pass CSV files by name or glob"
        )
        raise DataError(msg)


def check_outputs(
    inputs: Sequence[str | Path],
    files: dict[str, str | Path | None],
    folders: dict[str, str | Path | None] | None = None,
) -> None:
    """Refuse, before any work, outputs that would destroy an input or cannot be written.

    ``inputs`` are the paths or glob patterns a command reads; ``files`` and
    ``folders`` map the option that names each output to its path (None: not
    asked for). Folders are outputs replaced as a whole (``--heatmaps``, a
    model directory, Dask's ``--out``). Refused, each with one line naming the
    option, the path and the fix:

    - an output that is an input (after resolving links, and hard links by
      inode), a folder that holds an input, or a path inside an input folder;
    - a file output that is an existing folder, or a folder output that is an
      existing file;
    - an output whose folder cannot take a new file (read-only, or a file
      standing where a folder should be). Missing folders are created later.

    Raises
    ------
    DataError
    """
    outputs = {**files, **(folders or {})}
    _refuse_outputs_over_inputs(inputs, outputs)
    for option, out in files.items():
        _require_writable(option, out, folder=False)
    for option, out in (folders or {}).items():
        _require_writable(option, out, folder=True)


def _refuse_outputs_over_inputs(
    inputs: Sequence[str | Path], outputs: dict[str, str | Path | None]
) -> None:
    resolved_inputs: list[tuple[Path, Path]] = []
    for pattern in inputs:
        text = str(pattern)
        matches = sorted(glob.glob(text)) if glob.has_magic(text) else [text]  # noqa: PTH207
        resolved_inputs += [(Path(m), Path(m).resolve()) for m in matches]
    for option, out in outputs.items():
        if out is None or str(out) == "":
            continue
        target = Path(out).resolve()
        for given, source in resolved_inputs:
            if target == source or _same_file(target, source):
                found = f"it is the input file '{given}'"
            elif target in source.parents:
                found = f"it holds the input '{given}' and would be replaced"
            elif source in target.parents and source.is_dir():
                found = f"it lies inside the input folder '{given}'"
            else:
                continue
            msg = (
                f"{option} '{out}': expected a path apart from the inputs, found "
                f"{found}; choose another output path (nothing was written)"
            )
            raise DataError(msg)


def _require_writable(option: str, out: str | Path | None, *, folder: bool) -> None:
    if out is None or str(out) == "":
        return
    target = Path(out)
    if target.is_dir() and not folder:
        msg = f"{option} '{out}': expected a file name, found an existing folder; name a file (e.g. inside it)"
        raise DataError(msg)
    if target.exists() and not target.is_dir() and folder:
        msg = f"{option} '{out}': expected a folder, found an existing file; choose another path"
        raise DataError(msg)
    parent = target.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        msg = f"{option} '{out}': cannot be written: '{parent}' is a file, not a folder"
        raise DataError(msg)
    try:  # the only sure test, also for root and for read-only file systems
        handle, name = tempfile.mkstemp(prefix=".anomaly-gan-check.", dir=parent)
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        msg = f"{option} '{out}': cannot be written: the folder '{parent}' refuses new files ({reason}); choose a writable folder (nothing was written)"
        raise DataError(msg) from exc
    os.close(handle)
    Path(name).unlink()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def iter_batches(
    sources: Sequence[Path],
    *,
    batch_rows: int = 100_000,
    text_columns: Sequence[str] = (),
) -> Iterator[TableBatch]:
    """Yield bounded batches of every source in turn.

    ``text_columns`` are read as text from CSV (identifiers keep their exact
    spelling, e.g. leading zeros). Every file yields at least one batch, empty
    for a header-only file, so its schema is still checked.
    """
    for source in sources:
        kind = source_format(source)
        if kind == "csv":
            yield from _csv_batches(source, batch_rows, text_columns)
        elif kind == "parquet":
            yield from _parquet_batches(source, batch_rows)
        else:
            from anomaly_gan.data.network_logs import iter_log_batches

            yield from iter_log_batches(source, kind, batch_rows)


def _csv_batches(
    path: Path,
    batch_rows: int,
    text_columns: Sequence[str],
    *,
    handle: IO[bytes] | None = None,
    first_row: int = 1,
    names: Sequence[str] | None = None,
) -> Iterator[TableBatch]:
    """Yield batches of ``path``, or of ``handle``.

    ``handle`` holds the header and a slice of ``path`` whose first record is row
    ``first_row`` (see ``partitions``). ``names``: the file has no header line
    and these are its columns (KDD files).
    """
    next_row = first_row
    # The parser numbers lines from 1, the header line included.
    line_offset = first_row - 1 if names is None else first_row
    try:
        if names is None:
            _check_header(path, handle)
        reader = pd.read_csv(
            path if handle is None else handle,
            chunksize=batch_rows,
            on_bad_lines="warn",
            dtype=dict.fromkeys(text_columns, "str"),
            header=None if names is not None else "infer",
            names=names,
        )
        with reader:
            while True:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", pd.errors.ParserWarning)
                    try:
                        chunk = next(reader)
                    except StopIteration:
                        break
                malformed = [
                    (row + line_offset, reason)
                    for row, reason in _malformed_lines(caught)
                ]
                skipped = {row for row, _ in malformed}
                total = len(chunk) + len(skipped)
                candidates = np.arange(next_row, next_row + total)
                rows = (
                    candidates[~np.isin(candidates, list(skipped))]
                    if skipped
                    else candidates
                )
                next_row += total
                yield TableBatch(chunk, path, rows[: len(chunk)], malformed)
    except DataError:
        raise
    except _READ_ERRORS as exc:
        raise _read_error(path, "csv", exc) from exc


def _check_header(path: Path, handle: IO[bytes] | None) -> None:
    """Refuse a header that repeats a name (pandas would rename the copies)."""
    if handle is None:
        first = pd.read_csv(
            path, header=None, nrows=1, dtype=str, keep_default_na=False
        )
        names = [] if first.empty else [str(v) for v in first.iloc[0]]
    else:
        start = handle.tell()
        line = handle.readline().decode("utf-8-sig", errors="replace")
        handle.seek(start)
        names = next(csv.reader([line]), [])
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    repeated = [name for name, count in seen.items() if count > 1]
    if repeated:
        msg = (
            f"file '{path}': column '{repeated[0]}' appears {seen[repeated[0]]} times "
            "in the header; expected each name once (rename or drop the copies)"
        )
        raise DataError(msg)


def _malformed_lines(caught: list[warnings.WarningMessage]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for item in caught:
        if issubclass(item.category, pd.errors.ParserWarning):
            for line in str(item.message).splitlines():
                match = _SKIPPED_LINE.match(line.strip())
                if match:
                    # Parser lines count the header as line 1.
                    found.append((int(match.group(1)) - 1, match.group(2)))
        else:  # not ours to swallow: pass it on
            warnings.warn_explicit(
                item.message, item.category, item.filename, item.lineno
            )
    return found


def _parquet_batches(path: Path, batch_rows: int) -> Iterator[TableBatch]:
    import pyarrow.dataset as ds

    next_row = 1
    try:
        # One file: ParquetFile decodes a batch at a time (a 1,000,000-row file
        # of one row group peaked at 253 MB read this way, 375 MB through the
        # dataset API, which decodes ahead); a folder is read as a dataset.
        if path.is_dir():
            dataset = ds.dataset(path, format="parquet")
            schema = dataset.schema
            batches = dataset.to_batches(batch_size=batch_rows)
        else:
            parquet = pq.ParquetFile(path)
            schema = parquet.schema_arrow
            batches = parquet.iter_batches(batch_size=batch_rows)
        empty = True
        for record_batch in batches:
            if record_batch.num_rows == 0:
                continue
            empty = False
            frame = record_batch.to_pandas()
            rows = np.arange(next_row, next_row + len(frame))
            next_row += len(frame)
            yield TableBatch(frame, path, rows)
        if empty:
            yield TableBatch(
                schema.empty_table().to_pandas(), path, np.zeros(0, np.int64)
            )
    except (pa.ArrowException, OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        msg = f"file '{path}': cannot be read as PARQUET ({reason})"
        raise DataError(msg) from exc
