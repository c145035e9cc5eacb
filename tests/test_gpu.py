"""The CUDA training path (mixed precision); runs only where a GPU is present."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from anomaly_gan import GANomalyDetector
from tests.conftest import TX_OPTIONS

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(
        not torch.cuda.is_available(), reason="no CUDA GPU on this machine"
    ),
]


@pytest.mark.filterwarnings("ignore:.*unseen in training:UserWarning")
def test_cuda_training_with_mixed_precision(tx_train, tx_test, tmp_path):
    det = GANomalyDetector(epochs=12, random_state=0, device="auto", **TX_OPTIONS).fit(
        tx_train
    )
    assert det.device_.type == "cuda"
    assert roc_auc_score(tx_test["is_fraud"], det.decision_function(tx_test)) > 0.9
    loaded = GANomalyDetector.load(det.save(tmp_path / "m"), device="cuda")
    np.testing.assert_allclose(
        loaded.decision_function(tx_test),
        det.decision_function(tx_test),
        rtol=1e-4,
        atol=1e-4,
    )


def test_cuda_image_training_with_mixed_precision(tmp_path):
    from anomaly_gan.detectors.image import ImageGANomalyDetector

    rng = np.random.default_rng(0)
    base = np.linspace(10, 60, 32)[None, None, :].repeat(32, axis=1)
    normal = np.clip(base + rng.normal(0, 3, (400, 32, 32)), 0, 255).astype(np.uint8)
    det = ImageGANomalyDetector(epochs=5, random_state=0, device="auto").fit(normal)
    assert det.device_.type == "cuda"
    odd = 255 - normal[:50]
    scores = det.decision_function(np.concatenate([normal[:50], odd]))
    assert roc_auc_score(np.r_[np.zeros(50), np.ones(50)], scores) > 0.95
    heat = det.explain(odd[:4])
    assert heat.shape == (4, 32, 32)
