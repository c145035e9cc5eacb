"""The wheel carries the whole tree, the dashboard included, under anomaly_gan/."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_ships_the_dashboard_as_a_subpackage(tmp_path):
    # Build from a copy (links kept): a build writes build/ into its source.
    source = tmp_path / "src"
    skip = shutil.ignore_patterns(
        ".venv", ".git", "build", "*.egg-info", "__pycache__", "tests", "docs", "data"
    )
    shutil.copytree(ROOT, source, symlinks=True, ignore=skip)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(tmp_path), str(source)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    if built.returncode != 0 and "No module named" in built.stderr:
        pytest.skip(f"cannot build a wheel here: {built.stderr.strip()[-200:]}")
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("anomaly_gan-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in [
        "anomaly_gan/dashboard/streamlit_app.py",
        "anomaly_gan/dashboard/sources.py",
        "anomaly_gan/dashboard/auth.py",
        "anomaly_gan/dashboard/app_pages/triage.py",
        "anomaly_gan/cli/entry.py",
        "anomaly_gan/detectors/_base.py",
        "anomaly_gan/py.typed",
    ]:
        assert path in names, path
    # no top-level modules besides the package
    assert {n.split("/")[0] for n in names if not n.startswith("anomaly_gan-")} == {
        "anomaly_gan"
    }


def test_the_dashboard_needs_no_path_tricks():
    for path in (ROOT / "dashboard").rglob("*.py"):
        text = path.read_text()
        assert "sys.path" not in text, path
        assert "from data import" not in text and "from auth import" not in text, path
    assert (ROOT / "anomaly_gan" / "dashboard").resolve() == (ROOT / "dashboard")
