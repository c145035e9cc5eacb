"""ImageGANomalyDetector: training on small images, heat maps, persistence."""

import numpy as np
import pytest
import torch

from anomaly_gan.detectors.image import ImageGANomalyDetector, resolve_image_sizes
from anomaly_gan.exceptions import ArtifactError, ConfigError, DataError
from anomaly_gan.models.image import ImageDiscriminator, ImageGenerator


def normal_images(n, rng, size=16):
    """Dark images with a soft horizontal gradient and a little noise."""
    base = np.linspace(10, 60, size)[None, None, :].repeat(size, axis=1)
    noise = rng.normal(0, 3, (n, size, size))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    det = ImageGANomalyDetector(image_size=16, epochs=8, random_state=0)
    return det.fit(normal_images(240, rng))


@pytest.mark.parametrize(("channels", "size"), [(1, 16), (3, 32), (1, 64)])
def test_network_shapes(channels, size):
    gen = ImageGenerator(channels, size, latent_dim=12, base_width=8)
    disc = ImageDiscriminator(channels, size, base_width=8)
    x = torch.randn(3, channels, size, size)
    out = gen(x)
    assert out.x_hat.shape == x.shape
    assert out.z.shape == out.z_hat.shape == (3, 12)
    logit, features = disc(x)
    assert logit.shape == (3,) and features.shape[-2:] == (4, 4)
    with pytest.raises(ValueError, match="image size"):
        ImageGenerator(1, 28, 8)


def test_sizes_follow_the_rule():
    sizes = resolve_image_sizes(7200, 32)
    assert (sizes.latent_dim, sizes.batch_size, sizes.epochs) == (32, 64, 9)
    small = resolve_image_sizes(40, 16)
    assert (small.latent_dim, small.batch_size, small.epochs) == (16, 8, 100)


def test_fit_scores_and_flags_odd_images(fitted):
    rng = np.random.default_rng(1)
    normal = normal_images(60, rng)
    odd = 255 - normal  # bright, inverted gradient
    comp = fitted.score_components(np.concatenate([normal, odd]))
    assert list(comp.columns) == [
        "anomaly_score",
        "is_anomaly",
        "fpr_estimate",
        "score_recon",
        "score_latent",
        "score_disc",
        "score_knn",
    ]
    assert comp["anomaly_score"].iloc[60:].min() > comp["anomaly_score"].iloc[:60].max()
    assert comp["is_anomaly"].iloc[60:].all()
    assert comp["is_anomaly"].iloc[:60].mean() < 0.1
    assert fitted.decision_scores_.shape == (240,)
    assert fitted.predict(odd[:5]).tolist() == [1] * 5


def test_heat_map_points_at_a_planted_defect(fitted):
    rng = np.random.default_rng(2)
    images = normal_images(10, rng)
    corners = rng.integers(2, 10, size=(10, 2))
    for img, (r, c) in zip(images, corners, strict=True):
        img[r : r + 4, c : c + 4] = 255  # a bright square pasted in
    heat = fitted.explain(images)
    assert heat.shape == (10, 16, 16)
    for h, (r, c) in zip(heat, corners, strict=True):
        peak = np.unravel_index(np.argmax(h), h.shape)
        assert r <= peak[0] < r + 4 and c <= peak[1] < c + 4


def test_save_load_round_trip_and_modality_check(fitted, tmp_path):
    from anomaly_gan.detectors.tabular import GANomalyDetector

    rng = np.random.default_rng(3)
    images = normal_images(20, rng)
    path = fitted.save(tmp_path / "img")
    loaded = ImageGANomalyDetector.load(path)
    np.testing.assert_allclose(
        loaded.decision_function(images), fitted.decision_function(images), rtol=1e-5
    )
    assert loaded.threshold_ == fitted.threshold_
    with pytest.raises(ArtifactError, match="expected a tabular model"):
        GANomalyDetector.load(path)


def test_bad_parameters_and_inputs_are_refused(fitted):
    with pytest.raises(ConfigError, match="parameter 'image_size'"):
        ImageGANomalyDetector(image_size=28).fit(np.zeros((20, 28, 28)))
    with pytest.raises(DataError, match="expected an array of shape"):
        fitted.decision_function(np.zeros((2, 1, 1, 16, 16)))
    # Colour images given to a grey model are converted, not refused.
    colour = np.repeat(normal_images(3, np.random.default_rng(5))[..., None], 3, -1)
    np.testing.assert_allclose(
        fitted.decision_function(colour),
        fitted.decision_function(colour[..., 0]),
        rtol=1e-5,
    )


def test_fit_from_a_folder_skips_a_corrupt_file(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(4)
    for i, img in enumerate(normal_images(30, rng)):
        Image.fromarray(img).save(tmp_path / f"{i:02d}.png")
    (tmp_path / "zz.png").write_bytes(b"garbage")
    det = ImageGANomalyDetector(image_size=16, epochs=1, random_state=0).fit(tmp_path)
    assert det.channels_ == 1
    assert [p.endswith("zz.png") for p, _ in det.last_rejected_] == [True]
    assert det.decision_function(tmp_path).shape == (30,)


def test_resume_after_a_kill_matches_an_uninterrupted_run(tmp_path, monkeypatch):
    from anomaly_gan.engine.training import GanTrainer

    images = normal_images(120, np.random.default_rng(1))
    opts = {"image_size": 16, "epochs": 4, "random_state": 0}
    full = ImageGANomalyDetector(**opts).fit(images)
    original = GanTrainer._save_checkpoint
    calls = {"n": 0}

    def killed_after_two(self, *args, **kwargs):
        original(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(GanTrainer, "_save_checkpoint", killed_after_two)
    with pytest.raises(KeyboardInterrupt):
        ImageGANomalyDetector(**opts, checkpoint_dir=tmp_path).fit(images)
    monkeypatch.setattr(GanTrainer, "_save_checkpoint", original)
    resumed = ImageGANomalyDetector(**opts, checkpoint_dir=tmp_path)
    resumed.fit(images, resume=True)
    assert [h["epoch"] for h in resumed.history_] == [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_allclose(
        resumed.decision_scores_, full.decision_scores_, rtol=1e-5, atol=1e-6
    )
    other = ImageGANomalyDetector(**opts, checkpoint_dir=tmp_path)
    with pytest.raises(ArtifactError, match="same data and settings"):
        other.fit(images[:-5], resume=True)


def test_cosine_neighbours_in_pixels_and_latent_code(fitted, tmp_path):
    from anomaly_gan.models.image_neighbors import VIEWS

    assert fitted.knn_space == "cosine"
    assert fitted.knn_reference_.shape[0] == 0  # no Euclidean pixel reference
    assert set(fitted.cosine_knn_.references) == set(VIEWS)
    # The default score is the knn component alone, normalised and compressed.
    assert fitted.calibrator_.weights == {
        "recon": 0.0,
        "latent": 0.0,
        "disc": 0.0,
        "knn": 1.0,
    }
    rng = np.random.default_rng(6)
    images = normal_images(30, rng)
    comp = fitted.score_components(images)
    knn = comp["score_knn"].to_numpy()
    np.testing.assert_allclose(
        comp["anomaly_score"], np.sign(knn) * np.log1p(np.abs(knn))
    )
    # The pixel view is the mean cosine distance... as |a - b| of unit vectors.
    pixels = fitted._pixels(images, fitting=False)
    vectors = fitted._vectors(pixels)
    ref = fitted.cosine_knn_.references["pixels"]
    dist = np.sqrt(np.maximum(2 - 2 * vectors["pixels"] @ ref.T, 0))
    expected = np.sort(dist, axis=1)[:, :5].mean(axis=1)
    got = fitted.cosine_knn_._view_distance(
        "pixels", vectors["pixels"], torch.device("cpu")
    )
    np.testing.assert_allclose(got, expected, atol=1e-4)
    loaded = ImageGANomalyDetector.load(fitted.save(tmp_path / "cos"))
    np.testing.assert_allclose(
        loaded.score_components(images)["score_knn"], knn, rtol=1e-5, atol=1e-6
    )


def test_a_model_with_euclidean_pixel_neighbours_loads_as_it_scored(
    tmp_path, monkeypatch
):
    """0.3 to 0.5 image models: Euclidean pixels, latent 1 + knn 2."""
    from anomaly_gan.detectors import artifacts
    from anomaly_gan.detectors.artifacts import load_model_dir, save_model_dir

    rng = np.random.default_rng(7)
    det = ImageGANomalyDetector(
        image_size=16, epochs=2, knn_space="pixels", random_state=0
    ).fit(normal_images(120, rng))
    assert (
        det.calibrator_.weights["latent"] == 1.0
        and det.calibrator_.weights["knn"] == 2.0
    )
    probe = np.concatenate([normal_images(10, rng), 255 - normal_images(10, rng)])
    expected = det.decision_function(probe)
    tensors, parts = load_model_dir(det.save(tmp_path / "new"))
    assert "knn_cosine" not in parts["scorer"]
    del parts["config"]["params"]["knn_space"]
    monkeypatch.setattr(artifacts, "FORMAT_VERSION", 4)
    old = save_model_dir(tmp_path / "old", tensors=tensors, parts=parts)
    monkeypatch.undo()
    loaded = ImageGANomalyDetector.load(old)
    assert loaded.knn_space == "pixels"
    np.testing.assert_allclose(loaded.decision_function(probe), expected, rtol=1e-6)
    with pytest.raises(ConfigError, match="parameter 'knn_space'"):
        ImageGANomalyDetector(knn_space="manhattan").fit(normal_images(40, rng))
