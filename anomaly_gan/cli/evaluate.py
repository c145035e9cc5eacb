"""``anomaly-gan evaluate``: detection metrics of a model on labelled data.

``add_parser`` declares the options; ``run`` handles them and returns the exit code.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from anomaly_gan.cli._options import (
    EPILOG,
    TABLES,
    model_option,
    registry_option,
    scoring_device_option,
    threshold_options,
)
from anomaly_gan.cli._shared import (
    image_model,
    load_model,
    operating_point,
    set_threads,
    write_json,
)


def add_parser(sub: Any) -> None:
    """Declare ``evaluate`` and its options on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "evaluate",
        help="measure a model on a labelled file",
        description=(
            "Score a labelled file and report ROC-AUC, average precision, precision, "
            "recall and F1 at the threshold, recall at 1%% and 0.1%% false-positive rate, "
            "precision at k and the confusion matrix, as a table and optionally JSON."
        ),
        epilog=EPILOG,
    )
    model_option(p)
    p.add_argument(
        "--data",
        required=True,
        nargs="+",
        metavar="FILE",
        help=f"labelled input ({TABLES})",
    )
    p.add_argument(
        "--label-col",
        required=True,
        metavar="C",
        help="label column (non-zero, or text other than --normal-label, is an anomaly)",
    )
    p.add_argument(
        "--normal-label",
        default="normal",
        metavar="V",
        help="text label of normal rows (default: normal)",
    )
    threshold_options(p)
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    scoring_device_option(p)
    registry_option(p)


def run(args: argparse.Namespace) -> int:
    """``anomaly-gan evaluate``."""
    import numpy as np

    from anomaly_gan.data.tables import check_outputs, expand_sources, iter_batches
    from anomaly_gan.jobs.batch import score_batch
    from anomaly_gan.scoring.metrics import (
        evaluate_scores,
        require_both_classes,
    )

    check_outputs(args.data, files={"--json": args.json})
    if image_model(args):
        from anomaly_gan.cli.image_commands import _load, run_evaluate_images

        return run_evaluate_images(args, operating_point(_load(args), args))
    sources = expand_sources(args.data)
    set_threads(None)
    det = load_model(args)
    threshold = operating_point(det, args)
    threshold = det.threshold_ if threshold is None else threshold
    scores: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    rejected: list[list[Any]] = []
    from anomaly_gan.jobs.network_features import derived_batches, deriver_for

    for batch in derived_batches(iter_batches(sources), deriver_for(det, sources)):
        scored = score_batch(
            det,
            batch,
            copied=[],
            top_k=0,
            threshold=threshold,
            label_col=args.label_col,
            fail_on_bad_rows=False,
            normal_label=args.normal_label,
        )
        scores.append(scored.scores)
        labels.append(np.asarray(scored.labels))  # label_col given: never None
        rejected += scored.rejected
    if rejected:
        source, row, reason = rejected[0]
        print(
            f"anomaly-gan: {len(rejected):,} row(s) could not be scored and are left "
            f"out of the metrics; first: file '{source}' row {row}: {reason}",
            file=sys.stderr,
        )
    names = ", ".join(f"'{s}'" for s in sources)
    require_both_classes(
        np.concatenate(labels), f"column '{args.label_col}' of {names}"
    )
    report = evaluate_scores(np.concatenate(scores), np.concatenate(labels), threshold)
    print(report.to_text())
    if args.json:
        write_json(
            args.json,
            {
                "model": str(args.model),
                "data": [str(s) for s in sources],
                "rows_rejected": len(rejected),
                **report.to_dict(),
            },
        )
    return 0
