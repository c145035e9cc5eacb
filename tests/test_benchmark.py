"""The benchmark runner: protocol splits, resumable results, the report."""

import csv
import re
from pathlib import Path

import numpy as np
import pytest

from anomaly_gan.cli import main
from anomaly_gan.jobs import benchmark
from anomaly_gan.jobs.benchmark_report import report

SHARED_PROTOCOL = Path(__file__).resolve().parents[2] / "shared" / "BENCHMARK.md"


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
    assert int(split.y_train.sum()) == 0
    np.testing.assert_allclose(split.baseline_train.mean(axis=0), 0, atol=1e-9)


def test_the_contaminated_split_trains_on_every_training_row(npz_folder):
    clean = benchmark.adbench_splits(npz_folder / "1_small.npz", 0, "clean")
    dirty = benchmark.adbench_splits(npz_folder / "1_small.npz", 0, "contaminated")
    # The same 70/30 split: the same test rows; training adds its 21 anomalies.
    np.testing.assert_array_equal(dirty.X_test, clean.X_test)
    assert len(dirty.X_train) == 231 and int(dirty.y_train.sum()) == 21
    normal_rows = dirty.X_train[dirty.y_train == 0]
    np.testing.assert_array_equal(np.sort(normal_rows, 0), np.sort(clean.X_train, 0))
    # Baselines are standardised on what they train on, anomalies included.
    np.testing.assert_allclose(dirty.baseline_train.mean(axis=0), 0, atol=1e-9)
    with pytest.raises(ValueError, match="setting: expected one of clean"):
        benchmark.adbench_splits(npz_folder / "1_small.npz", 0, "dirty")


def test_the_folds_are_the_protocols():
    assert not set(benchmark.FOLD_A) & set(benchmark.FOLD_B)
    assert len(benchmark.FOLD_A) + len(benchmark.FOLD_B) == 31
    if not SHARED_PROTOCOL.exists():
        pytest.skip(f"{SHARED_PROTOCOL} is absent: the folds cannot be compared")
    text = SHARED_PROTOCOL.read_text()
    a_part = text.split("**fold A**", 1)[1].split("**fold B**", 1)[0]
    b_part = text.split("**fold B**", 1)[1].split("\n\n", 1)[0]
    for part, fold in ((a_part, benchmark.FOLD_A), (b_part, benchmark.FOLD_B)):
        assert tuple(re.findall(r"\d+_[\w-]+(?:\.\w+)?", part)) == fold


def test_run_resumes_and_reports(npz_folder, tmp_path, monkeypatch):
    results = tmp_path / "results.csv"
    calls = []
    original = benchmark.run_one

    def counting(split, name, seed, setting):
        calls.append((split.name, name, seed, setting))
        return original(split, name, seed, setting)

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
    benchmark.run(results, **{**kw, "seeds": [0, 1], "settings": benchmark.SETTINGS})
    assert len(calls) == 24  # only the contaminated runs were new
    assert {c[3] for c in calls[12:]} == {"contaminated"}
    with results.open() as fh:
        rows = list(csv.DictReader(fh))
    main_rows = [r for r in rows if "[" not in r["detector"]]
    assert len(main_rows) == 24 and all(r["error"] == "" for r in rows)
    assert all(float(r["roc_auc"]) > 0.8 for r in main_rows if r["setting"] == "clean")
    # Each fit of ours also records its ablations, without timings of their own.
    ablations = [r for r in rows if r["detector"].startswith("anomaly-gan [")]
    labels = {r["detector"] for r in ablations}
    assert {"anomaly-gan [gan]", "anomaly-gan [knn]", "anomaly-gan [no gan]"} <= labels
    assert len(ablations) == 8 * len(labels)
    assert all(r["fit_s"] == "" for r in ablations)
    text = report(results)
    assert "## Clean setting" in text and "## Contaminated setting" in text
    assert "| **anomaly-gan** |" in text and "| KNN | " in text
    assert "all ROC-AUC | all rank" in text and "wins / ties / losses" in text
    assert "| GAN residuals alone (recon, latent, disc) |" in text
    assert "Machine:" in text


def test_results_written_before_settings_are_read_as_clean(npz_folder, tmp_path):
    old_fields = [f for f in benchmark.FIELDS if f != "setting"]
    results = tmp_path / "old.csv"
    with results.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(old_fields)
        writer.writerow(["1_small", 0, "KNN", 210, 99, 0.9, 0.5, 0.1, 0.1, ""])
    benchmark.run(
        results,
        adbench=npz_folder,
        nsl_kdd=None,
        datasets=["1_small"],
        detectors=["KNN"],
        seeds=[0],
        settings=benchmark.SETTINGS,
    )
    with results.open() as fh:
        rows = list(csv.DictReader(fh))
    # The old clean row was kept (not re-run); only the contaminated run is new.
    assert (rows[0]["setting"], rows[0]["roc_auc"]) == ("clean", "0.9")
    assert [r["setting"] for r in rows] == ["clean", "contaminated"]


def test_the_ablation_table_ranks_each_variant_in_the_defaults_place(tmp_path):
    results = tmp_path / "ablation.csv"
    # Two sets (4_breastw in fold B, 1_ALOI in fold A): KNN 0.88 and 0.80; ours
    # 0.90 and 0.70; "gan" alone 0.85 on both.
    values = {
        "KNN": (0.88, 0.80),
        "anomaly-gan": (0.90, 0.70),
        "anomaly-gan [gan]": (0.85, 0.85),
    }
    with results.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=benchmark.FIELDS)
        writer.writeheader()
        for detector, aucs in values.items():
            for dataset, auc in zip(("4_breastw", "1_ALOI"), aucs, strict=True):
                writer.writerow(
                    {
                        "dataset": dataset,
                        "setting": "contaminated",
                        "seed": 0,
                        "detector": detector,
                        "roc_auc": auc,
                        "average_precision": 0.5,
                        "fit_s": 1.0 if "[" not in detector else "",
                        "score_s": 0.1 if "[" not in detector else "",
                        "error": "",
                    }
                )
    text = report(results)
    assert "## Contaminated setting" in text and "## Clean setting" not in text
    assert "| default score | 0.7000 | 2.00 | 0.9000 | 1.00 | 0.8000 | 1.50 |" in text
    assert (
        "| GAN residuals alone (recon, latent, disc) | 0.8500 | 1.00 | 0.8500 | 2.00 "
        "| 0.8500 | 1.50 |"
    ) in text
    assert "| KNN | 0 / 0 / 1 | 1 / 0 / 0 | 1 / 0 / 1 |" in text


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
                    [
                        dataset,
                        "clean",
                        0,
                        detector,
                        100,
                        40,
                        auc + shift,
                        0.5,
                        1.0,
                        0.1,
                        "",
                    ]
                )
    text = report(results)
    assert "| AutoEncoder | 0.7500 | 1.00 | 0.5000 |" in text


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
                    [
                        dataset,
                        "clean",
                        seed,
                        detector,
                        100,
                        40,
                        0.8,
                        0.5,
                        fit,
                        score,
                        "",
                    ]
                )
    text = report(results)
    assert "| ALAD | 3 | 0.50 | 2 | 9.0 | 11.0 |" in text  # ratios 0.5, 0.25, 2
    assert "| AnoGAN | 1 | 0.20 | 1 | 2.0 | 10.0 |" in text
    assert "Slower than ALAD on: 3_c (6.00 s against 3.00 s)." in text
    assert "Slower than AnoGAN" not in text


def test_a_failing_baseline_is_recorded_not_raised(npz_folder):
    split = benchmark.adbench_splits(npz_folder / "1_small.npz", seed=0)
    [row] = benchmark.run_one(split, "NoSuchDetector", 0)
    assert row["error"].startswith("ConfigError: detector 'NoSuchDetector'")
    assert row["roc_auc"] == ""


def test_cli_writes_the_report(npz_folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        benchmark, "make_detector", _fast_detector(benchmark.make_detector)
    )
    results, markdown = tmp_path / "r.csv", tmp_path / "r.md"
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
        "--setting",
        "contaminated",
        "--results",
        str(results),
        "--report",
        str(markdown),
    ]
    assert main(argv) == 0
    assert markdown.read_text().startswith("## Contaminated setting")
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
    # Baselines get the raw pixels scaled to [0, 1], not standardised.
    np.testing.assert_allclose(
        split.baseline_train, split.X_train.reshape(64, -1) / 255.0
    )

    original = benchmark.make_detector

    def small(name, seed, n_features, modality="tabular"):
        if name == "anomaly-gan":
            from anomaly_gan.detectors.image import ImageGANomalyDetector

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
        detectors=["anomaly-gan", "KNN", "CosineKNN"],
        seeds=[0],
    )
    with results.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["dataset"], r["detector"]) for r in rows] == [
        ("mnist-0", "anomaly-gan"),
        ("mnist-0", "KNN"),
        ("mnist-0", "CosineKNN"),
        ("mnist-1", "anomaly-gan"),
        ("mnist-1", "KNN"),
        ("mnist-1", "CosineKNN"),
    ]
    assert [r["error"] for r in rows] == [""] * 6
    text = report(results)
    assert "## One-class MNIST" in text
    assert "| detector | 0 | 1 | mean |" in text


def test_the_cosine_knn_baseline_is_the_mean_cosine_distance_to_5_neighbours():
    rng = np.random.default_rng(0)
    train = rng.random((200, 30))
    test = rng.random((20, 30))
    scores = benchmark.CosineKNN().fit(train).decision_function(test)
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    cosine = 1.0 - unit(test) @ unit(train).T
    expected = np.sort(cosine, axis=1)[:, :5].mean(axis=1)
    np.testing.assert_allclose(scores, expected, atol=1e-12)


def test_image_baselines_are_not_run_on_tables(npz_folder, tmp_path):
    results = tmp_path / "r.csv"
    benchmark.run(
        results,
        adbench=npz_folder,
        nsl_kdd=None,
        detectors=["IForest", "CosineKNN"],
        seeds=[0],
    )
    with results.open() as fh:
        detectors = {r["detector"] for r in csv.DictReader(fh)}
    assert detectors == {"IForest"}
