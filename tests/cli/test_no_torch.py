"""Commands that make no tensors never import torch (start-up stays fast)."""

import subprocess
import sys

import pandas as pd
import pytest

from anomaly_gan.cli import main
from anomaly_gan.stores.verdicts import VerdictStore

# Runs the CLI in a fresh interpreter, then says whether torch was imported.
PROBE = (
    "import sys\n"
    "from anomaly_gan.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print('torch' in sys.modules)\n"
    "sys.exit(code)\n"
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, small_cli_model):
    root = tmp_path_factory.mktemp("no_torch")
    registry = root / "registry"
    argv = ["registry", "--registry", str(registry), "add", str(small_cli_model)]
    assert main(argv) == 0
    store = VerdictStore(root / "verdicts.db")
    scored = pd.DataFrame(
        {"transaction_id": ["t1", "t2", "t3"], "anomaly_score": [3.0, 2.0, 0.1]}
    )
    scored["is_anomaly"] = [1, 1, 0]
    batch = store.add_batch(
        "b1", scored, id_col="transaction_id", model="registry:1", threshold=1.0
    )
    store.set_verdicts(batch, ["t1", "t2"], "confirmed", analyst="ana")
    return root


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["generate", "--rows", "500", "--out", "{ws}/gen.parquet"],
        ["registry", "--registry", "{ws}/registry", "list"],
        ["registry", "--registry", "{ws}/registry", "show", "1"],
        ["registry", "--registry", "{ws}/registry", "runs"],
        ["feedback", "export", "--db", "{ws}/verdicts.db", "--out", "{ws}/v.csv"],
        ["threshold", "suggest", "--db", "{ws}/verdicts.db", "--alerts-per-day", "5"],
    ],
    ids=lambda argv: " ".join(a for a in argv if "{ws}" not in a),
)
def test_commands_without_tensors_do_not_import_torch(workspace, argv):
    argv = [a.format(ws=workspace) for a in argv]
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_the_dashboards_model_list_does_not_import_torch(workspace):
    code = (
        "import sys\n"
        "import os\n"
        f"os.environ['ANOMALY_GAN_REGISTRY'] = {str(workspace / 'registry')!r}\n"
        "from anomaly_gan.dashboard.sources import registry\n"
        "rows = registry().versions()\n"
        "assert rows, rows\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
