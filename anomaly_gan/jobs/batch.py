"""Scoring tables with a fitted detector: one batch, and the streaming job.

``score_batch`` scores one batch and sets aside the rows that cannot be scored
(the streaming job, Dask and ``evaluate`` all use it). ``ScoreJob`` streams files of any size through a three-stage
pipeline, each stage in its own thread and joined by bounded queues, so reading,
scoring and writing overlap while memory stays bounded by a few batches:

    reader (iter_batches) -> scorer (preprocess, networks, reasons) -> writer

Rows that cannot be scored go to ``<out>.rejected.csv`` with their file, row
number and reason (or fail the run with ``fail_on_bad_rows``). The output and
the rejection file are written under temporary names and renamed only when the
run completes, so a killed run leaves no partial file under either name.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from anomaly_gan.data.scored_meta import sidecar_path, with_meta, write_sidecar
from anomaly_gan.data.tables import TableBatch, atomic_write, iter_batches, table_format
from anomaly_gan.detectors.tabular import GANomalyDetector
from anomaly_gan.exceptions import BadRowsError, DataError, SchemaError
from anomaly_gan.features.schema import NUMERIC, RowIssues
from anomaly_gan.features.transform_report import TransformReport
from anomaly_gan.jobs.alerts import AlertCollector
from anomaly_gan.jobs.entities import EntityRollup, entities_path
from anomaly_gan.jobs.network_features import derived_batches, deriver_for
from anomaly_gan.jobs.scored_rows import copied_columns, output_table
from anomaly_gan.jobs.suppression import matched_rule
from anomaly_gan.scoring import columns
from anomaly_gan.scoring.drift import DriftMonitor

logger = logging.getLogger(__name__)

_QUEUE_DEPTH = 2  # batches in flight between two stages
_DONE = object()


# ------------------------------------------------------------ the summary
@dataclass
class ScoreSummary:
    """What one scoring run did; printed by the CLI, written as JSON for schedulers."""

    sources: list[str] = field(default_factory=list)
    rows_in: int = 0
    scored: int = 0
    rejected: int = 0
    flagged: int = 0
    threshold: float = float("nan")
    seconds: float = 0.0
    rows_per_s: float = 0.0
    unseen: dict[str, int] = field(default_factory=dict)
    imputed: dict[str, int] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)
    roc_auc: float | None = None
    average_precision: float | None = None
    output: str | None = None
    rejected_output: str | None = None
    drift: dict[str, Any] | None = None
    drift_output: str | None = None
    alerts: dict[str, Any] | None = None
    entities: int | None = None
    entities_output: str | None = None
    suppressed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def drift_path(out: Path) -> Path:
    """Where a scoring run's drift report goes: ``OUT.drift.json`` beside the output."""
    return out.with_name(out.name + ".drift.json")


# ------------------------------------------------------------ one batch
@dataclass
class ScoredBatch:
    """One scored batch: output rows, rejected rows, flag count, scores and labels."""

    table: pa.Table
    rejected: list[list[Any]]
    flagged: int
    scores: np.ndarray
    labels: np.ndarray | None
    report: TransformReport
    suppressed: int = 0


def score_batch(
    detector: GANomalyDetector,
    batch: TableBatch,
    *,
    copied: list[str],
    top_k: int,
    threshold: float | None,
    label_col: str | None,
    fail_on_bad_rows: bool,
    normal_label: str = "normal",
    monitor: DriftMonitor | None = None,
    rules: list[dict[str, Any]] | None = None,
) -> ScoredBatch:
    """Score one batch of one source: output rows, rejected rows, counts.

    The single-machine job, the Dask engine and ``evaluate`` all call this, so
    they score the same rows and reject the same rows for the same reasons.
    """
    frame = batch.frame
    if label_col is not None and label_col not in frame.columns:
        msg = f"column '{label_col}' (named by --label-col): missing from '{batch.source}'"
        raise SchemaError(msg)
    issues = RowIssues(len(frame), row_numbers=batch.row_numbers, raise_first=False)
    report = TransformReport()
    encoded = detector.preprocessor_.transform_with_report(frame, report, issues=issues)
    rejected: list[list[Any]] = [
        [str(batch.source), row, f"malformed record: {reason}"]
        for row, reason in batch.malformed
    ]
    rejected += [
        [str(batch.source), int(batch.row_numbers[i]), issues.reasons[int(i)]]
        for i in np.flatnonzero(issues.mask)
    ]
    rejected.sort(key=lambda r: int(r[1]))
    if rejected and fail_on_bad_rows:
        source, row, reason = rejected[0]
        msg = f"file '{source}' row {row}: {reason} (--fail-on-bad-rows)"
        raise BadRowsError(msg)
    if issues.mask.any():
        keep = ~issues.mask
        frame = _numbers_parsed(detector, frame.loc[keep])
        encoded = encoded[keep]
    scores, x_hat = detector.score_encoded(frame, encoded)
    table = output_table(detector, frame, copied, scores, x_hat, top_k, threshold)
    labels = None
    if label_col is not None:
        from anomaly_gan.scoring.metrics import anomaly_labels

        labels = anomaly_labels(frame[label_col], label_col, normal_label)
    cut = float(detector.threshold_ if threshold is None else threshold)
    flags = scores.anomaly_score > cut
    flagged = int(flags.sum())
    if monitor is not None:
        monitor.update(encoded, scores.anomaly_score, flagged)
    suppressed = 0
    if rules is not None:
        names = matched_rule(frame, rules)
        table = table.append_column(columns.SUPPRESSED, pa.array(names, pa.string()))
        suppressed = int((flags & (names != "")).sum())
    return ScoredBatch(
        table, rejected, flagged, scores.anomaly_score, labels, report, suppressed
    )


def _numbers_parsed(detector: GANomalyDetector, frame: pd.DataFrame) -> pd.DataFrame:
    """Numeric model columns read as text (their batch held a rejected value) as floats.

    Without this the copied values and reasons of that batch alone would be text,
    and batches or partitions of one output would disagree on a column's type.
    """
    numeric = [
        c["name"]
        for c in detector.preprocessor_.columns_
        if c["role"] == NUMERIC
        and c["name"] in frame.columns
        and not pd.api.types.is_numeric_dtype(frame[c["name"]].dtype)
    ]
    if not numeric:
        return frame
    frame = frame.copy()
    for name in numeric:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    return frame


# ------------------------------------------------------------- the job
@dataclass
class ScoreJob:
    """Stream input files through a detector into one output file.

    Parameters
    ----------
    detector : GANomalyDetector
    sources : list of Path
        Input files (CSV, compressed CSV, Parquet files or folders), in order.
    out : Path
        Output file; its format comes from ``fmt`` or its extension.
    id_cols, keep_cols : list of str, optional
        Columns copied to the output (ids default to the model's).
    top_k : int
        Contributing features per row.
    threshold : float, optional
        Overrides the model's threshold for this run.
    label_col : str, optional
        A 0/1 or text label column; ROC-AUC and average precision are reported.
    fail_on_bad_rows : bool
        Raise ``BadRowsError`` at the first row that cannot be scored instead of
        writing it to the rejection file.
    batch_rows : int
        Rows per batch (memory grows with it; about 100,000 is a good default).
    progress : callable, optional
        Called after each batch with the running summary.
    meta : dict, optional
        How the file was scored (``scored_meta.scoring_meta``): kept in the
        Parquet schema, or beside a CSV as ``OUT.meta.json``.
    drift : DriftMonitor, optional
        Fed every scored batch; its report goes into the summary and beside
        the output as ``OUT.drift.json`` (``jobs.drift_check.monitor_for``).
    alerts : AlertCollector, optional
        Keeps every batch's flagged rows for ``jobs.alerts.deliver``.
    entities : EntityRollup, optional
        Counts rows and alerts per entity; written as ``OUT.entities.csv``.
    suppressions : list of dict, optional
        Active suppression rules: a ``suppressed`` column names the matching
        rule, and those rows are not alerted (``jobs.suppression``).
    """

    detector: GANomalyDetector
    sources: list[Path]
    out: Path
    fmt: str | None = None
    id_cols: list[str] | None = None
    keep_cols: list[str] | None = None
    top_k: int = 3
    threshold: float | None = None
    label_col: str | None = None
    fail_on_bad_rows: bool = False
    batch_rows: int = 100_000
    progress: Callable[[ScoreSummary], None] | None = None
    meta: dict[str, Any] | None = None
    drift: DriftMonitor | None = None
    alerts: AlertCollector | None = None
    entities: EntityRollup | None = None
    suppressions: list[dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self.kind = table_format(self.out, self.fmt)
        self.rejected_path = self.out.with_name(self.out.name + ".rejected.csv")
        self.report = TransformReport()
        self.summary = ScoreSummary(sources=[str(s) for s in self.sources])
        self.summary.threshold = float(
            self.detector.threshold_ if self.threshold is None else self.threshold
        )
        self._copied: list[str] | None = None
        self._scores: list[np.ndarray] = []
        self._labels: list[np.ndarray] = []

    def run(self) -> ScoreSummary:
        """Run the job; on any error nothing is left under the output names."""
        with _system_memory_pool():
            return self._run()

    def _run(self) -> ScoreSummary:
        started = time.perf_counter()
        _remove_stale_temporaries(
            self.out,
            self.rejected_path,
            sidecar_path(self.out),
            drift_path(self.out),
            entities_path(self.out),
        )
        model_cols = set(self.detector.preprocessor_.required_columns_)
        wanted = [
            *(self.id_cols or self.detector.config_.id_cols or ()),
            *(self.keep_cols or []),
        ]
        batches = derived_batches(
            iter_batches(
                self.sources,
                batch_rows=self.batch_rows,
                text_columns=[c for c in wanted if c not in model_cols],
            ),
            deriver_for(self.detector, self.sources),
        )
        with (
            atomic_write(self.out) as tmp_out,
            atomic_write(self.rejected_path) as tmp_rej,
        ):
            with tmp_rej.open("w", newline="") as rej_fh:
                rejected_writer = csv.writer(rej_fh)
                rejected_writer.writerow(["source", "row", "reason"])
                writer = _TableWriter(tmp_out, self.kind, self.meta)
                try:
                    pool = pa.default_memory_pool()
                    for scored in _pipeline(batches, self._score_batch):
                        writer.write(scored.table)
                        if self.alerts is not None:
                            self.alerts.add(scored.table)
                        if self.entities is not None:
                            self.entities.add(scored.table)
                        rejected_writer.writerows(scored.rejected)
                        self._account(scored)
                        del scored
                        # Arrow's pool keeps freed blocks; hand them back so that
                        # long runs stay at the memory of a few batches.
                        pool.release_unused()
                finally:
                    writer.close()
            if self.summary.rejected == 0:
                # Nothing rejected: no rejection file, and none left from an earlier run.
                tmp_rej.unlink()
                self.rejected_path.unlink(missing_ok=True)
            else:
                self.summary.rejected_output = str(self.rejected_path)
        if self.kind == "csv":
            write_sidecar(self.out, self.meta)
        if self.entities is None:
            entities_path(self.out).unlink(missing_ok=True)  # an earlier run's
        else:
            self.summary.entities = self.entities.write(entities_path(self.out))
            self.summary.entities_output = str(entities_path(self.out))
        if self.drift is None:
            drift_path(self.out).unlink(missing_ok=True)  # an earlier run's
        else:
            self.summary.drift = self.drift.report()
            self.summary.drift_output = str(drift_path(self.out))
            with atomic_write(drift_path(self.out)) as tmp:
                tmp.write_text(json.dumps(self.summary.drift, indent=2, default=float))
        self.summary.seconds = time.perf_counter() - started
        self.summary.rows_per_s = self.summary.rows_in / max(self.summary.seconds, 1e-9)
        self.summary.output = str(self.out)
        self._finish_metrics()
        return self.summary

    # -------------------------------------------------------------- stages
    def _score_batch(self, batch: TableBatch) -> ScoredBatch:
        if self._copied is None:
            self._copied = copied_columns(
                self.detector, batch.frame.columns, self.id_cols, self.keep_cols
            )
            if self.alerts is not None:
                self._describe_alerts(self.alerts, self._copied)
            if self.entities is not None:
                stamps = self.detector.config_.timestamp_cols or ()
                kept = [c for c in stamps if c in self._copied]
                self.entities.timestamp_col = kept[0] if kept else None
        scored = score_batch(
            self.detector,
            batch,
            copied=self._copied,
            top_k=self.top_k,
            threshold=self.threshold,
            label_col=self.label_col,
            fail_on_bad_rows=self.fail_on_bad_rows,
            monitor=self.drift,
            rules=self.suppressions,
        )
        self.report.merge(scored.report)
        return scored

    def _describe_alerts(self, alerts: AlertCollector, copied: list[str]) -> None:
        """Tell the collector the output's columns: event id, timestamp, the rest."""
        config = self.detector.config_
        ids = [c for c in (self.id_cols or config.id_cols or ()) if c in copied]
        stamps = [c for c in (config.timestamp_cols or ()) if c in copied]
        alerts.copied = list(copied)
        alerts.id_col = ids[0] if ids else None
        alerts.timestamp_col = stamps[0] if stamps else None

    def _account(self, scored: ScoredBatch) -> None:
        s = self.summary
        s.scored += scored.table.num_rows
        s.rejected += len(scored.rejected)
        s.rows_in = s.scored + s.rejected
        s.flagged += scored.flagged
        s.suppressed += scored.suppressed
        s.unseen = dict(self.report.unseen)
        s.imputed = dict(self.report.imputed)
        s.extra_columns = list(self.report.extra_columns)
        if scored.labels is not None:
            self._scores.append(scored.scores)
            self._labels.append(scored.labels)
        if self.progress is not None:
            self.progress(s)

    def _finish_metrics(self) -> None:
        if not self._labels:
            return
        from sklearn.metrics import average_precision_score, roc_auc_score

        y = np.concatenate(self._labels)
        s = np.concatenate(self._scores)
        if y.size and y.min() != y.max():
            self.summary.roc_auc = float(roc_auc_score(y, s))
            self.summary.average_precision = float(average_precision_score(y, s))


class _TableWriter:
    """Appends Arrow tables to one CSV or Parquet file with a fixed schema."""

    def __init__(
        self, path: Path, kind: str, meta: dict[str, Any] | None = None
    ) -> None:
        self.path = path
        self.kind = kind
        self.meta = meta
        self.schema: pa.Schema | None = None
        self._writer: Any = None

    def write(self, table: pa.Table) -> None:
        if self.schema is None:
            self.schema = _stable_schema(table.schema)
            if self.kind != "csv":
                self.schema = with_meta(self.schema, self.meta)
            if self.kind == "csv":
                self._writer = pacsv.CSVWriter(str(self.path), self.schema)
            else:
                self._writer = pq.ParquetWriter(str(self.path), self.schema)
        try:
            table = table.cast(self.schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            changed = [
                f.name for f in table.schema if f.type != self.schema.field(f.name).type
            ]
            msg = (
                f"column '{changed[0] if changed else '?'}': its type changed between "
                f"batches of the input and cannot be unified ({exc})"
            )
            raise DataError(msg) from exc
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


@contextlib.contextmanager
def _system_memory_pool() -> Iterator[None]:
    """Allocate Arrow memory with the system allocator while a job runs.

    Arrow's default pool (mimalloc) keeps freed blocks for reuse: scoring a
    1,000,000-row Parquet file peaked at 963 MiB with it and 852 MiB with the
    system allocator, at the same speed (docs/benchmarks.md). A pool chosen with
    ``ARROW_DEFAULT_MEMORY_POOL`` is left alone.
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        yield
        return
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def _stable_schema(schema: pa.Schema) -> pa.Schema:
    """First batch's schema with nulls as text and integers widened (NaN-safe)."""
    fields = []
    for f in schema:
        if pa.types.is_null(f.type) or pa.types.is_large_string(f.type):
            fields.append(pa.field(f.name, pa.string()))
        elif pa.types.is_integer(f.type) and f.name != columns.FLAG:
            fields.append(pa.field(f.name, pa.int64()))
        else:
            fields.append(f)
    return pa.schema(fields)


def _remove_stale_temporaries(*targets: Path) -> None:
    """Remove temporary files a killed earlier run left beside these targets."""
    for target in targets:
        for stale in target.parent.glob(f".{target.name}.*.tmp"):
            stale.unlink(missing_ok=True)


def _pipeline(
    batches: Iterator[TableBatch], score: Callable[[TableBatch], ScoredBatch]
) -> Iterator[ScoredBatch]:
    """Run reading and scoring in background threads; yield scored batches in order."""
    read_q: queue.Queue[Any] = queue.Queue(_QUEUE_DEPTH)
    scored_q: queue.Queue[Any] = queue.Queue(_QUEUE_DEPTH)
    stop = threading.Event()

    def put(q: queue.Queue[Any], item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
            except queue.Full:
                continue
            else:
                return True
        return False

    def reader() -> None:
        try:
            for batch in batches:
                if not put(read_q, batch):
                    return
            put(read_q, _DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(read_q, exc)

    def scorer() -> None:
        try:
            while not stop.is_set():
                item = read_q.get()
                if item is _DONE or isinstance(item, BaseException):
                    put(scored_q, item)
                    return
                if not put(scored_q, score(item)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(scored_q, exc)

    threads = [
        threading.Thread(target=f, name=f"anomaly-gan-{f.__name__}", daemon=True)
        for f in (reader, scorer)
    ]
    for t in threads:
        t.start()
    try:
        while True:
            item = scored_q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5)
