"""What both GANomaly detectors share: threshold, score columns, the model directory.

``GanDetectorBase`` sits between PyOD's ``BaseDetector`` and the two detectors
(``tabular.GANomalyDetector``, ``image.ImageGANomalyDetector``). It owns the
parts that were the same in both: the threshold for a false-positive rate, the
score columns of an output (``components_frame``), and ``save``/``load`` of the
model directory (networks, calibration scores, history, common metadata), with
two hooks a detector fills in:

- ``_model_parts()``: the tensors and JSON parts only this detector writes;
- ``_restore(config, tensors, parts)``: a detector built from those parts,
  with its networks (not yet loaded with weights), and ``_after_load(path,
  tensors)`` for what needs the loaded networks.
"""

from __future__ import annotations

import datetime as dt
import platform
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd
import torch
from pyod.models.base import BaseDetector
from sklearn.utils.validation import check_is_fitted

from anomaly_gan._version import __version__
from anomaly_gan.detectors.artifacts import (
    FORMAT_VERSION,
    load_model_dir,
    save_model_dir,
)
from anomaly_gan.engine.forward import resolve_device
from anomaly_gan.exceptions import ArtifactError, ConfigError
from anomaly_gan.scoring import columns
from anomaly_gan.scoring.scorer import Scores, fpr_estimate, threshold_for_fpr


class ScoreResult(NamedTuple):
    """What scoring a batch returns: calibrated scores and the reconstructions.

    ``scores`` holds the anomaly score, each normalised component and the
    per-feature residuals the reasons are drawn from; ``x_hat`` is the
    generator's reconstruction of each input (encoded row or image).
    """

    scores: Scores
    x_hat: np.ndarray


class GanDetectorBase(BaseDetector):  # type: ignore[misc]
    """Shared behaviour of the GANomaly detectors; not fitted on its own."""

    #: ``config.json``'s ``modality`` this detector writes and accepts.
    modality: ClassVar[str] = ""
    #: what one input is called in messages ("rows", "images").
    unit: ClassVar[str] = "rows"
    #: the components an output carries, in column order.
    component_names: ClassVar[tuple[str, ...]] = ()

    # ------------------------------------------------------------ threshold
    def threshold_for_fpr(self, target_fpr: float) -> float:
        """Threshold flagging at most ``target_fpr`` of the held-out normal inputs."""
        check_is_fitted(self, "validation_scores_")
        if not 0 < target_fpr < 1:
            msg = f"false-positive rate: expected a number in (0, 1), found {target_fpr!r}"
            raise ConfigError(msg)
        return threshold_for_fpr(self.validation_scores_, target_fpr)

    def components_frame(
        self, scores: Scores, threshold: float | None = None
    ) -> pd.DataFrame:
        """Return the score columns every scored output carries.

        ``anomaly_score``, ``is_anomaly`` (above ``threshold``, else the
        model's own threshold), ``fpr_estimate`` (the share of held-out normal
        inputs scoring at least as high, ``scorer.fpr_estimate``) and
        ``score_<component>`` for each component.
        """
        cut = self.threshold_ if threshold is None else threshold
        normal = np.sort(self.validation_scores_)
        data: dict[str, Any] = {
            columns.SCORE: scores.anomaly_score,
            columns.FLAG: (scores.anomaly_score > cut).astype(np.int8),
            columns.FPR: fpr_estimate(normal, scores.anomaly_score),
        }
        for name in self.component_names:
            data[columns.component(name)] = scores.components[name]
        return pd.DataFrame(data)

    def _set_labels(self) -> None:
        """PyOD's fitted attributes that follow from the training scores."""
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)
        self._mu = float(np.mean(self.decision_scores_))
        self._sigma = float(np.std(self.decision_scores_))

    # ---------------------------------------------------------- persistence
    def save(self, path: str | Path) -> Path:
        """Write the model directory (atomic); see ``detectors.artifacts``."""
        check_is_fitted(self, "calibrator_")
        tensors: dict[str, torch.Tensor] = {
            f"generator.{k}": v for k, v in self.generator_.state_dict().items()
        }
        tensors.update(
            {
                f"discriminator.{k}": v
                for k, v in self.discriminator_.state_dict().items()
            }
        )
        tensors["decision_scores"] = torch.as_tensor(
            self.decision_scores_, dtype=torch.float64
        )
        tensors["validation_scores"] = torch.as_tensor(
            self.validation_scores_, dtype=torch.float64
        )
        own_tensors, parts = self._model_parts()
        tensors.update(own_tensors)
        parts["scorer"] = {
            **parts.get("scorer", {}),
            "calibrator": self.calibrator_.to_dict(),
            "threshold": float(self.threshold_),
            "threshold_method": self.threshold_method,
        }
        parts["history"] = {
            "epochs": self.history_,
            "best_epoch": self.best_epoch_,
            "steps": getattr(self, "step_history_", []),
        }
        parts["metadata"] = {
            "anomaly_gan_version": __version__,
            "format_version": FORMAT_VERSION,
            "torch_version": torch.__version__,
            "numpy_version": np.__version__,
            "python_version": platform.python_version(),
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(
                timespec="seconds"
            ),
            "n_training_rows": len(self.decision_scores_),
            "fit_seconds": getattr(self, "fit_seconds_", None),
            "device": str(self.device_),
            **parts.get("metadata", {}),
        }
        return save_model_dir(path, tensors=tensors, parts=parts)

    def _model_parts(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Return the tensors and parts only this detector writes.

        The parts are ``config``, ``preprocessor`` and extra ``scorer`` and
        ``metadata`` entries; ``save`` adds the shared ones.
        """
        raise NotImplementedError

    @classmethod
    def load(cls, path: str | Path, *, device: str = "cpu") -> Any:
        """Verify and load a model directory written by ``save``.

        Raises
        ------
        ArtifactError
            The directory is missing, altered, truncated, of a newer format or
            of the other modality.
        """
        tensors, parts = load_model_dir(path)
        config = parts["config"]
        if config.get("modality") != cls.modality:
            article = "an" if cls.modality[:1] in "aeiou" else "a"
            msg = f"model '{path}': expected {article} {cls.modality} model, found modality {config.get('modality')!r}"
            raise ArtifactError(msg)
        try:
            det, gen, disc = cls._restore(config, tensors, parts)
            gen.load_state_dict(_prefixed(tensors, "generator."))
            disc.load_state_dict(_prefixed(tensors, "discriminator."))
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            msg = f"model '{path}': contents do not match what this version writes ({exc.__class__.__name__}: {exc})"
            raise ArtifactError(msg) from exc
        det.device_ = resolve_device(device)
        det.generator_ = gen.to(det.device_).eval()
        det.discriminator_ = disc.to(det.device_).eval()
        det.history_ = parts["history"]["epochs"]
        det.step_history_ = parts["history"].get("steps", [])
        det.best_epoch_ = int(parts["history"]["best_epoch"])
        det.metadata_ = parts["metadata"]
        det.decision_scores_ = tensors["decision_scores"].numpy().astype(np.float64)
        det.validation_scores_ = tensors["validation_scores"].numpy().astype(np.float64)
        det._after_load(path, tensors)
        det._set_labels()
        det._set_n_classes(None)
        return det

    @classmethod
    def _restore(
        cls,
        config: dict[str, Any],
        tensors: dict[str, torch.Tensor],
        parts: dict[str, Any],
    ) -> tuple[Any, torch.nn.Module, torch.nn.Module]:
        """Build a detector from a model directory's parts, with its empty networks."""
        raise NotImplementedError

    def _after_load(self, path: str | Path, tensors: dict[str, torch.Tensor]) -> None:
        """Finish a loaded detector once its networks and scores are in."""


def _prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
