"""The score command as a process: bounded memory, kill and re-run, evaluate."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from anomaly_gan.cli import main
from anomaly_gan.data.datasets import make_transactions

EXE = str(Path(sys.executable).parent / "anomaly-gan")

# Runs the CLI as a child and prints the child's peak resident memory in KiB.
PEAK_RSS = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], capture_output=True).returncode
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, fitted):
    return fitted.save(tmp_path_factory.mktemp("job") / "model")


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "big.csv"
    make_transactions(240_000, fraud_rate=0.01, random_state=3).to_csv(
        path, index=False
    )
    return path


def _peak_kib(argv):
    out = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    code, peak = out.stdout.split()
    assert code == "0", out.stderr
    return int(peak)


@pytest.mark.slow
@pytest.mark.e2e
def test_memory_stays_bounded_on_a_file_much_larger_than_a_batch(
    model_dir, big_csv, tmp_path
):
    small = tmp_path / "small.csv"
    pd.read_csv(big_csv, nrows=40_000).to_csv(small, index=False)
    common = ["score", "--model", str(model_dir), "--batch-rows", "2000", "--quiet"]
    peak_small = _peak_kib(
        [EXE, *common, "--data", str(small), "--out", str(tmp_path / "s.csv")]
    )
    peak_big = _peak_kib(
        [EXE, *common, "--data", str(big_csv), "--out", str(tmp_path / "b.csv")]
    )
    # Six times the rows (and 120 batches) may not grow the peak by more than
    # 64 MiB: reading the whole 240,000-row file into pandas alone takes more.
    print(f"peak RSS: {peak_small} KiB small, {peak_big} KiB big")
    assert peak_big < peak_small + 64 * 1024, (peak_small, peak_big)
    assert len(pd.read_csv(tmp_path / "b.csv", usecols=["anomaly_score"])) == 240_000


@pytest.mark.slow
@pytest.mark.e2e
def test_a_killed_run_leaves_no_output_and_a_rerun_completes(
    model_dir, big_csv, tmp_path
):
    out = tmp_path / "out.csv"
    argv = [
        EXE,
        "score",
        "--model",
        str(model_dir),
        "--data",
        str(big_csv),
        "--out",
        str(out),
        "--batch-rows",
        "2000",
        "--threads",
        "1",
        "--quiet",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        partial = [
            p for p in tmp_path.glob(".out.csv.*.tmp") if p.stat().st_size > 100_000
        ]
        if partial or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    assert not (tmp_path / "out.csv.rejected.csv").exists()
    assert not (tmp_path / "out.csv.drift.json").exists()  # written at the end only
    # A re-run cleans the dead run's temporary file and writes the complete output.
    assert subprocess.run(argv, capture_output=True, check=False).returncode == 0
    # The scores, the record of how they were scored and their drift; nothing else.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "out.csv",
        "out.csv.drift.json",
        "out.csv.meta.json",
    ]
    first = out.read_bytes()
    assert subprocess.run(argv, capture_output=True, check=False).returncode == 0
    assert out.read_bytes() == first


@pytest.mark.filterwarnings("ignore:.*unseen in training:UserWarning")
def test_evaluate_prints_and_writes_the_report(model_dir, tx_test, tmp_path, capsys):
    data = tmp_path / "labelled.parquet"
    tx_test.to_parquet(data)
    report_path = tmp_path / "report.json"
    code = main(
        [
            "evaluate",
            "--model",
            str(model_dir),
            "--data",
            str(data),
            "--label-col",
            "is_fraud",
            "--json",
            str(report_path),
        ]
    )
    assert code == 0
    report = json.loads(report_path.read_text())
    from sklearn.metrics import roc_auc_score

    from anomaly_gan import GANomalyDetector

    scores = GANomalyDetector.load(model_dir).decision_function(tx_test)
    assert report["roc_auc"] == pytest.approx(
        roc_auc_score(tx_test["is_fraud"], scores), abs=1e-9
    )
    cm = report["confusion_matrix"]
    assert cm["tp"] + cm["fn"] == int(tx_test["is_fraud"].sum())
    assert cm["tp"] + cm["fp"] == int((scores > report["threshold"]).sum())
    assert set(report["recall_at_fpr"]) == {"0.01", "0.001"}
    assert set(report["precision_at_k"]) == {"10", "100", "1000"}
    text = capsys.readouterr().out
    assert "ROC-AUC" in text and "confusion matrix" in text


def test_fpr_override_uses_the_held_out_normal_scores(
    model_dir, fitted, tx_test, tmp_path, capsys
):
    data = tmp_path / "in.parquet"
    tx_test.to_parquet(data)
    summary = tmp_path / "s.json"
    assert (
        main(
            [
                "score",
                "--model",
                str(model_dir),
                "--data",
                str(data),
                "--out",
                str(tmp_path / "o.csv"),
                "--fpr",
                "0.2",
                "--summary-json",
                str(summary),
            ]
        )
        == 0
    )
    assert json.loads(summary.read_text())["threshold"] == pytest.approx(
        fitted.threshold_for_fpr(0.2)
    )
    assert fitted.threshold_for_fpr(0.2) < fitted.threshold_
    assert (
        main(
            [
                "score",
                "--model",
                str(model_dir),
                "--data",
                str(data),
                "--out",
                str(tmp_path / "o.csv"),
                "--fpr",
                "2",
            ]
        )
        == 2
    )
    assert (
        "false-positive rate: expected a number in (0, 1), found 2.0"
        in capsys.readouterr().err
    )


def test_scored_files_record_the_threshold_they_were_scored_at(tmp_path, monkeypatch):
    # Issue 15, case 12: pages guessed the threshold from the flags.
    import json

    import pyarrow.parquet as pq

    from anomaly_gan.cli import main
    from anomaly_gan.data.datasets import make_transactions
    from anomaly_gan.data.scored_meta import read_meta

    from .test_cli import TRAIN_ARGS

    monkeypatch.chdir(tmp_path)
    make_transactions(800, fraud_rate=0.0, random_state=0).to_csv("t.csv", index=False)
    make_transactions(300, fraud_rate=0.05, random_state=1).to_csv("f.csv", index=False)
    reg = ["--registry", "reg"]
    assert (
        main(
            [
                "train",
                "--data",
                "t.csv",
                "--out",
                "m",
                *TRAIN_ARGS,
                *reg,
                "--register",
                "--promote",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "score",
                "--model",
                "registry:production",
                "--data",
                "f.csv",
                "--out",
                "a.parquet",
                "--quiet",
                *reg,
            ]
        )
        == 0
    )
    meta = read_meta(tmp_path / "a.parquet")
    assert meta == json.loads(pq.read_schema("a.parquet").metadata[b"anomaly_gan"])
    model_threshold = json.loads((tmp_path / "m" / "scorer.json").read_text())[
        "threshold"
    ]
    assert meta["threshold"] == model_threshold
    assert meta["threshold_source"] == "model"
    assert (meta["model"], meta["model_version"], meta["target_fpr"]) == (
        "registry:production",
        1,
        0.01,
    )
    assert (
        main(
            [
                "score",
                "--model",
                "m",
                "--data",
                "f.csv",
                "--out",
                "b.csv",
                "--threshold",
                "0.25",
                "--quiet",
            ]
        )
        == 0
    )
    meta = json.loads((tmp_path / "b.csv.meta.json").read_text())
    assert (meta["threshold"], meta["threshold_source"], meta["target_fpr"]) == (
        0.25,
        "--threshold",
        None,
    )
    assert (
        main(
            [
                "score",
                "--model",
                "m",
                "--data",
                "f.csv",
                "--out",
                "b.csv",
                "--fpr",
                "0.05",
                "--quiet",
            ]
        )
        == 0
    )
    meta = read_meta(tmp_path / "b.csv")
    assert (meta["threshold_source"], meta["target_fpr"]) == ("--fpr 0.05", 0.05)
