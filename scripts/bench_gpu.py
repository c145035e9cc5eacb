#!/usr/bin/env python
"""The GPU training and scoring path against the CPU, on one machine, in one run.

For each device given (default: ``cuda`` then ``cpu``), on the same splits:

1. ``tabular``: fit the default detector on ADBench sets and NSL-KDD (clean
   setting, protocol of ../shared/BENCHMARK.md, seed 0); fit seconds, score
   seconds, ROC-AUC and the kept model's validation loss;
2. ``throughput``: fit on 50,000 generated normal transactions, then score
   ``--rows`` generated transactions held in memory (no file reading): rows/s;
3. ``file``: the benchmark file of scripts/bench_scoring.py (``--rows``
   generated transactions as CSV) through the CLI end to end, ``anomaly-gan
   train`` (mixed precision on CUDA) then ``anomaly-gan score --device``,
   beside pyarrow reading and writing the same file (the I/O floor); rows/s;
4. ``agreement``: the model trained on the first device, scored on every
   device over the file's first 100,000 rows: the largest difference of the
   anomaly score and of each component (the target is 1e-4);
5. ``images``: one-class MNIST (digit 0 the anomaly), fit and score seconds,
   images/s and ROC-AUC of the image detector.

Peak GPU memory (torch's allocator) is reported per part. ROC-AUC differs
between devices only through floating-point order and mixed precision in
training; the figures show by how much. Writes gpu.json and gpu.md to --out.
scripts/bench_gpu.sh runs it with the defaults.

Usage: python scripts/bench_gpu.py [--adbench DIR] [--nsl-kdd DIR] [--mnist DIR]
       [--datasets NAME ...] [--devices cuda cpu] [--rows N] [--skip PART ...]
       [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from anomaly_gan import GANomalyDetector, make_transactions
from anomaly_gan.cli import main as cli
from anomaly_gan.jobs.benchmark import adbench_splits, mnist_split, nsl_kdd_split

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
AGREEMENT_ROWS = 100_000
TX_CLI = [
    "--id-cols",
    "transaction_id",
    "card_id",
    "--timestamp-cols",
    "timestamp",
    "--exclude-cols",
    "fraud_type",
    "is_fraud",
]
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


def _reset_peak(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()


def _peak_mib(device: str) -> float | None:
    if not device.startswith("cuda"):
        return None
    return round(torch.cuda.max_memory_allocated() / 2**20, 1)


class BenchFiles:
    """The generated training table and benchmark file, written once per run."""

    def __init__(self, folder: Path, rows: int) -> None:
        self.folder = folder
        self.train = folder / "train.parquet"
        self.score = folder / "score.csv"
        make_transactions(55_000, fraud_rate=0.0, random_state=1).to_parquet(self.train)
        make_transactions(rows, random_state=2).to_csv(self.score, index=False)
        self.rows = rows
        self.models: dict[str, Path] = {}


def io_floor(files: BenchFiles) -> float:
    """Seconds for pyarrow to read the benchmark CSV and write it back."""
    import pyarrow.csv as pacsv

    start = time.perf_counter()
    table = pacsv.read_csv(files.score)
    pacsv.write_csv(table, files.folder / "copy.csv")
    return time.perf_counter() - start


def cli_file(files: BenchFiles, device: str) -> dict[str, Any]:
    """``anomaly-gan train`` then ``anomaly-gan score`` on the benchmark file."""
    model = files.folder / f"model-{device}"
    _reset_peak(device)
    argv = ["train", "--data", str(files.train), "--out", str(model), *TX_CLI]
    code, train_s = _timed(device, lambda: cli([*argv, "--device", device]))
    if code != 0:
        return {"error": f"train exited {code}"}
    files.models[device] = model
    train_peak = _peak_mib(device)
    _reset_peak(device)
    out = files.folder / f"scores-{device}.csv"
    argv = [
        "score",
        "--model",
        str(model),
        "--data",
        str(files.score),
        "--out",
        str(out),
    ]
    with warnings.catch_warnings():  # fraud rows bring categories unseen in training
        warnings.simplefilter("ignore", UserWarning)
        code, score_s = _timed(
            device, lambda: cli([*argv, "--device", device, "--quiet"])
        )
    if code != 0:
        return {"error": f"score exited {code}"}
    floor = io_floor(files)
    return {
        "train_rows": 55_000,
        "train_s": round(train_s, 2),
        "train_peak_gpu_mib": train_peak,
        "score_rows": files.rows,
        "score_s": round(score_s, 2),
        "rows_per_s": round(files.rows / score_s),
        "score_peak_gpu_mib": _peak_mib(device),
        "pyarrow_floor_s": round(floor, 2),
        "ratio_to_floor": round(score_s / floor, 1),
    }


def agreement(files: BenchFiles, devices: list[str]) -> dict[str, Any]:
    """One model scored on every device: the largest differences."""
    import pandas as pd

    first = devices[0]
    if first not in files.models:
        return {"error": f"no model trained on {first}"}
    frame = pd.read_csv(files.score, nrows=AGREEMENT_ROWS)
    parts = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for device in devices:
            det = GANomalyDetector.load(files.models[first], device=device)
            parts[device] = det.score_components(frame)
    base = parts[first]
    out: dict[str, Any] = {"model_trained_on": first, "rows": len(frame)}
    for device in devices[1:]:
        other = parts[device]
        diffs = {
            col: float(np.max(np.abs(base[col].to_numpy() - other[col].to_numpy())))
            for col in base.columns
            if col.startswith("score_") or col == "anomaly_score"
        }
        out[f"{first}_vs_{device}"] = {
            "max_abs_diff": {k: float(f"{v:.3g}") for k, v in diffs.items()},
            "flags_differing": int((base["is_anomaly"] != other["is_anomaly"]).sum()),
            "within_1e-4": bool(max(diffs.values()) <= 1e-4),
        }
    return out


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
    from anomaly_gan.detectors.image import ImageGANomalyDetector

    split = mnist_split(folder, 0, 0)
    det = ImageGANomalyDetector(random_state=0, device=device)
    _reset_peak(device)
    _, fit_s = _timed(device, lambda: det.fit(split.X_train))
    scores, score_s = _timed(device, lambda: det.decision_function(split.X_test))
    epochs = len(det.history_)
    return {
        "rows_train": len(split.X_train),
        "rows_test": len(split.X_test),
        "fit_s": round(fit_s, 2),
        "train_images_per_s": round(len(split.X_train) * epochs / fit_s),
        "score_s": round(score_s, 3),
        "score_images_per_s": round(len(split.X_test) / score_s),
        "peak_gpu_mib": _peak_mib(device),
        "roc_auc": round(float(roc_auc_score(split.y_test, scores)), 4),
        "epochs": epochs,
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
        "file": {},
        "agreement": {},
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
    workdir = tempfile.TemporaryDirectory(prefix="bench_gpu_")
    files = None
    if "file" not in args.skip:
        files = BenchFiles(Path(workdir.name), args.rows)
    jobs: list[tuple[str, str, str, Any, tuple[Any, ...]]] = []
    for device in args.devices:
        jobs += [
            ("tabular", name, device, tabular, (split, device))
            for name, split in splits
        ]
        if "throughput" not in args.skip:
            jobs.append(("throughput", "", device, throughput, (device, args.rows)))
        if files is not None:
            jobs.append(("file", "", device, cli_file, (files, device)))
        if "images" not in args.skip and args.mnist.exists():
            jobs.append(("images", "", device, images, (args.mnist, device)))
    if files is not None and len(args.devices) > 1:
        jobs.append(("agreement", "", "all", agreement, (files, args.devices)))
    for part, name, device, job, job_args in jobs:
        try:
            row = job(*job_args)
        except (RuntimeError, ValueError, MemoryError, OSError) as exc:
            # a benchmark records what failed and goes on
            traceback.print_exc()
            row = {"error": f"{exc.__class__.__name__}: {exc}"}
        slot = result[part].setdefault(name, {}) if name else result[part]
        slot[device] = row
        print(part, name, device, row, flush=True)
        (args.out / "gpu.json").write_text(json.dumps(result, indent=2) + "\n")
    workdir.cleanup()
    (args.out / "gpu.md").write_text(report(result, args.devices))
    print((args.out / "gpu.md").read_text())


def _table(rows: dict[str, Any], title: str, keys: list[str]) -> list[str]:
    if not rows:
        return []
    out = ["", f"| {title} | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for device, row in rows.items():
        cells = [str(row.get(k, row.get("error", ""))) for k in keys]
        out.append(f"| {device} | " + " | ".join(cells) + " |")
    return out


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
    lines += _table(
        result["throughput"],
        "scoring in memory (50,000-row fit)",
        ["fit_s", "score_rows", "score_s", "rows_per_s"],
    )
    lines += _table(
        result["file"],
        "CLI, benchmark CSV end to end",
        [
            "train_s",
            "train_peak_gpu_mib",
            "score_rows",
            "score_s",
            "rows_per_s",
            "score_peak_gpu_mib",
            "pyarrow_floor_s",
            "ratio_to_floor",
        ],
    )
    lines += _table(
        result["images"],
        "MNIST, digit 0 anomalous",
        [
            "fit_s",
            "train_images_per_s",
            "score_s",
            "score_images_per_s",
            "peak_gpu_mib",
            "roc_auc",
        ],
    )
    agree = result["agreement"].get("all", {})
    for key, value in agree.items():
        if isinstance(value, dict) and "max_abs_diff" in value:
            diffs = ", ".join(f"{k} {v:.2g}" for k, v in value["max_abs_diff"].items())
            lines += [
                "",
                f"Agreement ({key}, model trained on {agree['model_trained_on']}, "
                f"{agree['rows']:,} rows): largest differences {diffs}; "
                f"flags differing: {value['flags_differing']}; "
                f"within 1e-4: {'yes' if value['within_1e-4'] else 'no'}.",
            ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
