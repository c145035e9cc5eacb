"""CLI handlers for scaling out: ``score --engine dask``.

Kept apart from ``score`` so that the single-machine path stays small;
Dask is imported only when asked for.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from anomaly_gan.data.tables import CSV_SUFFIXES
from anomaly_gan.exceptions import ConfigError


def refuse_dask_options(args: argparse.Namespace) -> None:
    """Dask options given without ``--engine dask`` are a usage error."""
    for flag, value, default in (
        ("--scheduler", args.scheduler, "local"),
        ("--workers", args.workers, 2),
        ("--partition-mb", args.partition_mb, 64.0),
    ):
        if value != default:
            msg = f"{flag}: only with --engine dask"
            raise ConfigError(msg)


def run_score_dask(
    args: argparse.Namespace,
    *,
    threshold: float | None,
    meta: dict[str, Any] | None = None,
    progress: Any,
    report: Callable[[Any, argparse.Namespace], None],
) -> int:
    """``score --engine dask``: partitions on a Dask cluster into a Parquet folder.

    ``threshold`` is the run's threshold as ``score`` resolved it (None: the
    model's) and ``meta`` the record every part carries about it; ``progress``
    and ``report`` are the single-machine job's.
    """
    from anomaly_gan.cli._shared import model_ref
    from anomaly_gan.data.tables import expand_sources
    from anomaly_gan.jobs.dask_batch import DaskScoreJob, require_dask

    require_dask()
    if args.format == "csv" or str(args.out).lower().endswith(CSV_SUFFIXES):
        msg = (
            f"--out '{args.out}': --engine dask writes a folder of Parquet parts; "
            "give a folder path (and no --format csv)"
        )
        raise ConfigError(msg)
    if args.workers < 1:
        msg = f"--workers: expected a positive integer, found {args.workers}"
        raise ConfigError(msg)
    if not args.partition_mb > 0:
        msg = f"--partition-mb: expected a positive number, found {args.partition_mb}"
        raise ConfigError(msg)
    sources = expand_sources(args.data)
    model_dir = model_ref(args).path
    job = DaskScoreJob(
        model_dir,
        sources,
        Path(args.out),
        scheduler=args.scheduler,
        workers=args.workers,
        threads=args.threads or 1,
        partition_bytes=int(args.partition_mb * (1 << 20)),
        id_cols=args.id_cols,
        keep_cols=args.keep_cols,
        top_k=args.top_k,
        threshold=threshold,
        label_col=args.label_col,
        fail_on_bad_rows=args.fail_on_bad_rows,
        progress=progress.update,
        meta=meta,
    )
    try:
        summary = job.run()
    finally:
        progress.close()
    report(summary, args)
    return 0
