"""One contract for every detector class: fit, score, save, load, score the same.

Each detector (tabular and image) runs the same steps on its own kind of data:
fit on normal inputs, score fresh ones, save, load, score again; the loaded
model must score bit-for-bit as the fitted one, keep its threshold and flag
the same inputs. A model directory edited after saving, or loaded with the
other detector class, is refused with a one-line ``ArtifactError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from anomaly_gan.data.datasets import make_transactions
from anomaly_gan.detectors._base import GanDetectorBase
from anomaly_gan.detectors.image import ImageGANomalyDetector
from anomaly_gan.detectors.tabular import GANomalyDetector
from anomaly_gan.exceptions import ArtifactError

from .conftest import TX_OPTIONS

# fresh fraud rows carry countries the normal ones never had
pytestmark = pytest.mark.filterwarnings("ignore:.*unseen in training:UserWarning")


def _images(n: int, seed: int, *, odd: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.linspace(10, 60, 16)[None, None, :].repeat(16, axis=1)
    images = np.clip(base + rng.normal(0, 3, (n, 16, 16)), 0, 255)
    images[:odd] = 255 - images[:odd]
    return images.astype(np.uint8)


def _tabular() -> tuple[GanDetectorBase, Any, Any]:
    det = GANomalyDetector(epochs=2, random_state=0, device="cpu", **TX_OPTIONS)
    train = make_transactions(800, fraud_rate=0.0, random_state=0)
    fresh = make_transactions(200, fraud_rate=0.1, random_state=1)
    return det, train, fresh


def _image() -> tuple[GanDetectorBase, Any, Any]:
    det = ImageGANomalyDetector(image_size=16, epochs=2, random_state=0)
    return det, _images(120, 0), _images(30, 1, odd=5)


DETECTORS: dict[str, Callable[[], tuple[GanDetectorBase, Any, Any]]] = {
    "tabular": _tabular,
    "image": _image,
}


@pytest.fixture(scope="module", params=sorted(DETECTORS))
def saved(request, tmp_path_factory):
    det, train, fresh = DETECTORS[request.param]()
    det.fit(train)
    path = det.save(tmp_path_factory.mktemp(request.param) / "model")
    return det, fresh, path


def test_every_detector_shares_the_base():
    for make in DETECTORS.values():
        det, _, _ = make()
        assert isinstance(det, GanDetectorBase)
        assert det.modality and det.component_names


def test_fit_score_save_load_score_gives_the_same_scores(saved):
    det, fresh, path = saved
    loaded = type(det).load(path)
    np.testing.assert_array_equal(
        loaded.decision_function(fresh), det.decision_function(fresh)
    )
    pd.testing.assert_frame_equal(
        loaded.score_components(fresh), det.score_components(fresh)
    )
    assert loaded.threshold_ == det.threshold_
    assert loaded.threshold_for_fpr(0.05) == det.threshold_for_fpr(0.05)
    np.testing.assert_array_equal(loaded.predict(fresh), det.predict(fresh))
    np.testing.assert_array_equal(loaded.labels_, det.labels_)
    columns = list(loaded.score_components(fresh).columns)
    assert columns == [
        "anomaly_score",
        "is_anomaly",
        "fpr_estimate",
        *(f"score_{n}" for n in det.component_names),
    ]


def test_the_other_detector_class_refuses_the_model(saved):
    det, _, path = saved
    other = next(
        cls
        for cls in (GANomalyDetector, ImageGANomalyDetector)
        if not isinstance(det, cls)
    )
    with pytest.raises(ArtifactError, match=f"found modality '{det.modality}'"):
        other.load(path)


@pytest.mark.parametrize("part", ["weights.safetensors", "config.json", "scorer.json"])
def test_an_edited_model_directory_is_refused(saved, tmp_path, part):
    import shutil

    det, _, path = saved
    copy = Path(shutil.copytree(path, tmp_path / "copy"))
    file = copy / part
    if part.endswith(".json"):
        data = json.loads(file.read_text())
        data["edited"] = True
        file.write_text(json.dumps(data))
    else:
        raw = bytearray(file.read_bytes())
        raw[-1] ^= 0xFF
        file.write_bytes(bytes(raw))
    with pytest.raises(
        ArtifactError, match=f"file '{part}' does not match its SHA-256"
    ):
        type(det).load(copy)
