import pytest
import torch

from anomaly_gan.models import GanOutput, TabularDiscriminator, TabularGenerator
from anomaly_gan.models.losses import discriminator_loss, generator_loss


def test_generator_returns_the_same_typed_output_in_train_and_eval():
    gen = TabularGenerator(10, (16, 8), 4)
    x = torch.randn(5, 10)
    for mode in (True, False):
        gen.train(mode)
        out = gen(x)
        assert isinstance(out, GanOutput)
        assert out.x_hat.shape == (5, 10)
        assert out.z.shape == (5, 4)
        assert out.z_hat.shape == (5, 4)


def test_discriminator_exposes_its_feature_layer_and_spectral_norm():
    disc = TabularDiscriminator(10, (16, 8), spectral_norm=True)
    logit, features = disc(torch.randn(5, 10))
    assert logit.shape == (5,)
    assert features.shape == (5, 8)
    names = [n for n, _ in disc.named_parameters()]
    assert any("parametrizations.weight.original" in n for n in names)
    plain = TabularDiscriminator(10, (16, 8), spectral_norm=False)
    assert not any("parametrizations" in n for n, _ in plain.named_parameters())


def test_losses_are_zero_for_a_perfect_reconstruction_and_weighted():
    x = torch.randn(4, 3)
    z = torch.randn(4, 2)
    f = torch.randn(4, 5)
    perfect = generator_loss(x, x, z, z, f, f)
    assert float(perfect.total) == 0.0
    loss = generator_loss(
        x, x + 1, z, z + 2, f, f + 3, adv_weight=1, recon_weight=50, latent_weight=1
    )
    # (z + 2) - z is 2 only up to float32 rounding
    assert float(loss.contextual) == pytest.approx(1.0, rel=1e-5)
    assert float(loss.encoder) == pytest.approx(4.0, rel=1e-5)
    assert float(loss.adversarial) == pytest.approx(9.0, rel=1e-5)
    assert float(loss.total) == pytest.approx(9.0 + 50.0 + 4.0, rel=1e-5)
    d = discriminator_loss(torch.full((4,), 20.0), torch.full((4,), -20.0))
    assert float(d) < 1e-6
