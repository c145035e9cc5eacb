"""``anomaly-gan registry``: list, register, promote, roll back and inspect versions.

``add_parser`` declares the options; ``run`` handles them and returns the exit code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from anomaly_gan.cli._options import (
    EPILOG,
    Parser,
    actor_option,
    registry_option,
)
from anomaly_gan.exceptions import ConfigError


def add_parser(sub: Any) -> None:
    """Declare ``registry`` and its options on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "registry",
        help="list, inspect, add, promote and roll back model versions",
        description="Manage the model registry: numbered immutable versions and aliases such as 'production'.",
        epilog=EPILOG,
    )
    registry_option(p)
    actor_option(p)
    actions = p.add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=Parser
    )
    for name, text in (
        ("list", "list versions with their aliases and metrics"),
        ("runs", "list retraining run reports"),
    ):
        a = actions.add_parser(name, help=text, description=text)
        registry_option(a, inner=True)
        actor_option(a, inner=True)
    a = actions.add_parser(
        "show",
        help="show one version's metadata as JSON",
        description="Show one version's metadata as JSON.",
    )
    a.add_argument("version", metavar="VERSION", help="version number or alias")
    registry_option(a, inner=True)
    actor_option(a, inner=True)
    a = actions.add_parser(
        "add",
        help="add a model directory as a new version",
        description="Copy a verified model directory into the registry as the next version.",
    )
    a.add_argument("model_dir", metavar="MODEL_DIR")
    a.add_argument(
        "--evaluation",
        metavar="FILE",
        help="evaluation report JSON (from 'anomaly-gan evaluate --json') to keep with it",
    )
    a.add_argument("--note", default="", help="free text kept with the version")
    a.add_argument(
        "--promote",
        metavar="ALIAS",
        nargs="?",
        const="production",
        help="also point ALIAS (default: production) at it",
    )
    registry_option(a, inner=True)
    actor_option(a, inner=True)
    a = actions.add_parser(
        "promote",
        help="point an alias at a version",
        description="Point an alias (default: production) at a version, atomically.",
    )
    a.add_argument("version", metavar="VERSION", help="version number or alias")
    a.add_argument(
        "--alias", default="production", help="alias to move (default: production)"
    )
    registry_option(a, inner=True)
    actor_option(a, inner=True)
    a = actions.add_parser(
        "rollback",
        help="point an alias back at its previous version",
        description="Point an alias back at the version it had before its last change.",
    )
    a.add_argument(
        "--alias", default="production", help="alias to roll back (default: production)"
    )
    registry_option(a, inner=True)
    actor_option(a, inner=True)
    a = actions.add_parser(
        "set-threshold",
        help="record a version's operating point (threshold)",
        description=(
            "Record the threshold that score and evaluate use for registry:VERSION "
            "(unless given --threshold or --fpr). The version itself is not changed."
        ),
    )
    a.add_argument("version", metavar="VERSION", help="version number or alias")
    a.add_argument("threshold", type=float, metavar="THRESHOLD")
    a.add_argument("--note", default="", help="why this threshold")
    registry_option(a, inner=True)
    actor_option(a, inner=True)
    a = actions.add_parser(
        "card",
        help="show a version's model card",
        description=(
            "Print a version's model card as Markdown: data, columns and roles, "
            "threshold, held-out evaluation, the retraining gate, drift baseline, "
            "training and what the model directory holds."
        ),
    )
    a.add_argument("version", metavar="VERSION", help="version number or alias")
    a.add_argument("--json", metavar="FILE", help="also write the card as JSON")
    registry_option(a, inner=True)
    actor_option(a, inner=True)
    a = actions.add_parser(
        "diff",
        help="compare two versions",
        description="Compare two versions: parameters, sizes, features and evaluation.",
    )
    a.add_argument("a", metavar="A")
    a.add_argument("b", metavar="B")
    registry_option(a, inner=True)
    actor_option(a, inner=True)


def run(args: argparse.Namespace) -> int:
    """``anomaly-gan registry ACTION``."""
    from anomaly_gan.stores.registry import ModelRegistry, default_root

    reg = ModelRegistry(default_root(args.registry))
    if args.action == "list":
        rows = reg.versions()
        if not rows:
            print(
                f"registry {reg.root}: no versions yet (add one with 'anomaly-gan registry add MODEL_DIR')"
            )
            return 0
        print(
            f"{'version':>7}  {'registered':<25}  {'rows':>9}  {'ROC-AUC':>7}  aliases"
        )
        for info in rows:
            auc = (info.get("evaluation") or {}).get("roc_auc")
            print(
                f"{info['version']:>7}  {info['registered_at']:<25}  {info.get('n_training_rows') or 0:>9,}  "
                f"{'' if auc is None else f'{auc:.4f}':>7}  {', '.join(info['aliases'])}"
            )
    elif args.action == "show":
        print(json.dumps(reg.show(args.version), indent=2, sort_keys=True))
    elif args.action == "add":
        evaluation = None
        if args.evaluation:
            try:
                evaluation = json.loads(Path(args.evaluation).read_text())
            except (OSError, ValueError) as exc:
                msg = f"file '{args.evaluation}': expected an evaluation report in JSON ({exc})"
                raise ConfigError(msg) from exc
        number = reg.register(
            args.model_dir,
            evaluation=evaluation,
            note=args.note,
            promote_to=args.promote,
            user=args.actor,
        )
        promoted = f"; '{args.promote}' now points at it" if args.promote else ""
        print(f"registered {args.model_dir} as version {number}{promoted}")
    elif args.action == "promote":
        number = reg.promote(args.version, args.alias, user=args.actor)
        print(f"'{args.alias}' now points at version {number}")
    elif args.action == "rollback":
        old, new = reg.rollback(args.alias, user=args.actor)
        print(f"'{args.alias}' rolled back from version {old} to version {new}")
    elif args.action == "set-threshold":
        number = reg.set_operating_point(
            args.version, args.threshold, note=args.note, user=args.actor
        )
        print(f"version {number}: operating threshold {args.threshold:.6g}")
    elif args.action == "card":
        from anomaly_gan.cli._shared import write_json
        from anomaly_gan.stores.model_card import card_markdown

        card = reg.card(args.version)
        print(card_markdown(card), end="")
        if args.json:
            write_json(args.json, card)
    elif args.action == "diff":
        print(json.dumps(reg.diff(args.a, args.b), indent=2, sort_keys=True))
    else:  # runs
        for report in reg.run_reports():
            print(
                f"{report['run_id']}  {report['decision']:<14} version {report.get('version')}  {report['reason']}"
            )
    return 0
