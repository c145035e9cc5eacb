"""``anomaly-gan benchmark``: the detection benchmark of ../shared/BENCHMARK.md.

``add_parser`` declares the options; ``run`` handles them and returns the exit code.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from anomaly_gan.exceptions import ConfigError


def add_parser(sub: Any) -> None:
    """Declare ``benchmark`` and its options on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "benchmark",
        help="compare the detector with PyOD's on ADBench and NSL-KDD",
        description=(
            "Run the protocol of ../shared/BENCHMARK.md: every detector on the same "
            "splits, results appended to a CSV (a re-run resumes), then a Markdown report."
        ),
    )
    p.add_argument(
        "--adbench",
        metavar="DIR",
        default="../shared/data/adbench",
        help="folder of ADBench .npz files ('' to skip)",
    )
    p.add_argument(
        "--nsl-kdd",
        metavar="DIR",
        default="../shared/data/nsl-kdd",
        help="NSL-KDD folder ('' to skip)",
    )
    p.add_argument(
        "--mnist",
        metavar="DIR",
        default="",
        help="MNIST folder (IDX files) for the one-class image protocol, e.g. ../shared/data/mnist (default: skipped)",
    )
    p.add_argument(
        "--datasets",
        nargs="+",
        metavar="NAME",
        help="only these data sets (file stems, nsl-kdd, mnist or mnist-D)",
    )
    p.add_argument(
        "--detectors",
        nargs="+",
        metavar="NAME",
        help="only these detectors (anomaly-gan, IForest, ECOD, KNN, PCA, AutoEncoder, DeepSVDD, ALAD, AnoGAN; CosineKNN on images)",
    )
    p.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=[0, 1, 2],
        metavar="N",
        help="seeds (default: 0 1 2)",
    )
    p.add_argument(
        "--setting",
        choices=["clean", "contaminated", "both"],
        default="both",
        help="clean: fit on the normal training rows; contaminated: on all training "
        "rows, anomalies included and unlabelled (ADBench sets; NSL-KDD and MNIST "
        "are clean only); both (default)",
    )
    p.add_argument(
        "--anogan-max-rows",
        type=int,
        default=3000,
        metavar="N",
        help="run AnoGAN only where training has at most N rows (default: 3000)",
    )
    p.add_argument(
        "--results",
        default="docs/results/benchmark.csv",
        metavar="FILE",
        help="results CSV, appended to (default: docs/results/benchmark.csv)",
    )
    p.add_argument(
        "--report",
        default="docs/results/benchmark.md",
        metavar="FILE",
        help="Markdown report to write (default: docs/results/benchmark.md)",
    )
    p.add_argument(
        "--report-only",
        action="store_true",
        help="only rewrite the report from the results CSV",
    )


def run(args: argparse.Namespace) -> int:
    """``anomaly-gan benchmark``: run (or resume) the protocol, then write the report."""
    from anomaly_gan.data.tables import atomic_write
    from anomaly_gan.jobs import benchmark

    results = Path(args.results)
    if not args.report_only:
        adbench = Path(args.adbench) if args.adbench else None
        nsl = Path(args.nsl_kdd) if args.nsl_kdd else None
        mnist = Path(args.mnist) if args.mnist else None
        for folder in (adbench, nsl, mnist):
            if folder is not None and not folder.is_dir():
                msg = f"data folder '{folder}': not found (see ../shared/data/README.md, or pass '' to skip it)"
                raise ConfigError(msg)

        def show(row: dict[str, Any]) -> None:
            timing = "" if row["fit_s"] == "" else f" fit {row['fit_s']:.1f}s"
            outcome = row["error"] or f"ROC-AUC {row['roc_auc']:.4f}{timing}"
            print(
                f"{row['dataset']:<22} {row['setting']:<12} seed {row['seed']} "
                f"{row['detector']:<12} {outcome}",
                flush=True,
            )

        benchmark.run(
            results,
            adbench=adbench,
            nsl_kdd=nsl,
            datasets=args.datasets,
            detectors=args.detectors,
            seeds=args.seeds,
            anogan_max_rows=args.anogan_max_rows,
            progress=show,
            mnist=mnist,
            settings=benchmark.SETTINGS if args.setting == "both" else (args.setting,),
        )
    if not results.exists():
        msg = f"results file '{results}': not found; run the benchmark first"
        raise ConfigError(msg)
    from anomaly_gan.jobs.benchmark_report import report

    text = report(results, anogan_max_rows=args.anogan_max_rows)
    with atomic_write(args.report) as tmp:
        tmp.write_text(text + "\n")
    print(f"report written to {args.report}")
    return 0
