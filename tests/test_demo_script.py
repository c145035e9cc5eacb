"""The demo script runs end to end (small size, reusing this environment)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.e2e
@pytest.mark.slow
def test_demo_script_runs_end_to_end(tmp_path):
    env = {
        **os.environ,
        "ANOMALY_GAN_VENV": str(Path(sys.executable).parent.parent),
        "DEMO_ROWS": "3000",
        "DEMO_SCORE_ROWS": "2000",
        "DEMO_EPOCHS": "5",
        "DEMO_HOME": str(tmp_path / "home"),
    }
    # Run from another directory: the script must find the project itself.
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh"), "--no-dashboard"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "rows scored      2,000 (rejected 0)" in result.stdout
    assert "ROC-AUC" in result.stdout
    home = tmp_path / "home"
    summary = json.loads((home / "outputs" / "demo_summary.json").read_text())
    assert summary["scored"] == 2000
    assert summary["roc_auc"] > 0.8
    assert (home / "models" / "demo" / "manifest.json").exists()
    assert (home / "data" / "transactions_train.parquet").exists()


@pytest.mark.e2e
@pytest.mark.slow
def test_network_demo_reports_the_recall_of_every_attack_pattern(tmp_path):
    env = {
        **os.environ,
        "ANOMALY_GAN_VENV": str(Path(sys.executable).parent.parent),
        "DEMO_ROWS": "12000",
        "DEMO_SCORE_ROWS": "8000",
        "DEMO_EPOCHS": "3",
        "DEMO_HOME": str(tmp_path / "home"),
    }
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh"), "--network", "--no-dashboard"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for pattern in (
        "port_scan",
        "brute_force",
        "exfiltration",
        "beaconing",
        "new_service",
    ):
        assert f"  {pattern}" in result.stdout
    home = tmp_path / "home"
    assert (home / "data" / "network_train.log.gz").exists()
    assert (home / "outputs" / "network_scores.csv.entities.csv").exists()
    summary = json.loads((home / "outputs" / "network_summary.json").read_text())
    assert summary["scored"] == 8000 and summary["roc_auc"] > 0.9
