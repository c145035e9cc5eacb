"""The static checks of scripts/check.sh (ruff, mypy, import layers) pass."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name):
    path = BIN / name
    if not path.exists() and shutil.which(name) is None:
        pytest.skip(f"{name} is not installed (it comes with the 'dev' extra)")
    return str(path if path.exists() else shutil.which(name))


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "format", "--check", "anomaly_gan", "dashboard", "tests", "scripts"],
        ["ruff", "check", "anomaly_gan", "dashboard", "tests", "scripts"],
        ["mypy"],
        ["lint-imports"],
    ],
    ids=["ruff-format", "ruff-check", "mypy", "import-layers"],
)
def test_static_check_passes(command):
    result = subprocess.run(
        [_tool(command[0]), *command[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
