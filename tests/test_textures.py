"""The textures benchmark's parts: planted defects with masks, and pixel metrics."""

import numpy as np
import pytest

from anomaly_gan.cli import main
from anomaly_gan.data.defects_synth import DEFECT_TYPES, make_textures
from anomaly_gan.data.images import iter_image_batches
from anomaly_gan.scoring.pixel_metrics import aupro, pixel_roc_auc


def test_defects_come_with_masks_and_take_turns():
    data = make_textures(30, defect_rate=0.4, size=32, random_state=3)
    assert data.images.shape == (30, 32, 32) and data.images.dtype == np.uint8
    assert data.labels.sum() == 12
    defect = data.labels == 1
    assert data.masks[defect].any(axis=(1, 2)).all()
    assert not data.masks[~defect].any()
    kinds = data.kinds[defect].tolist()
    assert kinds == [DEFECT_TYPES[i % 3] for i in range(12)]
    again = make_textures(30, defect_rate=0.4, size=32, random_state=3)
    assert np.array_equal(again.images, data.images)


def test_a_defect_changes_the_pixels_it_marks():
    data = make_textures(60, defect_rate=0.5, size=64, random_state=0)
    normal = data.images[data.labels == 0].astype(float)
    spread = normal.std(axis=0).mean()
    for i in np.flatnonzero(data.kinds == "scratch"):
        inside = data.images[i][data.masks[i]].astype(float)
        outside = data.images[i][~data.masks[i]].astype(float)
        assert abs(inside.mean() - outside.mean()) > spread  # a visible line


def test_pixel_metrics_on_known_maps():
    rng = np.random.default_rng(0)
    masks = np.zeros((3, 16, 16), dtype=bool)
    masks[0, 1:3, 1:3] = True  # a small region
    masks[1, 4:14, 4:14] = True  # a large one
    perfect = masks + rng.uniform(0, 0.1, masks.shape)
    assert pixel_roc_auc(perfect, masks) == 1.0
    assert aupro(perfect, masks) == pytest.approx(1.0)
    noise = rng.uniform(size=masks.shape)
    assert aupro(noise, masks) == pytest.approx(0.15, abs=0.05)
    # Finding only the large region: pixel ROC-AUC stays high, AUPRO halves,
    # since every region counts the same there.
    large_only = rng.uniform(0, 0.1, masks.shape)
    large_only[1, 4:14, 4:14] = 1.0
    large_only[0, 1:3, 1:3] = -1.0  # the small region, missed entirely
    assert pixel_roc_auc(large_only, masks) > 0.9
    assert aupro(large_only, masks) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="same shape"):
        pixel_roc_auc(perfect[:2], masks)
    with pytest.raises(ValueError, match="both defect and defect-free"):
        aupro(perfect, np.zeros_like(masks))


def test_generate_writes_a_labelled_image_folder_and_masks(tmp_path):
    out, masks = tmp_path / "surfaces", tmp_path / "masks"
    argv = ["generate", "--kind", "textures", "--rows", "12", "--fraud-rate", "0.5"]
    assert (
        main([*argv, "--image-size", "32", "--out", str(out), "--masks", str(masks)])
        == 0
    )
    labels = [label for b in iter_image_batches(out, 32, 1) for label in b.labels]
    assert sorted(set(labels)) == ["defect", "ok"] and labels.count("defect") == 6
    assert sorted(p.name for p in (masks / "defect").iterdir()) == sorted(
        p.name for p in (out / "defect").iterdir()
    )
    (out / "ok" / "stale.png").write_bytes(b"x")
    assert main([*argv, "--image-size", "32", "--out", str(out)]) == 0
    assert not (out / "ok" / "stale.png").exists()  # replaced as a whole


@pytest.mark.slow
def test_the_gan_heat_maps_point_at_the_defects():
    from anomaly_gan.detectors.image import ImageGANomalyDetector

    train = make_textures(300, size=32, random_state=0)
    test = make_textures(40, defect_rate=1.0, size=32, random_state=1)
    det = ImageGANomalyDetector(image_size=32, epochs=3, random_state=0, device="cpu")
    maps = det.fit(train.images).explain(test.images)
    assert pixel_roc_auc(maps, test.masks) > 0.6
    assert aupro(maps, test.masks) > 0.3


def test_train_can_rank_images_by_the_reconstruction(tmp_path, capsys):
    from anomaly_gan.detectors.image import ImageGANomalyDetector

    data = tmp_path / "surfaces"
    argv = ["generate", "--kind", "textures", "--rows", "80", "--fraud-rate", "0.1"]
    assert main([*argv, "--image-size", "32", "--out", str(data)]) == 0
    train = [
        "train",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "m"),
        "--image-size",
        "32",
    ]
    train += ["--label-col", "label", "--normal-label", "ok", "--epochs", "1"]
    assert main([*train, "--image-score", "reconstruction", "--quiet"]) == 0
    det = ImageGANomalyDetector.load(tmp_path / "m")
    assert det.calibrator_.weights["recon"] == 1.0
    assert det.calibrator_.weights.get("knn", 0.0) == 0.0
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n")
    bad = ["train", "--data", str(table), "--out", str(tmp_path / "m2")]
    assert main([*bad, "--image-score", "reconstruction"]) == 2
    assert "--image-score: only for image sources" in capsys.readouterr().err
