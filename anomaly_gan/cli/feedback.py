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
        help="export analysts' verdicts; manage suppression rules",
        description="Read and write the verdict store (SQLite) the dashboard writes.",
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
    a = actions.add_parser(
        "suppress",
        help="mark a pattern benign: reported, not alerted, not learned",
        description=(
            "Add a suppression rule: rows whose columns hold these values are still "
            "scored and written, marked in a 'suppressed' column by 'score "
            "--suppressions', not sent as alerts, and not learned by 'retrain' "
            "([normal] suppressions_db). See docs/alerts.md."
        ),
    )
    a.add_argument(
        "--where",
        required=True,
        nargs="+",
        metavar="COLUMN=VALUE",
        help="conditions, all of which must hold (repeat a column for several values)",
    )
    a.add_argument("--analyst", required=True, help="who marks it (audited)")
    a.add_argument("--name", default="", help="a name (default: the conditions)")
    a.add_argument("--note", default="", help="why")
    _db_option(a)
    a = actions.add_parser("suppressions", help="list the active suppression rules")
    a.add_argument("--all", action="store_true", help="ended rules too")
    _db_option(a)
    a = actions.add_parser("unsuppress", help="end a suppression rule")
    a.add_argument("rule", type=int, metavar="ID")
    a.add_argument("--analyst", required=True, help="who ends it (audited)")
    a.add_argument("--note", default="")
    _db_option(a)


def _db_option(parser: Any) -> None:
    parser.add_argument(
        "--db",
        metavar="FILE",
        help="verdict store (default: $ANOMALY_GAN_VERDICTS, else ./verdicts.db)",
    )


def run(args: argparse.Namespace) -> int:
    """``anomaly-gan feedback ACTION``."""
    import os

    from anomaly_gan.data.tables import check_outputs, table_format
    from anomaly_gan.stores.verdicts import VerdictStore

    db = Path(args.db or os.environ.get("ANOMALY_GAN_VERDICTS") or "verdicts.db")
    if not db.exists():
        msg = f"verdict store '{db}': not found (the dashboard creates it; pass --db)"
        raise ConfigError(msg)
    if args.action == "suppress":
        conditions: dict[str, list[str]] = {}
        for item in args.where:
            column, sep, value = item.partition("=")
            if not sep or not column:
                msg = f"--where {item!r}: expected COLUMN=VALUE"
                raise ConfigError(msg)
            conditions.setdefault(column, []).append(value)
        store = VerdictStore(db)
        rule = store.add_suppression(
            conditions, analyst=args.analyst, name=args.name, note=args.note
        )
        name = next(r["name"] for r in store.suppressions() if r["id"] == rule)
        print(f"suppression rule {rule} added: {name}")
        return 0
    if args.action == "suppressions":
        rules = VerdictStore(db).suppressions(active_only=not args.all)
        if not rules:
            print("no suppression rules")
        for r in rules:
            state = "" if r["active"] else " (ended)"
            print(
                f"{r['id']:>4}  {r['name']}{state}  by {r['analyst']} at {r['created_at']}  {r['note']}"
            )
        return 0
    if args.action == "unsuppress":
        VerdictStore(db).end_suppression(
            args.rule, analyst=args.analyst, note=args.note
        )
        print(f"suppression rule {args.rule} ended")
        return 0
    table_format(args.out)
    check_outputs([db], files={"--out": args.out})
    count = VerdictStore(db).export(args.out, verdict=args.verdict)
    print(f"wrote {count:,} verdict(s) to {args.out}")
    return 0
