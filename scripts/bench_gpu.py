#!/usr/bin/env python
"""The GPU training and scoring path against the CPU, on one machine, in one run.

For each device given (default: ``cuda`` then ``cpu``), on the same splits:

1. tabular: fit the default detector on ADBench sets and NSL-KDD (clean
   setting, protocol of ../shared/BENCHMARK.md, seed 0); fit seconds, score
   seconds, ROC-AUC and the kept model's validation loss;
2. throughput: fit on 50,000 generated normal transactions, then score
   ``--rows`` generated transactions held in memory (no file reading): rows/s;
3. images: one-class MNIST (digit 0 the anomaly), fit and score seconds and
   ROC-AUC of the image detector.

ROC-AUC differs between devices only through floating-point order and mixed
precision; the figures show by how much. Writes gpu.json and gpu.md to --out.

Usage: python scripts/bench_gpu.py [--adbench DIR] [--nsl-kdd DIR] [--mnist DIR]
       [--datasets NAME ...] [--devices cuda cpu] [--rows N] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from anomaly_gan import GANomalyDetector, make_transactions
from anomaly_gan.benchmark import adbench_splits, mnist_split, nsl_kdd_split

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DEFAULT_SETS = (
    "11_donors",
    "1_ALOI",
    "5_campaign",
    "8_celeba",
    "34_smtp",
    "32_shuttle",
    "28_pendigits",
    "24_mnist",
)
TX_OPTIONS = {
    "id_cols": ["transaction_id", "card_id"],
    "timestamp_cols": ["timestamp"],
    "exclude_cols": ["fraud_type", "is_fraud"],
}


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _timed(device: str, fn: Any) -> tuple[Any, float]:
    _sync(device)
    start = time.perf_counter()
    out = fn()
    _sync(device)
    return out, time.perf_counter() - start


def tabular(split: Any, device: str) -> dict[str, Any]:
    """Fit and score one split on one device."""
    det = GANomalyDetector(random_state=0, device=device)
    _, fit_s = _timed(device, lambda: det.fit(split.X_train))
    scores, score_s = _timed(device, lambda: det.decision_function(split.X_test))
    return {
        "rows_train": len(split.X_train),
        "rows_test": len(split.X_test),
        "fit_s": round(fit_s, 3),
        "score_s": round(score_s, 3),
        "roc_auc": round(float(roc_auc_score(split.y_test, scores)), 4),
        "val_loss": round(min(h["val_loss"] for h in det.history_), 4),
        "epochs": det.sizes_.epochs,
    }


def throughput(device: str, rows: int) -> dict[str, Any]:
    """Rows/s of decision_function on generated transactions held in memory."""
    train = make_transactions(55_000, fraud_rate=0.0, random_state=1)
    score = make_transactions(rows, random_state=2)
    det = GANomalyDetector(random_state=0, device=device, **TX_OPTIONS)
    _, fit_s = _timed(device, lambda: det.fit(train))
    with warnings.catch_warnings():  # fraud rows bring categories unseen in training
        warnings.simplefilter("ignore", UserWarning)
        det.decision_function(score.head(1000))  # warm-up
        _, score_s = _timed(device, lambda: det.decision_function(score))
    return {
        "fit_rows": len(train),
        "fit_s": round(fit_s, 2),
        "score_rows": rows,
        "score_s": round(score_s, 2),
        "rows_per_s": round(rows / score_s),
    }


def images(folder: Path, device: str) -> dict[str, Any]:
    """One-class MNIST, digit 0 the anomaly."""
    from anomaly_gan.image_detector import ImageGANomalyDetector

    split = mnist_split(folder, 0, 0)
    det = ImageGANomalyDetector(random_state=0, device=device)
    _, fit_s = _timed(device, lambda: det.fit(split.X_train))
    scores, score_s = _timed(device, lambda: det.decision_function(split.X_test))
    return {
        "rows_train": len(split.X_train),
        "fit_s": round(fit_s, 2),
        "score_s": round(score_s, 3),
        "roc_auc": round(float(roc_auc_score(split.y_test, scores)), 4),
        "epochs": len(det.history_),
    }


def main() -> None:
    """Run every part on every device; write JSON and Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adbench", type=Path, default=SHARED / "adbench")
    parser.add_argument("--nsl-kdd", type=Path, default=SHARED / "nsl-kdd")
    parser.add_argument("--mnist", type=Path, default=SHARED / "mnist")
    parser.add_argument("--datasets", nargs="+", default=list(DEFAULT_SETS))
    parser.add_argument("--devices", nargs="+", default=["cuda", "cpu"])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip", nargs="*", default=[], help="parts to skip")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results")
    args = parser.parse_args()
    if "cuda" in args.devices and not torch.cuda.is_available():
        parser.error("--devices cuda: no CUDA device on this machine")
    args.out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "machine": {
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "cpu_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "tabular": {},
        "throughput": {},
        "images": {},
    }
    splits = []
    if "tabular" not in args.skip:
        for name in args.datasets:
            path = args.adbench / f"{name}.npz"
            if path.exists():
                splits.append((name, adbench_splits(path, 0, "clean")))
        if args.nsl_kdd.exists():
            splits.append(("nsl-kdd", nsl_kdd_split(args.nsl_kdd, 0)))
    for device in args.devices:
        jobs: list[tuple[str, str, Any, tuple[Any, ...]]] = [
            ("tabular", name, tabular, (split, device)) for name, split in splits
        ]
        if "throughput" not in args.skip:
            jobs.append(("throughput", "", throughput, (device, args.rows)))
        if "images" not in args.skip and args.mnist.exists():
            jobs.append(("images", "", images, (args.mnist, device)))
        for part, name, job, job_args in jobs:
            try:
                row = job(*job_args)
            except (RuntimeError, ValueError, MemoryError) as exc:
                # a benchmark records what failed and goes on
                traceback.print_exc()
                row = {"error": f"{exc.__class__.__name__}: {exc}"}
            slot = result[part].setdefault(name, {}) if name else result[part]
            slot[device] = row
            print(part, name, device, row, flush=True)
            (args.out / "gpu.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "gpu.md").write_text(report(result, args.devices))
    print((args.out / "gpu.md").read_text())


def report(result: dict[str, Any], devices: list[str]) -> str:
    """Markdown tables of one run."""
    m = result["machine"]
    lines = [
        f"GPU: {m['gpu']}; CPU threads: {m['cpu_threads']}; torch {m['torch']}.",
        "",
        "| data set | "
        + " | ".join(f"{d} fit s | {d} score s | {d} ROC-AUC" for d in devices)
        + " |",
        "|---|" + "---|" * (3 * len(devices)),
    ]
    for name, per in result["tabular"].items():
        cells = []
        for d in devices:
            r = per.get(d, {})
            cells += [
                str(r.get("fit_s", "")),
                str(r.get("score_s", "")),
                str(r.get("roc_auc", "")),
            ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if len(devices) > 1 and result["tabular"]:
        a, b = devices[0], devices[1]
        ratios = [
            per[b]["fit_s"] / per[a]["fit_s"]
            for per in result["tabular"].values()
            if "fit_s" in per.get(a, {}) and "fit_s" in per.get(b, {})
        ]
        if ratios:
            lines += ["", f"Median fit-time ratio {b}/{a}: {np.median(ratios):.2f}."]
    if result["throughput"]:
        lines += [
            "",
            "| scoring in memory | fit s (50k rows) | rows scored | score s | rows/s |",
            "|---|---|---|---|---|",
        ]
        for d, r in result["throughput"].items():
            cells = [
                str(r.get(k, r.get("error", "")))
                for k in ("fit_s", "score_rows", "score_s", "rows_per_s")
            ]
            lines.append(f"| {d} | " + " | ".join(cells) + " |")
    if result["images"]:
        lines += [
            "",
            "| MNIST, digit 0 anomalous | fit s | score s | ROC-AUC |",
            "|---|---|---|---|",
        ]
        for d, r in result["images"].items():
            cells = [
                str(r.get(k, r.get("error", "")))
                for k in ("fit_s", "score_s", "roc_auc")
            ]
            lines.append(f"| {d} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
