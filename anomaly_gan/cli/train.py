"""``anomaly-gan train``: fit a detector on normal rows or images and save it.

``add_parser`` declares the options; ``run`` handles them and returns the exit code.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path
from typing import Any

from anomaly_gan.cli._options import (
    EPILOG,
    TABLES,
    actor_option,
    registry_option,
)
from anomaly_gan.exceptions import ConfigError

logger = logging.getLogger("anomaly_gan")


def add_parser(sub: Any) -> None:
    """Declare ``train`` and its options on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "train",
        help="train a detector on normal rows of a CSV or Parquet file",
        description=(
            "Train a GANomaly detector on a table of normal rows and save the model "
            "directory. With --label-col, rows labelled as anomalies are dropped first. "
            "Started by 'torchrun --nproc-per-node N -m anomaly_gan train ...' it "
            "trains data-parallel on N processes (DDP; one per GPU, or gloo on CPUs); "
            "rank 0 writes checkpoints and the model."
        ),
        epilog=EPILOG,
    )
    p.add_argument(
        "--data",
        required=True,
        metavar="FILE",
        help=f"training table ({TABLES}), or images: a folder of PNG/JPEG files, an .npz file or an MNIST IDX file",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="MODEL_DIR",
        help="model directory to write (replaced atomically)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="TOML or JSON file of detector parameters (docs/configuration.md)",
    )
    p.add_argument(
        "--label-col",
        metavar="C",
        help="label column: rows labelled anomalous are dropped; never a feature",
    )
    p.add_argument(
        "--normal-label",
        default="normal",
        metavar="V",
        help="text label of normal rows (default: normal; 0 and false also count)",
    )
    p.add_argument(
        "--id-cols",
        nargs="+",
        metavar="C",
        help="identifier columns (never features; copied to score output)",
    )
    p.add_argument(
        "--timestamp-cols",
        nargs="+",
        metavar="C",
        help="timestamp columns (never features)",
    )
    p.add_argument(
        "--exclude-cols",
        nargs="+",
        metavar="C",
        help="other columns to leave out of the model",
    )
    p.add_argument(
        "--categorical-cols",
        nargs="+",
        metavar="C",
        help="force these columns to be categorical",
    )
    p.add_argument(
        "--numeric-cols",
        nargs="+",
        metavar="C",
        help="force these columns to be numeric",
    )
    p.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda", "mps"],
        help="training device (default: auto = CUDA, then MPS, then CPU)",
    )
    p.add_argument(
        "--epochs",
        type=int,
        metavar="N",
        help="training epochs (default: by rule from the row count)",
    )
    p.add_argument(
        "--score-combine",
        choices=["balanced", "max", "mean"],
        help="how the GAN's residuals, the knn term and the marginal term make the "
        "score: balanced "
        "(default), max (training data likely to hold many unlabelled anomalies) or "
        "mean (training data known to be clean); see docs/model.md",
    )
    p.add_argument(
        "--image-size",
        type=int,
        default=32,
        metavar="N",
        help="image sources: images are resized to N x N (16, 32, 64, 128 or 256; default 32)",
    )
    p.add_argument(
        "--image-score",
        choices=("neighbours", "reconstruction"),
        help="image sources: what ranks the images: neighbours (the default; cosine "
        "neighbours in pixels and latent code, best on shapes such as digits) or "
        "reconstruction (the GAN's residual, best on textured surfaces); "
        "docs/images.md has the measurements",
    )
    p.add_argument(
        "--random-state", type=int, metavar="N", help="seed for a reproducible model"
    )
    p.add_argument(
        "--network-features",
        choices=("auto", "on", "off"),
        default="auto",
        help="derive the network features of docs/network.md (bytes ratios, per-host "
        "counts per minute and hour): auto (default) when the data are connection "
        "records (ts, id.orig_h, id.resp_h, id.resp_p), on, or off",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue a killed run from its last checkpoint (MODEL_DIR.checkpoints)",
    )
    p.add_argument(
        "--register",
        action="store_true",
        help="also add the model to the registry as a new version",
    )
    p.add_argument(
        "--promote",
        metavar="ALIAS",
        nargs="?",
        const="production",
        help="with --register: point ALIAS (default: production) at it",
    )
    registry_option(p)
    actor_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """``anomaly-gan train``."""
    from anomaly_gan.config import DetectorConfig
    from anomaly_gan.data.tables import check_outputs, read_table
    from anomaly_gan.detectors.tabular import GANomalyDetector
    from anomaly_gan.engine import ddp
    from anomaly_gan.scoring.metrics import anomaly_labels

    params = DetectorConfig.from_file(args.config).to_dict() if args.config else {}
    overrides = {
        "id_cols": args.id_cols,
        "timestamp_cols": args.timestamp_cols,
        "exclude_cols": args.exclude_cols,
        "categorical_cols": args.categorical_cols,
        "numeric_cols": args.numeric_cols,
        "label_col": args.label_col,
        "device": args.device,
        "epochs": args.epochs,
        "score_combine": args.score_combine,
        "random_state": args.random_state,
    }
    params.update({k: v for k, v in overrides.items() if v is not None})
    if args.epochs is not None and args.epochs < 1:
        msg = f"--epochs: expected a positive integer, found {args.epochs}"
        raise ConfigError(msg)
    if args.promote and not args.register:
        msg = "--promote: only together with --register"
        raise ConfigError(msg)
    params["verbose"] = 0 if args.quiet or not sys.stderr.isatty() else 1
    out = Path(args.out)
    checkpoints = out.with_name(out.name + ".checkpoints")
    check_outputs(
        [args.data],
        files={},
        folders={"--out": out, "--out (its checkpoints)": checkpoints},
    )
    from anomaly_gan.data.images import is_image_source

    if is_image_source(args.data):
        from anomaly_gan.cli.image_commands import run_train_images

        if args.score_combine is not None:
            msg = "--score-combine: only for tables; image models combine their own terms (docs/images.md)"
            raise ConfigError(msg)
        return run_train_images(args, params["verbose"])
    if args.image_score is not None:
        msg = f"--image-score: only for image sources, not for the table '{args.data}'"
        raise ConfigError(msg)
    DetectorConfig.from_dict(params, source="options")  # check before reading data
    frame = read_table(args.data)
    from anomaly_gan.jobs.network_features import prepare_training_frame

    # Window counts cover all the traffic, labelled attacks included.
    frame = prepare_training_frame(frame, params, args.network_features, args.data)
    if args.label_col:
        if args.label_col not in frame.columns:
            msg = f"column '{args.label_col}' (named by --label-col): not found in '{args.data}'"
            raise ConfigError(msg)
        labels = anomaly_labels(
            frame[args.label_col], args.label_col, args.normal_label
        )
        frame = frame[labels == 0]
        logger.warning(
            "dropped %d row(s) labelled as anomalies; training on %d normal rows",
            int(labels.sum()),
            len(frame),
        )
    _warn_against_registered_roles(frame, params, args.registry)
    det = GANomalyDetector(**params, checkpoint_dir=checkpoints)
    det.fit(frame, resume=args.resume)
    ddp.shutdown()  # torchrun: training's collectives are over
    if not ddp.current().primary:  # rank 0 alone writes and reports
        return 0
    det.save(out)
    shutil.rmtree(checkpoints, ignore_errors=True)
    last = det.history_[-1] if det.history_ else {}
    print(
        f"trained on {len(frame):,} rows in {det.fit_seconds_:.1f} s on {det.device_} "
        f"({det.sizes_.epochs} epochs, best {det.best_epoch_}; "
        f"final losses g={last.get('g_loss', float('nan')):.3f} d={last.get('d_loss', float('nan')):.3f})"
    )
    print(
        f"threshold {det.threshold_:.4f} (target false-positive rate {det.config_.target_fpr:g})"
    )
    print(_roles_line(det.preprocessor_.describe_schema()))
    print(f"model written to {out}")
    if args.register:
        from anomaly_gan.stores.registry import ModelRegistry, default_root

        reg = ModelRegistry(default_root(args.registry))
        number = reg.register(
            out,
            note=f"trained from {args.data}",
            promote_to=args.promote,
            user=args.actor,
        )
        promoted = f"; '{args.promote}' now points at it" if args.promote else ""
        print(f"registered as version {number} in {reg.root}{promoted}")
    return 0


def _roles_line(schema: list[dict[str, Any]], shown: int = 12) -> str:
    """One line listing the roles inferred from the data (not set by options)."""
    inferred: dict[str, list[str]] = {}
    for item in schema:
        if item.get("inferred"):
            inferred.setdefault(item["role"], []).append(item["name"])
    if not inferred:
        return "column roles: all set by options"
    parts = []
    for role, names in inferred.items():
        listed = ", ".join(names[:shown])
        more = f" (+{len(names) - shown} more)" if len(names) > shown else ""
        parts.append(f"{role} {len(names)}: {listed}{more}")
    return "column roles inferred from the data: " + "; ".join(parts)


def _warn_against_registered_roles(
    frame: Any, params: dict[str, Any], registry: str | None
) -> None:
    """Warn when a column the model in service reads as numbers is text here.

    The typical cause is a number column with a bad value in this file (e.g.
    ``amount`` = "twelve"): its role is inferred as categorical and the model
    would learn the numbers as categories.
    """
    import pandas as pd

    from anomaly_gan.features.schema import CATEGORICAL, infer_role
    from anomaly_gan.stores.registry import PRODUCTION, ModelRegistry, default_root

    root = default_root(registry)
    if not (root / "registry.json").exists():
        return
    reg = ModelRegistry(root)
    number = reg.aliases().get(PRODUCTION)
    if number is None:
        return
    registered = {
        item["name"]: item["role"]
        for item in reg.show(number).get("feature_schema", [])
    }
    from anomaly_gan.config import COLUMN_OPTIONS

    named = {str(c) for key in COLUMN_OPTIONS for c in (params.get(key) or [])}
    named.add(str(params.get("label_col")))
    for column in frame.columns:
        name = str(column)
        if name in named or registered.get(name) != "numeric":
            continue
        if infer_role(frame[column]) == CATEGORICAL:
            values = frame[column].dropna()
            odd = values[pd.to_numeric(values, errors="coerce").isna().to_numpy()]
            example = f" (e.g. {odd.iloc[0]!r})" if len(odd) else ""
            logger.warning(
                "column '%s': numeric in registry version %d ('%s'), but its values "
                "here are text%s, so it would be learned as categorical; name it in "
                "--numeric-cols if it is a number column",
                name,
                number,
                PRODUCTION,
                example,
            )
