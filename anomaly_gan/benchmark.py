"""The detection benchmark of ../shared/BENCHMARK.md: our detector beside PyOD's.

For each data set and seed: subsample to 50,000 rows (stratified) when larger,
split 70/30 (stratified), fit every detector on the normal rows of the 70% part,
score the 30% part, and record ROC-AUC, average precision, fit and score seconds.
PyOD baselines get features standardised on the training normals; our detector
gets the raw rows. Every row of results is appended to a CSV as soon as it is
measured, and a re-run skips what the CSV already holds, so a killed run resumes.
``report`` turns the CSV into the Markdown report (per-set table, means, average
ranks, wins/ties/losses, machine and versions).
"""

from __future__ import annotations

import csv
import logging
import os
import platform
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anomaly_gan.datasets import load_adbench, load_nsl_kdd
from anomaly_gan.detector import GANomalyDetector
from anomaly_gan.exceptions import ConfigError

logger = logging.getLogger(__name__)

OURS = "anomaly-gan"
BASELINES = (
    "IForest",
    "ECOD",
    "KNN",
    "PCA",
    "AutoEncoder",
    "DeepSVDD",
    "ALAD",
    "AnoGAN",
)
FIELDS = (
    "dataset",
    "seed",
    "detector",
    "n_train",
    "n_test",
    "roc_auc",
    "average_precision",
    "fit_s",
    "score_s",
    "error",
)
MAX_ROWS = 50_000
TIE = 0.005  # ROC-AUC differences below this count as ties


@dataclass
class Split:
    """One data set's split for one seed."""

    name: str
    X_train: Any  # normal training rows (array or DataFrame)
    X_test: Any
    y_test: np.ndarray
    baseline_train: np.ndarray  # standardised / one-hot features for PyOD
    baseline_test: np.ndarray
    modality: str = "tabular"  # "image": X_train / X_test are arrays of images


def adbench_splits(path: Path, seed: int) -> Split:
    """Return the ADBench protocol's split of one ``.npz`` file."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    data = load_adbench(path)
    X, y = data.X, data.y
    if len(y) > MAX_ROWS:
        X, _, y, _ = train_test_split(
            X, y, train_size=MAX_ROWS, stratify=y, random_state=seed
        )
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    normal = X_tr[y_tr == 0]
    scaler = StandardScaler().fit(normal)
    return Split(
        path.stem, normal, X_te, y_te, scaler.transform(normal), scaler.transform(X_te)
    )


NSL_KDD_NOT_FEATURES = ("attack", "difficulty", "is_attack")


def nsl_kdd_split(folder: Path, seed: int) -> Split:
    """NSL-KDD: normal rows of KDDTrain+_20Percent.txt, every row of KDDTest+.txt."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    train = load_nsl_kdd(folder / "KDDTrain+_20Percent.txt")
    test = load_nsl_kdd(folder / "KDDTest+.txt")
    normal = train[train["is_attack"] == 0].reset_index(drop=True)
    features = [c for c in train.columns if c not in NSL_KDD_NOT_FEATURES]
    categorical = ["protocol_type", "service", "flag"]
    encoder = ColumnTransformer(
        [
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                categorical,
            ),
            ("num", StandardScaler(), [c for c in features if c not in categorical]),
        ]
    ).fit(normal[features])
    return Split(
        "nsl-kdd",
        normal.drop(columns=list(NSL_KDD_NOT_FEATURES)),
        test.drop(columns=list(NSL_KDD_NOT_FEATURES)),
        test["is_attack"].to_numpy(),
        encoder.transform(normal[features]),
        encoder.transform(test[features]),
    )


MNIST_PREFIX = "mnist-"


def mnist_split(folder: Path, digit: int, seed: int) -> Split:
    """One-class MNIST: ``digit`` is the anomaly, the other nine are normal.

    Normals split 80/20 (``random_state=seed``); fit on the 80%, score the 20%
    plus every image of ``digit``. Baselines get flattened pixels / 255,
    standardised on the training normals.
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from anomaly_gan.datasets import load_mnist

    data = load_mnist(
        folder / "t10k-images-idx3-ubyte.gz", folder / "t10k-labels-idx1-ubyte.gz"
    )
    normal = np.flatnonzero(data.y != digit)
    train, held = train_test_split(normal, test_size=0.2, random_state=seed)
    test = np.concatenate([held, np.flatnonzero(data.y == digit)])
    flat = data.X.reshape(len(data.X), -1).astype(np.float64) / 255.0
    scaler = StandardScaler().fit(flat[train])
    return Split(
        f"{MNIST_PREFIX}{digit}",
        data.X[train],
        data.X[test],
        (data.y[test] == digit).astype(int),
        scaler.transform(flat[train]),
        scaler.transform(flat[test]),
        modality="image",
    )


def make_detector(
    name: str, seed: int, n_features: int, modality: str = "tabular"
) -> Any:
    """Return a fresh detector with the protocol's settings."""
    if name == OURS and modality == "image":
        from anomaly_gan.image_detector import ImageGANomalyDetector

        return ImageGANomalyDetector(random_state=seed, device="auto")
    if name == OURS:
        return GANomalyDetector(random_state=seed, device="auto")
    from pyod.models import (
        alad,
        anogan,
        auto_encoder,
        deep_svdd,
        ecod,
        iforest,
        knn,
        pca,
    )

    factories: dict[str, Callable[[], Any]] = {
        "IForest": lambda: iforest.IForest(random_state=seed),
        "ECOD": lambda: ecod.ECOD(),
        "KNN": lambda: knn.KNN(),
        "PCA": lambda: pca.PCA(random_state=seed),
        "AutoEncoder": lambda: auto_encoder.AutoEncoder(
            epoch_num=30, preprocessing=False, verbose=0, random_state=seed
        ),
        "DeepSVDD": lambda: deep_svdd.DeepSVDD(
            n_features=n_features,
            epochs=30,
            preprocessing=False,
            verbose=0,
            random_state=seed,
        ),
        "ALAD": lambda: alad.ALAD(epochs=50, verbose=0),
        "AnoGAN": lambda: anogan.AnoGAN(epochs=50, verbose=0),
    }
    if name not in factories:
        msg = f"detector '{name}': expected one of {OURS}, {', '.join(BASELINES)}"
        raise ConfigError(msg)
    return factories[name]()


def run_one(split: Split, name: str, seed: int) -> dict[str, Any]:
    """Fit and score one detector on one split; errors are recorded, not raised."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    ours = name == OURS
    X_train = split.X_train if ours else split.baseline_train
    X_test = split.X_test if ours else split.baseline_test
    row: dict[str, Any] = {
        "dataset": split.name,
        "seed": seed,
        "detector": name,
        "n_train": len(X_train),
        "n_test": len(X_test),
        "roc_auc": "",
        "average_precision": "",
        "fit_s": "",
        "score_s": "",
        "error": "",
    }
    try:
        det = make_detector(
            name, seed, int(split.baseline_train.shape[1]), split.modality
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            started = time.perf_counter()
            det.fit(X_train)
            fitted = time.perf_counter()
            scores = np.asarray(det.decision_function(X_test), dtype=np.float64)
            done = time.perf_counter()
        if not np.isfinite(scores).all():
            scores = np.nan_to_num(
                scores,
                nan=0.0,
                posinf=np.finfo(np.float64).max,
                neginf=np.finfo(np.float64).min,
            )
        row.update(
            roc_auc=float(roc_auc_score(split.y_test, scores)),
            average_precision=float(average_precision_score(split.y_test, scores)),
            fit_s=fitted - started,
            score_s=done - fitted,
        )
    except Exception as exc:  # noqa: BLE001 - a baseline's failure is a result to report
        row["error"] = (
            f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[
                :200
            ]
        )
    return row


def run(
    out_csv: Path,
    *,
    adbench: Path | None,
    nsl_kdd: Path | None,
    datasets: list[str] | None = None,
    detectors: list[str] | None = None,
    seeds: list[int] | None = None,
    anogan_max_rows: int = 3_000,
    progress: Callable[[dict[str, Any]], None] | None = None,
    mnist: Path | None = None,
) -> Path:
    """Run (or resume) the benchmark, appending to ``out_csv``."""
    detectors = detectors or [OURS, *BASELINES]
    seeds = seeds if seeds is not None else [0, 1, 2]
    done = _done_keys(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    new_file = not out_csv.exists()
    with out_csv.open("a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        if new_file:
            writer.writeheader()
        for name, make_split in _sources(adbench, nsl_kdd, datasets, mnist):
            for seed in seeds:
                todo = [d for d in detectors if (name, str(seed), d) not in done]
                if not todo:
                    continue
                split = make_split(seed)
                for det_name in todo:
                    if (
                        det_name == "AnoGAN"
                        and len(split.baseline_train) > anogan_max_rows
                    ):
                        continue  # too slow: the report states the limit
                    row = run_one(split, det_name, seed)
                    writer.writerow(row)
                    fh.flush()
                    if progress is not None:
                        progress(row)
    return out_csv


def _sources(
    adbench: Path | None,
    nsl_kdd: Path | None,
    datasets: list[str] | None,
    mnist: Path | None = None,
) -> Iterator[tuple[str, Callable[[int], Split]]]:
    wanted = set(datasets) if datasets else None
    if adbench is not None:
        for path in sorted(adbench.glob("*.npz"), key=lambda p: p.stem):
            if wanted is None or path.stem in wanted:
                yield path.stem, _adbench_loader(path)
    if nsl_kdd is not None and (wanted is None or "nsl-kdd" in wanted):
        yield "nsl-kdd", lambda seed: nsl_kdd_split(nsl_kdd, seed)
    if mnist is not None:
        for digit in range(10):
            name = f"{MNIST_PREFIX}{digit}"
            if wanted is None or name in wanted or "mnist" in wanted:
                yield name, _mnist_loader(mnist, digit)


def _mnist_loader(folder: Path, digit: int) -> Callable[[int], Split]:
    return lambda seed: mnist_split(folder, digit, seed)


def _adbench_loader(path: Path) -> Callable[[int], Split]:
    return lambda seed: adbench_splits(path, seed)


def _done_keys(out_csv: Path) -> set[tuple[str, str, str]]:
    if not out_csv.exists():
        return set()
    with out_csv.open(newline="") as fh:
        return {(r["dataset"], r["seed"], r["detector"]) for r in csv.DictReader(fh)}


# ------------------------------------------------------------------ report
def report(results_csv: Path, *, anogan_max_rows: int = 3_000) -> str:
    """Return the Markdown report of a results CSV."""
    frame = pd.read_csv(results_csv)
    ok = frame[frame["error"].isna() | (frame["error"] == "")].copy()
    ok["roc_auc"] = ok["roc_auc"].astype(float)
    ok["average_precision"] = ok["average_precision"].astype(float)
    per_set = ok.groupby(["dataset", "detector"])[
        ["roc_auc", "average_precision", "fit_s", "score_s"]
    ].mean()
    auc = per_set["roc_auc"].unstack("detector")
    order = [d for d in (OURS, *BASELINES) if d in auc.columns]
    auc = auc[order]
    adbench_sets = [
        d for d in auc.index if d != "nsl-kdd" and not d.startswith(MNIST_PREFIX)
    ]
    lines: list[str] = []
    if adbench_sets:  # an MNIST-only or NSL-KDD-only run has no ADBench tables
        full = [d for d in order if d != "AnoGAN"]
        complete = auc.loc[adbench_sets, full].dropna()
        ranks = complete.rank(axis=1, ascending=False).mean()
        lines += ["## Mean ROC-AUC over the ADBench sets (mean over seeds per set)", ""]
        lines.append(
            f"{len(complete)} data sets where every detector but AnoGAN finished; seeds: "
            f"{', '.join(str(s) for s in sorted(ok['seed'].unique()))}."
        )
        lines += [
            "",
            "| detector | mean ROC-AUC | mean average precision | average rank | median fit s | median score s |",
            "|---|---|---|---|---|---|",
        ]
        ap = per_set["average_precision"].unstack("detector").loc[complete.index]
        fit = per_set["fit_s"].unstack("detector")
        score = per_set["score_s"].unstack("detector")
        for d in sorted(full, key=lambda d: ranks.get(d, 99)):
            lines.append(
                f"| {d} | {complete[d].mean():.4f} | {ap[d].mean():.4f} | {ranks[d]:.2f} | "
                f"{fit.loc[complete.index, d].median():.2f} | {score.loc[complete.index, d].median():.3f} |"
            )
        if "AnoGAN" in auc.columns:
            beside = [d for d in ("AnoGAN", OURS, "KNN") if d in auc.columns]
            small = auc.loc[adbench_sets, beside].dropna()
            if len(small):
                means = ", ".join(f"{d} {small[d].mean():.4f}" for d in beside)
                fits = ", ".join(
                    f"{d} {fit.loc[small.index, d].median():.1f}"
                    for d in beside
                    if d != "KNN"
                )
                lines += [
                    "",
                    f"AnoGAN ran only on sets with at most {anogan_max_rows:,} training rows ({len(small)} sets): "
                    f"mean ROC-AUC {means}; median fit s {fits}.",
                ]
        if OURS in auc.columns:
            lines += [
                "",
                "## anomaly-gan against each baseline (ROC-AUC per ADBench set; ties within 0.005)",
                "",
                "| baseline | wins | ties | losses |",
                "|---|---|---|---|",
            ]
            for d in order:
                if d == OURS:
                    continue
                both = auc.loc[adbench_sets, [OURS, d]].dropna()
                diff = both[OURS] - both[d]
                lines.append(
                    f"| {d} | {int((diff > TIE).sum())} | {int((diff.abs() <= TIE).sum())} | {int((diff < -TIE).sum())} |"
                )
            ours = ok[ok["detector"] == OURS]
            if ours["seed"].nunique() > 1:
                spread = ours.groupby("dataset")["roc_auc"].agg(["min", "max"])
                width = spread["max"] - spread["min"]
                lines += [
                    "",
                    f"Stability of anomaly-gan over seeds: median spread (max - min ROC-AUC) per set {width.median():.4f}, largest {width.max():.4f}.",
                ]
            else:
                lines += [
                    "",
                    "Stability over seeds: not measured (one seed in these results).",
                ]
    lines += _gan_time_section(per_set)
    if "nsl-kdd" in auc.index:
        row = auc.loc["nsl-kdd"].dropna()
        lines += [
            "",
            "## NSL-KDD (KDDTest+)",
            "",
            "| detector | ROC-AUC |",
            "|---|---|",
        ]
        lines += [
            f"| {d} | {row[d]:.4f} |" for d in row.sort_values(ascending=False).index
        ]
    lines += _mnist_section(auc, ok)
    lines += [
        "",
        "## Per data set (ROC-AUC, mean over seeds)",
        "",
        "| data set | " + " | ".join(order) + " |",
        "|---|" + "---|" * len(order),
    ]
    for name in auc.index:
        cells = []
        best = auc.loc[name].max()
        for d in order:
            v = auc.loc[name, d]
            cells.append(
                ""
                if pd.isna(v)
                else (f"**{v:.3f}**" if v >= best - 1e-12 else f"{v:.3f}")
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    errors = frame[~(frame["error"].isna() | (frame["error"] == ""))]
    if len(errors):
        lines += ["", "## Failures", ""]
        lines += [
            f"- {r.dataset} seed {r.seed} {r.detector}: {r.error}"
            for r in errors.itertuples()
        ]
    lines += ["", _machine()]
    return "\n".join(lines)


def _gan_time_section(per_set: pd.DataFrame) -> list[str]:
    """Fit + score seconds of anomaly-gan against PyOD's GAN detectors, as ratios.

    Per data set (tabular and image alike, mean over seeds), the ratio of
    anomaly-gan's fit + score seconds to the baseline's on the same splits in
    the same run; below 1 means anomaly-gan was faster.
    """
    seconds = (per_set["fit_s"] + per_set["score_s"]).unstack("detector")
    if OURS not in seconds.columns:
        return []
    rows: list[str] = []
    notes: list[str] = []
    for name in ("ALAD", "AnoGAN"):
        if name not in seconds.columns:
            continue
        both = seconds[[OURS, name]].dropna()
        if not len(both):
            continue
        ratio = both[OURS] / both[name]
        rows.append(
            f"| {name} | {len(both)} | {ratio.median():.2f} | {int((ratio < 1).sum())} | "
            f"{both[OURS].sum():.1f} | {both[name].sum():.1f} |"
        )
        slower = ratio[ratio > 1].sort_values(ascending=False)
        if len(slower):
            listed = ", ".join(
                f"{d} ({both.loc[d, OURS]:.2f} s against {both.loc[d, name]:.2f} s)"
                for d in slower.index
            )
            notes += ["", f"Slower than {name} on: {listed}."]
    if not rows:
        return []
    return [
        "",
        "## Fit + score seconds against PyOD's GAN detectors",
        "",
        "Per data set (mean over seeds), anomaly-gan's seconds divided by the "
        "baseline's, on the same splits in the same run; below 1 is faster.",
        "",
        "| baseline | data sets | median ratio | anomaly-gan faster on | "
        "total s, anomaly-gan | total s, baseline |",
        "|---|---|---|---|---|---|",
        *rows,
        *notes,
    ]


def _mnist_section(auc: pd.DataFrame, ok: pd.DataFrame) -> list[str]:
    digits = [d for d in auc.index if d.startswith(MNIST_PREFIX)]
    if not digits:
        return []
    table = auc.loc[digits].dropna(axis=1, how="all")
    seeds = sorted(ok.loc[ok["dataset"].isin(digits), "seed"].unique())
    lines = [
        "",
        "## One-class MNIST (ROC-AUC per anomalous digit, mean over seeds "
        + ", ".join(str(s) for s in seeds)
        + ")",
        "",
        "| detector | "
        + " | ".join(d[len(MNIST_PREFIX) :] for d in digits)
        + " | mean |",
        "|---|" + "---|" * (len(digits) + 1),
    ]
    for det in table.mean().sort_values(ascending=False).index:
        cells = " | ".join(f"{table.loc[d, det]:.3f}" for d in digits)
        lines.append(f"| {det} | {cells} | {table[det].mean():.3f} |")
    rows = ok[ok["dataset"].isin(digits)]
    per_seed = rows.groupby(["detector", "seed"])["roc_auc"].mean().unstack("seed")
    fit = rows.groupby("detector")["fit_s"].median()
    lines += ["", "| detector | mean per seed | median fit s |", "|---|---|---|"]
    for det in table.mean().sort_values(ascending=False).index:
        means = ", ".join(f"{v:.3f}" for v in per_seed.loc[det].dropna())
        lines.append(f"| {det} | {means} | {fit[det]:.1f} |")
    return lines


def _machine() -> str:
    import pyod
    import sklearn
    import torch

    from anomaly_gan._version import __version__

    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores"
        f"{', GPU ' + torch.cuda.get_device_name(0) if torch.cuda.is_available() else ', no GPU'}; Python {platform.python_version()}, "
        f"torch {torch.__version__}, pyod {pyod.__version__}, scikit-learn {sklearn.__version__}, anomaly-gan {__version__}."
    )
