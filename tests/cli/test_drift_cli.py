"""Drift from the command line: 'score' writes OUT.drift.json, 'drift' checks a file."""

import json

from anomaly_gan.cli import main
from anomaly_gan.data.datasets import make_transactions


def _files(tmp_path):
    fresh = make_transactions(3_000, fraud_rate=0.0, random_state=0)
    fresh.to_csv(tmp_path / "same.csv", index=False)
    moved = fresh.copy()
    moved["amount"] = moved["amount"] * 3
    moved.loc[moved.index[:600], "channel"] = "voice"  # a channel never seen
    moved.to_csv(tmp_path / "moved.csv", index=False)
    return tmp_path / "same.csv", tmp_path / "moved.csv"


def test_score_writes_a_drift_report_beside_its_output(
    small_cli_model, tmp_path, capsys
):
    _, moved = _files(tmp_path)
    out = tmp_path / "scores.csv"
    argv = ["score", "--model", str(small_cli_model), "--data", str(moved)]
    argv += ["--out", str(out), "--quiet", "--summary-json", str(tmp_path / "s.json")]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "drift: " in printed and "amount" in printed
    report = json.loads((tmp_path / "scores.csv.drift.json").read_text())
    assert report["rows"] == 3_000 and report["test"] == "psi"
    assert {"amount", "channel"} <= set(report["drifted_features"])
    channel = next(f for f in report["features"] if f["name"] == "channel")
    assert channel["unseen_share"] == 0.2
    assert report["flag_rate"]["observed"] > 0.0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["drift"] == report
    assert summary["drift_output"] == str(tmp_path / "scores.csv.drift.json")
    # --no-drift: no report, and none left from the earlier run
    assert main([*argv, "--no-drift"]) == 0
    assert not (tmp_path / "scores.csv.drift.json").exists()


def test_drift_checks_a_file_without_scoring_it(small_cli_model, tmp_path, capsys):
    same, moved = _files(tmp_path)
    argv = ["drift", "--model", str(small_cli_model), "--data"]
    assert main([*argv, str(same), "--json", str(tmp_path / "same.json")]) == 0
    assert "drifted features: none" in capsys.readouterr().out
    same_report = json.loads((tmp_path / "same.json").read_text())
    assert same_report["drifted"] is False and same_report["score"] is None
    assert main([*argv, str(moved), "--json", str(tmp_path / "moved.json")]) == 0
    out = capsys.readouterr().out
    assert "amount" in out and "DRIFT" in out
    moved_report = json.loads((tmp_path / "moved.json").read_text())
    assert {"amount", "channel"} <= set(moved_report["drifted_features"])
    assert main([*argv, str(moved), "--psi-bound", "100"]) == 0
    assert "drifted features: none" in capsys.readouterr().out


def test_drift_option_errors_are_one_line(small_cli_model, tmp_path, capsys):
    same, _ = _files(tmp_path)
    argv = ["drift", "--model", str(small_cli_model), "--data", str(same)]
    assert main([*argv, "--psi-bound", "0"]) == 2
    assert capsys.readouterr().err.strip() == (
        "anomaly-gan: error: --psi-bound: expected a positive number, found 0"
    )
    assert main([*argv, "--p-value", "1.5"]) == 2
    assert (
        "--p-value: expected a number in (0, 1), found 1.5" in capsys.readouterr().err
    )
    assert main([*argv, "--json", str(same)]) == 2  # an output that is an input
    assert "choose another output path (nothing was written)" in capsys.readouterr().err
