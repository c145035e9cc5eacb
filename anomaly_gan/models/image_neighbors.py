"""The image detector's knn component: cosine neighbours in two views of an image.

A view is one way to compare images: the ``pixels`` (the model's input mapped
back to [0, 1], flattened) and the ``latent`` code the GAN's encoder gives the
image (what the GAN learned normal images have in common). In each view an
image's raw value is the mean cosine distance to its ``k`` nearest reference
images (normal training images, capped), normalised by the median and spread
of the held-out normal images' values; the component is the mean over the two
views. Cosine distance compares the pattern, not the ink: on one-class MNIST a
cosine 5-NN on raw pixels beat a Euclidean one by 0.09 mean ROC-AUC, and the
latent view added 0.02 to the pixel view (docs/benchmarks.md, log item 17).

Vectors are scaled to unit length once, so the search is the Euclidean one of
``models/neighbors.py`` (``|a - b|^2 = 2 - 2 cos`` for unit vectors), on the
CPU or the GPU; the cosine distance is ``|a - b|^2 / 2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from anomaly_gan.models.neighbors import mean_knn_distance
from anomaly_gan.scoring.scorer import robust_location

VIEWS = ("pixels", "latent")
_ROWS = 4096  # images searched per call (memory is bounded inside the search)


def pixel_vectors(pixels: np.ndarray) -> np.ndarray:
    """Unit-length rows of images in the model's [-1, 1] range, mapped to [0, 1]."""
    flat = (np.asarray(pixels, dtype=np.float32).reshape(len(pixels), -1) + 1.0) / 2.0
    return unit_rows(flat)


def unit_rows(values: np.ndarray) -> np.ndarray:
    """Scale each row to unit length (all-zero rows stay zero)."""
    values = np.asarray(values, dtype=np.float32).reshape(len(values), -1)
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    out: np.ndarray = values / np.maximum(norms, 1e-12)
    return out


@torch.no_grad()
def view_vectors(
    encoder: torch.nn.Module, pixels: np.ndarray, device: torch.device
) -> dict[str, np.ndarray]:
    """Return each view's unit vectors: the pixels and the encoder's latent code."""
    encoder.eval()
    codes = []
    for start in range(0, len(pixels), 1024):
        xb = torch.as_tensor(pixels[start : start + 1024], dtype=torch.float32)
        codes.append(encoder(xb.to(device)).float().flatten(1).cpu().numpy())
    latent = np.concatenate(codes) if codes else np.zeros((0, 1), dtype=np.float32)
    return {"pixels": pixel_vectors(pixels), "latent": unit_rows(latent)}


@dataclass
class CosineViews:
    """Reference vectors per view and each view's normalisation."""

    references: dict[str, np.ndarray]  # view -> (m, d) unit rows, float32
    k: int
    center: dict[str, float]
    spread: dict[str, float]

    @classmethod
    def fit(
        cls,
        references: dict[str, np.ndarray],
        validation: dict[str, np.ndarray],
        k: int,
        device: torch.device,
    ) -> CosineViews:
        """Keep the references; normalise each view on the held-out images."""
        views = cls({v: references[v] for v in VIEWS}, k, {}, {})
        for view in VIEWS:
            dist = views._view_distance(view, validation[view], device)
            views.center[view], views.spread[view] = robust_location(dist)
        return views

    def distance(
        self,
        vectors: dict[str, np.ndarray],
        device: torch.device,
        *,
        in_reference: np.ndarray | None = None,
    ) -> np.ndarray:
        """Return the component's raw value per image (float64)."""
        total = np.zeros(len(vectors[VIEWS[0]]), dtype=np.float64)
        for view in VIEWS:
            dist = self._view_distance(view, vectors[view], device, in_reference)
            total += (dist - self.center[view]) / self.spread[view]
        return total / len(VIEWS)

    def _view_distance(
        self,
        view: str,
        vectors: np.ndarray,
        device: torch.device,
        in_reference: np.ndarray | None = None,
    ) -> np.ndarray:
        out = np.zeros(len(vectors), dtype=np.float64)
        reference = torch.as_tensor(self.references[view]).to(device)
        for start in range(0, len(vectors), _ROWS):
            stop = start + _ROWS
            xb = torch.as_tensor(vectors[start:stop]).to(device)
            own = (
                None
                if in_reference is None
                else torch.as_tensor(in_reference[start:stop])
            )
            # Mean over the k nearest of |a - b|; cosine distance is |a - b|^2 / 2,
            # a monotone map per neighbour, so the nearest are the same.
            dist = mean_knn_distance(xb, reference, self.k, skip_self=own)
            out[start:stop] = dist.cpu().numpy()
        return out

    def to_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Tensors and a JSON-ready description."""
        tensors = {
            f"knn_cosine.{v}": torch.as_tensor(self.references[v]) for v in VIEWS
        }
        return tensors, {
            "k": self.k,
            "center": dict(self.center),
            "spread": dict(self.spread),
        }

    @classmethod
    def from_state(
        cls, tensors: dict[str, torch.Tensor], part: dict[str, Any]
    ) -> CosineViews:
        """Inverse of ``to_state``."""
        return cls(
            {v: tensors[f"knn_cosine.{v}"].numpy().astype(np.float32) for v in VIEWS},
            int(part["k"]),
            {v: float(part["center"][v]) for v in VIEWS},
            {v: float(part["spread"][v]) for v in VIEWS},
        )
