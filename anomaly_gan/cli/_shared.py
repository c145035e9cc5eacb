"""What several command handlers share: loading the model, threads, thresholds, JSON output."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from anomaly_gan._version import __version__

logger = logging.getLogger("anomaly_gan")


def model_ref(args: argparse.Namespace) -> Any:
    """``--model`` resolved once per command (``stores.registry.ResolvedModel``)."""
    ref = getattr(args, "resolved_model", None)
    if ref is None:
        from anomaly_gan.stores.registry import resolve_model

        ref = resolve_model(args.model, args.registry)
        args.resolved_model = ref
    return ref


def image_model(args: argparse.Namespace) -> bool:
    """Whether ``--model`` is an image model (its verified ``config.json`` says)."""
    from anomaly_gan.detectors.artifacts import read_modality

    return bool(read_modality(model_ref(args).path) == "image")


def set_threads(requested: int | None) -> None:
    """Torch's and pyarrow's CPU threads for scoring (anomaly_gan.engine.cpus)."""
    import pyarrow
    import torch

    from anomaly_gan.engine.cpus import scoring_threads, usable_cpus

    torch.set_num_threads(scoring_threads(requested))
    pyarrow.set_cpu_count(usable_cpus())


def load_model(args: argparse.Namespace, *, device: str | None = None) -> Any:
    """Load the tabular model of ``--model`` on ``device`` (default: ``--device``)."""
    from anomaly_gan.detectors.tabular import GANomalyDetector

    device = device or getattr(args, "device", None) or "cpu"
    return GANomalyDetector.load(model_ref(args).path, device=device)


def operating_point(det: Any, args: argparse.Namespace) -> float | None:
    """--fpr, then --threshold, then the registry's operating point, else the model's."""
    return threshold_and_source(det, args)[0]


def threshold_and_source(
    det: Any, args: argparse.Namespace
) -> tuple[float | None, str]:
    """Return the run's threshold (None: the model's) and where it comes from."""
    if args.fpr is not None:
        return float(det.threshold_for_fpr(args.fpr)), f"--fpr {args.fpr:g}"
    if args.threshold is not None:
        return float(args.threshold), "--threshold"
    point = model_ref(args).operating_threshold
    if point is not None:
        return point, "registry operating point"
    return None, "model"


def scoring_meta(det: Any, args: argparse.Namespace) -> tuple[float | None, Any]:
    """Return the run's threshold and the record the scored file carries about it."""
    from anomaly_gan.data.scored_meta import scoring_meta

    threshold, source = threshold_and_source(det, args)
    version = model_ref(args).version
    # The false-positive rate is known for the model's threshold and for --fpr;
    # a typed threshold or an operating point has none of its own.
    rate = {"model": det.config_.target_fpr}.get(source, args.fpr)
    meta = scoring_meta(
        threshold=det.threshold_ if threshold is None else threshold,
        threshold_source=source,
        model=str(args.model),
        model_version=version,
        target_fpr=rate,
        version=__version__,
    )
    return threshold, meta


def write_json(path: str | Path, data: dict[str, Any]) -> None:
    from anomaly_gan.data.tables import atomic_write

    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
