import numpy as np
import pytest
import torch

from anomaly_gan import GANomalyDetector
from anomaly_gan.engine.forward import resolve_device
from anomaly_gan.engine.training import CHECKPOINT_NAME, GanTrainer
from anomaly_gan.exceptions import ArtifactError, ConfigError
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


def test_a_step_updates_like_the_generator_then_the_discriminator():
    """The joint step (one D pass, restricted backwards) equals GANomaly's order:
    step G on its loss, then D on the detached reconstructions."""
    import copy

    from torch.nn.utils import parametrize

    from anomaly_gan.config import ResolvedSizes
    from anomaly_gan.models import TabularDiscriminator, TabularGenerator
    from anomaly_gan.models.losses import discriminator_loss, generator_loss

    torch.manual_seed(0)
    gen, disc = TabularGenerator(6, (16, 8), 3), TabularDiscriminator(6, (16, 8))
    gen_ref, disc_ref = copy.deepcopy(gen), copy.deepcopy(disc)
    weights = {"adv_weight": 1.0, "recon_weight": 50.0, "latent_weight": 1.0}

    def sgd(net):
        # SGD, not Adam: Adam would blow the rounding noise in the gradients of
        # biases before batch norm (zero in exact arithmetic) up to full steps.
        return torch.optim.SGD(net.parameters(), lr=0.05)

    trainer = GanTrainer(
        build=lambda: (gen, disc),
        sizes=ResolvedSizes(hidden_dims=(16, 8), latent_dim=3, batch_size=32, epochs=1),
        lr=1e-2,
        weights=weights,
        device=torch.device("cpu"),
    )
    opt_g, opt_d, opt_g_ref, opt_d_ref = (
        sgd(gen),
        sgd(disc),
        sgd(gen_ref),
        sgd(disc_ref),
    )
    for _ in range(3):
        x = torch.randn(32, 6)
        parts = trainer._step(gen, disc, opt_g, opt_d, x)
        with parametrize.cached():
            out = gen_ref(x)
            _, f_real = disc_ref(x)
            _, f_fake = disc_ref(out.x_hat)
            g = generator_loss(
                x, out.x_hat, out.z, out.z_hat, f_real.detach(), f_fake, **weights
            )
            opt_g_ref.zero_grad()
            g.total.backward(retain_graph=True)
            opt_g_ref.step()
            logit_real, _ = disc_ref(x)
            logit_fake, _ = disc_ref(out.x_hat.detach())
            d_loss = discriminator_loss(logit_real, logit_fake)
            opt_d_ref.zero_grad()
            d_loss.backward()
            opt_d_ref.step()
        assert parts["g_loss"] == pytest.approx(float(g.total.detach()), rel=1e-5)
        assert parts["d_loss"] == pytest.approx(float(d_loss.detach()), rel=1e-5)
    for ours, ref in ((gen, gen_ref), (disc, disc_ref)):
        for (name, p), (_, q) in zip(
            ours.state_dict().items(), ref.state_dict().items(), strict=True
        ):
            torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6, msg=name)


def test_a_one_epoch_run_logs_losses_every_few_steps(tmp_path):
    # Issue 15, case 14: per-epoch history drew no curve for one-epoch models.
    import json

    import numpy as np

    from anomaly_gan import GANomalyDetector

    X = np.random.default_rng(0).normal(size=(3_000, 5))
    det = GANomalyDetector(epochs=1, batch_size=32, random_state=0).fit(X)
    assert len(det.history_) == 1
    steps = det.step_history_
    assert 80 <= len(steps) <= 100  # about 100 points over the 85 steps
    assert [s["step"] for s in steps] == sorted({s["step"] for s in steps})
    assert all(np.isfinite([s["g_loss"], s["d_loss"]]).all() for s in steps)
    saved = json.loads((det.save(tmp_path / "m") / "history.json").read_text())
    assert saved["steps"] == steps
    assert GANomalyDetector.load(tmp_path / "m").step_history_ == steps
