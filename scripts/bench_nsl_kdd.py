#!/usr/bin/env python
"""NSL-KDD detection quality: GANomalyDetector next to PyOD's KNN and IForest.

Protocol of ../shared/BENCHMARK.md: fit on the normal rows of
KDDTrain+_20Percent.txt, score every row of KDDTest+.txt, anomaly = attack is
not "normal". Baselines get one-hot categoricals (unknown ignored) and
standardised numerics fitted on the training normals; our detector gets the raw
table and does its own preprocessing. All detectors run in this one process on
the same split. Prints a Markdown table; --out also writes it to a file.

Usage: python scripts/bench_nsl_kdd.py [--seeds 0 1 2] [--data ../shared/data/nsl-kdd] [--out FILE]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = Path(__file__).resolve().parents[1]
CATEGORICAL = ["protocol_type", "service", "flag"]
NOT_FEATURES = ["attack", "difficulty", "is_attack"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=ROOT.parent / "shared" / "data" / "nsl-kdd"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    train_file = args.data / "KDDTrain+_20Percent.txt"
    test_file = args.data / "KDDTest+.txt"
    if not train_file.exists() or not test_file.exists():
        print(f"skipped: NSL-KDD not found under {args.data}", file=sys.stderr)
        return 2

    import pyod
    import torch
    from pyod.models.iforest import IForest
    from pyod.models.knn import KNN

    from anomaly_gan import GANomalyDetector, __version__, load_nsl_kdd

    train = load_nsl_kdd(train_file)
    test = load_nsl_kdd(test_file)
    normal = train[train["is_attack"] == 0].reset_index(drop=True)
    y = test["is_attack"].to_numpy()
    features = [c for c in train.columns if c not in NOT_FEATURES]
    numeric = [c for c in features if c not in CATEGORICAL]
    encoder = ColumnTransformer(
        [
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                CATEGORICAL,
            ),
            ("num", StandardScaler(), numeric),
        ]
    ).fit(normal[features])
    X_train = encoder.transform(normal[features])
    X_test = encoder.transform(test[features])

    rows: list[tuple[str, int | str, float, float, float, float]] = []
    train_speed: list[
        float
    ] = []  # GAN training rows/s per epoch, all epochs of all seeds

    def run(name: str, seed: int | str, fit, score) -> None:
        t0 = time.perf_counter()
        fit()
        t1 = time.perf_counter()
        s = score()
        t2 = time.perf_counter()
        rows.append(
            (
                name,
                seed,
                roc_auc_score(y, s),
                average_precision_score(y, s),
                t1 - t0,
                t2 - t1,
            )
        )
        print(
            f"{name:<18} seed {seed}: ROC-AUC {rows[-1][2]:.4f} AP {rows[-1][3]:.4f} fit {t1 - t0:.1f}s score {t2 - t1:.2f}s",
            file=sys.stderr,
        )

    knn = KNN()
    run(
        "PyOD KNN", "-", lambda: knn.fit(X_train), lambda: knn.decision_function(X_test)
    )
    for seed in args.seeds:
        forest = IForest(random_state=seed)
        run(
            "PyOD IForest",
            seed,
            lambda f=forest: f.fit(X_train),
            lambda f=forest: f.decision_function(X_test),
        )
    for seed in args.seeds:
        det = GANomalyDetector(
            exclude_cols=NOT_FEATURES, random_state=seed, device="cpu"
        )
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", UserWarning
            )  # unseen services in the test file
            run(
                "anomaly-gan GANomaly",
                seed,
                lambda d=det: d.fit(normal),
                lambda d=det: d.decision_function(test),
            )
        train_speed.extend(h["rows_per_s"] for h in det.history_)
        epochs_run = len(det.history_)

    lines = [
        "| detector | seeds | ROC-AUC mean (min-max) | average precision mean | fit s (median) | score s (median) |",
        "|---|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(r[0] for r in rows):
        sel = [r for r in rows if r[0] == name]
        auc = np.array([r[2] for r in sel])
        ap = np.array([r[3] for r in sel])
        seeds = ", ".join(str(r[1]) for r in sel)
        lines.append(
            f"| {name} | {seeds} | {auc.mean():.4f} ({auc.min():.4f}-{auc.max():.4f}) | {ap.mean():.4f} "
            f"| {np.median([r[4] for r in sel]):.1f} | {np.median([r[5] for r in sel]):.2f} |"
        )
    lines += [
        "",
        f"GAN training speed on the CPU: median {np.median(train_speed):,.0f} rows/s per epoch "
        f"({epochs_run} epochs of {int(len(normal) * 0.9):,} rows per fit, batch {det.sizes_.batch_size}, "
        f"hidden {list(det.sizes_.hidden_dims)}, latent {det.sizes_.latent_dim}).",
        f"Train: {len(normal):,} normal rows of {train_file.name}; test: {len(test):,} rows of {test_file.name} "
        f"({int(y.sum()):,} attacks). Machine: {platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"Python {platform.python_version()}, torch {torch.__version__}, pyod {pyod.__version__}, anomaly-gan {__version__}.",
    ]
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
