"""ImageGANomalyDetector: convolutional GANomaly for images, PyOD API.

The same training loop (``GanTrainer``), score components, calibration and
model-directory format as the tabular detector (``detector.py``); the model
records ``modality: image``. Inputs are arrays of images or a source path (a
folder of image files, an ``.npz`` file, an MNIST IDX file; see ``images.py``).
``explain`` returns per-pixel residual heat maps.

Sizes by rule (``resolve_image_sizes``), unless given: ``latent_dim =
clip(image_size, 16, 128)``, ``batch_size = clip(n // 8, 8, 64)``, ``epochs``
for about 1,000 optimiser steps, clipped to ``[5, 100]``.
"""

from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from anomaly_gan.config import ResolvedSizes
from anomaly_gan.data.images import load_images, prepare
from anomaly_gan.detectors._base import GanDetectorBase
from anomaly_gan.engine.forward import compute_residuals, resolve_device
from anomaly_gan.engine.training import GanTrainer
from anomaly_gan.exceptions import ConfigError, DataError, SchemaError
from anomaly_gan.models.image import ImageDiscriminator, ImageGenerator
from anomaly_gan.models.image_neighbors import VIEWS, CosineViews, view_vectors
from anomaly_gan.scoring.scorer import (
    COMPONENTS,
    RawResiduals,
    ScoreCalibrator,
    Scores,
    threshold_for_contamination,
)

_MIN_IMAGES = 10
# GANomaly's own score (the latent residual) plus the knn density term. The
# per-pixel reconstruction residual is kept for heat maps but left out of the
# score: on simple shapes it ranks anomalies below normals (MNIST digit 1: 0.06
# ROC-AUC), see docs/benchmarks.md.
# Pixels have no columns of their own, so images have no marginal component.
IMAGE_COMPONENTS = tuple(name for name in COMPONENTS if name != "marginal")
# The score's weights by knn space (chosen on digits 0-4 of one-class MNIST,
# docs/benchmarks.md, log item 17): with cosine neighbours the knn component,
# measured partly in the GAN's latent space, carries the score alone.
IMAGE_SCORE_WEIGHTS = {"recon": 0.0, "latent": 0.0, "disc": 0.0, "knn": 1.0}
# The GAN's reconstruction residual alone: for textured surfaces (fabric, metal,
# paper), where it ranks defects far better than the neighbours (docs/images.md,
# the textures benchmark); ``train --image-score reconstruction``.
RECONSTRUCTION_SCORE_WEIGHTS = {"recon": 1.0, "latent": 0.0, "disc": 0.0, "knn": 0.0}
PIXEL_KNN_SCORE_WEIGHTS = {"recon": 0.0, "latent": 1.0, "disc": 0.0, "knn": 2.0}
KNN_SPACES = ("cosine", "pixels")
_TARGET_STEPS = 1000


class ImageForward(NamedTuple):
    """Scores of a batch of images with their reconstructions."""

    scores: Scores
    x: np.ndarray
    x_hat: np.ndarray


def resolve_image_sizes(
    n_images: int,
    image_size: int,
    *,
    latent_dim: int | None = None,
    batch_size: int | None = None,
    epochs: int | None = None,
) -> ResolvedSizes:
    """Fill the sizes left as None by the rule in the module docstring."""
    batch = batch_size or min(64, max(8, n_images // 8))
    steps_per_epoch = max(1, math.ceil(n_images / batch))
    return ResolvedSizes(
        hidden_dims=(),
        latent_dim=latent_dim or min(128, max(16, image_size)),
        batch_size=batch,
        epochs=epochs or min(100, max(5, math.ceil(_TARGET_STEPS / steps_per_epoch))),
    )


class ImageGANomalyDetector(GanDetectorBase):
    """GANomaly for images: train on normal images, score new ones.

    Parameters
    ----------
    image_size : int, default=32
        Images are resized to ``image_size x image_size`` (a power of two, 16-256).
    channels : int or None, default=None
        1 (grey) or 3 (colour); None takes it from the training data.
    base_width : int, default=16
        Convolution width of the first layer (doubles per layer, up to 8x).
    smoothing : int, default=3
        Box-filter size of the heat maps (1 for raw per-pixel residuals).
    knn_space : {"cosine", "pixels"}, default="cosine"
        ``"cosine"``: the knn component is the cosine 5-NN distance in two
        views, the pixels and the GAN encoder's latent code, each normalised on
        held-out images, then averaged (``image_neighbors.py``). ``"pixels"``:
        the Euclidean distance between model inputs (0.3 to 0.5).
    score_weights : dict or None, default=None
        None means ``IMAGE_SCORE_WEIGHTS`` with cosine neighbours (knn 1, the
        other components 0) and ``PIXEL_KNN_SCORE_WEIGHTS`` with
        ``knn_space="pixels"`` (latent 1, knn 2).
    Others as in ``GANomalyDetector``.
    """

    modality = "image"
    unit = "images"
    component_names = IMAGE_COMPONENTS

    def __init__(
        self,
        *,
        contamination: float = 0.1,
        threshold_method: str = "fpr",
        target_fpr: float = 0.01,
        image_size: int = 32,
        channels: int | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        lr: float = 2e-4,
        latent_dim: int | None = None,
        base_width: int = 16,
        adv_weight: float = 1.0,
        recon_weight: float = 50.0,
        latent_weight: float = 1.0,
        spectral_norm: bool = True,
        validation_fraction: float = 0.1,
        score_weights: dict[str, float] | None = None,
        knn_neighbors: int = 5,
        knn_reference_rows: int = 10_000,
        knn_space: str = "cosine",
        smoothing: int = 3,
        device: str = "auto",
        mixed_precision: bool = True,
        random_state: int | None = None,
        verbose: int = 0,
        checkpoint_dir: str | Path | None = None,
    ) -> None:
        super().__init__(contamination=contamination)
        self.threshold_method = threshold_method
        self.target_fpr = target_fpr
        self.image_size = image_size
        self.channels = channels
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.latent_dim = latent_dim
        self.base_width = base_width
        self.adv_weight = adv_weight
        self.recon_weight = recon_weight
        self.latent_weight = latent_weight
        self.spectral_norm = spectral_norm
        self.validation_fraction = validation_fraction
        self.score_weights = score_weights
        self.knn_neighbors = knn_neighbors
        self.knn_reference_rows = knn_reference_rows
        self.knn_space = knn_space
        self.smoothing = smoothing
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose
        self.checkpoint_dir = checkpoint_dir

    # ------------------------------------------------------------------- fit
    def fit(
        self, X: Any, y: Any = None, *, resume: bool = False
    ) -> ImageGANomalyDetector:
        """Train on normal images (an array of images or a source path).

        With ``checkpoint_dir`` a checkpoint is written after every epoch;
        ``resume=True`` continues from it (it must come from the same images
        and settings).
        """
        self._check_params()
        started = time.perf_counter()
        pixels = self._pixels(X, fitting=True)
        if len(pixels) < _MIN_IMAGES:
            msg = (
                f"training images: expected at least {_MIN_IMAGES}, found {len(pixels)}"
            )
            raise SchemaError(msg)
        self._set_n_classes(None)
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(pixels))
        n_val = max(2, round(self.validation_fraction * len(pixels)))
        val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
        self.sizes_ = resolve_image_sizes(
            len(train_idx),
            self.image_size,
            latent_dim=self.latent_dim,
            batch_size=self.batch_size,
            epochs=self.epochs,
        )
        self.device_ = resolve_device(self.device)
        trainer = GanTrainer(
            build=self._build_networks,
            sizes=self.sizes_,
            lr=self.lr,
            weights={
                "adv_weight": self.adv_weight,
                "recon_weight": self.recon_weight,
                "latent_weight": self.latent_weight,
            },
            device=self.device_,
            mixed_precision=self.mixed_precision,
            random_state=self.random_state,
            verbose=self.verbose,
            checkpoint_dir=Path(self.checkpoint_dir) if self.checkpoint_dir else None,
            fingerprint=self._run_fingerprint(pixels),
        )
        result = trainer.fit(pixels[train_idx], pixels[val_idx], resume=resume)
        self.generator_, self.discriminator_ = result.generator, result.discriminator
        self.history_ = result.history
        self.step_history_ = result.steps
        self.best_epoch_ = result.best_epoch
        reference = train_idx
        if len(reference) > self.knn_reference_rows:
            pick = np.random.default_rng(
                None if self.random_state is None else self.random_state + 1
            )
            reference = np.sort(
                pick.choice(train_idx, self.knn_reference_rows, replace=False)
            )
        in_reference = np.zeros(len(pixels), dtype=bool)
        in_reference[reference] = True
        if self.knn_space == "cosine" and len(reference):
            vectors = self._vectors(pixels)
            self.cosine_knn_ = CosineViews.fit(
                {v: vectors[v][reference] for v in VIEWS},
                {v: vectors[v][val_idx] for v in VIEWS},
                self.knn_neighbors,
                self.device_,
            )
            reference = reference[:0]  # no Euclidean pixel reference
        width = int(np.prod(pixels.shape[1:]))
        self.knn_reference_ = pixels[reference].reshape(len(reference), width)
        raw = self._raw(pixels, in_reference=in_reference)[0]
        defaults = (
            IMAGE_SCORE_WEIGHTS
            if self.knn_space == "cosine"
            else PIXEL_KNN_SCORE_WEIGHTS
        )
        weights = dict(self.score_weights or defaults)
        if not len(in_reference) or not in_reference.any():
            weights.pop("knn", None)
        val = RawResiduals(*(part[val_idx] for part in raw))
        self.calibrator_ = ScoreCalibrator.fit(
            val, [(0, raw.recon.shape[1])], weights, target_fpr=self.target_fpr
        )
        self.decision_scores_ = self.calibrator_.score(raw).anomaly_score
        self.validation_scores_ = self.decision_scores_[val_idx]
        if self.threshold_method == "contamination":
            self.threshold_ = threshold_for_contamination(
                self.decision_scores_, float(self.contamination)
            )
        else:
            self.threshold_ = self.calibrator_.threshold
        self._set_labels()
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _run_fingerprint(self, pixels: np.ndarray) -> str:
        """Identify the images and settings, so a resume refuses another run's checkpoint."""
        params = {
            k: v
            for k, v in self.get_params().items()
            if k not in ("verbose", "checkpoint_dir")
        }
        digest = hashlib.sha256(repr(sorted(params.items())).encode())
        digest.update(repr(self.sizes_).encode())
        digest.update(np.ascontiguousarray(pixels, dtype=np.float32).tobytes())
        return digest.hexdigest()

    def _check_params(self) -> None:
        checks = [
            (
                self.image_size in (16, 32, 64, 128, 256),
                "image_size",
                "16, 32, 64, 128 or 256",
                self.image_size,
            ),
            (self.channels in (None, 1, 3), "channels", "1, 3 or None", self.channels),
            (
                self.threshold_method in ("fpr", "contamination"),
                "threshold_method",
                "fpr or contamination",
                self.threshold_method,
            ),
            (
                0 < self.target_fpr < 1,
                "target_fpr",
                "a number in (0, 1)",
                self.target_fpr,
            ),
            (
                0 < self.validation_fraction < 0.5,
                "validation_fraction",
                "a number in (0, 0.5)",
                self.validation_fraction,
            ),
            (
                isinstance(self.smoothing, int)
                and self.smoothing >= 1
                and self.smoothing % 2 == 1,
                "smoothing",
                "an odd positive integer",
                self.smoothing,
            ),
            (
                self.score_weights is None
                or (
                    set(self.score_weights) <= set(IMAGE_COMPONENTS)
                    and sum(self.score_weights.values()) > 0
                    and min(self.score_weights.values()) >= 0
                ),
                "score_weights",
                f"non-negative weights of {', '.join(IMAGE_COMPONENTS)} with a positive sum",
                self.score_weights,
            ),
            (
                self.knn_space in KNN_SPACES,
                "knn_space",
                f"one of {', '.join(KNN_SPACES)}",
                self.knn_space,
            ),
            (
                isinstance(self.knn_reference_rows, int)
                and self.knn_reference_rows >= 0,
                "knn_reference_rows",
                "a non-negative integer",
                self.knn_reference_rows,
            ),
        ]
        for ok, name, expected, value in checks:
            if not ok:
                msg = f"parameter '{name}': expected {expected}, found {value!r}"
                raise ConfigError(msg)

    channels_: int

    def _pixels(self, X: Any, *, fitting: bool) -> np.ndarray:
        if isinstance(X, str | Path):
            from anomaly_gan.data.images import infer_channels

            channels = (
                self.channels_ if not fitting else (self.channels or infer_channels(X))
            )
            batch = load_images(X, self.image_size, channels)
            self.last_rejected_ = batch.rejected
            pixels = batch.pixels
        else:
            array = np.asarray(X)
            if fitting:
                colour = array.ndim == 4 and (
                    array.shape[-1] in (3, 4) or array.shape[1] == 3
                )
                channels = self.channels or (3 if colour else 1)
            else:
                channels = self.channels_
            pixels = prepare(array, self.image_size, channels)
        if fitting:
            self.channels_ = (
                int(pixels.shape[1]) if len(pixels) else int(self.channels or 1)
            )
        elif pixels.shape[1:] != (self.channels_, self.image_size, self.image_size):
            msg = (
                f"images: expected {self.channels_} channel(s), found {pixels.shape[1]}"
            )
            raise DataError(msg)
        return pixels

    def _build_networks(self) -> tuple[ImageGenerator, ImageDiscriminator]:
        gen = ImageGenerator(
            self.channels_, self.image_size, self.sizes_.latent_dim, self.base_width
        )
        disc = ImageDiscriminator(
            self.channels_,
            self.image_size,
            self.base_width,
            spectral_norm=self.spectral_norm,
        )
        return gen, disc

    # --------------------------------------------------------------- scoring
    def _raw(
        self, pixels: np.ndarray, *, in_reference: np.ndarray | None = None
    ) -> tuple[RawResiduals, np.ndarray]:
        out = compute_residuals(
            self.generator_,
            self.discriminator_,
            pixels,
            self.device_,
            reference=self.knn_reference_,
            k=self.knn_neighbors,
            in_reference=in_reference,
        )
        knn = out.knn
        if self.knn_space == "cosine" and hasattr(self, "cosine_knn_"):
            knn = self.cosine_knn_.distance(
                self._vectors(pixels), self.device_, in_reference=in_reference
            )
        marginal = np.zeros(len(pixels), dtype=np.float64)
        raw = RawResiduals(out.recon, out.latent, out.disc, knn, marginal)
        return raw, out.x_hat

    def _vectors(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        encoder = self.generator_.get_submodule("encoder")
        return view_vectors(encoder, pixels, self.device_)

    def forward(self, X: Any) -> ImageForward:
        """Scores, inputs and reconstructions of images (array or source path)."""
        check_is_fitted(self, "calibrator_")
        return self.forward_pixels(self._pixels(X, fitting=False))

    def forward_pixels(self, pixels: np.ndarray) -> ImageForward:
        """Like ``forward`` for images already prepared (``images.prepare``)."""
        check_is_fitted(self, "calibrator_")
        raw, x_hat = self._raw(pixels)
        return ImageForward(self.calibrator_.score(raw), pixels, x_hat)

    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly scores, higher for more anomalous images."""
        return self.forward(X).scores.anomaly_score

    def score_components(self, X: Any) -> pd.DataFrame:
        """``anomaly_score``, ``is_anomaly`` and the normalised components."""
        return self.components_frame(self.forward(X).scores)

    def explain(self, X: Any) -> np.ndarray:
        """Per-pixel residual heat maps, shape (n, image_size, image_size).

        The absolute difference between each image and its reconstruction,
        averaged over channels and smoothed with a ``smoothing`` x ``smoothing``
        box filter; larger means less like the normal images.
        """
        forward = self.forward(X)
        return self.heatmaps(forward.x, forward.x_hat)

    def heatmaps(self, x: np.ndarray, x_hat: np.ndarray) -> np.ndarray:
        """Heat maps from inputs and reconstructions (see ``explain``)."""
        residual: np.ndarray = np.abs(x - x_hat).mean(axis=1)
        k = self.smoothing
        if k == 1:
            return residual
        padded = np.pad(
            residual, ((0, 0), (k // 2, k // 2), (k // 2, k // 2)), mode="edge"
        )
        windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(1, 2))
        smoothed: np.ndarray = windows.mean(axis=(-1, -2))
        return smoothed

    # ----------------------------------------------------------- persistence
    def _model_parts(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = {"knn_reference": torch.as_tensor(self.knn_reference_)}
        scorer: dict[str, Any] = {}
        if hasattr(self, "cosine_knn_"):
            cosine_tensors, scorer["knn_cosine"] = self.cosine_knn_.to_state()
            tensors.update(cosine_tensors)
        params = {k: v for k, v in self.get_params().items() if k != "checkpoint_dir"}
        parts = {
            "config": {
                "modality": "image",
                "params": params,
                "sizes": {
                    "latent_dim": self.sizes_.latent_dim,
                    "batch_size": self.sizes_.batch_size,
                    "epochs": self.sizes_.epochs,
                },
                "channels": self.channels_,
            },
            "preprocessor": {
                "image_size": self.image_size,
                "channels": self.channels_,
                "pixel_range": [-1.0, 1.0],
            },
            "scorer": scorer,
            "metadata": {"modality": "image"},
        }
        return tensors, parts

    @classmethod
    def _restore(
        cls,
        config: dict[str, Any],
        tensors: dict[str, torch.Tensor],
        parts: dict[str, Any],
    ) -> tuple[ImageGANomalyDetector, torch.nn.Module, torch.nn.Module]:
        params = dict(config["params"])
        # Written before cosine neighbours (format 4 and older): Euclidean pixels.
        params.setdefault("knn_space", "pixels")
        det = cls(**params)
        det.channels_ = int(config["channels"])
        sizes = config["sizes"]
        det.sizes_ = ResolvedSizes(
            (),
            int(sizes["latent_dim"]),
            int(sizes["batch_size"]),
            int(sizes["epochs"]),
        )
        gen, disc = det._build_networks()
        det.calibrator_ = ScoreCalibrator.from_dict(parts["scorer"]["calibrator"])
        det.threshold_ = float(parts["scorer"]["threshold"])
        if "knn_cosine" in parts["scorer"]:
            det.cosine_knn_ = CosineViews.from_state(
                tensors, parts["scorer"]["knn_cosine"]
            )
        return det, gen, disc

    def _after_load(self, path: str | Path, tensors: dict[str, torch.Tensor]) -> None:
        self.knn_reference_ = tensors["knn_reference"].numpy().astype(np.float32)


__all__ = ["ImageGANomalyDetector", "resolve_image_sizes"]
