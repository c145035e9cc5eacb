"""Model cards: written with each registered version, complete, readable without torch."""

import json
import subprocess
import sys

import pytest

from anomaly_gan.stores.model_card import card_markdown, tensor_shapes
from anomaly_gan.stores.registry import ModelRegistry


@pytest.fixture(scope="module")
def registry(tmp_path_factory, fitted):
    root = tmp_path_factory.mktemp("cards")
    reg = ModelRegistry(root / "registry")
    reg.register(
        fitted.save(root / "m"),
        evaluation={"roc_auc": 0.91, "average_precision": 0.5, "n_rows": 100},
        note="first",
        promote_to="production",
    )
    return reg


def test_a_card_is_written_with_the_version(registry, fitted):
    folder = registry.root / "versions" / "1"
    card = json.loads((folder / "model_card.json").read_text())
    text = (folder / "model_card.md").read_text()
    assert card["version"] == 1 and card["modality"] == "tabular"
    assert card["data"]["training_rows"] == len(fitted.decision_scores_)
    window = card["data"]["window"]
    assert window["column"] == "timestamp" and window["start"] < window["end"]
    roles = {f["name"]: f["role"] for f in card["columns"]["features"]}
    assert roles["amount"] == "numeric" and roles["country"] == "categorical"
    assert card["columns"]["excluded"]["transaction_id"] == "identifier"
    assert card["threshold"]["value"] == pytest.approx(fitted.threshold_)
    assert card["threshold"]["target_fpr"] == 0.01
    assert card["evaluation"]["roc_auc"] == 0.91
    kept = card["contents"]["kept_rows"]
    assert kept["marginal"]["rows"] == fitted.marginal_.sorted_columns.shape[0]
    assert kept["validation_scores"]["rows"] == len(fitted.validation_scores_)
    assert card["drift_baseline"]["reference_rows"] == kept["marginal"]["rows"]
    assert card["training"]["seed"] == 0 and card["training"]["device"] == "cpu"
    assert card["gate"] is None  # registered by hand, not by a retraining run
    assert text == card_markdown(card)
    assert "## Drift baseline" in text and "roc auc: 0.91" in text


def test_tensor_shapes_read_the_safetensors_header(registry, fitted):
    shapes = tensor_shapes(registry.model_path(1) / "weights.safetensors")
    assert shapes["validation_scores"] == [len(fitted.validation_scores_)]
    assert shapes["decision_scores"] == [len(fitted.decision_scores_)]


def test_registry_card_prints_it_without_torch(registry, tmp_path):
    code = (
        "import sys\n"
        "from anomaly_gan.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print('torch' in sys.modules)\n"
        "sys.exit(code)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "registry", "--registry", str(registry.root),
         "card", "production", "--json", str(tmp_path / "card.json")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# Model card: version 1 (tabular)")
    assert out.stdout.strip().splitlines()[-1] == "False"
    assert json.loads((tmp_path / "card.json").read_text())["version"] == 1
