import json

import numpy as np
import pytest

from anomaly_gan import GANomalyDetector
from anomaly_gan.detectors.artifacts import FORMAT_VERSION, MANIFEST, WEIGHTS
from anomaly_gan.exceptions import ArtifactError

# Fraud in tx_test uses countries never seen in normal training data; the
# warning about them is expected there (its own test checks it).
UNSEEN_OK = pytest.mark.filterwarnings("ignore:.*unseen in training:UserWarning")


# The default weights of 0.2 to 0.5, before the marginal component.
OLD_WEIGHTS = {"recon": 1.0, "latent": 0.5, "disc": 0.5, "knn": 8.0}


def _as_before_marginal(tensors, parts):
    """Remove what format 5 added: the marginal component's reference and part."""
    tensors.pop("marginal.sorted_columns")
    del parts["scorer"]["marginal"]
    calibrator = parts["scorer"]["calibrator"]
    assert "marginal" not in calibrator["weights"]
    for key in ("center", "spread"):
        del calibrator[key]["marginal"]


@pytest.fixture
def saved(tmp_path, fitted):
    return fitted.save(tmp_path / "model")


@UNSEEN_OK
def test_save_then_load_gives_identical_scores(saved, fitted, tx_test):
    loaded = GANomalyDetector.load(saved)
    np.testing.assert_array_equal(
        loaded.decision_function(tx_test), fitted.decision_function(tx_test)
    )
    assert loaded.threshold_ == fitted.threshold_
    np.testing.assert_array_equal(loaded.decision_scores_, fitted.decision_scores_)
    np.testing.assert_array_equal(loaded.predict(tx_test), fitted.predict(tx_test))
    assert loaded.config_ == fitted.config_
    assert loaded.history_ == fitted.history_


def test_model_directory_contents(saved):
    names = sorted(p.name for p in saved.iterdir())
    assert names == sorted(
        [
            MANIFEST,
            WEIGHTS,
            "config.json",
            "preprocessor.json",
            "scorer.json",
            "history.json",
            "metadata.json",
        ]
    )
    meta = json.loads((saved / "metadata.json").read_text())
    assert {
        "anomaly_gan_version",
        "torch_version",
        "format_version",
        "created_at",
        "training_fingerprint",
        "feature_schema",
    } <= set(meta)
    manifest = json.loads((saved / MANIFEST).read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert set(manifest["files"]) == set(names) - {MANIFEST}
    # no temporary directories are left beside the model
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model"]


def test_saving_over_an_existing_model_replaces_it_whole(saved, fitted):
    (saved / "stale.txt").write_text("old")
    fitted.save(saved)
    assert not (saved / "stale.txt").exists()
    GANomalyDetector.load(saved)


@pytest.mark.parametrize(
    "name", ["preprocessor.json", "scorer.json", "config.json", WEIGHTS]
)
def test_an_altered_file_is_refused(saved, name):
    path = saved / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError) as info:
        GANomalyDetector.load(saved)
    assert str(info.value) == (
        f"model '{saved}': file '{name}' does not match its SHA-256 in the manifest "
        "(altered or truncated); refusing to load it"
    )


def test_a_truncated_weights_file_is_refused(saved):
    path = saved / WEIGHTS
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ArtifactError, match="does not match its SHA-256"):
        GANomalyDetector.load(saved)


def test_a_missing_file_is_refused(saved):
    (saved / "scorer.json").unlink()
    with pytest.raises(ArtifactError) as info:
        GANomalyDetector.load(saved)
    assert (
        str(info.value)
        == f"model '{saved}': file 'scorer.json' listed in the manifest is missing"
    )


def test_a_missing_manifest_is_refused(saved):
    (saved / MANIFEST).unlink()
    with pytest.raises(ArtifactError, match=r"'manifest\.json' is missing"):
        GANomalyDetector.load(saved)


def test_a_newer_format_is_refused(saved):
    manifest = json.loads((saved / MANIFEST).read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    (saved / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError) as info:
        GANomalyDetector.load(saved)
    assert str(info.value) == (
        f"model '{saved}': format version {FORMAT_VERSION + 1} is newer than this "
        f"anomaly-gan reads ({FORMAT_VERSION}); upgrade anomaly-gan"
    )


def test_a_missing_directory_is_refused(tmp_path):
    with pytest.raises(ArtifactError) as info:
        GANomalyDetector.load(tmp_path / "nope")
    assert (
        str(info.value)
        == f"model '{tmp_path / 'nope'}': not found (expected a model directory written by 'anomaly-gan train')"
    )


def test_a_failed_save_leaves_the_previous_model_intact(saved, fitted, monkeypatch):
    import anomaly_gan.detectors.artifacts as artifacts

    before = (saved / "scorer.json").read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(artifacts, "_fsync_dir", boom)
    with pytest.raises(OSError, match="disk full"):
        fitted.save(saved)
    assert (saved / "scorer.json").read_bytes() == before
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model"]
    GANomalyDetector.load(saved)


def test_a_format_1_model_loads_and_scores_as_it_did(tmp_path, monkeypatch):
    """Models of anomaly-gan 0.1 (no knn term, plain weighted mean) still score."""
    from anomaly_gan.detectors import artifacts
    from anomaly_gan.detectors.artifacts import load_model_dir, save_model_dir

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    det = GANomalyDetector(
        epochs=2,
        knn_reference_rows=0,
        score_weights={"recon": 1.0, "latent": 0.5, "disc": 0.5},
        random_state=0,
    ).fit(X)
    det.calibrator_.combine = "linear"  # what 0.1 computed
    expected = det.decision_function(X[:50])
    tensors, parts = load_model_dir(det.save(tmp_path / "new"))
    assert "knn_reference.0" not in tensors  # no reference rows, no views
    _as_before_marginal(tensors, parts)
    del parts["scorer"]["knn"]
    calibrator = parts["scorer"]["calibrator"]
    del calibrator["combine"]
    for key in ("center", "spread"):
        del calibrator[key]["knn"]
    for key in ("knn_neighbors", "knn_views", "knn_reference_rows", "score_combine"):
        del parts["config"]["params"][key]
    monkeypatch.setattr(artifacts, "FORMAT_VERSION", 1)
    old = save_model_dir(tmp_path / "old", tensors=tensors, parts=parts)
    monkeypatch.undo()
    assert json.loads((old / MANIFEST).read_text())["format_version"] == 1
    loaded = GANomalyDetector.load(old)
    np.testing.assert_allclose(loaded.decision_function(X[:50]), expected, rtol=1e-9)
    assert (loaded.score_components(X[:5])["score_knn"] == 0).all()


def test_a_format_2_model_keeps_its_single_view_knn_scores(tmp_path, monkeypatch):
    """0.2 models: one knn reference in the model's encoding, raw distances."""
    from anomaly_gan.detectors import artifacts
    from anomaly_gan.detectors.artifacts import load_model_dir, save_model_dir

    rng = np.random.default_rng(1)
    X = rng.lognormal(size=(400, 4))
    det = GANomalyDetector(
        epochs=2,
        knn_views=("robust",),
        score_combine="mean",
        score_weights=OLD_WEIGHTS,
        random_state=0,
    ).fit(X)
    probe = np.vstack([X[:40], X[:10] * 20])
    expected = det.decision_function(probe)
    tensors, parts = load_model_dir(det.save(tmp_path / "new"))
    # Rewrite as 0.2 wrote it: the view's normalisation folded into the
    # calibrator's (an affine map of the raw distance), one reference tensor.
    _as_before_marginal(tensors, parts)
    (view,) = parts["scorer"].pop("knn")["views"]
    tensors["knn_reference"] = tensors.pop("knn_reference.0")
    calibrator = parts["scorer"]["calibrator"]
    calibrator["center"]["knn"] = (
        view["center"] + view["spread"] * calibrator["center"]["knn"]
    )
    calibrator["spread"]["knn"] = view["spread"] * calibrator["spread"]["knn"]
    del parts["config"]["params"]["knn_views"]
    del parts["config"]["params"]["score_combine"]
    monkeypatch.setattr(artifacts, "FORMAT_VERSION", 2)
    old = save_model_dir(tmp_path / "old", tensors=tensors, parts=parts)
    monkeypatch.undo()
    loaded = GANomalyDetector.load(old)
    assert loaded.config_.knn_views == ("robust",)
    np.testing.assert_allclose(loaded.decision_function(probe), expected, rtol=1e-6)


def test_a_format_3_model_keeps_its_weighted_mean(tmp_path, monkeypatch):
    """0.3 and 0.4 models combine by the weighted mean; they load as such."""
    from anomaly_gan.detectors import artifacts
    from anomaly_gan.detectors.artifacts import load_model_dir, save_model_dir

    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 5))
    det = GANomalyDetector(
        epochs=2, score_combine="mean", score_weights=OLD_WEIGHTS, random_state=0
    ).fit(X)
    probe = np.vstack([X[:40], X[:10] * 5])
    expected = det.decision_function(probe)
    tensors, parts = load_model_dir(det.save(tmp_path / "new"))
    assert parts["scorer"]["calibrator"]["combine"] == "signed_log"
    _as_before_marginal(tensors, parts)
    del parts["config"]["params"]["score_combine"]
    monkeypatch.setattr(artifacts, "FORMAT_VERSION", 3)
    old = save_model_dir(tmp_path / "old", tensors=tensors, parts=parts)
    monkeypatch.undo()
    loaded = GANomalyDetector.load(old)
    assert loaded.config_.score_combine == "mean"
    np.testing.assert_allclose(loaded.decision_function(probe), expected, rtol=1e-9)
    # The same model under the default rule scores differently: the rule is kept.
    top = GANomalyDetector(epochs=2, random_state=0).fit(X)
    assert not np.allclose(top.decision_function(probe), expected)


def test_a_format_4_model_scores_as_before_the_marginal_component(
    tmp_path, monkeypatch
):
    """0.5 models: balanced rule over the GAN and knn groups, no marginal part."""
    from anomaly_gan.detectors import artifacts
    from anomaly_gan.detectors.artifacts import load_model_dir, save_model_dir

    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 5))
    det = GANomalyDetector(epochs=2, score_weights=OLD_WEIGHTS, random_state=0).fit(X)
    probe = np.vstack([X[:40], X[:10] * 5])
    expected = det.decision_function(probe)
    tensors, parts = load_model_dir(det.save(tmp_path / "new"))
    _as_before_marginal(tensors, parts)
    monkeypatch.setattr(artifacts, "FORMAT_VERSION", 4)
    old = save_model_dir(tmp_path / "old", tensors=tensors, parts=parts)
    monkeypatch.undo()
    loaded = GANomalyDetector.load(old)
    assert loaded.marginal_.n_reference == 0
    np.testing.assert_allclose(loaded.decision_function(probe), expected, rtol=1e-9)
    assert (loaded.score_components(probe)["score_marginal"] == 0).all()
    # The default (0.6) weights give the same fit other scores: the old ones are kept.
    new = GANomalyDetector(epochs=2, random_state=0).fit(X)
    assert not np.allclose(new.decision_function(probe), expected)
