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


def _private_imports_across_folders(module: str, source: str) -> list[str]:
    """Imports in ``module`` of another folder's private module or name."""
    import ast

    def folder(name: str) -> str:
        parts = name.split(".")
        return ".".join(parts[:2])

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            targets = [(alias.name, "") for alias in node.names]
        else:
            continue
        for target, name in targets:
            parts = target.split(".")
            if parts[0] != "anomaly_gan" or len(parts) < 3:
                continue  # other packages, and the package-wide anomaly_gan._x modules
            if folder(target) == folder(module):
                continue
            private = [p for p in parts[2:] if p.startswith("_")]
            if private or name.startswith("_"):
                found.append(f"{module}: {target}{'.' + name if name else ''}")
    return found


def test_no_private_import_across_folders():
    package = ROOT / "anomaly_gan"
    found = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        module = ".".join(p for p in rel.parts if p != "__init__")
        found += _private_imports_across_folders(module, path.read_text())
    assert not found, "private names used outside their folder:\n" + "\n".join(found)
    # the check itself sees a violation
    bad = "from anomaly_gan.detectors._base import x\nfrom anomaly_gan.jobs.batch import _y\n"
    assert len(_private_imports_across_folders("anomaly_gan.cli.entry", bad)) == 2
    ok = (
        "from anomaly_gan.cli._x import y\nfrom anomaly_gan._lazy import lazy_exports\n"
    )
    assert _private_imports_across_folders("anomaly_gan.cli.entry", ok) == []
