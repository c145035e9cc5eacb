"""``anomaly-gan threshold suggest``: a threshold from analysts' verdicts.

``add_parser`` declares the options; ``run`` handles them and returns the exit code.
"""

from __future__ import annotations

import argparse
from typing import Any

from anomaly_gan.cli._options import EPILOG, Parser, finite
from anomaly_gan.cli._shared import write_json
from anomaly_gan.exceptions import ConfigError


def add_parser(sub: Any) -> None:
    """Declare ``threshold`` and its options on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "threshold",
        help="suggest a threshold from analysts' verdicts",
        description="Thresholds from the verdict store (see docs/retraining.md).",
        epilog=EPILOG,
    )
    actions = p.add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=Parser
    )
    a = actions.add_parser(
        "suggest",
        help="the threshold for a target precision or an alert budget",
        description=(
            "Over the scored batches the dashboard recorded (all of their events) "
            "and the verdicts set on them (confirmed = a real anomaly, "
            "false_positive), find the lowest threshold whose precision among "
            "labelled events reaches --target-precision, or that raises at most "
            "--alerts-per-day alerts; print the expected precision, recall of the "
            "confirmed events and alert volume there and at the batches' own "
            "threshold, and the command that applies it (registry set-threshold)."
        ),
    )
    goal = a.add_mutually_exclusive_group(required=True)
    goal.add_argument("--target-precision", type=finite, metavar="P")
    goal.add_argument("--alerts-per-day", type=finite, metavar="N")
    a.add_argument(
        "--db",
        metavar="FILE",
        help="verdict store (default: $ANOMALY_GAN_VERDICTS, else ./verdicts.db)",
    )
    a.add_argument(
        "--model",
        metavar="MODEL",
        help="only batches scored with this model (as the batch records it, e.g. "
        "registry:production); scores of different models do not compare",
    )
    a.add_argument(
        "--last-batches",
        type=int,
        metavar="K",
        help="only the K most recent batches (default: all)",
    )
    a.add_argument(
        "--min-labelled",
        type=int,
        default=10,
        metavar="M",
        help="labelled events a precision must rest on (default 10)",
    )
    a.add_argument("--json", metavar="FILE", help="also write the suggestion as JSON")


def run(args: argparse.Namespace) -> int:
    """``anomaly-gan threshold suggest``."""
    import os
    from pathlib import Path

    import pandas as pd

    from anomaly_gan.data.tables import check_outputs
    from anomaly_gan.scoring.threshold_advice import for_alert_budget, for_precision
    from anomaly_gan.stores.verdicts import VerdictStore

    if args.target_precision is not None and not 0 < args.target_precision <= 1:
        msg = f"--target-precision: expected a number in (0, 1], found {args.target_precision:g}"
        raise ConfigError(msg)
    if args.alerts_per_day is not None and not args.alerts_per_day >= 0:
        msg = f"--alerts-per-day: expected 0 or more, found {args.alerts_per_day:g}"
        raise ConfigError(msg)
    if args.last_batches is not None and args.last_batches < 1:
        msg = f"--last-batches: expected a positive integer, found {args.last_batches}"
        raise ConfigError(msg)
    db = Path(args.db or os.environ.get("ANOMALY_GAN_VERDICTS", "verdicts.db"))
    if not db.is_file():
        msg = f"verdict store '{db}': not found (the dashboard creates it; pass --db)"
        raise ConfigError(msg)
    check_outputs([db], files={"--json": args.json})
    store = VerdictStore(db)
    batches = store.batches()
    if args.model is not None:
        batches = batches[batches["model"] == args.model]
    if args.last_batches is not None:
        batches = batches.head(args.last_batches)
    if batches.empty:
        which = f" scored with '{args.model}'" if args.model else ""
        msg = f"verdict store '{db}': no scored batches{which}"
        raise ConfigError(msg)
    models = sorted(str(m) for m in batches["model"].dropna().unique())
    if len(models) > 1:
        msg = (
            f"verdict store '{db}': the batches were scored with {len(models)} models "
            f"({', '.join(models)}), whose scores do not compare; pick one with --model"
        )
        raise ConfigError(msg)
    ids = [int(b) for b in batches["id"]]
    events = store.events(ids)
    verdicts = store.verdicts()
    verdicts = verdicts[verdicts["batch_id"].isin(ids)]
    decided = verdicts[verdicts["verdict"].isin(["confirmed", "false_positive"])]
    stamps = pd.to_datetime(
        batches["scored_at"].fillna(batches["added_at"]), errors="coerce", utc=True
    )
    days = float(max(1, stamps.dt.date.nunique()))
    scores = events["score"].to_numpy(float)
    labelled = decided["score"].to_numpy(float)
    confirmed = decided.loc[decided["verdict"] == "confirmed", "score"].to_numpy(float)
    if args.target_precision is not None:
        advice = for_precision(
            scores, labelled, confirmed, days, args.target_precision,
            min_labelled=args.min_labelled,
        )  # fmt: skip
    else:
        advice = for_alert_budget(
            scores, labelled, confirmed, days, args.alerts_per_day
        )
    current = batches["threshold"].dropna()
    now = None
    if len(current):
        from anomaly_gan.scoring.threshold_advice import at_threshold

        now = at_threshold(scores, labelled, confirmed, days, float(current.iloc[0]))
    print(
        f"from {len(ids)} batch(es) over {days:g} day(s): {len(scores):,} events, "
        f"{len(labelled):,} with a verdict ({len(confirmed):,} confirmed)"
    )
    print(_line(f"suggested ({advice.goal})", advice.to_dict()))
    if advice.threshold is None:
        print(f"no suggestion: {advice.reason}")
    if now is not None:
        print(_line("the batches' own threshold", now))
    if advice.threshold is not None:
        model = args.model or (models[0] if models else "VERSION")
        version = (
            model.removeprefix("registry:")
            if model.startswith("registry:")
            else "VERSION"
        )
        print(
            f"apply it with: anomaly-gan registry set-threshold {version} "
            f'{advice.threshold!r} --note "{advice.goal}, from verdicts"'
        )
    if args.json:
        write_json(
            args.json,
            {
                "db": str(db),
                "batches": ids,
                "suggested": advice.to_dict(),
                "current": now,
            },
        )
    return 0


def _line(label: str, at: dict[str, Any]) -> str:
    if at.get("threshold") is None:
        return f"{label}: none"

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    return (
        f"{label}: threshold {at['threshold']:.6g}: precision {pct(at['precision'])} "
        f"(on {at['labelled_above']:,} labelled events above it), recall "
        f"{pct(at['recall'])} of the confirmed, {at['alerts_per_day']:,.1f} alerts a day"
    )
