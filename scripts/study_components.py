#!/usr/bin/env python
"""Which score components carry the signal on ADBench: a study for issue 4.

For each ADBench set (the protocol's split for one seed) it trains the default
GANomalyDetector once and reports the ROC-AUC of the combined score, of each
normalised component, of a 5-nearest-neighbour distance on the encoder's latent
codes (``knn_z``) and on the preprocessed inputs (``knn_x``), of simple sums of
those, and of PyOD's KNN on standardised features, all on the same split.
kNN terms are normalised by their median and spread on the held-out normal rows.

Usage: python scripts/study_components.py SEED [DATASET ...] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from pyod.models.knn import KNN
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

from anomaly_gan import benchmark
from anomaly_gan.detector import GANomalyDetector

ADBENCH = Path(__file__).resolve().parents[2] / "shared" / "data" / "adbench"


def _knn_z_score(
    ref: np.ndarray, test: np.ndarray, val: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    nn = NearestNeighbors(n_neighbors=5).fit(ref)
    d_test = nn.kneighbors(test)[0].mean(axis=1)
    d_val = nn.kneighbors(val)[0].mean(axis=1)
    q1, median, q3 = np.quantile(d_val, [0.25, 0.5, 0.75])
    return d_test, (d_test - median) / max((q3 - q1) / 1.349, 1e-6)


def study(name: str, seed: int) -> dict[str, float]:
    split = benchmark.adbench_splits(ADBENCH / f"{name}.npz", seed)
    started = time.perf_counter()
    det = GANomalyDetector(random_state=seed).fit(split.X_train)
    fit_s = time.perf_counter() - started
    comp = det.score_components(split.X_test)
    y = split.y_test
    res = {
        c: roc_auc_score(y, comp[c])
        for c in ("anomaly_score", "score_recon", "score_latent", "score_disc")
    }
    columns = [f"x{i}" for i in range(split.X_train.shape[1])]
    enc_tr = det.preprocessor_.transform(pd.DataFrame(split.X_train, columns=columns))
    enc_te = det.preprocessor_.transform(pd.DataFrame(split.X_test, columns=columns))
    with torch.no_grad():
        z_tr = det.generator_.encoder(torch.as_tensor(enc_tr)).numpy()
        z_te = det.generator_.encoder(torch.as_tensor(enc_te)).numpy()
    val = det.validation_index_
    train = np.setdiff1d(np.arange(len(z_tr)), val)
    for space, (ref, test, v) in {
        "z": (z_tr[train], z_te, z_tr[val]),
        "x": (enc_tr[train], enc_te, enc_tr[val]),
    }.items():
        raw, normalised = _knn_z_score(ref, test, v)
        res[f"knn_{space}"] = roc_auc_score(y, raw)
        res[f"score+knn_{space}"] = roc_auc_score(
            y, 2 * comp["anomaly_score"] + normalised
        )
        res[f"recon+knn_{space}"] = roc_auc_score(y, comp["score_recon"] + normalised)
    res["pyod_knn"] = roc_auc_score(
        y, KNN().fit(split.baseline_train).decision_function(split.baseline_test)
    )
    res["fit_s"] = fit_s
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seed", type=int)
    parser.add_argument("datasets", nargs="*")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    names = args.datasets or [p.stem for p in sorted(ADBENCH.glob("*.npz"))]
    results = {}
    for name in names:
        results[name] = study(name, args.seed)
        print(name, {k: round(v, 3) for k, v in results[name].items()}, flush=True)
    keys = list(next(iter(results.values())))
    print(
        "MEAN",
        {k: round(float(np.mean([r[k] for r in results.values()])), 4) for k in keys},
    )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
