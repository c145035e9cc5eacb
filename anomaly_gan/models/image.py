"""Convolutional GANomaly for images (Akcay et al., 2018; DCGAN blocks).

Generator: a DCGAN-style encoder (strided 4x4 convolutions, batch norm, LeakyReLU)
maps a ``channels x size x size`` image to a latent vector ``z``; a decoder
(transposed convolutions, batch norm, ReLU, ``tanh`` output) maps ``z`` back to an
image ``x_hat``; a second encoder of the same shape maps ``x_hat`` to ``z_hat``.
Discriminator: the encoder's convolutional trunk whose last feature map is the
feature layer ``f(.)``, then a 4x4 convolution to the real/fake logit.

Sizes: ``size`` is a power of two from 16 to 256. The trunk halves the image until
it is 4 x 4, doubling the width from ``base_width`` at each step (capped at
``8 * base_width``).
"""

from __future__ import annotations

import itertools

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from anomaly_gan.models.tabular import GanOutput

_ALLOWED_SIZES = (16, 32, 64, 128, 256)


def _widths(size: int, base_width: int) -> list[int]:
    if size not in _ALLOWED_SIZES:
        msg = f"image size: expected one of {_ALLOWED_SIZES}, found {size}"
        raise ValueError(msg)
    steps = size.bit_length() - 3  # 32 -> 3 halvings to 4 x 4
    return [min(base_width * 2**i, 8 * base_width) for i in range(steps)]


def _trunk(
    channels: int, size: int, base_width: int, *, spectral_norm: bool = False
) -> tuple[nn.Sequential, int]:
    """Strided convolutions from ``size`` down to 4 x 4; returns the trunk and width."""
    layers: list[nn.Module] = []
    width_in = channels
    for i, width in enumerate(_widths(size, base_width)):
        conv: nn.Module = nn.Conv2d(width_in, width, 4, 2, 1, bias=False)
        if spectral_norm:
            conv = _spectral_norm(conv)
        layers.append(conv)
        if i > 0 and not spectral_norm:
            layers.append(nn.BatchNorm2d(width))
        layers.append(nn.LeakyReLU(0.2))
        width_in = width
    return nn.Sequential(*layers), width_in


class ImageEncoder(nn.Module):
    """Image -> latent vector (``(n, latent_dim)``)."""

    def __init__(
        self, channels: int, size: int, latent_dim: int, base_width: int
    ) -> None:
        super().__init__()
        self.trunk, width = _trunk(channels, size, base_width)
        self.head = nn.Conv2d(width, latent_dim, 4, 1, 0, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode a batch of images."""
        out: torch.Tensor = self.head(self.trunk(x)).flatten(1)
        return out


class ImageDecoder(nn.Module):
    """Latent vector -> image in [-1, 1]."""

    def __init__(
        self, channels: int, size: int, latent_dim: int, base_width: int
    ) -> None:
        super().__init__()
        widths = list(reversed(_widths(size, base_width)))
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, widths[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(),
        ]
        for w_in, w_out in itertools.pairwise(widths):
            layers += [
                nn.ConvTranspose2d(w_in, w_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(w_out),
                nn.ReLU(),
            ]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1, bias=False)]
        layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Decode latent vectors to images."""
        out: torch.Tensor = self.net(z[:, :, None, None])
        return out


class ImageGenerator(nn.Module):
    """Encoder -> decoder -> encoder over images (GANomaly's generator)."""

    def __init__(
        self, channels: int, size: int, latent_dim: int, base_width: int = 32
    ) -> None:
        super().__init__()
        self.encoder = ImageEncoder(channels, size, latent_dim, base_width)
        self.decoder = ImageDecoder(channels, size, latent_dim, base_width)
        self.encoder2 = ImageEncoder(channels, size, latent_dim, base_width)

    def forward(self, x: torch.Tensor) -> GanOutput:
        """Encode, decode and re-encode ``x``."""
        z = self.encoder(x)
        x_hat = self.decoder(z)
        return GanOutput(x_hat=x_hat, z=z, z_hat=self.encoder2(x_hat))


class ImageDiscriminator(nn.Module):
    """Convolutional discriminator; ``forward`` returns ``(logit, features)``."""

    def __init__(
        self,
        channels: int,
        size: int,
        base_width: int = 32,
        *,
        spectral_norm: bool = True,
    ) -> None:
        super().__init__()
        self.features, width = _trunk(
            channels, size, base_width, spectral_norm=spectral_norm
        )
        head: nn.Module = nn.Conv2d(width, 1, 4, 1, 0, bias=False)
        if spectral_norm:
            head = _spectral_norm(head)
        self.head = head

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the real/fake logit (n,) and the feature map."""
        features = self.features(x)
        return self.head(features).flatten(), features
