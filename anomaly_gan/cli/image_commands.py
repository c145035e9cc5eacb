"""The CLI's image paths: ``train``, ``score`` and ``evaluate`` on image sources.

``train``, ``score`` and ``evaluate`` hand over when ``--data`` is an image
source (a folder of image files, an ``.npz`` file, an MNIST IDX file) or the
model is an image model. Image
sources have two columns for the options that name columns: ``path`` and
``label`` (the subfolder name, an array's ``y`` or the MNIST digit).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anomaly_gan.data.tables import write_table
from anomaly_gan.engine import ddp
from anomaly_gan.exceptions import ConfigError, DataError
from anomaly_gan.scoring import columns

IMAGE_LABEL = "label"


def _labels(values: list[str], args: argparse.Namespace, source: str) -> np.ndarray:
    from anomaly_gan.scoring.metrics import anomaly_labels

    if args.label_col != IMAGE_LABEL:
        msg = f"--label-col {args.label_col}: image sources have one label column, '{IMAGE_LABEL}'"
        raise ConfigError(msg)
    if not values:
        msg = f"'{source}': no labels (use subfolders, an .npz 'y' array or an IDX labels file)"
        raise DataError(msg)
    return anomaly_labels(pd.Series(values), IMAGE_LABEL, args.normal_label)


def run_train_images(args: argparse.Namespace, verbose: int) -> int:
    """``anomaly-gan train`` on an image source."""
    from anomaly_gan.data.images import infer_channels, load_images
    from anomaly_gan.detectors.image import ImageGANomalyDetector

    for option in (
        "config",
        "id_cols",
        "timestamp_cols",
        "exclude_cols",
        "categorical_cols",
        "numeric_cols",
    ):
        if getattr(args, option, None):
            msg = f"--{option.replace('_', '-')}: only for tables, not for the image source '{args.data}'"
            raise ConfigError(msg)
    out = Path(args.out)
    checkpoints = out.with_name(out.name + ".checkpoints")
    from anomaly_gan.detectors.image import RECONSTRUCTION_SCORE_WEIGHTS

    det = ImageGANomalyDetector(
        image_size=args.image_size,
        epochs=args.epochs,
        score_weights=RECONSTRUCTION_SCORE_WEIGHTS
        if args.image_score == "reconstruction"
        else None,
        device=args.device or "auto",
        random_state=args.random_state,
        verbose=verbose,
        checkpoint_dir=checkpoints,
    )
    det._check_params()
    batch = load_images(args.data, args.image_size, infer_channels(args.data))
    pixels = batch.pixels
    if args.label_col:
        anomalous = _labels(batch.labels, args, args.data).astype(bool)
        pixels = pixels[~anomalous]
        print(
            f"dropped {int(anomalous.sum())} image(s) labelled as anomalies; "
            f"training on {len(pixels)} normal images",
            file=sys.stderr,
        )
    for path, reason in batch.rejected:
        print(f"skipped '{path}': {reason}", file=sys.stderr)
    det.channels = int(batch.pixels.shape[1]) if len(batch.pixels) else None
    # back to [0, 1] floats; fit prepares them again
    det.fit((pixels + 1.0) / 2.0, resume=args.resume)
    ddp.shutdown()  # torchrun: training's collectives are over
    if not ddp.current().primary:  # rank 0 alone writes and reports
        return 0
    det.save(out)
    shutil.rmtree(checkpoints, ignore_errors=True)
    print(
        f"trained on {len(pixels):,} images ({args.image_size}x{args.image_size}, "
        f"{det.channels_} channel(s)) in {det.fit_seconds_:.1f} s on {det.device_} "
        f"({det.sizes_.epochs} epochs, best {det.best_epoch_})"
    )
    print(
        f"threshold {det.threshold_:.4f} (target false-positive rate {det.target_fpr:g})"
    )
    print(f"model written to {out}")
    if args.register:
        from anomaly_gan.stores.registry import ModelRegistry, default_root

        reg = ModelRegistry(default_root(args.registry))
        number = reg.register(
            out, note=f"trained from {args.data}", promote_to=args.promote
        )
        promoted = f"; '{args.promote}' now points at it" if args.promote else ""
        print(f"registered as version {number} in {reg.root}{promoted}")
    return 0


def _load(args: argparse.Namespace) -> Any:
    from anomaly_gan.cli._shared import model_ref
    from anomaly_gan.detectors.image import ImageGANomalyDetector

    device = getattr(args, "device", None) or "cpu"
    return ImageGANomalyDetector.load(model_ref(args).path, device=device)


def run_score_images(args: argparse.Namespace, threshold: float | None) -> int:
    """``anomaly-gan score`` with an image model: one row per image."""
    from anomaly_gan.data.images import iter_image_batches

    det = _load(args)
    cut = det.threshold_ if threshold is None else threshold
    frames, rejected = [], []
    done = 0
    heat_dir = Path(args.heatmaps) if args.heatmaps else None
    staging = (
        Path(tempfile.mkdtemp(prefix=f".{heat_dir.name}.", dir=heat_dir.parent))
        if heat_dir is not None
        else None
    )
    try:
        for source in args.data:
            for batch in iter_image_batches(source, det.image_size, det.channels_):
                rejected += batch.rejected
                if not len(batch.pixels):
                    continue
                forward = det.forward_pixels(batch.pixels)
                frame = det.components_frame(forward.scores, cut)
                frame.insert(0, "path", batch.names)
                if batch.labels:
                    frame.insert(1, IMAGE_LABEL, batch.labels)
                if staging is not None and heat_dir is not None:
                    heat = det.heatmaps(forward.x, forward.x_hat)
                    names = _write_heatmaps(
                        staging, done, batch.names, forward.x, forward.x_hat, heat
                    )
                    frame["heatmap"] = [
                        _relative(heat_dir / n, args.out) for n in names
                    ]
                done += len(frame)
                frames.append(frame)
        if not frames:
            msg = f"'{' '.join(args.data)}': no readable image"
            raise DataError(msg)
        scored = pd.concat(frames, ignore_index=True)
        write_table(scored, args.out, fmt=args.format)
        if staging is not None and heat_dir is not None:
            if heat_dir.exists():
                shutil.rmtree(heat_dir)
            staging.rename(heat_dir)
            staging = None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    rejected_path = Path(str(args.out) + ".rejected.csv")
    if rejected:
        write_table(pd.DataFrame(rejected, columns=["path", "reason"]), rejected_path)
    else:
        rejected_path.unlink(missing_ok=True)
    flagged = int(scored[columns.FLAG].sum())
    print(
        f"images scored {len(scored):,}, rejected {len(rejected)}, flagged {flagged:,} "
        f"({flagged / len(scored):.2%}) above threshold {cut:.4f}"
    )
    if heat_dir is not None:
        print(f"heat maps written to {heat_dir}")
    print(f"scores written to {args.out}")
    return 0


def _relative(path: Path, out: str) -> str:
    """``path`` relative to the scored file's folder when inside it, else absolute."""
    import os

    folder = Path(out).resolve().parent
    full = path.resolve()
    return os.path.relpath(full, folder) if folder in full.parents else str(full)


def _write_heatmaps(
    folder: Path,
    offset: int,
    names: list[str],
    x: np.ndarray,
    x_hat: np.ndarray,
    heat: np.ndarray,
) -> list[str]:
    """Input, reconstruction and overlay PNGs per image; returns the overlay names."""
    from PIL import Image

    from anomaly_gan.data.images import to_uint8

    out = []
    scale = max(float(heat.max()), 1e-6)
    for i, name in enumerate(names):
        stem = (
            f"{offset + i:06d}_"
            + "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(name).stem)[
                :60
            ]
        )
        image = to_uint8(x[i])
        Image.fromarray(image).save(folder / f"{stem}_input.png")
        Image.fromarray(to_uint8(x_hat[i])).save(folder / f"{stem}_reconstruction.png")
        grey = image if image.ndim == 2 else image.mean(axis=2).astype(np.uint8)
        level = np.clip(heat[i] / scale, 0, 1)
        overlay = np.stack(
            [
                np.clip(grey * 0.5 + 255 * level, 0, 255),
                grey * 0.5 * (1 - level),
                grey * 0.5 * (1 - level),
            ],
            axis=-1,
        ).astype(np.uint8)
        Image.fromarray(overlay).save(folder / f"{stem}_heatmap.png")
        out.append(f"{stem}_heatmap.png")
    return out


def run_evaluate_images(args: argparse.Namespace, threshold: float | None) -> int:
    """``anomaly-gan evaluate`` with an image model (labels from the source)."""
    from anomaly_gan.data.images import load_images
    from anomaly_gan.scoring.metrics import evaluate_scores, require_both_classes

    det = _load(args)
    cut = det.threshold_ if threshold is None else threshold
    scores, labels = [], []
    for source in args.data:
        batch = load_images(source, det.image_size, det.channels_)
        labels.append(_labels(batch.labels, args, source))
        scores.append(det.forward_pixels(batch.pixels).scores.anomaly_score)
    names = ", ".join(f"'{s}'" for s in args.data)
    require_both_classes(np.concatenate(labels), f"labels of the images in {names}")
    report = evaluate_scores(np.concatenate(scores), np.concatenate(labels), cut)
    print(report.to_text())
    return report_json(args, report)


def report_json(args: argparse.Namespace, report: Any) -> int:
    """Write ``--json`` when asked; return 0."""
    if args.json:
        import json

        from anomaly_gan.data.tables import atomic_write

        with atomic_write(args.json) as tmp:
            tmp.write_text(
                json.dumps(
                    {
                        "model": str(args.model),
                        "data": list(args.data),
                        **report.to_dict(),
                    },
                    indent=2,
                    sort_keys=True,
                    default=str,
                )
            )
    return 0
