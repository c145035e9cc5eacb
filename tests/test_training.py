import numpy as np
import pytest
import torch

from anomaly_gan import GANomalyDetector
from anomaly_gan.exceptions import ArtifactError, ConfigError
from anomaly_gan.training import CHECKPOINT_NAME, GanTrainer, resolve_device
from tests.conftest import TX_OPTIONS


def test_auto_device_is_cpu_here_and_unavailable_devices_are_refused():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert resolve_device("auto").type == "cpu"
    with pytest.raises(
        ConfigError,
        match=r"^parameter 'device': expected an available device, found 'cuda'",
    ):
        resolve_device("cuda")


def test_checkpoint_is_written_every_epoch(tmp_path, tx_train):
    det = GANomalyDetector(
        epochs=3, random_state=0, checkpoint_dir=tmp_path, **TX_OPTIONS
    )
    det.fit(tx_train)
    state = torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)
    assert state["epoch"] == 2
    assert len(state["history"]) == 3


def test_resume_after_a_kill_matches_an_uninterrupted_run(
    tmp_path, tx_train, monkeypatch
):
    full = GANomalyDetector(epochs=4, random_state=0, **TX_OPTIONS).fit(tx_train)

    original = GanTrainer._save_checkpoint
    calls = {"n": 0}

    def killed_after_two(self, *args, **kwargs):
        original(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(GanTrainer, "_save_checkpoint", killed_after_two)
    det = GANomalyDetector(
        epochs=4, random_state=0, checkpoint_dir=tmp_path, **TX_OPTIONS
    )
    with pytest.raises(KeyboardInterrupt):
        det.fit(tx_train)
    monkeypatch.setattr(GanTrainer, "_save_checkpoint", original)
    resumed = GANomalyDetector(
        epochs=4, random_state=0, checkpoint_dir=tmp_path, **TX_OPTIONS
    )
    resumed.fit(tx_train, resume=True)
    assert [h["epoch"] for h in resumed.history_] == [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_allclose(
        resumed.decision_scores_, full.decision_scores_, rtol=1e-5, atol=1e-6
    )


def test_resume_refuses_a_checkpoint_of_other_data(tmp_path, tx_train):
    GANomalyDetector(
        epochs=1, random_state=0, checkpoint_dir=tmp_path, **TX_OPTIONS
    ).fit(tx_train)
    other = GANomalyDetector(
        epochs=1, random_state=0, checkpoint_dir=tmp_path, **TX_OPTIONS
    )
    with pytest.raises(
        ArtifactError, match="expected a run on the same data and settings"
    ):
        other.fit(tx_train.iloc[:-10], resume=True)


def test_resume_without_a_checkpoint_trains_from_the_start(tmp_path, tx_train):
    det = GANomalyDetector(
        epochs=2, random_state=0, checkpoint_dir=tmp_path / "none", **TX_OPTIONS
    )
    det.fit(tx_train, resume=True)
    assert len(det.history_) == 2


def test_best_epoch_is_chosen_on_validation_loss(fitted):
    losses = [h["val_loss"] for h in fitted.history_]
    assert fitted.best_epoch_ == int(np.argmin(losses)) + 1
