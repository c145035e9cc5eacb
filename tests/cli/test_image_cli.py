"""train / score / evaluate on image folders from the command line."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from anomaly_gan.cli import main


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    base = np.linspace(10, 60, 16)[None, :].repeat(16, axis=0)
    root = tmp_path / "imgs"
    for label, n in (("ok", 80), ("defect", 6)):
        (root / label).mkdir(parents=True)
        for i in range(n):
            img = np.clip(base + rng.normal(0, 3, (16, 16)), 0, 255)
            if label == "defect":
                r, c = rng.integers(2, 10, 2)
                img[r : r + 4, c : c + 4] = 255
            Image.fromarray(img.astype(np.uint8)).save(root / label / f"{i:03d}.png")
    (root / "ok" / "zz_broken.png").write_bytes(b"not a png")
    return root


def test_images_train_score_with_heatmaps_and_evaluate(images, tmp_path, capsys):
    model = tmp_path / "model"
    argv = ["train", "--data", str(images), "--out", str(model), "--image-size", "16"]
    argv += ["--label-col", "label", "--normal-label", "ok", "--epochs", "6"]
    assert main([*argv, "--random-state", "0", "--quiet"]) == 0
    out = capsys.readouterr()
    assert "trained on 80 images (16x16, 1 channel(s))" in out.out
    assert "zz_broken.png" in out.err and "dropped 6 image(s)" in out.err
    scores, heat = tmp_path / "scores.csv", tmp_path / "heat"
    argv = ["score", "--model", str(model), "--data", str(images), "--out", str(scores)]
    assert main([*argv, "--heatmaps", str(heat)]) == 0
    scored = pd.read_csv(scores)
    assert list(scored.columns[:4]) == ["path", "label", "anomaly_score", "is_anomaly"]
    assert len(scored) == 86
    defect = scored["label"] == "defect"
    assert (
        scored.loc[defect, "anomaly_score"].min()
        > scored.loc[~defect, "anomaly_score"].median()
    )
    rejected = pd.read_csv(str(scores) + ".rejected.csv")
    assert rejected["path"].str.endswith("zz_broken.png").all()
    first = scored["heatmap"].iloc[0]
    assert first.startswith("heat/")  # relative to the scored file's folder
    stem = first.removeprefix("heat/").removesuffix("_heatmap.png")
    for part in ("input", "reconstruction", "heatmap"):
        with Image.open(heat / f"{stem}_{part}.png") as png:
            assert png.size == (16, 16)
    assert len(list(heat.glob("*.png"))) == 3 * 86
    capsys.readouterr()
    argv = ["evaluate", "--model", str(model), "--data", str(images)]
    assert main([*argv, "--label-col", "label", "--normal-label", "ok"]) == 0
    assert "ROC-AUC" in capsys.readouterr().out
    assert main([*argv, "--label-col", "class"]) == 2
    assert "image sources have one label column, 'label'" in capsys.readouterr().err


def test_heatmaps_are_refused_for_a_tabular_model(tmp_path, capsys):
    from anomaly_gan import GANomalyDetector

    model = GANomalyDetector(epochs=1, random_state=0).fit(np.random.rand(60, 3))
    path = model.save(tmp_path / "tab")
    pd.DataFrame(np.random.rand(5, 3), columns=["x0", "x1", "x2"]).to_csv(
        tmp_path / "d.csv", index=False
    )
    argv = ["score", "--model", str(path), "--data", str(tmp_path / "d.csv")]
    assert main([*argv, "--out", str(tmp_path / "o.csv"), "--heatmaps", "h"]) == 2
    assert "--heatmaps: only for image models" in capsys.readouterr().err


def test_image_training_registers_and_refuses_table_options(
    images, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("ANOMALY_GAN_REGISTRY", str(tmp_path / "reg"))
    argv = ["train", "--data", str(images), "--out", str(tmp_path / "m")]
    argv += ["--image-size", "16", "--epochs", "1", "--quiet"]
    assert main([*argv, "--id-cols", "x"]) == 2
    assert "--id-cols: only for tables" in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 0  # no checkpoint yet: trains from the start
    assert not (tmp_path / "m.checkpoints").exists()  # removed once the model is saved
    assert main([*argv, "--register", "--promote"]) == 0
    assert "registered as version 1" in capsys.readouterr().out
    scores = tmp_path / "s.csv"
    argv = ["score", "--model", "registry:production", "--data", str(images)]
    assert main([*argv, "--out", str(scores)]) == 0
    assert len(pd.read_csv(scores)) == 86
