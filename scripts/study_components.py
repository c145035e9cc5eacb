#!/usr/bin/env python
"""Which score components carry the signal on ADBench: a study for issue 4.

For each ADBench set (the protocol's split for one seed) it trains the default
GANomalyDetector once (optionally with a different training-step budget) and
saves, for the test rows, every normalised score component: the GAN's
``recon``, ``latent`` and ``disc`` residuals, a 5-nearest-neighbour distance on
the preprocessed inputs (``knn_x``, reference set capped at ``--knn-ref`` rows)
and on the encoder's latent codes (``knn_z``), PyOD's KNN, the labels and the fit
time. kNN terms are normalised by their median and spread on the held-out
normal rows, like the GAN's components. ``--summary`` then prints the mean
ROC-AUC and average rank of every weighting in ``COMBOS`` over the saved arrays.

Usage:
  python scripts/study_components.py run SEED [DATASET ...] --out DIR [--steps N]
  python scripts/study_components.py summary DIR [DIR ...]
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from pyod.models.knn import KNN
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

from anomaly_gan.detectors.tabular import GANomalyDetector
from anomaly_gan.jobs import benchmark

ADBENCH = Path(__file__).resolve().parents[2] / "shared" / "data" / "adbench"

# name -> weights over the saved normalised components
COMBOS: dict[str, dict[str, float]] = {
    "gan_default": {"recon": 1.0, "latent": 0.5, "disc": 0.5},
    "recon": {"recon": 1.0},
    "knn_x": {"knn_x": 1.0},
    "knn_z": {"knn_z": 1.0},
    "gan+knn_x": {"recon": 1.0, "latent": 0.5, "disc": 0.5, "knn_x": 2.0},
    "gan+2knn_x": {"recon": 1.0, "latent": 0.5, "disc": 0.5, "knn_x": 4.0},
    "recon+knn_x": {"recon": 1.0, "knn_x": 1.0},
    "recon+2knn_x": {"recon": 1.0, "knn_x": 2.0},
    "recon+3knn_x": {"recon": 1.0, "knn_x": 3.0},
    "recon+knn_x+knn_z": {"recon": 1.0, "knn_x": 1.0, "knn_z": 1.0},
    "recon+2knn_x+knn_z": {"recon": 1.0, "knn_x": 2.0, "knn_z": 1.0},
    "knn_x+knn_z": {"knn_x": 1.0, "knn_z": 1.0},
    "all": {"recon": 1.0, "latent": 0.5, "disc": 0.5, "knn_x": 2.0, "knn_z": 1.0},
    # "slog:" combinations compress each component with sign(v) * log(1 + |v|)
    # first (the 0.2 default is "slog:gan+2knn_x").
    "slog:recon+knn_x": {"recon": 1.0, "knn_x": 1.0},
    "slog:recon+2knn_x": {"recon": 1.0, "knn_x": 2.0},
    "slog:recon+2knn_x+knn_z": {"recon": 1.0, "knn_x": 2.0, "knn_z": 1.0},
    "slog:gan+knn_x": {"recon": 1.0, "latent": 0.5, "disc": 0.5, "knn_x": 1.0},
    "slog:gan+2knn_x": {"recon": 1.0, "latent": 0.5, "disc": 0.5, "knn_x": 2.0},
    "slog:gan+2knn_x+knn_z": {
        "recon": 1.0,
        "latent": 0.5,
        "disc": 0.5,
        "knn_x": 2.0,
        "knn_z": 1.0,
    },
}


def _combine(arrays: dict[str, np.ndarray], combo: str) -> np.ndarray:
    squash = combo.startswith("slog:")
    total = np.zeros_like(arrays["recon"], dtype=np.float64)
    for name, weight in COMBOS[combo].items():
        values = arrays[name]
        if squash:
            values = np.sign(values) * np.log1p(np.abs(values))
        total = total + weight * values
    return total


def _knn(ref: np.ndarray, test: np.ndarray, val: np.ndarray) -> np.ndarray:
    nn = NearestNeighbors(n_neighbors=min(5, len(ref))).fit(ref)
    d_test = nn.kneighbors(test)[0].mean(axis=1)
    d_val = nn.kneighbors(val)[0].mean(axis=1)
    q1, median, q3 = np.quantile(d_val, [0.25, 0.5, 0.75])
    return (d_test - median) / max((q3 - q1) / 1.349, 1e-6)


def run_one(
    name: str, seed: int, steps: int | None, knn_ref: int, transform: str = "robust"
) -> dict[str, np.ndarray]:
    split = benchmark.adbench_splits(ADBENCH / f"{name}.npz", seed)
    kwargs: dict[str, int] = {}
    if steps is not None:
        n_fit = int(len(split.X_train) * 0.9)
        batch = min(256, max(32, n_fit // 8))
        kwargs["epochs"] = min(
            200, max(10, math.ceil(steps / max(1, math.ceil(n_fit / batch))))
        )
    started = time.perf_counter()
    det = GANomalyDetector(
        random_state=seed, numeric_transform=transform, **kwargs
    ).fit(split.X_train)
    fit_s = time.perf_counter() - started
    comp = det.score_components(split.X_test)
    columns = [f"x{i}" for i in range(split.X_train.shape[1])]
    enc_tr = det.preprocessor_.transform(pd.DataFrame(split.X_train, columns=columns))
    enc_te = det.preprocessor_.transform(pd.DataFrame(split.X_test, columns=columns))
    with torch.no_grad():
        z_tr = det.generator_.encoder(torch.as_tensor(enc_tr)).numpy()
        z_te = det.generator_.encoder(torch.as_tensor(enc_te)).numpy()
    val = det.validation_index_
    train = np.setdiff1d(np.arange(len(z_tr)), val)
    rng = np.random.default_rng(seed)
    if len(train) > knn_ref:
        train = np.sort(rng.choice(train, knn_ref, replace=False))
    pyod = KNN().fit(split.baseline_train).decision_function(split.baseline_test)
    return {
        "y": split.y_test,
        "recon": comp["score_recon"].to_numpy(),
        "latent": comp["score_latent"].to_numpy(),
        "disc": comp["score_disc"].to_numpy(),
        "knn_x": _knn(enc_tr[train], enc_te, enc_tr[val]),
        "knn_z": _knn(z_tr[train], z_te, z_tr[val]),
        "pyod_knn": pyod,
        "fit_s": np.asarray(fit_s),
    }


def summary(dirs: list[Path]) -> None:
    rows = []
    for d in dirs:
        for f in sorted(d.glob("*.npz")):
            a = np.load(f)
            row = {"run": d.name, "set": f.stem, "fit_s": float(a["fit_s"])}
            for combo in COMBOS:
                row[combo] = roc_auc_score(a["y"], _combine(dict(a), combo))
            row["pyod_knn"] = roc_auc_score(a["y"], a["pyod_knn"])
            rows.append(row)
    frame = pd.DataFrame(rows)
    cols = [*COMBOS, "pyod_knn"]
    for run, part in frame.groupby("run"):
        ranks = part[cols].rank(axis=1, ascending=False).mean()
        wins = {c: int((part[c] > part["pyod_knn"] + 0.001).sum()) for c in cols}
        losses = {c: int((part[c] < part["pyod_knn"] - 0.001).sum()) for c in cols}
        out = pd.DataFrame(
            {"mean": part[cols].mean(), "rank": ranks, "W": wins, "L": losses}
        )
        print(f"== {run}: {len(part)} sets, fit s total {part['fit_s'].sum():.0f}")
        print(out.round(4).sort_values("mean", ascending=False).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run")
    run.add_argument("seed", type=int)
    run.add_argument("datasets", nargs="*")
    run.add_argument("--out", type=Path, required=True)
    run.add_argument("--steps", type=int)
    run.add_argument("--knn-ref", type=int, default=10_000)
    run.add_argument(
        "--transform", default="robust", choices=("robust", "standard", "quantile")
    )
    summ = sub.add_parser("summary")
    summ.add_argument("dirs", nargs="+", type=Path)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.cmd == "summary":
        summary(args.dirs)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    names = args.datasets or [p.stem for p in sorted(ADBENCH.glob("*.npz"))]
    for name in names:
        target = args.out / f"{name}.npz"
        if target.exists():
            continue
        arrays = run_one(name, args.seed, args.steps, args.knn_ref, args.transform)
        np.savez(args.out.with_name(args.out.name) / f"{name}.tmp.npz", **arrays)
        (args.out / f"{name}.tmp.npz").rename(target)
        print(name, f"fit {float(arrays['fit_s']):.1f}s", flush=True)


if __name__ == "__main__":
    main()
