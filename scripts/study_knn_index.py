#!/usr/bin/env python
"""Study for issue 17: an inverted-file (IVF) index for the knn term's search.

The knn search is three quarters of scoring time (docs/benchmarks.md). An IVF
index splits the reference rows into k-means cells (about sqrt(m) of them) and
searches, for each row, only the reference rows of a few cells, exactly. Two
ways to choose the cells are measured:

- ``row``: each row probes its own ``nprobe`` nearest cells (faiss's IVFFlat);
- ``cell``: rows are grouped by their nearest cell, and each group searches
  the ``nprobe`` cells nearest to that cell's centroid, in one matrix product.

``accuracy`` reads the caches of ``scripts/study_contamination.py run`` (fits of
the default detector: the knn views' encodings, the reference and held-out rows,
the other components), recomputes the knn component with each search, normalised
on the held-out rows as the detector does, rebuilds the default score, and
prints the ROC-AUC change against the exact search per split (issue 17 allows
0.002). The exact search is recomputed first and checked against the cached
component. ``speed`` times each search against the exact one on a cache's
encodings (40,000 scored rows, one thread).

Usage:
  python scripts/study_knn_index.py accuracy CACHE_DIR --search row:8 cell:12
  python scripts/study_knn_index.py speed CACHE_DIR 5_campaign__clean__0 ...

A row whose probed cells hold fewer than 5 reference rows in all (cells of
outliers) is searched exactly, and so is a ``cell`` group whose probed cells do.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import roc_auc_score

from anomaly_gan.models.neighbors import _smallest, mean_knn_distance
from anomaly_gan.scoring.scorer import ScoreCalibrator, robust_location

K = 5
# The default weights and rule (config.py), to rebuild the score from the cache.
WEIGHTS = {"recon": 1.0, "latent": 0.5, "disc": 0.5, "knn": 7.0, "marginal": 1.0}
MIN_REFERENCE = 2048  # smaller references stay exact in any design


class IvfIndex:
    """Reference rows sorted by k-means cell; exact search within probed cells."""

    def __init__(self, reference: np.ndarray, seed: int = 0) -> None:
        cells = max(16, round(np.sqrt(len(reference))))
        km = KMeans(n_clusters=cells, n_init=1, max_iter=20, random_state=seed)
        km.fit(reference)
        labels = km.predict(reference)
        order = np.argsort(labels, kind="stable")
        self.ref = torch.as_tensor(reference[order], dtype=torch.float32)
        self.ref_sq = self.ref.pow(2).sum(dim=1)
        counts = np.bincount(labels, minlength=cells)
        self.offsets = np.concatenate([[0], np.cumsum(counts)])
        self.centroids = torch.as_tensor(km.cluster_centers_, dtype=torch.float32)
        self.cent_sq = self.centroids.pow(2).sum(dim=1)

    def _to_centroids(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.cent_sq[None, :], x, self.centroids.T, alpha=-2.0)

    @torch.no_grad()
    def search_rows(self, x_np: np.ndarray, nprobe: int) -> np.ndarray:
        """Each row probes its own ``nprobe`` nearest cells."""
        x = torch.as_tensor(x_np, dtype=torch.float32)
        n, cells = len(x), len(self.centroids)
        nprobe = min(nprobe, cells)
        probe = self._to_centroids(x).topk(nprobe, dim=1, largest=False).indices
        best = torch.full((n, nprobe, K), float("inf"))
        flat = probe.reshape(-1)
        order = torch.argsort(flat, stable=True)
        bounds = torch.searchsorted(flat[order], torch.arange(cells + 1))
        rows_all, slots_all = order // nprobe, order % nprobe
        for c in range(cells):
            a, b = int(bounds[c]), int(bounds[c + 1])
            lo, hi = int(self.offsets[c]), int(self.offsets[c + 1])
            if a == b or lo == hi:
                continue
            rows = rows_all[a:b]
            part = torch.addmm(
                self.ref_sq[None, lo:hi], x[rows], self.ref[lo:hi].T, alpha=-2.0
            )
            kk = min(K, hi - lo)
            best[rows, slots_all[a:b], :kk] = part.topk(kk, dim=1, largest=False).values
        squared = best.reshape(n, -1).topk(K, dim=1, largest=False).values
        # Probed cells holding fewer than K rows in all: search those rows exactly.
        short = torch.isinf(squared).any(dim=1)
        if short.any():
            full = torch.addmm(self.ref_sq[None, :], x[short], self.ref.T, alpha=-2.0)
            squared[short] = full.topk(K, dim=1, largest=False).values
        return _mean_distance(squared, x)

    @torch.no_grad()
    def search_cells(self, x_np: np.ndarray, nprobe: int) -> np.ndarray:
        """Rows grouped by nearest cell; a group probes its cell's nearest cells."""
        x = torch.as_tensor(x_np, dtype=torch.float32)
        cells = len(self.centroids)
        nprobe = min(nprobe, cells)
        near = self._to_centroids(self.centroids).topk(nprobe, dim=1, largest=False)
        home = self._to_centroids(x).argmin(dim=1)
        order = torch.argsort(home, stable=True)
        bounds = torch.searchsorted(home[order], torch.arange(cells + 1))
        out = np.empty(len(x), dtype=np.float64)
        for c in range(cells):
            a, b = int(bounds[c]), int(bounds[c + 1])
            if a == b:
                continue
            idx = torch.cat(
                [
                    torch.arange(int(self.offsets[j]), int(self.offsets[j + 1]))
                    for j in near.indices[c].tolist()
                ]
            )
            if len(idx) < K:  # too few rows near this cell: search them all
                idx = torch.arange(len(self.ref))
            rows = order[a:b]
            part = torch.addmm(
                self.ref_sq[idx][None, :], x[rows], self.ref[idx].T, alpha=-2.0
            )
            squared = _smallest(part, K)
            out[rows.numpy()] = _mean_distance(squared, x[rows])
        return out


def _mean_distance(squared: torch.Tensor, x: torch.Tensor) -> np.ndarray:
    full = squared + x.pow(2).sum(dim=1, keepdim=True)
    return full.clamp_min(0.0).sqrt().mean(dim=1).numpy().astype(np.float64)


def _exact(reference: np.ndarray, x: np.ndarray) -> np.ndarray:
    dist = mean_knn_distance(torch.as_tensor(x), torch.as_tensor(reference), K)
    return dist.numpy().astype(np.float64)


def _searches(specs: list[str]) -> dict[str, Callable[..., np.ndarray]]:
    out: dict[str, Callable[..., np.ndarray]] = {}
    for spec in specs:
        how, nprobe = spec.split(":")
        method = {"row": IvfIndex.search_rows, "cell": IvfIndex.search_cells}[how]
        out[spec] = lambda index, x, m=method, p=int(nprobe): m(index, x, p)
    return out


def _knn_component(
    data: np.lib.npyio.NpzFile, search: Callable[[str, np.ndarray], np.ndarray]
) -> np.ndarray:
    """The knn component of the test rows, normalised as ``KnnViews`` does."""
    val = data["val_idx"]
    held, scored = [], []
    for view in ("quantile", "standard"):
        d_val = search(view, data[f"{view}_train_x"][val])
        d_test = search(view, data[f"{view}_test_x"])
        centre, spread = robust_location(d_val)
        held.append((d_val - centre) / spread)
        scored.append((d_test - centre) / spread)
    centre, spread = robust_location(np.mean(held, axis=0))
    return (np.mean(scored, axis=0) - centre) / spread


def _default_score(components: dict[str, np.ndarray]) -> np.ndarray:
    rule = ScoreCalibrator(WEIGHTS, [], np.ones(0), {}, {}, combine="balanced")
    return rule.combine_components(components)


def accuracy(cache: Path, specs: list[str]) -> None:
    searches = _searches(specs)
    for path in sorted(cache.glob("*.npz")):
        data = np.load(path)
        pool = data["pool"]
        if len(pool) < MIN_REFERENCE:
            continue
        refs = {v: data[f"{v}_train_x"][pool] for v in ("quantile", "standard")}
        exact = _knn_component(data, lambda v, x, refs=refs: _exact(refs[v], x))
        parts = {n: data[f"test_{n}"].astype(np.float64) for n in WEIGHTS}
        drift = float(np.abs(exact - parts["knn"]).max())
        y = data["y_test"]
        base = roc_auc_score(y, _default_score(parts))
        line = f"{path.stem:38s} m={len(pool):5d} check {drift:.0e} ROC-AUC {base:.4f}"
        indexes = {v: IvfIndex(refs[v]) for v in refs}
        for spec, run in searches.items():
            knn = _knn_component(data, lambda v, x, r=run, ix=indexes: r(ix[v], x))
            change = roc_auc_score(y, _default_score({**parts, "knn": knn})) - base
            line += f" | {spec} {change:+.4f}"
        print(line, flush=True)


def speed(cache: Path, names: list[str], specs: list[str]) -> None:
    torch.set_num_threads(1)
    searches = _searches(specs)
    for name in names:
        data = np.load(cache / f"{name}.npz")
        for view in ("quantile", "standard"):
            ref = data[f"{view}_train_x"][data["pool"]]
            rows = np.concatenate([data[f"{view}_test_x"], data[f"{view}_train_x"]])
            x = np.resize(rows, (40_000, rows.shape[1])).astype(np.float32)
            started = time.perf_counter()
            exact = _exact(ref, x)
            exact_s = time.perf_counter() - started
            line = f"{name} {view} m={len(ref)} d={ref.shape[1]} exact {exact_s:.2f} s"
            index = IvfIndex(ref)
            for spec, run in searches.items():
                started = time.perf_counter()
                approx = run(index, x)
                seconds = time.perf_counter() - started
                same = np.mean(np.abs(approx - exact) <= 1e-3 * exact + 1e-5)
                line += f" | {spec} {exact_s / seconds:.1f}x, exact rows {same:.3f}"
            print(line, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    acc = sub.add_parser("accuracy")
    acc.add_argument("cache", type=Path)
    acc.add_argument("--search", nargs="+", default=["row:4", "row:8", "cell:12"])
    spd = sub.add_parser("speed")
    spd.add_argument("cache", type=Path)
    spd.add_argument("names", nargs="+")
    spd.add_argument("--search", nargs="+", default=["row:8", "cell:8", "cell:12"])
    args = parser.parse_args()
    if args.cmd == "accuracy":
        accuracy(args.cache, args.search)
    else:
        speed(args.cache, args.names, args.search)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
