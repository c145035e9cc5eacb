"""``anomaly-gan retrain``: the scheduled retraining job's command.

``add_parser`` declares the options; ``run`` handles them and returns the exit code.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from anomaly_gan.cli._options import (
    EPILOG,
    actor_option,
    registry_option,
)
from anomaly_gan.cli._shared import (
    write_json,
)


def add_parser(sub: Any) -> None:
    """Declare ``retrain`` and its options on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "retrain",
        help="scheduled retraining: train a challenger, promote it only when no worse",
        description=(
            "Read fresh data, train a challenger on it without the rows the model in "
            "service flags (unless confirmed benign), compare it with that model on the "
            "same holdout, register it, and promote it only when it passes the gate. "
            "See docs/retraining.md."
        ),
        epilog=EPILOG,
    )
    p.add_argument(
        "--config",
        required=True,
        metavar="FILE",
        help="retraining config (TOML or YAML)",
    )
    p.add_argument(
        "--report-json", metavar="FILE", help="also write the run report to FILE"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="retrain even when a version was already trained on exactly this data "
        "(otherwise such a run is skipped with exit code 5)",
    )
    p.add_argument(
        "--when-drift",
        action="store_true",
        help="retrain only when the data has moved: a feature drifts against the "
        "champion's training reference or its flag rate rises (the [trigger] "
        "table's bounds; otherwise skipped with exit code 5)",
    )
    registry_option(p)
    actor_option(p)


def run(args: argparse.Namespace) -> int:
    """``anomaly-gan retrain``: exit 0 promoted, 5 champion kept."""
    from anomaly_gan.jobs.retrain import outcome_text, run_retrain
    from anomaly_gan.jobs.retrain_config import RetrainConfig

    config = RetrainConfig.from_file(args.config)
    if args.when_drift:
        config = dataclasses.replace(config, when_drift=True)
    outcome = run_retrain(
        config,
        registry=args.registry,
        verbose=1 if sys.stderr.isatty() else 0,
        actor=args.actor,
        force=args.force,
    )
    print(outcome_text(outcome))
    if args.report_json:
        write_json(args.report_json, outcome.to_dict())
    return outcome.exit_code
