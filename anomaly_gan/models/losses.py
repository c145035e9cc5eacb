"""GANomaly's losses as small functions taking their weights as arguments.

Default weights (adversarial 1, contextual 50, encoder 1) are those of Akcay et
al., "GANomaly: Semi-Supervised Anomaly Detection via Adversarial Training",
ACCV 2018, section 3.2.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch.nn import functional

ADV_WEIGHT = 1.0
RECON_WEIGHT = 50.0
LATENT_WEIGHT = 1.0


class GeneratorLoss(NamedTuple):
    """The weighted total and its three parts (unweighted)."""

    total: torch.Tensor
    adversarial: torch.Tensor
    contextual: torch.Tensor
    encoder: torch.Tensor


def generator_loss(
    x: torch.Tensor,
    x_hat: torch.Tensor,
    z: torch.Tensor,
    z_hat: torch.Tensor,
    features_real: torch.Tensor,
    features_fake: torch.Tensor,
    *,
    adv_weight: float = ADV_WEIGHT,
    recon_weight: float = RECON_WEIGHT,
    latent_weight: float = LATENT_WEIGHT,
) -> GeneratorLoss:
    """Feature matching (L2), contextual (L1) and encoder (L2) losses."""
    adversarial = functional.mse_loss(features_fake, features_real)
    contextual = functional.l1_loss(x_hat, x)
    encoder = functional.mse_loss(z_hat, z)
    total = (
        adv_weight * adversarial + recon_weight * contextual + latent_weight * encoder
    )
    return GeneratorLoss(total, adversarial, contextual, encoder)


def discriminator_loss(
    logit_real: torch.Tensor, logit_fake: torch.Tensor
) -> torch.Tensor:
    """Binary cross-entropy of real rows against reconstructions."""
    real = functional.binary_cross_entropy_with_logits(
        logit_real, torch.ones_like(logit_real)
    )
    fake = functional.binary_cross_entropy_with_logits(
        logit_fake, torch.zeros_like(logit_fake)
    )
    return 0.5 * (real + fake)
