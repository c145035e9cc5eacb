"""GANomaly for tabular rows (Akcay et al., 2018, adapted from images to MLPs).

Generator: encoder ``G_E`` (x -> z), decoder ``G_D`` (z -> x_hat), second
encoder ``E`` (x_hat -> z_hat). Discriminator: an MLP whose last hidden layer is
the feature layer ``f(.)`` used by feature matching and by the discrimination
residual, followed by a linear real/fake logit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from anomaly_gan.models.layers import mlp


class GanOutput(NamedTuple):
    """Everything one generator pass yields, in train and eval mode alike."""

    x_hat: torch.Tensor
    z: torch.Tensor
    z_hat: torch.Tensor


class TabularGenerator(nn.Module):
    """Encoder -> decoder -> encoder over encoded table rows.

    Parameters
    ----------
    n_features : int
        Width of an encoded row.
    hidden_dims : sequence of int
        Encoder hidden widths; the decoder mirrors them.
    latent_dim : int
        Size of the latent code ``z``.
    """

    def __init__(
        self, n_features: int, hidden_dims: Sequence[int], latent_dim: int
    ) -> None:
        super().__init__()
        enc_sizes = [n_features, *hidden_dims, latent_dim]
        dec_sizes = [latent_dim, *reversed(hidden_dims), n_features]
        self.encoder = mlp(enc_sizes, batch_norm=True)
        self.decoder = mlp(dec_sizes, batch_norm=True)
        self.encoder2 = mlp(enc_sizes, batch_norm=True)

    def forward(self, x: torch.Tensor) -> GanOutput:
        """Encode, decode and re-encode ``x``."""
        z = self.encoder(x)
        x_hat = self.decoder(z)
        z_hat = self.encoder2(x_hat)
        return GanOutput(x_hat=x_hat, z=z, z_hat=z_hat)


class TabularDiscriminator(nn.Module):
    """MLP discriminator with an exposed feature layer.

    ``forward`` returns ``(logit, features)``; the features are the last hidden
    layer's activations, used by feature matching and the discrimination residual.
    """

    def __init__(
        self,
        n_features: int,
        hidden_dims: Sequence[int],
        *,
        spectral_norm: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.features = mlp(
            [n_features, *hidden_dims],
            spectral_norm=spectral_norm,
            dropout=dropout,
            final_activation=True,
        )
        head: nn.Module = nn.Linear(hidden_dims[-1], 1)
        if spectral_norm:
            head = nn.utils.parametrizations.spectral_norm(head)
        self.head = head

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the real/fake logit of shape (n,) and the features."""
        features = self.features(x)
        return self.head(features).squeeze(-1), features
