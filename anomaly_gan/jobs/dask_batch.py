"""Scoring on a Dask cluster: the same batch scorer, one partition per task.

The input is cut into pieces (``partitions.plan_pieces``); ``dask.dataframe``
reads each piece as one partition (``from_map``) and ``map_partitions`` runs
``batch.score_batch`` on it, the function the single-machine job runs on each
of its batches, so both engines write the same rows. Each task writes its part
of the output as ``part-NNNNN.parquet`` into a staging folder (under a
temporary name, renamed when complete, so a task re-run after a lost worker
replaces its part) and returns one summary row. When every part is written the
staging folder is swapped in for the output folder; a failed run leaves the
previous output as it was. The model is loaded once per worker process and
verified against its manifest there, so its folder must be readable at the
same path on every worker.

Dask is an optional dependency: ``pip install 'anomaly-gan[dask]'``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from anomaly_gan.data.partitions import Piece, plan_pieces, read_piece
from anomaly_gan.data.scored_meta import with_meta
from anomaly_gan.data.tables import atomic_write
from anomaly_gan.detectors.tabular import GANomalyDetector
from anomaly_gan.exceptions import AnomalyGanError, ConfigError, DataError
from anomaly_gan.jobs.batch import (
    ScoreSummary,
    _stable_schema,
    score_batch,
)
from anomaly_gan.jobs.network_features import Deriver, deriver_for
from anomaly_gan.jobs.scored_rows import copied_columns

INSTALL_HINT = "pip install 'anomaly-gan[dask]'"
_SUMMARY_COLUMNS = {
    "part": "int64",
    "scored": "int64",
    "flagged": "int64",
    "rejected": "object",
    "report": "object",
    "metrics": "object",
}
_BAD = "__anomaly_gan_bad__"


def require_dask() -> None:
    """Raise ``ConfigError`` with the install command when Dask is missing."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        msg = (
            f"--engine dask: needs the optional Dask dependency ({exc.name} is not "
            f"installed); install it with: {INSTALL_HINT}"
        )
        raise ConfigError(msg) from exc


@dataclass
class DaskScoreJob:
    """Score input files on a Dask cluster into a Parquet dataset folder.

    Parameters
    ----------
    model_dir : Path
        The model directory; every worker loads it from this path.
    sources : list of Path
        Input files (CSV, compressed CSV, Parquet files or folders), in order.
    out : Path
        Output folder; one ``part-NNNNN.parquet`` per input partition.
    scheduler : str
        ``"local"`` for a ``LocalCluster`` of ``workers`` processes, or the
        address of a running scheduler (``tcp://host:8786``).
    workers : int
        Worker processes of a local cluster.
    threads : int
        Torch threads per local worker process (one task runs at a time).
    partition_bytes : int
        Input bytes per partition (CSV bytes, or uncompressed Parquet row groups).
    id_cols, keep_cols, top_k, threshold, label_col, fail_on_bad_rows, meta
        As for ``batch.ScoreJob`` (``meta`` goes into every part's schema).
    progress : callable, optional
        Called after each finished partition with the running summary.
    """

    model_dir: Path
    sources: list[Path]
    out: Path
    scheduler: str = "local"
    workers: int = 2
    threads: int = 1
    partition_bytes: int = 64 << 20
    id_cols: list[str] | None = None
    keep_cols: list[str] | None = None
    top_k: int = 3
    threshold: float | None = None
    label_col: str | None = None
    fail_on_bad_rows: bool = False
    progress: Callable[[ScoreSummary], None] | None = None
    meta: dict[str, Any] | None = None
    summary: ScoreSummary = field(init=False)
    _derive: Deriver | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        require_dask()
        self.out = Path(self.out)
        self.model_dir = Path(self.model_dir).resolve()
        if self.out.exists() and not self.out.is_dir():
            msg = (
                f"output '{self.out}': exists and is a file; --engine dask writes a "
                "folder of Parquet parts (give a new or folder path)"
            )
            raise DataError(msg)
        self.rejected_path = self.out.with_name(self.out.name + ".rejected.csv")
        self.summary = ScoreSummary(sources=[str(s) for s in self.sources])

    def run(self) -> ScoreSummary:
        """Run the job; on any error the previous output (if any) is untouched."""
        started = time.perf_counter()
        _recover(self.out)
        detector = _load_model(str(self.model_dir))
        self.summary.threshold = float(
            detector.threshold_ if self.threshold is None else self.threshold
        )
        pieces = plan_pieces(self.sources, target_bytes=self.partition_bytes)
        wanted = [
            *(self.id_cols or detector.config_.id_cols or ()),
            *(self.keep_cols or []),
        ]
        model_cols = set(detector.preprocessor_.required_columns_)
        text_columns = [c for c in wanted if c not in model_cols]
        # Window counts of connection records: one pass here, shipped to the workers.
        self._derive = deriver_for(detector, self.sources)
        first = _PieceReader(text_columns, self._derive)(pieces[0])
        copied = copied_columns(
            detector,
            [c for c in first.columns if c != _BAD + "row"],
            self.id_cols,
            self.keep_cols,
        )
        staging = self.out.with_name(
            f".{self.out.name}.staging-{uuid.uuid4().hex[:12]}"
        )
        staging.mkdir(parents=True)
        try:
            task = _PartScorer(
                model_dir=str(self.model_dir),
                staging=str(staging),
                copied=copied,
                text_columns=text_columns,
                top_k=self.top_k,
                threshold=self.threshold,
                label_col=self.label_col,
                fail_on_bad_rows=self.fail_on_bad_rows,
                meta=self.meta,
            )
            input_meta = first.drop(columns=[_BAD + "row"]).iloc[:0]
            input_meta.attrs = {}
            rows = self._compute(pieces, task, input_meta)
            self._collect(rows, pieces)
            for partial in staging.glob(".*.tmp"):  # from tasks on lost workers
                partial.unlink(missing_ok=True)
            _swap_in(staging, self.out)
        except BaseException:
            _remove_staging(staging)
            raise
        self.summary.seconds = time.perf_counter() - started
        self.summary.rows_per_s = self.summary.rows_in / max(self.summary.seconds, 1e-9)
        self.summary.output = str(self.out)
        return self.summary

    # ------------------------------------------------------------ the graph
    def _compute(
        self, pieces: list[Piece], task: _PartScorer, input_meta: pd.DataFrame
    ) -> list[pd.DataFrame]:
        import dask
        import dask.dataframe as dd
        from distributed import as_completed

        reader = _PieceReader(task.text_columns, self._derive)
        meta = _with_bookkeeping(input_meta)
        summary_meta = pd.DataFrame(
            {k: pd.Series(dtype=v) for k, v in _SUMMARY_COLUMNS.items()}
        )
        # Dask would turn text columns into Arrow strings between the two steps;
        # the scorer must see the frame the single-machine reader gives.
        with dask.config.set({"dataframe.convert-string": False}):
            frames = dd.from_map(reader, pieces, meta=meta, enforce_metadata=False)
            summaries = frames.map_partitions(
                task, meta=summary_meta, enforce_metadata=False
            )
        with _client(self.scheduler, self.workers, self.threads) as client:
            futures = client.compute(summaries.to_delayed())
            done: dict[int, pd.DataFrame] = {}
            position = {f.key: i for i, f in enumerate(futures)}
            try:
                for future in as_completed(futures):
                    part = future.result()
                    done[position[future.key]] = part
                    self._account(part)
            except BaseException:
                client.cancel(futures)
                raise
            return [done[i] for i in range(len(futures))]

    def _account(self, part: pd.DataFrame) -> None:
        s = self.summary
        for row in part.itertuples(index=False):
            s.scored += int(row.scored)
            s.flagged += int(row.flagged)
            s.rejected += len(json.loads(row.rejected))
            report = json.loads(row.report)
            for key in ("unseen", "imputed"):
                merged = getattr(s, key)
                for name, count in report[key].items():
                    merged[name] = merged.get(name, 0) + int(count)
            s.extra_columns = sorted(set(s.extra_columns) | set(report["extra"]))
        s.rows_in = s.scored + s.rejected
        if self.progress is not None:
            self.progress(s)

    def _collect(self, parts: list[pd.DataFrame], pieces: list[Piece]) -> None:
        """Write the rejection file and the metrics, in input order."""
        rows = pd.concat(parts, ignore_index=True).sort_values("part")
        if len(rows) != len(pieces):
            msg = f"dask engine: {len(rows)} of {len(pieces)} partitions reported back"
            raise AnomalyGanError(msg)
        rejected = [r for text in rows["rejected"] for r in json.loads(text)]
        if rejected:
            with atomic_write(self.rejected_path) as tmp:
                pd.DataFrame(rejected, columns=["source", "row", "reason"]).to_csv(
                    tmp, index=False
                )
            self.summary.rejected_output = str(self.rejected_path)
        else:
            self.rejected_path.unlink(missing_ok=True)
        if self.label_col is not None:
            y = np.concatenate(
                [np.asarray(json.loads(m)["y"]) for m in rows["metrics"]]
            )
            s = np.concatenate(
                [np.asarray(json.loads(m)["s"]) for m in rows["metrics"]]
            )
            if y.size and y.min() != y.max():
                from sklearn.metrics import average_precision_score, roc_auc_score

                self.summary.roc_auc = float(roc_auc_score(y, s))
                self.summary.average_precision = float(average_precision_score(y, s))


# ------------------------------------------------------------ worker side
class _PieceReader:
    """``from_map``'s function: one piece as a frame with row bookkeeping columns."""

    def __init__(
        self, text_columns: Sequence[str], derive: Deriver | None = None
    ) -> None:
        self.text_columns = list(text_columns)
        self.derive = derive

    def __call__(self, piece: Piece) -> pd.DataFrame:
        batch = read_piece(piece, text_columns=self.text_columns)
        frame = batch.frame.copy(deep=False)
        if self.derive is not None and len(frame.columns):
            frame = self.derive(frame)
        frame[_BAD + "row"] = batch.row_numbers
        frame.attrs[_BAD] = {
            "piece": piece.index,
            "source": str(batch.source),
            "malformed": list(batch.malformed),
        }
        return frame


def _with_bookkeeping(meta: pd.DataFrame) -> pd.DataFrame:
    out = meta.copy()
    out[_BAD + "row"] = pd.Series(dtype="int64")
    return out


@dataclass
class _PartScorer:
    """``map_partitions``' function: score a partition, write its part, report."""

    model_dir: str
    staging: str
    copied: list[str]
    text_columns: list[str]
    top_k: int
    threshold: float | None
    label_col: str | None
    fail_on_bad_rows: bool
    meta: dict[str, Any] | None = None

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        from anomaly_gan.data.tables import TableBatch

        info = frame.attrs.get(_BAD)
        if info is None:  # dask probing with an empty frame
            return pd.DataFrame(
                {k: pd.Series(dtype=v) for k, v in _SUMMARY_COLUMNS.items()}
            )
        detector = _load_model(self.model_dir)
        rows = frame[_BAD + "row"].to_numpy()
        batch = TableBatch(
            frame.drop(columns=[_BAD + "row"]),
            Path(info["source"]),
            rows,
            [tuple(m) for m in info["malformed"]],
        )
        scored = score_batch(
            detector,
            batch,
            copied=self.copied,
            top_k=self.top_k,
            threshold=self.threshold,
            label_col=self.label_col,
            fail_on_bad_rows=self.fail_on_bad_rows,
        )
        table = scored.table
        schema = with_meta(_stable_schema(table.schema), self.meta)
        _write_part(table.cast(schema), Path(self.staging), info["piece"])
        report = {
            "unseen": dict(scored.report.unseen),
            "imputed": dict(scored.report.imputed),
            "extra": list(scored.report.extra_columns),
        }
        metrics = {}
        if scored.labels is not None:
            metrics = {"y": scored.labels.tolist(), "s": scored.scores.tolist()}
        return pd.DataFrame(
            {
                "part": [info["piece"]],
                "scored": [scored.table.num_rows],
                "flagged": [scored.flagged],
                "rejected": [json.dumps(scored.rejected)],
                "report": [json.dumps(report)],
                "metrics": [json.dumps(metrics)],
            }
        )


_MODELS: dict[tuple[str, float], GANomalyDetector] = {}
_MODELS_LOCK = threading.Lock()
LOADS = {"count": 0}  # models loaded by this process (the tests read it on workers)


def _load_model(model_dir: str) -> GANomalyDetector:
    """Load (and verify) the model once per process; reload if its folder changed."""
    manifest = Path(model_dir) / "manifest.json"
    try:
        stamp = manifest.stat().st_mtime
    except OSError as exc:
        msg = f"model '{model_dir}': no manifest.json readable on this worker ({exc})"
        raise DataError(msg) from exc
    key = (model_dir, stamp)
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS.clear()
            _MODELS[key] = GANomalyDetector.load(model_dir)
            LOADS["count"] += 1
        return _MODELS[key]


# --------------------------------------------------------------- cluster
@contextmanager
def _client(scheduler: str, workers: int, threads: int) -> Iterator[Any]:
    import dask
    from distributed import Client, LocalCluster

    if scheduler == "local":
        if workers < 1:
            msg = f"--workers: expected a positive integer, found {workers}"
            raise ConfigError(msg)
        # One task at a time per worker; torch uses ``threads`` inside it.
        env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        # Dask's nannies set MALLOC_TRIM_THRESHOLD_, which also freezes glibc's
        # mmap threshold at 128 kB: every 4 MB distance chunk of the knn term is
        # then mapped and faulted in afresh. A worker scored 1.4x slower than
        # the same code in one process (13.5 s against 9.8 s for 200,000 rows).
        no_trim = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
        with (
            dask.config.set(no_trim),
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=logging.CRITICAL,
                env=env,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as exc:
        msg = f"--scheduler '{scheduler}': cannot connect ({exc})"
        raise ConfigError(msg) from exc
    with client:
        yield client


# ----------------------------------------------------------- the swap
def _write_part(table: pa.Table, staging: Path, piece: int) -> None:
    """Write one part into ``staging`` atomically, never creating ``staging``.

    Once a failed job has removed the folder, a task still running elsewhere
    cannot bring it back.
    """
    target = staging / f"part-{piece:05d}.parquet"
    try:
        with atomic_write(target, create_parent=False) as tmp:
            pq.write_table(table, tmp)
    except FileNotFoundError:
        msg = f"staging folder '{staging}' is gone: the job was abandoned"
        raise DataError(msg) from None


def _remove_staging(staging: Path, *, seconds: float = 10.0) -> None:
    """Remove a failed job's staging folder, again while tasks still finishing write to it."""
    deadline = time.monotonic() + seconds
    while staging.exists():
        shutil.rmtree(staging, ignore_errors=True)
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)


def _swap_in(staging: Path, out: Path) -> None:
    """Replace ``out`` by the complete ``staging`` folder (two renames)."""
    old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:12]}")
    if out.exists():
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(out.parent)


def _recover(out: Path) -> None:
    """Clean what a killed earlier run left: staging folders, a set-aside output."""
    for stale in out.parent.glob(f".{out.name}.staging-*"):
        shutil.rmtree(stale, ignore_errors=True)
    olds = sorted(out.parent.glob(f".{out.name}.old-*"))
    if olds and not out.exists():
        olds[-1].rename(out)  # killed between the two renames: put it back
        olds = olds[:-1]
    for stale in olds:
        shutil.rmtree(stale, ignore_errors=True)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
