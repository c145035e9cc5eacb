"""Typed configuration: one frozen dataclass per concern, all checked on creation.

``DetectorConfig`` holds every knob of ``GANomalyDetector`` under the same name as
the constructor argument, the config file key and the CLI flag (with dashes).
Sizes left as ``None`` are derived from the data's shape by ``resolve`` (the rule
is in its docstring). This module must not import torch or any other package
module than ``exceptions``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anomaly_gan.exceptions import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

_DEVICES = ("auto", "cpu", "cuda", "mps")
_NUMERIC_TRANSFORMS = ("robust", "standard", "quantile")
_THRESHOLD_METHODS = ("fpr", "contamination")
_SCORE_COMPONENTS = ("recon", "latent", "disc", "knn", "marginal")
_SCORE_COMBINE = ("balanced", "max", "mean")
_TARGET_STEPS = 60  # optimiser steps the default epoch count aims at
_MIN_EPOCHS = 1
# Tables whose epoch is a few dozen to a few hundred steps train at least this
# many epochs or steps, whichever is fewer: a single epoch left the GAN noisy
# from one fit to the next (docs/benchmarks.md, log item 14).
_LARGE_EPOCHS = 3
_LARGE_STEPS = 300
_MAX_EPOCHS = 200
# Chosen on fold A of ../shared/BENCHMARK.md (docs/benchmarks.md, log item 15).
DEFAULT_SCORE_WEIGHTS = {
    "recon": 1.0,
    "latent": 0.5,
    "disc": 0.5,
    "knn": 7.0,
    "marginal": 1.0,
}
DEFAULT_KNN_VIEWS = ("quantile", "standard")
COLUMN_OPTIONS = (
    "numeric_cols",
    "categorical_cols",
    "boolean_cols",
    "id_cols",
    "timestamp_cols",
    "exclude_cols",
)
# DetectorConfig fields that parameterise the TabularPreprocessor.
PREPROCESSOR_PARAMS = (
    "numeric_transform",
    "clip",
    "max_categories",
    "min_frequency",
    *COLUMN_OPTIONS,
    "label_col",
    "impute_missing",
)


def _check(condition: bool, name: str, expected: str, value: object) -> None:
    if not condition:
        msg = f"parameter '{name}': expected {expected}, found {value!r}"
        raise ConfigError(msg)


def _as_tuple(value: Any) -> tuple[Any, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Every parameter of the tabular GANomaly detector.

    Parameters
    ----------
    contamination : float, default=0.1
        PyOD's expected share of anomalies; sets the threshold only when
        ``threshold_method="contamination"``.
    threshold_method : {"fpr", "contamination"}, default="fpr"
        ``"fpr"`` calibrates the threshold on held-out normal rows so that
        ``target_fpr`` of them are flagged; ``"contamination"`` uses PyOD's rule on
        the training scores.
    target_fpr : float, default=0.01
        False-positive rate the threshold aims at on normal data.
    epochs : int or None, default=None
        Training epochs; ``None`` derives them from the row count (see ``resolve``).
    batch_size : int or None, default=None
        Rows per step; ``None`` means ``min(256, max(32, n_rows // 8))``.
    lr : float, default=1.5e-3
        Adam learning rate of both networks (the GANomaly paper's 2e-4 suits
        its long training; the default's short one needs a larger step).
    hidden_dims : tuple of int or None, default=None
        Widths of the encoder's hidden layers (the decoder mirrors them).
    latent_dim : int or None, default=None
        Size of the latent code.
    adv_weight, recon_weight, latent_weight : float, default=1, 50, 1
        Generator loss weights (Akcay et al., 2018, section 3.2).
    spectral_norm : bool, default=True
        Spectral normalisation on the discriminator's layers.
    dropout : float, default=0.0
        Dropout in the discriminator's hidden layers.
    validation_fraction : float, default=0.1
        Share of the normal training rows held out for best-epoch selection and
        score calibration.
    score_weights : dict, default=DEFAULT_SCORE_WEIGHTS
        Weights of the normalised components in ``anomaly_score``: ``recon``,
        ``latent``, ``disc`` (the GAN's residuals), ``knn`` (distance to the
        nearest training rows) and ``marginal`` (how rare each value is in its
        own column). 0 leaves a component out.
    score_combine : {"balanced", "max", "mean"}, default="balanced"
        ``"mean"``: the weighted mean of all components (0.2 to 0.4).
        ``"max"``: the weighted mean within each group of evidence (the GAN's
        residuals; the knn term; the marginal term), then the largest, so that
        anomalies whose look-alikes sit in the training data (where the knn
        distance is small) are still flagged by the GAN. ``"balanced"``: the
        average of the two. See ``docs/model.md``.
    knn_neighbors : int, default=5
        Neighbours averaged by the ``knn`` component.
    knn_views : tuple of str, default=("quantile", "standard")
        Scalings of the numeric columns in which the ``knn`` component measures
        distances (each normalised on held-out normal rows, then averaged);
        values from ``numeric_transform``'s choices, no repeats.
    knn_reference_rows : int, default=10000
        Training rows kept (a seeded random subset when there are more) as the
        reference set of the ``knn`` and ``marginal`` components; 0 turns both
        off.
    numeric_transform : {"robust", "standard", "quantile"}, default="robust"
        Scaling of numeric columns; ``"robust"`` takes ``log1p`` of heavy-tailed
        non-negative columns, then centres on the median and scales by the IQR.
    clip : float, default=10.0
        Scaled numeric values are clipped to ``[-clip, clip]``.
    max_categories : int, default=50
        Largest vocabulary kept per categorical column (plus "other").
    min_frequency : float, default=0.001
        Share of rows a category needs to get its own slot.
    numeric_cols, categorical_cols, boolean_cols : tuple of str or None
        Explicit column roles; others are inferred from dtypes.
    id_cols, timestamp_cols, exclude_cols : tuple of str or None
        Columns never fed to the model.
    label_col : str or None, default=None
        A label column in the training frame; never a feature.
    impute_missing : bool, default=True
        Impute missing feature values when scoring (median, false); when False
        a row with a missing feature value is rejected.
    device : {"auto", "cpu", "cuda", "mps"}, default="auto"
        ``"auto"`` picks CUDA, then MPS, then CPU.
    mixed_precision : bool, default=True
        Autocast on CUDA (ignored elsewhere).
    random_state : int or None, default=None
        Seed of every random generator the detector builds.
    verbose : int, default=0
        0 silent, 1 progress bar.
    network_features : bool, default=False
        The rows are network connection records and carry the ``net_*``
        columns of ``features.connections``; every scoring driver derives
        them before the rows reach the detector (``jobs.network_features``).
        ``train`` sets it when the data are connection records.
    """

    contamination: float = 0.1
    threshold_method: str = "fpr"
    target_fpr: float = 0.01
    epochs: int | None = None
    batch_size: int | None = None
    lr: float = 1.5e-3
    hidden_dims: tuple[int, ...] | None = None
    latent_dim: int | None = None
    adv_weight: float = 1.0
    recon_weight: float = 50.0
    latent_weight: float = 1.0
    spectral_norm: bool = True
    dropout: float = 0.0
    validation_fraction: float = 0.1
    score_weights: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_SCORE_WEIGHTS)
    )
    score_combine: str = "balanced"
    knn_neighbors: int = 5
    knn_views: tuple[str, ...] = DEFAULT_KNN_VIEWS
    knn_reference_rows: int = 10_000
    numeric_transform: str = "robust"
    clip: float = 10.0
    max_categories: int = 50
    min_frequency: float = 0.001
    numeric_cols: tuple[str, ...] | None = None
    categorical_cols: tuple[str, ...] | None = None
    boolean_cols: tuple[str, ...] | None = None
    id_cols: tuple[str, ...] | None = None
    timestamp_cols: tuple[str, ...] | None = None
    exclude_cols: tuple[str, ...] | None = None
    label_col: str | None = None
    impute_missing: bool = True
    device: str = "auto"
    mixed_precision: bool = True
    random_state: int | None = None
    verbose: int = 0
    network_features: bool = False

    def __post_init__(self) -> None:
        for name in COLUMN_OPTIONS:
            object.__setattr__(self, name, _as_tuple(getattr(self, name)))
        if self.hidden_dims is not None:
            object.__setattr__(self, "hidden_dims", tuple(self.hidden_dims))
        if isinstance(self.knn_views, str):
            object.__setattr__(self, "knn_views", (self.knn_views,))
        elif isinstance(self.knn_views, list):
            object.__setattr__(self, "knn_views", tuple(self.knn_views))
        if self.score_weights is None:
            object.__setattr__(self, "score_weights", DetectorConfig().score_weights)
        object.__setattr__(self, "score_weights", dict(self.score_weights))
        self._validate()

    def _validate(self) -> None:
        _check(
            isinstance(self.contamination, (int, float))
            and 0 < self.contamination <= 0.5,
            "contamination",
            "a number in (0, 0.5]",
            self.contamination,
        )
        _check(
            self.threshold_method in _THRESHOLD_METHODS,
            "threshold_method",
            f"one of {', '.join(_THRESHOLD_METHODS)}",
            self.threshold_method,
        )
        _check(
            isinstance(self.target_fpr, (int, float)) and 0 < self.target_fpr < 1,
            "target_fpr",
            "a number in (0, 1)",
            self.target_fpr,
        )
        for name in ("epochs", "batch_size", "latent_dim"):
            value = getattr(self, name)
            _check(
                value is None or (_is_int(value) and value >= 1),
                name,
                "a positive integer or None",
                value,
            )
        _check(
            self.hidden_dims is None
            or (
                len(self.hidden_dims) >= 1
                and all(_is_int(h) and h >= 1 for h in self.hidden_dims)
            ),
            "hidden_dims",
            "a non-empty list of positive integers or None",
            self.hidden_dims,
        )
        for name in ("lr", "clip"):
            value = getattr(self, name)
            _check(
                isinstance(value, (int, float)) and value > 0 and math.isfinite(value),
                name,
                "a positive number",
                value,
            )
        for name in ("adv_weight", "recon_weight", "latent_weight"):
            value = getattr(self, name)
            _check(
                isinstance(value, (int, float)) and value >= 0,
                name,
                "a non-negative number",
                value,
            )
        _check(
            isinstance(self.dropout, (int, float)) and 0 <= self.dropout < 1,
            "dropout",
            "a number in [0, 1)",
            self.dropout,
        )
        _check(
            isinstance(self.validation_fraction, (int, float))
            and 0 < self.validation_fraction < 0.5,
            "validation_fraction",
            "a number in (0, 0.5)",
            self.validation_fraction,
        )
        unknown = sorted(set(self.score_weights) - set(_SCORE_COMPONENTS))
        _check(
            not unknown,
            "score_weights",
            f"keys among {', '.join(_SCORE_COMPONENTS)}",
            unknown,
        )
        _check(
            all(
                isinstance(w, (int, float)) and w >= 0
                for w in self.score_weights.values()
            )
            and sum(self.score_weights.values()) > 0,
            "score_weights",
            "non-negative weights with a positive sum",
            self.score_weights,
        )
        _check(
            self.score_combine in _SCORE_COMBINE,
            "score_combine",
            f"one of {', '.join(_SCORE_COMBINE)}",
            self.score_combine,
        )
        _check(
            _is_int(self.knn_neighbors) and self.knn_neighbors >= 1,
            "knn_neighbors",
            "a positive integer",
            self.knn_neighbors,
        )
        _check(
            _is_int(self.knn_reference_rows) and self.knn_reference_rows >= 0,
            "knn_reference_rows",
            "a non-negative integer (0 turns the knn and marginal components off)",
            self.knn_reference_rows,
        )
        _check(
            isinstance(self.knn_views, tuple)
            and len(self.knn_views) >= 1
            and len(set(self.knn_views)) == len(self.knn_views)
            and all(v in _NUMERIC_TRANSFORMS for v in self.knn_views),
            "knn_views",
            f"one or more distinct values of {', '.join(_NUMERIC_TRANSFORMS)}",
            self.knn_views,
        )
        _check(
            self.numeric_transform in _NUMERIC_TRANSFORMS,
            "numeric_transform",
            f"one of {', '.join(_NUMERIC_TRANSFORMS)}",
            self.numeric_transform,
        )
        _check(
            _is_int(self.max_categories) and self.max_categories >= 1,
            "max_categories",
            "a positive integer",
            self.max_categories,
        )
        _check(
            isinstance(self.min_frequency, (int, float))
            and 0 <= self.min_frequency < 1,
            "min_frequency",
            "a number in [0, 1)",
            self.min_frequency,
        )
        _check(
            self.device in _DEVICES or str(self.device).startswith("cuda:"),
            "device",
            f"one of {', '.join(_DEVICES)} or 'cuda:N'",
            self.device,
        )
        _check(
            self.random_state is None or _is_int(self.random_state),
            "random_state",
            "an integer or None",
            self.random_state,
        )
        _check(_is_int(self.verbose), "verbose", "an integer", self.verbose)

    # ------------------------------------------------------------------ sizes
    def resolve(self, n_rows: int, n_features: int) -> ResolvedSizes:
        """Fill the sizes left as ``None`` by rule from the data's shape.

        The rule (documented in ``docs/model.md``):

        - ``hidden_dims``: two layers, ``h1 = clip(2 * n_features, 32, 256)`` and
          ``h2 = max(16, h1 // 2)``;
        - ``latent_dim``: ``clip(ceil(n_features / 4), 4, 32)`` and never above
          ``h2``;
        - ``batch_size``: ``clip(n_rows // 8, 32, 256)``;
        - ``epochs``: enough for about 60 optimiser steps, clipped to
          ``[3, 200]`` (with a learning rate of 1.5e-3, about as good on ADBench
          as 1,000 steps at 2e-4, in a tenth of the time; docs/benchmarks.md).
        """
        h1 = (
            self.hidden_dims[0]
            if self.hidden_dims
            else min(256, max(32, 2 * n_features))
        )
        hidden = self.hidden_dims or (h1, max(16, h1 // 2))
        latent = self.latent_dim or min(
            32, max(4, math.ceil(n_features / 4)), hidden[-1]
        )
        batch = self.batch_size or min(256, max(32, n_rows // 8))
        steps_per_epoch = max(1, math.ceil(n_rows / batch))
        steps = max(_TARGET_STEPS, min(_LARGE_EPOCHS * steps_per_epoch, _LARGE_STEPS))
        epochs = self.epochs or min(
            _MAX_EPOCHS, max(_MIN_EPOCHS, math.ceil(steps / steps_per_epoch))
        )
        return ResolvedSizes(
            hidden_dims=tuple(int(h) for h in hidden),
            latent_dim=int(latent),
            batch_size=int(batch),
            epochs=int(epochs),
        )

    # ------------------------------------------------------------- round trip
    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of every field."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], *, source: str = "config"
    ) -> DetectorConfig:
        """Build a config from a dict, refusing unknown keys."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            msg = (
                f"{source}: unknown parameter '{unknown[0]}'; expected one of "
                f"the detector's parameters (see docs/configuration.md)"
            )
            raise ConfigError(msg)
        return cls(**data)

    @classmethod
    def from_file(cls, path: str | Path) -> DetectorConfig:
        """Read a TOML or JSON config file (keys as the constructor arguments)."""
        path = Path(path)
        data = read_config_file(path)
        if not isinstance(data, dict):
            msg = f"config file '{path}': expected a table of parameters"
            raise ConfigError(msg)
        # A TOML file may group the parameters under [detector].
        if set(data) == {"detector"} and isinstance(data["detector"], dict):
            data = data["detector"]
        return cls.from_dict(data, source=f"config file '{path}'")


def read_config_file(path: Path) -> Any:
    """Parse a config file: JSON (.json), YAML (.yaml, .yml) or TOML (anything else)."""
    suffix = path.suffix.lower()
    kind = (
        "JSON"
        if suffix == ".json"
        else "YAML"
        if suffix in (".yaml", ".yml")
        else "TOML"
    )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"config file '{path}': cannot be read ({exc.strerror})"
        raise ConfigError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = f"config file '{path}': expected UTF-8 text ({exc.reason})"
        raise ConfigError(msg) from exc
    try:
        if kind == "JSON":
            return json.loads(text)
        if kind == "YAML":
            import yaml

            return yaml.safe_load(text) or {}
        return tomllib.loads(text)
    except Exception as exc:
        msg = (
            f"config file '{path}': expected valid {kind} ({str(exc).splitlines()[0]})"
        )
        raise ConfigError(msg) from exc


@dataclass(frozen=True, slots=True)
class ResolvedSizes:
    """Network and training sizes after the rule of ``DetectorConfig.resolve``."""

    hidden_dims: tuple[int, ...]
    latent_dim: int
    batch_size: int
    epochs: int


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
