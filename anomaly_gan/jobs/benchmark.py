"""The detection benchmark of ../shared/BENCHMARK.md: our detector beside PyOD's.

For each data set, seed and setting: subsample to 50,000 rows (stratified) when
larger, split 70/30 (stratified), fit every detector on the training part and
score the 30% part, recording ROC-AUC, average precision, fit and score
seconds. The ``clean`` setting fits on the normal rows of the 70% part only;
``contaminated`` fits on the whole 70% part, its anomalies unlabelled (what a
retraining job on fresh traffic gets). PyOD baselines get features
standardised on their training rows; our detector gets the raw rows. Beside
the default score, our detector's rows include its ablations (each score
component group alone, and the default without the GAN's residuals), scored
by the same fitted model. Every row of results is appended to a CSV as soon as
it is measured, and a re-run skips what the CSV already holds, so a killed run
resumes. ``benchmark_report`` turns the CSV into the Markdown report.
"""

from __future__ import annotations

import csv
import logging
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from anomaly_gan.data.datasets import load_adbench, load_nsl_kdd
from anomaly_gan.data.tables import atomic_write
from anomaly_gan.detectors.tabular import GANomalyDetector
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
# Baselines of the image protocol only (../shared/BENCHMARK.md, "Images").
IMAGE_BASELINES = ("CosineKNN",)
FIELDS = (
    "dataset",
    "setting",
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
SETTINGS = ("clean", "contaminated")
# ../shared/BENCHMARK.md's folds: defaults are chosen on A and checked on B.
FOLD_A = (
    "1_ALOI",
    "5_campaign",
    "7_Cardiotocography",
    "11_donors",
    "15_Hepatitis",
    "18_Ionosphere",
    "21_Lymphography",
    "24_mnist",
    "28_pendigits",
    "31_satimage-2",
    "34_smtp",
    "37_Stamps",
    "39_vertebral",
    "42_WBC",
    "44_Wilt",
    "46_WPBC",
)
FOLD_B = (
    "4_breastw",
    "6_cardio",
    "8_celeba",
    "14_glass",
    "17_InternetAds",
    "20_letter",
    "23_mammography",
    "27_PageBlocks",
    "29_Pima",
    "32_shuttle",
    "35_SpamBase",
    "38_thyroid",
    "40_vowels",
    "43_WDBC",
    "45_wine",
)


def fold_of(dataset: str) -> str:
    """Return ``"A"``, ``"B"`` or ``""`` (a set in neither fold)."""
    if dataset in FOLD_A:
        return "A"
    return "B" if dataset in FOLD_B else ""


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
    # Labels of the training rows (never given to a detector; for studies of
    # what contamination does). None where the protocol trains on normals only.
    y_train: np.ndarray | None = None


def adbench_splits(path: Path, seed: int, setting: str = "clean") -> Split:
    """Return the ADBench protocol's split of one ``.npz`` file.

    ``setting``: ``"clean"`` trains on the normal rows of the 70% part,
    ``"contaminated"`` on the whole 70% part (labels dropped).
    """
    if setting not in SETTINGS:
        msg = f"setting: expected one of {', '.join(SETTINGS)}, found {setting!r}"
        raise ConfigError(msg)
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
    keep = y_tr == 0 if setting == "clean" else np.ones(len(y_tr), dtype=bool)
    train = X_tr[keep]
    scaler = StandardScaler().fit(train)
    return Split(
        path.stem,
        train,
        X_te,
        y_te,
        scaler.transform(train),
        scaler.transform(X_te),
        y_train=y_tr[keep].astype(int),
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
    plus every image of ``digit``. Baselines get flattened pixels / 255, not
    standardised (standardising pixels costs PyOD's KNN about 0.11 here).
    """
    from sklearn.model_selection import train_test_split

    from anomaly_gan.data.datasets import load_mnist

    data = load_mnist(
        folder / "t10k-images-idx3-ubyte.gz", folder / "t10k-labels-idx1-ubyte.gz"
    )
    normal = np.flatnonzero(data.y != digit)
    train, held = train_test_split(normal, test_size=0.2, random_state=seed)
    test = np.concatenate([held, np.flatnonzero(data.y == digit)])
    flat = data.X.reshape(len(data.X), -1).astype(np.float64) / 255.0
    return Split(
        f"{MNIST_PREFIX}{digit}",
        data.X[train],
        data.X[test],
        (data.y[test] == digit).astype(int),
        flat[train],
        flat[test],
        modality="image",
    )


class CosineKNN:
    """Mean cosine distance to the 5 nearest training rows (the image protocol's baseline)."""

    def __init__(self, n_neighbors: int = 5) -> None:
        self.n_neighbors = n_neighbors

    def fit(self, X: np.ndarray) -> CosineKNN:
        """Keep the training rows in a cosine nearest-neighbour index."""
        from sklearn.neighbors import NearestNeighbors

        self.index_ = NearestNeighbors(
            n_neighbors=self.n_neighbors, metric="cosine"
        ).fit(X)
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Mean distance to the nearest training rows; larger is more anomalous."""
        distances, _ = self.index_.kneighbors(X)
        out: np.ndarray = distances.mean(axis=1)
        return out


def make_detector(
    name: str, seed: int, n_features: int, modality: str = "tabular"
) -> Any:
    """Return a fresh detector with the protocol's settings."""
    if name == OURS and modality == "image":
        from anomaly_gan.detectors.image import ImageGANomalyDetector

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
        "CosineKNN": lambda: CosineKNN(),
    }
    if name not in factories:
        msg = f"detector '{name}': expected one of {OURS}, {', '.join((*BASELINES, *IMAGE_BASELINES))}"
        raise ConfigError(msg)
    return factories[name]()


def run_one(
    split: Split, name: str, seed: int, setting: str = "clean"
) -> list[dict[str, Any]]:
    """Fit and score one detector on one split; errors are recorded, not raised.

    Returns one row, and for our tabular detector one more per ablation
    (``"anomaly-gan [NAME]"``: the same fitted model's score with some
    components only; no timings of their own).
    """
    ours = name == OURS
    X_train = split.X_train if ours else split.baseline_train
    X_test = split.X_test if ours else split.baseline_test
    row: dict[str, Any] = {
        "dataset": split.name,
        "setting": setting,
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
    extra: list[dict[str, Any]] = []
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
            ablations = (
                det.ablation_scores(X_test)
                if ours and hasattr(det, "ablation_scores")
                else {}
            )
        row.update(_metrics(split.y_test, scores))
        row.update(fit_s=fitted - started, score_s=done - fitted)
        for label, values in ablations.items():
            extra.append(
                {
                    **row,
                    "detector": f"{OURS} [{label}]",
                    "fit_s": "",
                    "score_s": "",
                    **_metrics(split.y_test, values),
                }
            )
    except Exception as exc:  # noqa: BLE001 - a baseline's failure is a result to report
        row["error"] = (
            f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[
                :200
            ]
        )
    return [row, *extra]


def _metrics(y: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    scores = np.asarray(scores, dtype=np.float64)
    if not np.isfinite(scores).all():
        scores = np.nan_to_num(
            scores,
            nan=0.0,
            posinf=np.finfo(np.float64).max,
            neginf=np.finfo(np.float64).min,
        )
    return {
        "roc_auc": float(roc_auc_score(y, scores)),
        "average_precision": float(average_precision_score(y, scores)),
    }


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
    settings: tuple[str, ...] = ("clean",),
) -> Path:
    """Run (or resume) the benchmark, appending to ``out_csv``.

    ``settings``: ``clean`` and/or ``contaminated`` (ADBench sets only;
    NSL-KDD and MNIST have the clean protocol alone).
    """
    detectors = detectors or [OURS, *BASELINES, *IMAGE_BASELINES]
    seeds = seeds if seeds is not None else [0, 1, 2]
    for setting in settings:
        if setting not in SETTINGS:
            msg = f"setting: expected one of {', '.join(SETTINGS)}, found {setting!r}"
            raise ConfigError(msg)
    _upgrade_results(out_csv)
    done = _done_keys(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    new_file = not out_csv.exists()
    with out_csv.open("a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        if new_file:
            writer.writeheader()
        for name, make_split, kinds in _sources(adbench, nsl_kdd, datasets, mnist):
            for setting in (s for s in settings if s in kinds):
                for seed in seeds:
                    key = (name, setting, str(seed))
                    todo = [
                        d
                        for d in detectors
                        if (*key, d) not in done
                        and (d not in IMAGE_BASELINES or name.startswith(MNIST_PREFIX))
                    ]
                    if not todo:
                        continue
                    split = make_split(seed, setting)
                    for det_name in todo:
                        if det_name in IMAGE_BASELINES and split.modality != "image":
                            continue  # the image protocol's own baselines
                        if (
                            det_name == "AnoGAN"
                            and len(split.baseline_train) > anogan_max_rows
                        ):
                            continue  # too slow: the report states the limit
                        for row in run_one(split, det_name, seed, setting):
                            writer.writerow(row)
                            if progress is not None:
                                progress(row)
                        fh.flush()
    return out_csv


def _sources(
    adbench: Path | None,
    nsl_kdd: Path | None,
    datasets: list[str] | None,
    mnist: Path | None = None,
) -> Iterator[tuple[str, Callable[[int, str], Split], tuple[str, ...]]]:
    """Each data set's name, its split maker and the settings it has."""
    wanted = set(datasets) if datasets else None
    if adbench is not None:
        for path in sorted(adbench.glob("*.npz"), key=lambda p: p.stem):
            if wanted is None or path.stem in wanted:
                yield path.stem, _adbench_loader(path), SETTINGS
    if nsl_kdd is not None and (wanted is None or "nsl-kdd" in wanted):
        yield "nsl-kdd", lambda seed, _: nsl_kdd_split(nsl_kdd, seed), ("clean",)
    if mnist is not None:
        for digit in range(10):
            name = f"{MNIST_PREFIX}{digit}"
            if wanted is None or name in wanted or "mnist" in wanted:
                yield name, _mnist_loader(mnist, digit), ("clean",)


def _mnist_loader(folder: Path, digit: int) -> Callable[[int, str], Split]:
    return lambda seed, _: mnist_split(folder, digit, seed)


def _adbench_loader(path: Path) -> Callable[[int, str], Split]:
    return lambda seed, setting: adbench_splits(path, seed, setting)


def _done_keys(out_csv: Path) -> set[tuple[str, str, str, str]]:
    if not out_csv.exists():
        return set()
    with out_csv.open(newline="") as fh:
        return {
            (r["dataset"], r["setting"], r["seed"], r["detector"])
            for r in csv.DictReader(fh)
        }


def _upgrade_results(out_csv: Path) -> None:
    """Give a results file written before settings existed its ``setting`` column.

    Those runs were all of the clean protocol. The file is rewritten atomically.
    """
    if not out_csv.exists():
        return
    with out_csv.open(newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or "setting" in reader.fieldnames:
            return
        rows = [{**r, "setting": "clean"} for r in reader]
    with atomic_write(out_csv) as tmp, tmp.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
