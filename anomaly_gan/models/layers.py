"""Building blocks shared by the networks: MLP stacks with optional spectral norm."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm


def mlp(
    sizes: Sequence[int],
    *,
    activation: str = "leaky_relu",
    spectral_norm: bool = False,
    dropout: float = 0.0,
    batch_norm: bool = False,
    final_activation: bool = False,
) -> nn.Sequential:
    """Stack ``Linear`` layers through ``sizes`` (input first, output last).

    Hidden layers get an activation (LeakyReLU 0.2 as in DCGAN/GANomaly, or
    ReLU), optional batch norm and dropout; the last layer is linear unless
    ``final_activation``.
    """
    layers: list[nn.Module] = []
    n_layers = len(sizes) - 1
    for i in range(n_layers):
        linear: nn.Module = nn.Linear(sizes[i], sizes[i + 1])
        if spectral_norm:
            linear = _spectral_norm(linear)
        layers.append(linear)
        last = i == n_layers - 1
        if last and not final_activation:
            break
        if batch_norm and not last:
            layers.append(nn.BatchNorm1d(sizes[i + 1]))
        layers.append(nn.LeakyReLU(0.2) if activation == "leaky_relu" else nn.ReLU())
        if dropout > 0 and not last:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)
