"""``anomaly-gan drift``: a file's drift against a model's training reference.

``add_parser`` declares the options; ``run`` handles them and returns the exit code.
"""

from __future__ import annotations

import argparse
from typing import Any

from anomaly_gan.cli._options import (
    EPILOG,
    TABLES,
    finite,
    model_option,
    registry_option,
)
from anomaly_gan.cli._shared import image_model, load_model, set_threads, write_json
from anomaly_gan.exceptions import ConfigError


def add_parser(sub: Any) -> None:
    """Declare ``drift`` and its options on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "drift",
        help="compare a file's columns with the model's training reference",
        description=(
            "Per-feature drift of a file against the normal rows the model was "
            "trained on, without scoring it: Kolmogorov-Smirnov and chi-squared "
            "tests up to 1,000 rows, the population stability index (PSI) beyond; "
            "the share of categories unseen in training. 'score' writes the same "
            "report for every scored file (OUT.drift.json), with the score's and "
            "the flag rate's drift. See docs/drift.md."
        ),
        epilog=EPILOG,
    )
    model_option(p)
    p.add_argument("--data", required=True, nargs="+", metavar="FILE", help=TABLES)
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    p.add_argument(
        "--psi-bound",
        type=finite,
        default=0.2,
        metavar="X",
        help="a column drifts when its PSI is at least X (default 0.2)",
    )
    p.add_argument(
        "--p-value",
        type=finite,
        default=0.01,
        metavar="P",
        help="with 1,000 rows or fewer, a column drifts when its test's p < P "
        "(default 0.01)",
    )
    registry_option(p)


def run(args: argparse.Namespace) -> int:
    """``anomaly-gan drift``."""
    from anomaly_gan.data.tables import check_outputs, expand_sources
    from anomaly_gan.jobs.drift_check import check_files
    from anomaly_gan.scoring.drift import DriftSettings, summary_text

    if not args.psi_bound > 0:
        msg = f"--psi-bound: expected a positive number, found {args.psi_bound:g}"
        raise ConfigError(msg)
    if not 0 < args.p_value < 1:
        msg = f"--p-value: expected a number in (0, 1), found {args.p_value:g}"
        raise ConfigError(msg)
    check_outputs(args.data, files={"--json": args.json})
    if image_model(args):
        msg = "drift: compares table columns; image models are not supported"
        raise ConfigError(msg)
    sources = expand_sources(args.data)
    set_threads(None)
    det = load_model(args, device="cpu")
    settings = DriftSettings(psi_bound=args.psi_bound, p_value=args.p_value)
    report = check_files(det, sources, settings=settings)
    print(summary_text(report))
    if report["rows_rejected"]:
        print(
            f"rows left out (could not be read as the model's columns): {report['rows_rejected']:,}"
        )
    if args.json:
        write_json(
            args.json,
            {"model": str(args.model), "data": [str(s) for s in sources], **report},
        )
    return 0
