#!/usr/bin/env python
"""The study behind the image score: how to combine the GAN's residual and the neighbours.

Two steps. `fit` trains the image detector (its defaults, one torch thread per
process) on one-class MNIST splits of `../shared/BENCHMARK.md` (digit d the
anomaly) and writes every test image's label and normalised components
(`score_recon`, `score_latent`, `score_disc`, `score_knn`) as JSON.
`scripts/bench_textures.py --components FILE` writes the same for the textures
benchmark. `evaluate` recombines the stored components by each candidate rule
(as `ScoreCalibrator.combine_components` does: a signed log of each normalised
component, then a weighted mean, or the larger of the GAN group's and the
neighbours' evidence) and prints mean ROC-AUC per fold, so a rule is chosen on
fold A (MNIST digits 0-4, texture seeds 0-2) and checked on fold B (digits 5-9,
seeds 3-5) without training again.

Usage:
  python scripts/study_image_scores.py fit --mnist ../shared/data/mnist \
      --digits 0 1 2 3 4 --seeds 0 1 2 --jobs 2 --out mnist_a.json
  python scripts/study_image_scores.py evaluate --mnist-scores mnist_*.json \
      --texture-scores textures_components.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np


def fit_one(folder: str, digit: int, seed: int) -> dict[str, Any]:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    from anomaly_gan.detectors.image import ImageGANomalyDetector
    from anomaly_gan.jobs.benchmark import mnist_split

    split = mnist_split(Path(folder), digit, seed)
    det = ImageGANomalyDetector(random_state=seed, device="cpu").fit(split.X_train)
    comp = det.score_components(split.X_test)
    return {
        "digit": digit,
        "seed": seed,
        "labels": split.y_test.tolist(),
        **{c: comp[c].round(5).tolist() for c in comp if c.startswith("score_")},
    }


def _g(values: np.ndarray) -> np.ndarray:
    return np.sign(values) * np.log1p(np.abs(values))


RULES: dict[str, Any] = {
    "knn alone (0.6 default)": lambda c: _g(c["knn"]),
    "recon alone": lambda c: _g(c["recon"]),
    "mean: recon 1, knn 1": lambda c: (_g(c["recon"]) + _g(c["knn"])) / 2,
    "mean: recon 1, knn 2": lambda c: (_g(c["recon"]) + 2 * _g(c["knn"])) / 3,
    "max: recon | knn": lambda c: np.maximum(_g(c["recon"]), _g(c["knn"])),
    "balanced: recon | knn": lambda c: (
        0.5
        * (
            (_g(c["recon"]) + _g(c["knn"])) / 2
            + np.maximum(_g(c["recon"]), _g(c["knn"]))
        )
    ),
    "max: recon+disc | knn": lambda c: np.maximum(
        (_g(c["recon"]) + _g(c["disc"])) / 2, _g(c["knn"])
    ),
}


def evaluate(mnist: list[dict[str, Any]], textures: list[dict[str, Any]]) -> str:
    from sklearn.metrics import roc_auc_score

    def auc(run: dict[str, Any], rule: Any) -> float:
        parts = {
            k.removeprefix("score_"): np.asarray(v)
            for k, v in run.items()
            if k.startswith("score_")
        }
        return float(roc_auc_score(run["labels"], rule(parts)))

    lines = [
        "| rule | MNIST 0-4 (A) | textures 0-2 (A) | fold A | MNIST 5-9 (B) | textures 3-5 (B) | fold B |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, rule in RULES.items():
        cells = []
        for digits, seeds in (
            ((0, 1, 2, 3, 4), (0, 1, 2)),
            ((5, 6, 7, 8, 9), (3, 4, 5)),
        ):
            m = [auc(r, rule) for r in mnist if r["digit"] in digits]
            t = [auc(r, rule) for r in textures if r["seed"] in seeds]
            mean_m = float(np.mean(m)) if m else float("nan")
            mean_t = float(np.mean(t)) if t else float("nan")
            cells += [
                f"{mean_m:.3f}",
                f"{mean_t:.3f}",
                f"{np.nanmean([mean_m, mean_t]):.3f}",
            ]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    fit = sub.add_parser("fit")
    fit.add_argument("--mnist", type=Path, required=True)
    fit.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    fit.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    fit.add_argument("--jobs", type=int, default=2)
    fit.add_argument("--out", type=Path, required=True)
    ev = sub.add_parser("evaluate")
    ev.add_argument("--mnist-scores", type=Path, nargs="+", required=True)
    ev.add_argument("--texture-scores", type=Path, required=True)
    args = parser.parse_args()
    if args.step == "fit":
        jobs = list(itertools.product(args.digits, args.seeds))
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(fit_one, str(args.mnist), d, s) for d, s in jobs]
            runs = [f.result() for f in futures]
        args.out.write_text(json.dumps(runs))
        return 0
    mnist = [r for path in args.mnist_scores for r in json.loads(path.read_text())]
    textures = json.loads(args.texture_scores.read_text())
    for i, run in enumerate(textures):
        run.setdefault("seed", i)
    print(evaluate(mnist, textures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
