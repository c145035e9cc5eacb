"""``anomaly-gan generate``: write synthetic transactions.

``add_parser`` declares the options; ``run`` handles them and returns the exit code.
"""

from __future__ import annotations

import argparse
from typing import Any

from anomaly_gan.exceptions import ConfigError


def add_parser(sub: Any) -> None:
    """Declare ``generate`` and its options on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "generate",
        help="generate synthetic card transactions with labelled fraud",
        description="Write a synthetic card-transactions table (see anomaly_gan.data.datasets.make_transactions).",
    )
    p.add_argument(
        "--rows",
        type=int,
        default=100_000,
        metavar="N",
        help="number of rows (default: 100000)",
    )
    p.add_argument(
        "--fraud-rate",
        type=float,
        default=0.01,
        metavar="R",
        help="share of fraud rows (default: 0.01; 0 for normal only)",
    )
    p.add_argument(
        "--random-state", type=int, default=0, metavar="N", help="seed (default: 0)"
    )
    p.add_argument(
        "--out", required=True, metavar="FILE", help="output table (.csv or .parquet)"
    )


def run(args: argparse.Namespace) -> int:
    """``anomaly-gan generate``."""
    from anomaly_gan.data.datasets import make_transactions
    from anomaly_gan.data.tables import table_format, write_table

    if args.rows < 1:
        msg = f"--rows: expected a positive integer, found {args.rows}"
        raise ConfigError(msg)
    if not 0 <= args.fraud_rate <= 0.5:
        msg = f"--fraud-rate: expected a number in [0, 0.5], found {args.fraud_rate}"
        raise ConfigError(msg)
    table_format(args.out)
    frame = make_transactions(
        args.rows, fraud_rate=args.fraud_rate, random_state=args.random_state
    )
    write_table(frame, args.out)
    print(
        f"wrote {len(frame):,} transactions ({int(frame['is_fraud'].sum()):,} fraud) to {args.out}"
    )
    return 0
