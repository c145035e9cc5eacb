#!/usr/bin/env python
"""Textured surfaces with planted defects: image ROC-AUC and heat maps against masks.

The project's second image benchmark (issue 19), beside one-class MNIST. Per
seed: train the image detector with its defaults on `--train` normal textures
(`anomaly_gan.data.defects_synth.make_textures`, `--size` x `--size` grey),
score `--test` fresh images of which half carry one defect (scratch, spot or
weave fault, in turn), and measure

- image ROC-AUC: the default score, each component alone and reconstruction +
  knn (mean of the two normalised components), the cosine 5-NN and the
  Euclidean 5-NN on raw pixels in [0, 1] (the protocol's simple baselines);
- heat maps against the defect masks: pixel ROC-AUC and AUPRO up to FPR 0.3
  (`scoring/pixel_metrics.py`), for the detector's heat maps (reconstruction
  residual, 3 x 3 box filter) and for the best simple heat map we know: the
  absolute difference from the cosine-nearest training image, same filter.

Seeds run in parallel processes (`--jobs`), one torch thread each. Writes JSON
with --out, a Markdown table with --report, and each test image's normalised
score components with --components (for `scripts/study_image_scores.py`).

Usage: python scripts/bench_textures.py [--seeds 0 1 2] [--size 64] [--jobs 2]
       [--out FILE] [--report FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np


def _box(maps: np.ndarray, k: int = 3) -> np.ndarray:
    from scipy.ndimage import uniform_filter

    return np.asarray(uniform_filter(maps, size=(1, k, k), mode="nearest"))


def run_seed(
    seed: int, size: int, n_train: int, n_test: int, epochs: int | None = None
) -> dict[str, Any]:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    from sklearn.metrics import roc_auc_score

    from anomaly_gan.data.defects_synth import make_textures
    from anomaly_gan.detectors.image import ImageGANomalyDetector
    from anomaly_gan.scoring.pixel_metrics import aupro, pixel_roc_auc

    train = make_textures(n_train, size=size, random_state=seed)
    test = make_textures(n_test, defect_rate=0.5, size=size, random_state=seed + 1000)
    started = time.perf_counter()
    det = ImageGANomalyDetector(
        image_size=size, epochs=epochs, random_state=seed, device="cpu"
    )
    det.fit(train.images)
    fit_s = time.perf_counter() - started
    comp = det.score_components(test.images)
    scores = {
        "default": comp["anomaly_score"].to_numpy(),
        **{
            c.removeprefix("score_") + " alone": comp[c].to_numpy()
            for c in comp
            if c.startswith("score_")
        },
        "recon + knn": (comp["score_recon"] + comp["score_knn"]).to_numpy() / 2,
    }
    x = train.images.reshape(n_train, -1) / 255.0
    y = test.images.reshape(n_test, -1) / 255.0
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    yn = y / np.linalg.norm(y, axis=1, keepdims=True)
    similarity = yn @ xn.T
    nearest = np.argsort(-similarity, axis=1)[:, :5]
    scores["cosine 5-NN, raw pixels"] = 1 - np.take_along_axis(
        similarity, nearest, 1
    ).mean(1)
    d2 = (y**2).sum(1)[:, None] - 2 * y @ x.T + (x**2).sum(1)[None, :]
    scores["Euclidean 5-NN, raw pixels"] = np.sqrt(
        np.maximum(np.sort(d2, axis=1)[:, :5], 0)
    ).mean(1)
    image = {k: float(roc_auc_score(test.labels, v)) for k, v in scores.items()}
    by_kind: dict[str, dict[str, float]] = {}
    for kind in sorted(set(test.kinds) - {"normal"}):
        keep = (test.kinds == kind) | (test.kinds == "normal")
        by_kind[kind] = {
            k: float(roc_auc_score(test.labels[keep], scores[k][keep]))
            for k in ("default", "recon alone", "cosine 5-NN, raw pixels")
        }
    ours = det.explain(test.images)
    neighbour = _box(np.abs(test.images / 255.0 - train.images[nearest[:, 0]] / 255.0))
    defect = test.labels == 1
    maps = {"anomaly-gan heat map": ours, "nearest-image difference": neighbour}
    pixel = {
        name: {
            "pixel_roc_auc": pixel_roc_auc(m[defect], test.masks[defect]),
            "aupro": aupro(m[defect], test.masks[defect]),
        }
        for name, m in maps.items()
    }
    return {
        "seed": seed,
        "components": {
            "seed": seed,
            "labels": test.labels.tolist(),
            "kinds": test.kinds.tolist(),
            **{c: comp[c].round(5).tolist() for c in comp if c.startswith("score_")},
        },
        "fit_seconds": round(fit_s, 1),
        "epochs": det.sizes_.epochs,
        "image_roc_auc": image,
        "image_roc_auc_by_defect": by_kind,
        "heat_maps": pixel,
    }


def report(runs: list[dict[str, Any]], size: int, n_train: int, n_test: int) -> str:
    names = list(runs[0]["image_roc_auc"])
    lines = [
        f"## Textures with planted defects ({size} x {size}, {n_train} normal training "
        f"images, {n_test} test images, half with a defect; seeds "
        f"{', '.join(str(r['seed']) for r in runs)})",
        "",
        "Image ROC-AUC (mean over seeds; per seed in brackets):",
        "",
        "| score | scratch | spot | weave | all |",
        "|---|---|---|---|---|",
    ]
    for name in names:
        all_ = [r["image_roc_auc"][name] for r in runs]
        kinds = []
        for kind in ("scratch", "spot", "weave"):
            values = [r["image_roc_auc_by_defect"][kind].get(name) for r in runs]
            kinds.append(f"{np.mean(values):.3f}" if None not in values else "")
        per_seed = ", ".join(f"{v:.3f}" for v in all_)
        lines.append(
            f"| {name} | {' | '.join(kinds)} | {np.mean(all_):.3f} ({per_seed}) |"
        )
    lines += [
        "",
        "Heat maps against the defect masks (defect images only; mean over seeds):",
        "",
        "| heat map | pixel ROC-AUC | AUPRO (FPR <= 0.3) |",
        "|---|---|---|",
    ]
    for name in runs[0]["heat_maps"]:
        auc = np.mean([r["heat_maps"][name]["pixel_roc_auc"] for r in runs])
        pro = np.mean([r["heat_maps"][name]["aupro"] for r in runs])
        lines.append(f"| {name} | {auc:.3f} | {pro:.3f} |")
    fits = ", ".join(f"{r['fit_seconds']:.0f}" for r in runs)
    lines += ["", f"Fit seconds per seed (one torch thread): {fits}.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--test", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--epochs", type=int, help="override the size rule (smoke runs only)"
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument("--report", type=Path)
    parser.add_argument(
        "--components",
        type=Path,
        help="also write each test image's normalised components (JSON), for studies",
    )
    args = parser.parse_args()
    from anomaly_gan import __version__

    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [
            pool.submit(run_seed, s, args.size, args.train, args.test, args.epochs)
            for s in args.seeds
        ]
        runs = [f.result() for f in futures]
    text = report(runs, args.size, args.train, args.test)
    print(text)
    if args.components:
        args.components.write_text(json.dumps([r.pop("components") for r in runs]))
    else:
        for r in runs:
            r.pop("components")
    if args.out:
        payload = {"version": __version__, "machine": platform.platform(), "runs": runs}
        args.out.write_text(json.dumps(payload, indent=2) + "\n")
    if args.report:
        args.report.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
