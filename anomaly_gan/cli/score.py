"""``anomaly-gan score``: score a file with a saved model, streaming, with progress.

``add_parser`` declares the options; ``run`` handles them and returns the exit code.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from anomaly_gan.cli._options import (
    EPILOG,
    EXIT_ALERTS_UNDELIVERED,
    EXIT_OK,
    TABLES,
    finite,
    model_option,
    registry_option,
    scoring_device_option,
    threshold_options,
)
from anomaly_gan.cli._shared import (
    image_model,
    load_model,
    operating_point,
    scoring_meta,
    set_threads,
    write_json,
)
from anomaly_gan.exceptions import ConfigError


def add_parser(sub: Any) -> None:
    """Declare ``score`` and its options on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "score",
        help="score CSV or Parquet files with a trained model (streaming)",
        description=(
            "Stream rows through the model in bounded memory and write anomaly_score, "
            "is_anomaly, the score components and the top contributing features. "
            "Rows that cannot be scored go to OUT.rejected.csv (or fail the run with "
            "--fail-on-bad-rows). Outputs are written to temporary files and renamed "
            "into place when complete."
        ),
        epilog=EPILOG,
    )
    model_option(p)
    p.add_argument(
        "--data",
        required=True,
        nargs="+",
        metavar="FILE",
        help=f"input files or glob patterns ({TABLES})",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="output table (.csv or .parquet); with --engine dask a folder",
    )
    p.add_argument(
        "--format",
        choices=["csv", "parquet"],
        help="output format (default: from --out's extension)",
    )
    p.add_argument(
        "--id-cols",
        nargs="+",
        metavar="C",
        help="columns copied first (default: the model's id columns)",
    )
    p.add_argument(
        "--keep-cols",
        nargs="+",
        metavar="C",
        help="more input columns copied to the output",
    )
    p.add_argument(
        "--top-k",
        type=int,
        default=3,
        metavar="K",
        help="contributing features per row (default: 3; 0 for none)",
    )
    p.add_argument(
        "--label-col",
        metavar="C",
        help="label column: report ROC-AUC and average precision against it",
    )
    threshold_options(p)
    p.add_argument(
        "--fail-on-bad-rows",
        action="store_true",
        help="exit 4 at the first row that cannot be scored instead of rejecting it",
    )
    p.add_argument(
        "--batch-rows",
        type=int,
        default=100_000,
        metavar="N",
        help="rows per batch (default: 100000; memory grows with it)",
    )
    p.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="CPU threads for the model (default: one fewer than the cores this "
        "process may use, at least 1; with --engine dask: per worker process, "
        "default 1)",
    )
    p.add_argument(
        "--summary-json", metavar="FILE", help="also write the run summary as JSON"
    )
    p.add_argument(
        "--heatmaps",
        metavar="DIR",
        help="image models: write each image's input, reconstruction and heat-map overlay as PNGs to DIR (replaced as a whole)",
    )
    p.add_argument(
        "--alerts-to",
        metavar="TARGET",
        help="send the flagged rows as ECS-style JSON lines to an http(s):// URL "
        "(POST, retried; undelivered ones go to OUT.alerts.dead.jsonl and the exit "
        "code is 8) or write them to a file (docs/alerts.md)",
    )
    p.add_argument(
        "--entity-cols",
        nargs="+",
        default=[],
        metavar="C",
        help="roll rows and alerts up per value of these output columns (ids or "
        "--keep-cols, e.g. card_id) into OUT.entities.csv; with --alerts-to, one "
        "alert per entity and time window; network models default to the source "
        "host, id.orig_h (docs/network.md)",
    )
    p.add_argument(
        "--alert-window-minutes",
        type=finite,
        default=60.0,
        metavar="M",
        help="with --entity-cols: the window of one alert per entity (default 60; "
        "measured on a kept timestamp column, else the whole run)",
    )
    p.add_argument(
        "--suppressions",
        metavar="DB",
        help="a verdict store: rows matching its active suppression rules (benign "
        "patterns, 'feedback suppress') get the rule's name in a 'suppressed' "
        "column and are not sent as alerts",
    )
    p.add_argument(
        "--no-drift",
        action="store_true",
        help="skip the drift report against the model's training reference "
        "(written by default as OUT.drift.json; not computed with --engine dask)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    scoring_device_option(p)
    registry_option(p)
    d = p.add_argument_group(
        "scale-out",
        "score partitions in parallel on Dask (needs: pip install 'anomaly-gan[dask]'); "
        "--out is then a folder of Parquet parts, one per partition, swapped in whole "
        "when every part is written",
    )
    d.add_argument(
        "--engine",
        choices=["local", "dask"],
        default="local",
        help="local: one streaming process (default); dask: partitions on a Dask cluster",
    )
    d.add_argument(
        "--scheduler",
        default="local",
        metavar="ADDRESS",
        help="'local' (default) for a local cluster of --workers processes, or a "
        "scheduler address such as tcp://10.0.0.5:8786 (the model folder and inputs "
        "must be readable at the same paths on every worker)",
    )
    d.add_argument(
        "--workers",
        type=int,
        default=2,
        metavar="N",
        help="worker processes of the local cluster (default: 2; one thread each, "
        "or --threads)",
    )
    d.add_argument(
        "--partition-mb",
        type=float,
        default=64.0,
        metavar="MB",
        help="input megabytes per partition (default: 64; CSV bytes or uncompressed "
        "Parquet row groups; a compressed CSV file is one partition)",
    )


def run(args: argparse.Namespace) -> int:
    """``anomaly-gan score``: the streaming job."""
    from anomaly_gan.data.tables import check_outputs, expand_sources, table_format
    from anomaly_gan.jobs.batch import ScoreJob

    if args.top_k < 0:
        msg = f"--top-k: expected 0 or more, found {args.top_k}"
        raise ConfigError(msg)
    if args.batch_rows < 1:
        msg = f"--batch-rows: expected a positive integer, found {args.batch_rows}"
        raise ConfigError(msg)
    if args.threads is not None and args.threads < 1:
        msg = f"--threads: expected a positive integer, found {args.threads}"
        raise ConfigError(msg)
    dask = args.engine == "dask"
    check_outputs(
        args.data,
        files={
            **({} if dask else {"--out": args.out}),
            "--out (its rejection file)": f"{args.out}.rejected.csv",
            "--out (its drift report)": f"{args.out}.drift.json",
            "--out (its undelivered alerts)": f"{args.out}.alerts.dead.jsonl",
            "--out (its entity roll-up)": f"{args.out}.entities.csv",
            "--alerts-to": args.alerts_to
            if args.alerts_to and "://" not in args.alerts_to
            else None,
            "--summary-json": args.summary_json,
        },
        folders={"--heatmaps": args.heatmaps, **({"--out": args.out} if dask else {})},
    )
    if args.engine == "dask":
        from anomaly_gan.cli.dask_command import run_score_dask

        if args.heatmaps or image_model(args):
            msg = "--engine dask: scores tables; image models score with --engine local"
            raise ConfigError(msg)
        if args.alerts_to or args.suppressions:
            msg = "--alerts-to, --suppressions: only with --engine local"
            raise ConfigError(msg)
        if args.device not in ("auto", "cpu"):
            msg = f"--device {args.device}: --engine dask scores on its workers' CPUs; use --engine local"
            raise ConfigError(msg)
        det = load_model(args, device="cpu")
        threshold, meta = scoring_meta(det, args)
        _network_defaults(args, det)
        return run_score_dask(
            args,
            threshold=threshold,
            meta=meta,
            progress=_Progress(quiet=args.quiet),
            report=_report_scoring,
        )
    from anomaly_gan.cli.dask_command import refuse_dask_options

    refuse_dask_options(args)
    set_threads(args.threads)
    table_format(args.out, args.format)  # a bad output name fails before any work
    if image_model(args):
        if args.alerts_to or args.suppressions:
            msg = "--alerts-to, --suppressions: for table models only"
            raise ConfigError(msg)
        from anomaly_gan.cli.image_commands import _load, run_score_images

        return run_score_images(args, operating_point(_load(args), args))
    if args.heatmaps:
        msg = "--heatmaps: only for image models"
        raise ConfigError(msg)
    sources = expand_sources(args.data)
    det = load_model(args)
    threshold, meta = scoring_meta(det, args)
    _network_defaults(args, det)
    _check_entity_cols(args, det)
    alerts = _alert_collector(args, det, threshold, meta)
    progress = _Progress(quiet=args.quiet)
    job = ScoreJob(
        det,
        sources,
        Path(args.out),
        fmt=args.format,
        id_cols=args.id_cols,
        keep_cols=args.keep_cols,
        top_k=args.top_k,
        threshold=threshold,
        label_col=args.label_col,
        fail_on_bad_rows=args.fail_on_bad_rows,
        batch_rows=args.batch_rows,
        progress=progress.update,
        meta=meta,
        drift=None if args.no_drift else _drift_monitor(det, threshold),
        alerts=alerts,
        entities=_entity_rollup(args),
        suppressions=_suppression_rules(args),
    )
    try:
        summary = job.run()
    finally:
        progress.close()
    code = EXIT_OK
    if alerts is not None:
        code = _send_alerts(alerts, args, summary)
    _report_scoring(summary, args)
    return code


def _report_scoring(summary: Any, args: argparse.Namespace) -> None:
    """Print a scoring run's summary lines (and write --summary-json)."""
    rate = summary.flagged / summary.scored if summary.scored else 0.0
    print(
        f"rows in {summary.rows_in:,}: scored {summary.scored:,}, rejected {summary.rejected:,}, "
        f"flagged {summary.flagged:,} ({rate:.2%}) above threshold {summary.threshold:.4f}; "
        f"{summary.seconds:.1f} s ({summary.rows_per_s:,.0f} rows/s)"
    )
    if summary.unseen:
        detail = ", ".join(f"{k}: {v:,}" for k, v in summary.unseen.items())
        print(f"categories unseen in training (scored as other): {detail}")
    if summary.extra_columns:
        print(f"columns not used by the model: {', '.join(summary.extra_columns)}")
    if summary.roc_auc is not None:
        print(
            f"against '{args.label_col}': ROC-AUC {summary.roc_auc:.4f}, average precision {summary.average_precision:.4f}"
        )
    if summary.rejected_output:
        print(f"rejected rows written to {summary.rejected_output}")
    if args.suppressions is not None:
        print(
            f"suppressed by rules: {summary.suppressed:,} of the flagged rows "
            "(written, not alerted)"
        )
    if getattr(summary, "entities_output", None):
        print(f"entities: {summary.entities:,} written to {summary.entities_output}")
    if getattr(summary, "drift", None):
        from anomaly_gan.scoring.drift import summary_line

        print(summary_line(summary.drift, summary.drift_output))
    print(f"scores written to {summary.output}")
    if args.summary_json:
        write_json(args.summary_json, summary.to_dict())


class _Progress:
    """A progress bar on a terminal; otherwise a plain log line every 10 s."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.bar: Any = None
        self.last_line = time.monotonic()
        self.seen = 0

    def update(self, summary: Any) -> None:
        if self.quiet:
            return
        if self.tty:
            if self.bar is None:
                from tqdm.auto import tqdm

                self.bar = tqdm(
                    unit=" rows", unit_scale=True, desc="scoring", file=sys.stderr
                )
            self.bar.update(summary.rows_in - self.seen)
            self.bar.set_postfix(flagged=summary.flagged, rejected=summary.rejected)
        elif time.monotonic() - self.last_line >= 10:
            self.last_line = time.monotonic()
            print(
                f"anomaly-gan: {summary.rows_in:,} rows read, {summary.flagged:,} flagged, {summary.rejected:,} rejected",
                file=sys.stderr,
            )
        self.seen = summary.rows_in

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _drift_monitor(det: Any, threshold: float | None) -> Any:
    """Return the run's drift monitor; None, with a note, for a model without a reference."""
    from anomaly_gan.exceptions import ArtifactError
    from anomaly_gan.jobs.drift_check import monitor_for

    try:
        return monitor_for(det, threshold=threshold)
    except ArtifactError as exc:
        print(f"anomaly-gan: note: {exc}", file=sys.stderr)
        return None


def _alert_collector(
    args: argparse.Namespace, det: Any, threshold: float | None, meta: Any
) -> Any:
    """Return the run's alert collector (None without --alerts-to), options checked."""
    if args.alerts_to is None:
        if args.alert_window_minutes != 60.0:
            msg = "--alert-window-minutes: only with --alerts-to"
            raise ConfigError(msg)
        return None
    from anomaly_gan.jobs.alerts import AlertCollector

    if not args.alert_window_minutes > 0:
        msg = f"--alert-window-minutes: expected a positive number, found {args.alert_window_minutes:g}"
        raise ConfigError(msg)
    context = {
        "model": str(args.model),
        "model_version": meta.get("model_version") if isinstance(meta, dict) else None,
        "threshold": float(det.threshold_ if threshold is None else threshold),
        "scores_file": str(args.out),
    }
    return AlertCollector(
        copied=[],
        entity_cols=list(args.entity_cols),
        window_minutes=float(args.alert_window_minutes),
        context=context,
    )


def _send_alerts(alerts: Any, args: argparse.Namespace, summary: Any) -> int:
    """Deliver the run's alerts; print what happened; return the exit code."""
    from anomaly_gan.jobs.alerts import deliver

    docs = alerts.documents()
    result = deliver(
        docs, args.alerts_to, dead_letter=Path(f"{args.out}.alerts.dead.jsonl")
    )
    summary.alerts = {**result.to_dict(), "flagged_rows": alerts.flagged}
    where = args.alerts_to
    if result.failed:
        print(
            f"anomaly-gan: error: alerts: {result.failed:,} of {len(docs):,} could not "
            f"be delivered to {where} ({result.error}); kept in {result.dead_letter} "
            "(the scores were written)",
            file=sys.stderr,
        )
        return EXIT_ALERTS_UNDELIVERED
    print(
        f"alerts: {result.sent:,} sent to {where} (from {alerts.flagged:,} flagged rows)"
    )
    return EXIT_OK


def _network_defaults(args: argparse.Namespace, det: Any) -> None:
    """Network models: keep the connection's ends, port and time; entity = source host."""
    from anomaly_gan.features.connections import SOURCE_HOST, VIEW_COLUMNS
    from anomaly_gan.jobs.network_features import uses_network_features

    if not uses_network_features(det):
        return
    kept = list(args.keep_cols or [])
    args.keep_cols = kept + [c for c in VIEW_COLUMNS if c not in kept]
    if not args.entity_cols:
        args.entity_cols = [SOURCE_HOST]


def _check_entity_cols(args: argparse.Namespace, det: Any) -> None:
    """--entity-cols must name output columns (ids or --keep-cols)."""
    copied = [*(args.id_cols or det.config_.id_cols or ()), *(args.keep_cols or [])]
    absent = [c for c in args.entity_cols if c not in copied]
    if absent:
        msg = (
            f"--entity-cols {absent[0]}: not an output column (the output copies "
            f"{', '.join(copied) or 'no column'}); add it with --keep-cols"
        )
        raise ConfigError(msg)


def _entity_rollup(args: argparse.Namespace) -> Any:
    """Return the run's entity roll-up (None without --entity-cols)."""
    if not args.entity_cols:
        return None
    from anomaly_gan.jobs.entities import EntityRollup

    return EntityRollup(list(args.entity_cols))


def _suppression_rules(args: argparse.Namespace) -> Any:
    """Return the active suppression rules of --suppressions (None without it)."""
    if args.suppressions is None:
        return None
    from anomaly_gan.stores.verdicts import VerdictStore

    db = Path(args.suppressions)
    if not db.is_file():
        msg = f"--suppressions '{db}': not found (a verdict store, e.g. verdicts.db)"
        raise ConfigError(msg)
    return VerdictStore(db).suppressions()
