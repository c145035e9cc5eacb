"""Reading and writing tables (CSV, compressed CSV, Parquet) and atomic writes.

Every failure is a ``DataError`` naming the file and what was expected. Writers
go through ``atomic_write``: the data lands in a temporary file beside the
target and is renamed over it only when complete, so a killed run never leaves
a partial file under the target's name. This module knows nothing of models.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from anomaly_gan.exceptions import DataError

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.zst", ".csv.bz2", ".csv.xz")
PARQUET_SUFFIXES = (".parquet", ".pq")


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


def read_table(path: str | Path, *, fmt: str | None = None) -> pd.DataFrame:
    """Read a whole CSV or Parquet file (or a folder of Parquet files).

    Raises
    ------
    DataError
        The file is missing, empty, or not a readable table of that format.
    """
    p = Path(path)
    if not p.exists():
        msg = f"file '{path}': not found"
        raise DataError(msg)
    kind = table_format(p, fmt)
    try:
        if kind == "csv":
            frame = pd.read_csv(p, low_memory=False)
        else:
            frame = pq.read_table(p).to_pandas()
    except pd.errors.EmptyDataError as exc:
        msg = f"file '{path}': expected a CSV header and rows, found an empty file"
        raise DataError(msg) from exc
    except (
        pd.errors.ParserError,
        UnicodeDecodeError,
        pa.ArrowException,
        OSError,
        ValueError,
    ) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        msg = f"file '{path}': cannot be read as {kind.upper()} ({reason})"
        raise DataError(msg) from exc
    if frame.shape[1] == 0:
        msg = f"file '{path}': expected at least one column, found none"
        raise DataError(msg)
    return frame


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    On an exception the temporary file is removed and ``path`` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
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
