#!/usr/bin/env python
"""In which scaling should the knn term measure distances? A study for issue 4.

``run`` computes, on the ADBench protocol's split of every set for one seed,
the distances from each test row to its nearest training normals in four
spaces: the baseline's ``StandardScaler`` features (``std``, what PyOD's KNN
sees) and our preprocessor with each numeric transform (``robust``,
``standard``, ``quantile``), for k in 1, 3, 5, 10, 20, as the mean of the k
nearest (``mean``) and as the k-th (``kth``), also with the reference capped at
10,000 rows. No GAN is trained; each seed takes a few minutes.

``summary`` prints, for single spaces and for averages of normalised distances
over two or three spaces (optionally with the GAN residuals saved by
``scripts/study_components.py run``), the mean ROC-AUC, the average rank among
the PyOD detectors of ``docs/results/benchmark.csv`` on the same sets and
seeds, and wins/losses against PyOD's KNN (ties within 0.005).

The normalisation here uses the scored rows' own median and spread (the
detector uses held-out normal rows), so the summary is a guide; the detector's
own figures come from ``scripts/benchmark.py``.

Usage:
  python scripts/study_knn_views.py run SEED --out DIR
  python scripts/study_knn_views.py summary DIR_SEED0 [DIR_SEED1 ...]
      [--gan GAN_DIR_SEED0 ...] [--results docs/results/benchmark.csv]
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score

from anomaly_gan.features.preprocessing import TabularPreprocessor
from anomaly_gan.jobs import benchmark
from anomaly_gan.models.neighbors import mean_knn_distance

ADBENCH = Path(__file__).resolve().parents[2] / "shared" / "data" / "adbench"
KS = (1, 3, 5, 10, 20)
CAP = 10_000
Arrays = dict[str, np.ndarray]


def _nearest(ref: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    """Sorted distances to the k nearest reference rows, (n, k)."""
    r = torch.as_tensor(ref, dtype=torch.float32)
    out = []
    for start in range(0, len(query), 512):
        q = torch.as_tensor(query[start : start + 512], dtype=torch.float32)
        d2 = (q * q).sum(1, keepdim=True) + (r * r).sum(1)[None] - 2 * q @ r.T
        out.append(torch.topk(d2.clamp_min(0), min(k, len(r)), largest=False)[0])
    return torch.cat(out).sqrt().numpy()


def run_one(name: str, seed: int) -> Arrays:
    split = benchmark.adbench_splits(ADBENCH / f"{name}.npz", seed)
    cols = [f"x{i}" for i in range(split.X_train.shape[1])]
    train = pd.DataFrame(split.X_train, columns=cols)
    test = pd.DataFrame(split.X_test, columns=cols)
    spaces = {"std": (split.baseline_train, split.baseline_test)}
    for transform in ("robust", "standard", "quantile"):
        pre = TabularPreprocessor(numeric_transform=transform).fit(train)
        spaces[transform] = (pre.transform(train), pre.transform(test))
    out: Arrays = {"y": split.y_test}
    rng = np.random.default_rng(seed + 1)
    for space, (ref, query) in spaces.items():
        near = _nearest(ref, query, max(KS))
        for k in KS:
            out[f"{space}_mean{k}"] = near[:, :k].mean(axis=1)
            out[f"{space}_kth{k}"] = near[:, k - 1]
        if len(ref) > CAP:
            ref = ref[np.sort(rng.choice(len(ref), CAP, replace=False))]
        cap_ref = torch.as_tensor(ref, dtype=torch.float32)
        cap_query = torch.as_tensor(query, dtype=torch.float32)
        out[f"{space}_mean5_cap"] = mean_knn_distance(cap_query, cap_ref, 5).numpy()
    return out


def _z(v: np.ndarray) -> np.ndarray:
    q1, median, q3 = np.quantile(v, [0.25, 0.5, 0.75])
    spread = (q3 - q1) / 1.349
    if not spread > 1e-9:
        spread = max(float(np.std(v)), 1e-9)
    return (v - median) / spread


def _g(v: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.sign(v) * np.log1p(np.abs(v))
    return out


def _views(*names: str) -> Callable[[Arrays, Arrays | None], np.ndarray]:
    """The detector's rule: normalised distances averaged, then compressed."""
    return lambda a, _g_: _g(np.mean([_z(a[n]) for n in names], axis=0))


def _with_gan(
    names: tuple[str, ...], gan_weight: float
) -> Callable[[Arrays, Arrays | None], np.ndarray]:
    def score(a: Arrays, gan: Arrays | None) -> np.ndarray:
        assert gan is not None
        knn = 2.0 * _g(np.mean([_z(a[n]) for n in names], axis=0))
        residuals = (
            _g(_z(gan["recon"]))
            + 0.5 * _g(_z(gan["latent"]))
            + 0.5 * _g(_z(gan["disc"]))
        )
        return knn + gan_weight * residuals

    return score


def _rules(with_gan: bool) -> dict[str, Callable[[Arrays, Arrays | None], np.ndarray]]:
    rules: dict[str, Callable[[Arrays, Arrays | None], np.ndarray]] = {}
    for space in ("std", "robust", "standard", "quantile"):
        for k in (3, 5, 10):
            rules[f"{space} mean{k}"] = (lambda n: lambda a, _: a[n])(
                f"{space}_mean{k}"
            )
        rules[f"{space} kth5"] = (lambda n: lambda a, _: a[n])(f"{space}_kth5")
    rules["quantile+standard"] = _views("quantile_mean5", "standard_mean5")
    rules["quantile+standard (capped)"] = _views(
        "quantile_mean5_cap", "standard_mean5_cap"
    )
    rules["quantile+robust"] = _views("quantile_mean5", "robust_mean5")
    rules["quantile+standard+robust"] = _views(
        "quantile_mean5", "standard_mean5", "robust_mean5"
    )
    if with_gan:
        for w in (0.25, 0.5, 1.0):
            rules[f"quantile+standard (capped) + {w} GAN"] = _with_gan(
                ("quantile_mean5_cap", "standard_mean5_cap"), w
            )
    return rules


def summary(dirs: list[Path], gan_dirs: list[Path], results: Path) -> None:
    rules = _rules(bool(gan_dirs))
    rows = []
    for i, folder in enumerate(dirs):
        seed = int(folder.name.rsplit("seed", 1)[-1])
        for path in sorted(folder.glob("*.npz")):
            a = dict(np.load(path))
            gan = dict(np.load(gan_dirs[i] / path.name)) if gan_dirs else None
            if gan is not None and not np.array_equal(gan["y"], a["y"]):
                msg = f"{gan_dirs[i] / path.name}: labels differ from {path}"
                raise SystemExit(msg)
            for rule, fn in rules.items():
                rows.append((path.stem, seed, rule, roc_auc_score(a["y"], fn(a, gan))))
    ours = pd.DataFrame(rows, columns=["dataset", "seed", "rule", "roc_auc"])
    seeds = sorted(ours.seed.unique())
    base = pd.read_csv(results)
    base = base[
        base.seed.isin(seeds)
        & base.dataset.isin(ours.dataset.unique())
        & ~base.detector.isin(["anomaly-gan", "AnoGAN"])
    ]
    table = base.groupby(["dataset", "detector"]).roc_auc.mean().unstack()
    out = []
    for rule, part in ours.groupby("rule"):
        t = table.copy()
        t["ours"] = part.groupby("dataset").roc_auc.mean()
        ranks = t.rank(axis=1, ascending=False).mean()
        out.append(
            {
                "rule": rule,
                "mean": t.ours.mean(),
                "rank": ranks["ours"],
                "KNN mean": t.KNN.mean(),
                "KNN rank": ranks["KNN"],
                "W": int((t.ours > t.KNN + 0.005).sum()),
                "L": int((t.ours < t.KNN - 0.005).sum()),
            }
        )
    print(
        f"seeds {seeds}, {ours.dataset.nunique()} sets, ranks among the PyOD detectors"
    )
    print(pd.DataFrame(out).sort_values("rank").round(4).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run")
    run.add_argument("seed", type=int)
    run.add_argument("--out", type=Path, required=True)
    summ = sub.add_parser("summary")
    summ.add_argument("dirs", nargs="+", type=Path)
    summ.add_argument("--gan", nargs="*", type=Path, default=[])
    summ.add_argument(
        "--results",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "docs/results/benchmark.csv",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    if args.cmd == "summary":
        if args.gan and len(args.gan) != len(args.dirs):
            msg = "--gan: give one folder per seed folder, in the same order"
            raise SystemExit(msg)
        summary(args.dirs, args.gan, args.results)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    for path in sorted(ADBENCH.glob("*.npz")):
        target = args.out / f"{path.stem}.npz"
        if target.exists():
            continue
        arrays = run_one(path.stem, args.seed)
        partial = args.out / f"{path.stem}.tmp.npz"
        np.savez(partial, **arrays)
        partial.rename(target)
        print(path.stem, flush=True)


if __name__ == "__main__":
    main()
