"""The benchmark runner: protocol splits, resumable results, the report."""

import csv

import numpy as np
import pytest

from anomaly_gan import benchmark
from anomaly_gan.cli import main


@pytest.fixture
def npz_folder(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "adbench"
    folder.mkdir()
    for name, n in (("1_small", 300), ("2_other", 400)):
        X = np.vstack([rng.normal(size=(n, 4)), rng.normal(size=(n // 10, 4)) * 4 + 3])
        y = np.r_[np.zeros(n), np.ones(n // 10)]
        np.savez(folder / f"{name}.npz", X=X, y=y)
    return folder


def test_split_follows_the_protocol(npz_folder):
    split = benchmark.adbench_splits(npz_folder / "1_small.npz", seed=0)
    # 330 rows: 30% test (stratified), training keeps only the normal rows.
    assert len(split.y_test) == 99
    assert int(split.y_test.sum()) == 9
    assert len(split.X_train) == 210
    np.testing.assert_allclose(split.baseline_train.mean(axis=0), 0, atol=1e-9)


def test_run_resumes_and_reports(npz_folder, tmp_path, monkeypatch):
    results = tmp_path / "results.csv"
    calls = []
    original = benchmark.run_one

    def counting(split, name, seed):
        calls.append((split.name, name, seed))
        return original(split, name, seed)

    monkeypatch.setattr(benchmark, "run_one", counting)
    monkeypatch.setattr(
        benchmark, "make_detector", _fast_detector(benchmark.make_detector)
    )
    kw = {
        "adbench": npz_folder,
        "nsl_kdd": None,
        "detectors": ["anomaly-gan", "KNN", "IForest"],
        "seeds": [0],
    }
    benchmark.run(results, **kw)
    assert len(calls) == 6
    benchmark.run(results, **kw)  # everything is in the CSV: nothing runs again
    assert len(calls) == 6
    benchmark.run(results, **{**kw, "seeds": [0, 1]})
    assert len(calls) == 12
    with results.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 12 and all(r["error"] == "" for r in rows)
    assert all(float(r["roc_auc"]) > 0.8 for r in rows)
    text = benchmark.report(results)
    assert "| anomaly-gan |" in text and "| KNN | " in text
    assert "average rank" in text and "wins | ties | losses" in text
    assert "Machine:" in text


def test_a_report_of_baselines_alone(tmp_path):
    """Results of a run limited to some baselines (e.g. one of two side-by-side
    processes) still make a report."""
    results = tmp_path / "part.csv"
    with results.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(benchmark.FIELDS)
        for dataset, auc in (("1_a", 0.8), ("2_b", 0.7)):
            for detector, shift in (("AutoEncoder", 0.0), ("AnoGAN", -0.1)):
                writer.writerow(
                    [dataset, 0, detector, 100, 40, auc + shift, 0.5, 1.0, 0.1, ""]
                )
    text = benchmark.report(results)
    assert "| AutoEncoder | 0.7500 |" in text
    assert "mean ROC-AUC AnoGAN 0.6500; median fit s AnoGAN 1.0." in text


def test_report_gives_fit_and_score_seconds_against_the_gan_baselines(tmp_path):
    results = tmp_path / "timing.csv"
    # (fit, score) seconds per set and seed: anomaly-gan is faster than ALAD on
    # 1_a (2 s against 4 s) and 2_b (1 s against 4 s), slower on 3_c (6 s
    # against 3 s); AnoGAN only ran on 1_a
    seconds = {
        ("1_a", "anomaly-gan"): (1.5, 0.5),
        ("1_a", "ALAD"): (3.0, 1.0),
        ("1_a", "AnoGAN"): (9.0, 1.0),
        ("2_b", "anomaly-gan"): (0.5, 0.5),
        ("2_b", "ALAD"): (3.5, 0.5),
        ("3_c", "anomaly-gan"): (5.0, 1.0),
        ("3_c", "ALAD"): (2.0, 1.0),
    }
    with results.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(benchmark.FIELDS)
        for seed in (0, 1):
            for (dataset, detector), (fit, score) in seconds.items():
                writer.writerow(
                    [dataset, seed, detector, 100, 40, 0.8, 0.5, fit, score, ""]
                )
    text = benchmark.report(results)
    assert "| ALAD | 3 | 0.50 | 2 | 9.0 | 11.0 |" in text  # ratios 0.5, 0.25, 2
    assert "| AnoGAN | 1 | 0.20 | 1 | 2.0 | 10.0 |" in text
    assert "Slower than ALAD on: 3_c (6.00 s against 3.00 s)." in text
    assert "Slower than AnoGAN" not in text


def test_a_failing_baseline_is_recorded_not_raised(npz_folder):
    split = benchmark.adbench_splits(npz_folder / "1_small.npz", seed=0)
    row = benchmark.run_one(split, "NoSuchDetector", 0)
    assert row["error"].startswith("ConfigError: detector 'NoSuchDetector'")
    assert row["roc_auc"] == ""


def test_cli_writes_the_report(npz_folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        benchmark, "make_detector", _fast_detector(benchmark.make_detector)
    )
    results, report = tmp_path / "r.csv", tmp_path / "r.md"
    argv = [
        "benchmark",
        "--adbench",
        str(npz_folder),
        "--nsl-kdd",
        "",
        "--detectors",
        "anomaly-gan",
        "KNN",
        "--seeds",
        "0",
        "--results",
        str(results),
        "--report",
        str(report),
    ]
    assert main(argv) == 0
    assert report.read_text().startswith("## Mean ROC-AUC")
    assert "1_small" in capsys.readouterr().out
    assert (
        main(
            [
                "benchmark",
                "--adbench",
                str(tmp_path / "none"),
                "--nsl-kdd",
                "",
                "--results",
                str(results),
            ]
        )
        == 2
    )


def _fast_detector(make):
    # The protocol's detectors, with our GAN cut to a few epochs to keep the test quick.
    def fast(name, seed, n_features, modality="tabular"):
        det = make(name, seed, n_features, modality)
        if name == benchmark.OURS:
            det.set_params(epochs=5)
        return det

    return fast


def _mnist_folder(tmp_path):
    """A tiny IDX pair in MNIST's file names: 3 'digits', 40 images each."""
    import gzip
    import struct

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 40).astype(np.uint8)
    images = np.zeros((120, 28, 28), np.uint8)
    for i, label in enumerate(labels):
        images[i, 4 + 6 * label : 10 + 6 * label, 4:24] = 200  # a bar per digit
    images = np.clip(images + rng.integers(0, 20, images.shape), 0, 255).astype(
        np.uint8
    )
    folder = tmp_path / "mnist"
    folder.mkdir()
    with gzip.open(folder / "t10k-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(struct.pack(">BBBBIII", 0, 0, 8, 3, 120, 28, 28) + images.tobytes())
    with gzip.open(folder / "t10k-labels-idx1-ubyte.gz", "wb") as fh:
        fh.write(struct.pack(">BBBBI", 0, 0, 8, 1, 120) + labels.tobytes())
    return folder


def test_mnist_one_class_protocol_and_report(tmp_path, monkeypatch):
    folder = _mnist_folder(tmp_path)
    split = benchmark.mnist_split(folder, 1, seed=0)
    # 80 normal images (digits 0 and 2): 64 to fit, 16 held out + the 40 of digit 1.
    assert split.X_train.shape == (64, 28, 28)
    assert len(split.y_test) == 56 and int(split.y_test.sum()) == 40
    assert split.baseline_train.shape == (64, 784) and split.modality == "image"

    original = benchmark.make_detector

    def small(name, seed, n_features, modality="tabular"):
        if name == "anomaly-gan":
            from anomaly_gan.image_detector import ImageGANomalyDetector

            return ImageGANomalyDetector(image_size=16, epochs=3, random_state=seed)
        return original(name, seed, n_features, modality)

    monkeypatch.setattr(benchmark, "make_detector", small)
    results = tmp_path / "r.csv"
    benchmark.run(
        results,
        adbench=None,
        nsl_kdd=None,
        mnist=folder,
        datasets=["mnist-0", "mnist-1"],
        detectors=["anomaly-gan", "KNN"],
        seeds=[0],
    )
    with results.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["dataset"], r["detector"]) for r in rows] == [
        ("mnist-0", "anomaly-gan"),
        ("mnist-0", "KNN"),
        ("mnist-1", "anomaly-gan"),
        ("mnist-1", "KNN"),
    ]
    assert [r["error"] for r in rows] == [""] * 4
    text = benchmark.report(results)
    assert "## One-class MNIST" in text
    assert "| detector | 0 | 1 | mean |" in text
