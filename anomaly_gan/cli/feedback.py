"""``anomaly-gan feedback``: the analysts' verdicts, exported for scripts.

``add_parser`` declares the options; ``run`` handles them and returns the exit code.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from anomaly_gan.cli._options import (
    Parser,
)
from anomaly_gan.exceptions import ConfigError


def add_parser(sub: Any) -> None:
    """Declare ``feedback`` and its options on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "feedback",
        help="export analysts' verdicts for retraining and evaluation",
        description="Read the verdict store (SQLite) that the dashboard writes.",
    )
    actions = p.add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=Parser
    )
    a = actions.add_parser(
        "export",
        help="write verdicts to CSV or Parquet",
        description=(
            "Write verdicts (event_id first, then verdict, note, analyst, updated_at, "
            "batch_id, batch, score). The file of confirmed ones is what "
            "'[normal] confirmed_fraud_ids' in a retrain config expects."
        ),
    )
    a.add_argument(
        "--db",
        metavar="FILE",
        help="verdict store (default: $ANOMALY_GAN_VERDICTS, else ./verdicts.db)",
    )
    a.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="output table (.csv or .parquet), written atomically",
    )
    a.add_argument(
        "--verdict",
        choices=["confirmed", "false_positive", "needs_review"],
        help="only this verdict",
    )


def run(args: argparse.Namespace) -> int:
    """``anomaly-gan feedback export``."""
    import os

    from anomaly_gan.data.tables import check_outputs, table_format
    from anomaly_gan.stores.verdicts import VerdictStore

    db = Path(args.db or os.environ.get("ANOMALY_GAN_VERDICTS") or "verdicts.db")
    if not db.exists():
        msg = f"verdict store '{db}': not found (the dashboard creates it; pass --db)"
        raise ConfigError(msg)
    table_format(args.out)
    check_outputs([db], files={"--out": args.out})
    count = VerdictStore(db).export(args.out, verdict=args.verdict)
    print(f"wrote {count:,} verdict(s) to {args.out}")
    return 0
