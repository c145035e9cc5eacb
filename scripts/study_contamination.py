#!/usr/bin/env python
"""Study: which score stays strong when the training rows hold unlabelled anomalies.

``run``: for each ADBench set, setting and seed of ../shared/BENCHMARK.md's
protocol, fit the default detector once and save, for the scored (test) and
training rows (the held-out validation rows among them): the GAN's normalised
residuals and the encodings of each knn view, so that candidate terms (knn at
other scales, subsampled references, rules that clean the reference) and their
combinations can be evaluated offline.

Exploration only: the detector's defaults come from what this shows on fold A,
and fold B is read after the choice (docs/benchmarks.md, log).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from anomaly_gan.detectors.tabular import GANomalyDetector
from anomaly_gan.features.transform_report import TransformReport
from anomaly_gan.jobs.benchmark import FOLD_A, FOLD_B, adbench_splits


# Other GANs fitted beside the default one (knn off): the quantile scaling, and
# two more seeds of the default for an ensemble.
def _variants() -> dict[str, dict]:
    return {
        "gq": {"numeric_transform": "quantile"},
        "ge1": {"seed_offset": 101},
        "ge2": {"seed_offset": 202},
    }


def run_one(
    path: Path, setting: str, seed: int, out: Path, *, variants: bool = True
) -> None:
    """Fit the default detector; save its GAN components and the knn views' encodings."""
    split = adbench_splits(path, seed, setting)
    started = time.perf_counter()
    det = GANomalyDetector(random_state=seed).fit(split.X_train)
    fit_s = time.perf_counter() - started
    frame = det._validate_input(split.X_train, reset=False)
    test = det._validate_input(split.X_test, reset=False)
    enc_train = det.preprocessor_.transform_with_report(frame, TransformReport())
    enc_test = det.preprocessor_.transform_with_report(test, TransformReport())
    val_idx = det.validation_index_
    train_idx = np.setdiff1d(np.arange(len(frame)), val_idx)
    saved: dict[str, np.ndarray] = {
        "y_test": split.y_test,
        "y_train": split.y_train,
        "val_idx": val_idx,
        "pool": det._pick_reference(train_idx),
        "fit_s": np.array(fit_s),
    }
    for part, fr, enc in (("train", frame, enc_train), ("test", test, enc_test)):
        in_ref = None
        if part == "train":
            in_ref = np.zeros(len(frame), dtype=bool)
            in_ref[saved["pool"]] = True
        raw = det._residuals(fr, enc, in_reference=in_ref).raw
        scores = det.calibrator_.score(raw)
        for name, values in scores.components.items():
            saved[f"{part}_{name}"] = values.astype(np.float32)
        saved[f"{part}_default"] = scores.anomaly_score.astype(np.float32)
        saved[f"{part}_feat"] = scores.feature_residuals.astype(np.float32)
    for tag, params in _variants().items() if variants else ():
        other = GANomalyDetector(
            random_state=seed + params.pop("seed_offset", 0),
            knn_reference_rows=0,
            **params,
        )
        other.fit(split.X_train)
        for part, fr in (("train", frame), ("test", test)):
            scores, _, _ = other._score_frame(fr, TransformReport())
            for name in ("recon", "latent", "disc"):
                saved[f"{tag}_{part}_{name}"] = scores.components[name].astype(
                    np.float32
                )
            saved[f"{tag}_{part}_feat"] = scores.feature_residuals.astype(np.float32)
    for view in det.knn_views_.views:
        for part, fr, enc in (("train", frame, enc_train), ("test", test, enc_test)):
            if view.preprocessor is not None:
                enc = view.preprocessor.transform_with_report(fr, TransformReport())
            saved[f"{view.transform}_{part}_x"] = enc.astype(np.float32)
    np.savez_compressed(out, **saved)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--adbench", default="../shared/data/adbench")
    r.add_argument("--fold", choices=["A", "B", "all"], default="A")
    r.add_argument("--settings", nargs="+", default=["clean", "contaminated"])
    r.add_argument("--seeds", nargs="+", type=int, default=[0])
    r.add_argument("--cache", default="/work/bench/study3")
    r.add_argument(
        "--no-variants",
        action="store_true",
        help="fit the default detector only (not the extra GANs of _variants)",
    )
    args = parser.parse_args()
    names = {"A": FOLD_A, "B": FOLD_B, "all": FOLD_A + FOLD_B}[args.fold]
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        for setting in args.settings:
            for name in names:
                out = cache / f"{name}__{setting}__{seed}.npz"
                if out.exists():
                    continue
                t = time.perf_counter()
                run_one(
                    Path(args.adbench) / f"{name}.npz",
                    setting,
                    seed,
                    out,
                    variants=not args.no_variants,
                )
                print(
                    f"{name} {setting} {seed}: {time.perf_counter() - t:.1f} s",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
