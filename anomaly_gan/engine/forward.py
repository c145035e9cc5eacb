"""Running fitted networks: the device, and the scoring forward pass.

``compute_residuals`` runs a generator/discriminator pair over encoded rows or
images in batches and returns the raw residuals every score component starts
from (reconstruction, latent, discriminator feature) and the reconstructions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from anomaly_gan.exceptions import ConfigError
from anomaly_gan.models.neighbors import mean_knn_distance

_SCORE_BATCH = 8192


def resolve_device(device: str) -> torch.device:
    """Map ``"auto"`` to CUDA, then MPS, then CPU; check an explicit choice."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        msg = f"parameter 'device': expected an available device, found {device!r} (no CUDA GPU here); use 'auto' or 'cpu'"
        raise ConfigError(msg)
    if device == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            msg = "parameter 'device': expected an available device, found 'mps' (not available here); use 'auto' or 'cpu'"
            raise ConfigError(msg)
    return torch.device(device)


class ForwardResult(NamedTuple):
    """One scoring pass over a batch, as numpy arrays."""

    recon: np.ndarray  # (n, n_encoded) absolute residual per encoded column
    latent: np.ndarray  # (n,) mean squared z - z_hat
    disc: np.ndarray  # (n,) mean squared discriminator-feature difference
    knn: np.ndarray  # (n,) mean distance to the k nearest reference rows
    x_hat: np.ndarray  # (n, n_encoded) reconstructions


@torch.no_grad()
def compute_residuals(
    gen: nn.Module,
    disc: nn.Module,
    x: np.ndarray,
    device: torch.device,
    *,
    reference: np.ndarray | None = None,
    k: int = 5,
    in_reference: np.ndarray | None = None,
) -> ForwardResult:
    """Score forward pass: raw residuals and the reconstructions, as numpy.

    ``reference`` holds the encoded normal rows of the knn component (none:
    zeros); ``in_reference`` marks rows of ``x`` that are themselves reference
    rows, so that they do not count as their own neighbour.
    """
    gen.eval()
    disc.eval()
    recon_parts, latent_parts, disc_parts, xhat_parts, knn_parts = [], [], [], [], []
    tensor = torch.as_tensor(x, dtype=torch.float32)
    ref = None
    if reference is not None and len(reference):
        ref = torch.as_tensor(reference, dtype=torch.float32).flatten(1).to(device)
    for start in range(0, tensor.shape[0], _SCORE_BATCH):
        xb = tensor[start : start + _SCORE_BATCH].to(device)
        if ref is None:
            knn_parts.append(np.zeros(xb.shape[0], dtype=np.float32))
        else:
            own = None
            if in_reference is not None:
                own = torch.as_tensor(in_reference[start : start + _SCORE_BATCH])
            knn_parts.append(
                mean_knn_distance(xb.flatten(1), ref, k, skip_self=own).cpu().numpy()
            )
        out = gen(xb)
        _, f_real = disc(xb)
        _, f_fake = disc(out.x_hat)
        x_hat = out.x_hat.float()
        recon_parts.append((x_hat - xb).abs().flatten(1).cpu().numpy())
        latent_parts.append(
            (out.z_hat.float() - out.z.float())
            .pow(2)
            .flatten(1)
            .mean(dim=1)
            .cpu()
            .numpy()
        )
        disc_parts.append(
            (f_fake.float() - f_real.float())
            .pow(2)
            .flatten(1)
            .mean(dim=1)
            .cpu()
            .numpy()
        )
        xhat_parts.append(x_hat.cpu().numpy())
    n_cols = int(np.prod(x.shape[1:]))

    def joined(parts: list[np.ndarray], empty_shape: tuple[int, ...]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(empty_shape, np.float32)

    return ForwardResult(
        recon=joined(recon_parts, (0, n_cols)),
        latent=joined(latent_parts, (0,)),
        disc=joined(disc_parts, (0,)),
        knn=joined(knn_parts, (0,)),
        x_hat=joined(xhat_parts, (0, *x.shape[1:])),
    )
