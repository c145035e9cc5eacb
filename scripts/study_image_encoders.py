#!/usr/bin/env python
"""The study behind the image neighbours' latent view: one GAN encoder or several.

The image score's knn component averages two cosine 5-NN views, the pixels and
the GAN encoder's latent code (``models/image_neighbors.py``). This study asks
whether more of the GAN in that view (encoders of GANs trained from other
seeds on the same images, or a wider latent code) makes the GAN's share larger.

`fit` trains the default image detector on one-class MNIST splits of
`../shared/BENCHMARK.md` (digit d the anomaly), then, on the detector's own
training and held-out images, extra GANs: `seed+1`, `seed+2` (the default
sizes, another initialisation and batch order), `latent128` (a 128-wide code)
and `epochs20` (twice the default's training, the same seed).
For every test image it writes the label and each view's distance, normalised
on the held-out images as the detector does (``pixels``, ``latent`` of the
default GAN, and one per extra GAN). `evaluate` combines them by each rule and
prints mean ROC-AUC per fold (digits 0-4 choose, 5-9 check).

Usage:
  python scripts/study_image_encoders.py fit --mnist ../shared/data/mnist \
      --digits 0 1 2 3 4 --seeds 0 1 2 --jobs 2 --out encoders_a.json
  python scripts/study_image_encoders.py evaluate encoders_*.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

EXTRA = ("seed+1", "seed+2", "latent128")


def fit_one(folder: str, digit: int, seed: int, extra: list[str]) -> dict[str, Any]:
    """Fit the default detector and the extra GANs on one split; return distances."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import dataclasses

    import torch

    torch.set_num_threads(1)
    from anomaly_gan.data.images import prepare
    from anomaly_gan.detectors.image import ImageGANomalyDetector
    from anomaly_gan.engine.training import GanTrainer
    from anomaly_gan.jobs.benchmark import mnist_split
    from anomaly_gan.models.image import ImageDiscriminator, ImageGenerator
    from anomaly_gan.models.image_neighbors import CosineViews, view_vectors

    started = time.perf_counter()
    split = mnist_split(Path(folder), digit, seed)
    det = ImageGANomalyDetector(random_state=seed, device="cpu").fit(split.X_train)
    seconds = {"default": time.perf_counter() - started}
    # The detector's own split of its training images (as in ``fit``).
    pixels = det._pixels(split.X_train, fitting=False)
    order = np.random.default_rng(seed).permutation(len(pixels))
    n_val = max(2, round(det.validation_fraction * len(pixels)))
    val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
    ref_idx = train_idx
    assert len(ref_idx) <= det.knn_reference_rows
    test = prepare(split.X_test, det.image_size, det.channels_)
    device = torch.device("cpu")

    def view_distances(encoder: torch.nn.Module) -> dict[str, list[float]]:
        parts = {
            name: view_vectors(encoder, p, device)
            for name, p in (
                ("ref", pixels[ref_idx]),
                ("val", pixels[val_idx]),
                ("test", test),
            )
        }
        views = CosineViews.fit(
            {v: parts["ref"][v] for v in ("pixels", "latent")},
            {v: parts["val"][v] for v in ("pixels", "latent")},
            det.knn_neighbors,
            device,
        )
        out = {}
        for view in ("pixels", "latent"):
            raw = views._view_distance(view, parts["test"][view], device)
            out[view] = ((raw - views.center[view]) / views.spread[view]).tolist()
        return out

    base = view_distances(det.generator_.get_submodule("encoder"))
    result: dict[str, Any] = {
        "digit": digit,
        "seed": seed,
        "labels": split.y_test.tolist(),
        "pixels": base["pixels"],
        "latent": base["latent"],
    }
    for name in extra:
        t0 = time.perf_counter()
        sizes = det.sizes_
        gan_seed = seed
        if name.startswith("seed+"):
            gan_seed = seed + 1000 * int(name[5:])
        elif name.startswith("latent"):
            sizes = dataclasses.replace(sizes, latent_dim=int(name[6:]))
        elif name.startswith("epochs"):
            sizes = dataclasses.replace(sizes, epochs=int(name[6:]))

        def build(sizes: Any = sizes) -> tuple[ImageGenerator, ImageDiscriminator]:
            gen = ImageGenerator(
                det.channels_, det.image_size, sizes.latent_dim, det.base_width
            )
            disc = ImageDiscriminator(
                det.channels_,
                det.image_size,
                det.base_width,
                spectral_norm=det.spectral_norm,
            )
            return gen, disc

        trainer = GanTrainer(
            build=build,
            sizes=sizes,
            lr=det.lr,
            weights={
                "adv_weight": det.adv_weight,
                "recon_weight": det.recon_weight,
                "latent_weight": det.latent_weight,
            },
            device=device,
            mixed_precision=False,
            random_state=gan_seed,
        )
        fitted = trainer.fit(pixels[train_idx], pixels[val_idx])
        result[f"latent:{name}"] = view_distances(
            fitted.generator.get_submodule("encoder")
        )["latent"]
        seconds[name] = time.perf_counter() - t0
    result["seconds"] = seconds
    return {
        k: (np.round(v, 5).tolist() if isinstance(v, list) and k != "labels" else v)
        for k, v in result.items()
    }


def _mean(*parts: np.ndarray) -> np.ndarray:
    return np.mean(np.stack(parts), axis=0)


def rules(run: dict[str, Any]) -> dict[str, np.ndarray]:
    """Candidate scores of one run (each view already normalised)."""
    p = np.asarray(run["pixels"])
    lat = np.asarray(run["latent"])
    extra = {k[7:]: np.asarray(v) for k, v in run.items() if k.startswith("latent:")}
    out = {
        "pixels alone": p,
        "latent alone (default GAN)": lat,
        "default: pixels + latent": _mean(p, lat),
    }
    seeds = [extra[k] for k in ("seed+1", "seed+2") if k in extra]
    if seeds:
        out["latent of seed+1 alone"] = seeds[0]
        out["latent, 2 GANs, averaged"] = _mean(lat, seeds[0])
        out["pixels + latent (2 GANs)"] = _mean(p, _mean(lat, seeds[0]))
    if len(seeds) == 2:
        ens = _mean(lat, *seeds)
        out["latent, 3 GANs, averaged"] = ens
        out["pixels + latent (3 GANs)"] = _mean(p, ens)
        out["pixels 1 : latent (3 GANs) 2"] = (p + 2 * ens) / 3
    if "latent128" in extra:
        wide = extra["latent128"]
        out["latent128 alone"] = wide
        out["pixels + latent128"] = _mean(p, wide)
    for name, longer in extra.items():
        if name.startswith("epochs"):
            out[f"latent, {name[6:]} epochs, alone"] = longer
            out[f"pixels + latent, {name[6:]} epochs"] = _mean(p, longer)
    return out


def evaluate(runs: list[dict[str, Any]]) -> str:
    """Mean ROC-AUC per rule and fold, and the GAN's share against pixels alone."""
    from sklearn.metrics import roc_auc_score

    table: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        fold = "A" if run["digit"] <= 4 else "B"
        for name, score in rules(run).items():
            auc = float(roc_auc_score(run["labels"], score))
            table.setdefault(name, {}).setdefault(fold, []).append(auc)
    folds = sorted({f for by_fold in table.values() for f in by_fold})
    lines = [
        "| rule | " + " | ".join(f"fold {f} (n)" for f in folds) + " |",
        "|---|" + "---|" * len(folds),
    ]
    for name, by_fold in table.items():
        cells = [
            f"{np.mean(by_fold[f]):.4f} ({len(by_fold[f])})" if f in by_fold else ""
            for f in folds
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    secs: dict[str, list[float]] = {}
    for run in runs:
        for k, v in run.get("seconds", {}).items():
            secs.setdefault(k, []).append(v)
    lines.append("")
    lines.append(
        "fit seconds (median): "
        + ", ".join(f"{k} {np.median(v):.0f}" for k, v in secs.items())
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    fit = sub.add_parser("fit")
    fit.add_argument("--mnist", default="../shared/data/mnist")
    fit.add_argument("--digits", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    fit.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    fit.add_argument("--extra", nargs="*", default=list(EXTRA))
    fit.add_argument("--jobs", type=int, default=2)
    fit.add_argument("--out", type=Path, required=True)
    ev = sub.add_parser("evaluate")
    ev.add_argument("files", type=Path, nargs="+")
    args = parser.parse_args()
    if args.cmd == "evaluate":
        runs = [r for f in args.files for r in json.loads(f.read_text())]
        print(evaluate(runs))
        return 0
    if not Path(args.mnist).is_dir():
        print(f"MNIST not found at {args.mnist}: nothing to fit")
        return 0
    done: list[dict[str, Any]] = []
    if args.out.exists():
        done = json.loads(args.out.read_text())
    have = {(r["digit"], r["seed"]) for r in done}
    todo = [(d, s) for d in args.digits for s in args.seeds if (d, s) not in have]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(fit_one, args.mnist, d, s, args.extra) for d, s in todo]
        for fut in futures:
            done.append(fut.result())
            args.out.write_text(json.dumps(done))
            print(
                f"digit {done[-1]['digit']} seed {done[-1]['seed']}: "
                f"{done[-1]['seconds']}",
                flush=True,
            )
    print(evaluate(done))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
