"""Model signing (ANOMALY_GAN_SIGNING_KEY) and the sanity check of loaded values.

Issue 15, case 5: a model whose scorer.json threshold was edited and whose
manifest was recomputed loaded silently and flagged every row.
"""

import json

import numpy as np
import pytest

from anomaly_gan import GANomalyDetector
from anomaly_gan.cli import main
from anomaly_gan.detectors.artifacts import MANIFEST, _describe
from anomaly_gan.detectors.signing import SIGNATURE
from anomaly_gan.exceptions import ArtifactError
from anomaly_gan.stores.registry import ModelRegistry

KEY = "ANOMALY_GAN_SIGNING_KEY"


@pytest.fixture(scope="module")
def fitted():
    X = np.random.default_rng(0).normal(size=(300, 4))
    return GANomalyDetector(epochs=2, random_state=0).fit(X), X


def _edit_threshold(model_dir, value):
    """Edit scorer.json and recompute the manifest, as an attacker would."""
    scorer = json.loads((model_dir / "scorer.json").read_text())
    scorer["threshold"] = value
    (model_dir / "scorer.json").write_text(json.dumps(scorer))
    manifest = json.loads((model_dir / MANIFEST).read_text())
    manifest["files"]["scorer.json"] = _describe(model_dir / "scorer.json")
    (model_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))


def test_an_edited_threshold_is_refused_even_with_a_recomputed_manifest(
    fitted, tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv(KEY, raising=False)
    det, X = fitted
    model = det.save(tmp_path / "m")
    _edit_threshold(model, -1e9)
    with pytest.raises(
        ArtifactError,
        match=r"threshold -1000000000.0 lies outside its calibration scores",
    ):
        GANomalyDetector.load(model)
    np.save(tmp_path / "x.npy", X)
    argv = [
        "score",
        "--model",
        str(model),
        "--data",
        str(tmp_path / "x.csv"),
        "--out",
        str(tmp_path / "s.csv"),
    ]
    import pandas as pd

    pd.DataFrame(X, columns=[f"x{i}" for i in range(4)]).to_csv(
        tmp_path / "x.csv", index=False
    )
    assert main(argv) == 3
    assert "lies outside its calibration scores" in capsys.readouterr().err
    assert not (tmp_path / "s.csv").exists()


def test_with_a_key_models_are_signed_and_only_signed_ones_load(
    fitted, tmp_path, monkeypatch
):
    det, X = fitted
    monkeypatch.delenv(KEY, raising=False)
    unsigned = det.save(tmp_path / "unsigned")
    assert not (unsigned / SIGNATURE).exists()
    monkeypatch.setenv(KEY, "s3cret")
    signed = det.save(tmp_path / "signed")
    assert (signed / SIGNATURE).exists()
    np.testing.assert_allclose(
        GANomalyDetector.load(signed).decision_function(X[:5]),
        det.decision_function(X[:5]),
    )
    with pytest.raises(
        ArtifactError,
        match=r"not signed; with ANOMALY_GAN_SIGNING_KEY set only models signed with that key load",
    ):
        GANomalyDetector.load(unsigned)
    # An edit that keeps the threshold in range, manifest recomputed: the
    # signature no longer matches.
    low = float(np.median(det.validation_scores_))
    _edit_threshold(signed, low)
    with pytest.raises(ArtifactError, match="its signature does not match"):
        GANomalyDetector.load(signed)
    monkeypatch.setenv(KEY, "another key")
    other = det.save(tmp_path / "other")
    monkeypatch.setenv(KEY, "s3cret")
    with pytest.raises(ArtifactError, match="signed with another key"):
        GANomalyDetector.load(other)


def test_registry_add_signs_what_it_adds_and_the_key_file_works(
    fitted, tmp_path, monkeypatch, capsys
):
    import pandas as pd

    det, X = fitted
    monkeypatch.delenv(KEY, raising=False)
    unsigned = det.save(tmp_path / "m")
    data = tmp_path / "x.csv"
    pd.DataFrame(X[:20], columns=[f"x{i}" for i in range(4)]).to_csv(data, index=False)
    key_file = tmp_path / "key.txt"
    key_file.write_text("from a file\n")
    monkeypatch.setenv("ANOMALY_GAN_SIGNING_KEY_FILE", str(key_file))
    reg = ModelRegistry(tmp_path / "reg")
    number = reg.register(unsigned)
    assert (reg.model_path(number) / SIGNATURE).exists()
    GANomalyDetector.load(reg.model_path(number))
    out = str(tmp_path / "o.csv")
    argv = ["score", "--model", f"registry:{number}", "--data", str(data)]
    argv += ["--out", out, "--registry", str(tmp_path / "reg"), "--quiet"]
    assert main(argv) == 0
    capsys.readouterr()
    # Both variables at once is a configuration error: exit 2, one line.
    monkeypatch.setenv(KEY, "x")
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == (
        "anomaly-gan: error: ANOMALY_GAN_SIGNING_KEY and "
        "ANOMALY_GAN_SIGNING_KEY_FILE: expected one of them, found both"
    )
