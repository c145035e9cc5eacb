"""``GANomalyDetector``: the PyOD-compatible face of the tabular GANomaly model.

It wires the parts together: ``TabularPreprocessor`` encodes the table,
``GanTrainer`` trains the networks of ``models.tabular`` on normal rows,
``ScoreCalibrator`` turns residuals into a calibrated score, and ``artifacts``
saves and verifies the model directory. The detector itself is never pickled.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_array, check_is_fitted

from anomaly_gan.config import (
    DEFAULT_KNN_VIEWS,
    PREPROCESSOR_PARAMS,
    DetectorConfig,
)
from anomaly_gan.data.tables import frame_fingerprint
from anomaly_gan.detectors import _tabular_parts
from anomaly_gan.detectors._base import GanDetectorBase, ScoreResult
from anomaly_gan.engine.forward import compute_residuals, resolve_device
from anomaly_gan.engine.training import GanTrainer
from anomaly_gan.exceptions import SchemaError
from anomaly_gan.features.preprocessing import TabularPreprocessor
from anomaly_gan.features.transform_report import TransformReport, warn_report
from anomaly_gan.models.knn_views import KnnViews
from anomaly_gan.models.marginal_tails import MarginalTails
from anomaly_gan.models.tabular import TabularDiscriminator, TabularGenerator
from anomaly_gan.scoring import columns
from anomaly_gan.scoring.scorer import (
    COMPONENTS,
    RawResiduals,
    ScoreCalibrator,
    Scores,
    ablation_scores,
    threshold_for_contamination,
    top_features,
)

logger = logging.getLogger(__name__)

_MIN_ROWS = 8
# DetectorConfig.score_combine -> ScoreCalibrator.combine
_COMBINE_RULE = {"balanced": "balanced", "max": "max", "mean": "signed_log"}


class GANomalyDetector(GanDetectorBase):
    """GANomaly anomaly detector for tabular data (numeric and categorical).

    Trained on normal rows only. The anomaly score combines the reconstruction
    residual, the latent residual and the discriminator-feature residual, each
    normalised on held-out normal rows; the threshold is calibrated on the same
    rows for a target false-positive rate. Higher scores are more anomalous.

    Parameters
    ----------
    All parameters are keyword-only and documented in
    :class:`anomaly_gan.config.DetectorConfig`; ``checkpoint_dir`` (path or None)
    additionally names a folder for per-epoch checkpoints that ``fit(...,
    resume=True)`` continues from.

    Attributes
    ----------
    decision_scores_ : ndarray of shape (n_samples,)
        Scores of the training rows (PyOD).
    threshold_ : float
        Rows scoring above it are flagged.
    labels_ : ndarray of shape (n_samples,)
        0/1 flags of the training rows.
    config_ : DetectorConfig
        The checked parameters.
    sizes_ : ResolvedSizes
        Network and training sizes after the shape rule.
    preprocessor_ : TabularPreprocessor
    calibrator_ : ScoreCalibrator
    history_ : list of dict
        Per-epoch losses and timings.
    best_epoch_ : int
        Epoch whose weights were kept (lowest validation loss).
    device_ : torch.device
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame.

    Examples
    --------
    >>> from anomaly_gan import GANomalyDetector, make_transactions
    >>> frame = make_transactions(5_000, fraud_rate=0.0, random_state=0)
    >>> det = GANomalyDetector(epochs=2, id_cols=["transaction_id", "card_id"],
    ...                        timestamp_cols=["timestamp"],
    ...                        exclude_cols=["is_fraud", "fraud_type"],
    ...                        random_state=0).fit(frame)
    >>> det.decision_function(frame.head(3)).shape
    (3,)
    """

    modality = "tabular"
    unit = "rows"
    component_names = COMPONENTS

    def __init__(
        self,
        *,
        contamination: float = 0.1,
        threshold_method: str = "fpr",
        target_fpr: float = 0.01,
        epochs: int | None = None,
        batch_size: int | None = None,
        lr: float = 1.5e-3,
        hidden_dims: Any = None,
        latent_dim: int | None = None,
        adv_weight: float = 1.0,
        recon_weight: float = 50.0,
        latent_weight: float = 1.0,
        spectral_norm: bool = True,
        dropout: float = 0.0,
        validation_fraction: float = 0.1,
        score_weights: dict[str, float] | None = None,
        score_combine: str = "balanced",
        knn_neighbors: int = 5,
        knn_views: Any = DEFAULT_KNN_VIEWS,
        knn_reference_rows: int = 10_000,
        numeric_transform: str = "robust",
        clip: float = 10.0,
        max_categories: int = 50,
        min_frequency: float = 0.001,
        numeric_cols: Any = None,
        categorical_cols: Any = None,
        boolean_cols: Any = None,
        id_cols: Any = None,
        timestamp_cols: Any = None,
        exclude_cols: Any = None,
        label_col: str | None = None,
        impute_missing: bool = True,
        device: str = "auto",
        mixed_precision: bool = True,
        random_state: int | None = None,
        verbose: int = 0,
        network_features: bool = False,
        checkpoint_dir: str | Path | None = None,
    ) -> None:
        super().__init__(contamination=contamination)
        self.threshold_method = threshold_method
        self.target_fpr = target_fpr
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.hidden_dims = hidden_dims
        self.latent_dim = latent_dim
        self.adv_weight = adv_weight
        self.recon_weight = recon_weight
        self.latent_weight = latent_weight
        self.spectral_norm = spectral_norm
        self.dropout = dropout
        self.validation_fraction = validation_fraction
        self.score_weights = score_weights
        self.score_combine = score_combine
        self.knn_neighbors = knn_neighbors
        self.knn_views = knn_views
        self.knn_reference_rows = knn_reference_rows
        self.numeric_transform = numeric_transform
        self.clip = clip
        self.max_categories = max_categories
        self.min_frequency = min_frequency
        self.numeric_cols = numeric_cols
        self.categorical_cols = categorical_cols
        self.boolean_cols = boolean_cols
        self.id_cols = id_cols
        self.timestamp_cols = timestamp_cols
        self.exclude_cols = exclude_cols
        self.label_col = label_col
        self.impute_missing = impute_missing
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose
        self.network_features = network_features
        self.checkpoint_dir = checkpoint_dir

    # ------------------------------------------------------------------- fit
    def fit(self, X: Any, y: Any = None, *, resume: bool = False) -> GANomalyDetector:
        """Train on normal rows.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Normal training rows; mixed types allowed in a DataFrame.
        y : ignored
            Present for API consistency.
        resume : bool, default=False
            Continue from the checkpoint in ``checkpoint_dir`` when there is one.

        Returns
        -------
        self : GANomalyDetector
        """
        params = self.get_params()
        params.pop("checkpoint_dir")
        self.config_ = DetectorConfig.from_dict(params, source="GANomalyDetector")
        self._set_n_classes(None)
        frame = self._validate_input(X, reset=True)
        if len(frame) < _MIN_ROWS:
            unit = "sample" if len(frame) == 1 else "samples"
            msg = f"training data: expected at least {_MIN_ROWS} rows, found {len(frame)} {unit}"
            raise SchemaError(msg)
        started = time.perf_counter()
        rng = np.random.default_rng(self.config_.random_state)
        order = rng.permutation(len(frame))
        n_val = max(2, round(self.config_.validation_fraction * len(frame)))
        val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
        pre_params = {name: getattr(self.config_, name) for name in PREPROCESSOR_PARAMS}
        self.preprocessor_ = TabularPreprocessor(**pre_params).fit(
            frame.iloc[train_idx]
        )
        train_report = TransformReport()
        encoded = self.preprocessor_.transform_with_report(frame, train_report)
        self.fingerprint_ = frame_fingerprint(frame)
        self.data_window_ = _tabular_parts.data_window(X, self.config_.timestamp_cols)
        self.sizes_ = self.config_.resolve(len(train_idx), encoded.shape[1])
        self.device_ = resolve_device(self.config_.device)
        n_encoded = encoded.shape[1]
        trainer = GanTrainer(
            build=lambda: self._build_networks(n_encoded),
            sizes=self.sizes_,
            lr=self.config_.lr,
            weights={
                "adv_weight": self.config_.adv_weight,
                "recon_weight": self.config_.recon_weight,
                "latent_weight": self.config_.latent_weight,
            },
            device=self.device_,
            mixed_precision=self.config_.mixed_precision,
            random_state=self.config_.random_state,
            verbose=self.config_.verbose,
            checkpoint_dir=Path(self.checkpoint_dir) if self.checkpoint_dir else None,
            fingerprint=self._run_fingerprint(),
        )
        result = trainer.fit(encoded[train_idx], encoded[val_idx], resume=resume)
        self.generator_, self.discriminator_ = result.generator, result.discriminator
        self.history_ = result.history
        self.step_history_ = result.steps
        self.best_epoch_ = result.best_epoch
        reference = self._pick_reference(train_idx)
        self.knn_views_ = KnnViews.fit(
            frame,
            encoded,
            transforms=self.config_.knn_views,
            own=self.preprocessor_,
            fit_rows=train_idx,
            reference_rows=reference,
            validation_rows=val_idx,
            k=self.config_.knn_neighbors,
            device=self.device_,
        )
        self.marginal_ = MarginalTails.fit(encoded[reference])
        in_reference = np.zeros(len(encoded), dtype=bool)
        in_reference[reference] = True
        residuals = self._residuals(frame, encoded, in_reference=in_reference).raw
        val_residuals = type(residuals)(*(part[val_idx] for part in residuals))
        slices = list(self.preprocessor_.feature_slices_.values())
        weights = dict(self.config_.score_weights)
        if not len(reference):
            weights.pop("knn", None)
            weights.pop("marginal", None)
        self.calibrator_ = ScoreCalibrator.fit(
            val_residuals,
            slices,
            weights,
            target_fpr=self.config_.target_fpr,
            combine=_COMBINE_RULE[self.config_.score_combine],
        )
        self.decision_scores_ = self.calibrator_.score(residuals).anomaly_score
        self.validation_index_ = val_idx
        self.validation_scores_ = self.decision_scores_[val_idx]
        self._finish_threshold()
        self.fit_seconds_ = time.perf_counter() - started
        logger.info(
            "trained on %d rows (%d held out) in %.1f s; best epoch %d of %d",
            len(train_idx),
            len(val_idx),
            self.fit_seconds_,
            self.best_epoch_,
            self.sizes_.epochs,
        )
        return self

    def _pick_reference(self, train_idx: np.ndarray) -> np.ndarray:
        """Return the knn and marginal components' reference: training rows, capped."""
        cap = self.config_.knn_reference_rows
        if len(train_idx) <= cap:
            return train_idx
        rng = np.random.default_rng(
            None if self.config_.random_state is None else self.config_.random_state + 1
        )
        return np.sort(rng.choice(train_idx, cap, replace=False))

    def _build_networks(
        self, n_encoded: int
    ) -> tuple[TabularGenerator, TabularDiscriminator]:
        gen = TabularGenerator(
            n_encoded, self.sizes_.hidden_dims, self.sizes_.latent_dim
        )
        disc = TabularDiscriminator(
            n_encoded,
            self.sizes_.hidden_dims,
            spectral_norm=self.config_.spectral_norm,
            dropout=self.config_.dropout,
        )
        return gen, disc

    def _run_fingerprint(self) -> str:
        config = {k: v for k, v in self.config_.to_dict().items() if k != "verbose"}
        blob = repr(sorted(config.items())) + self.fingerprint_ + repr(self.sizes_)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _finish_threshold(self) -> None:
        if self.config_.threshold_method == "contamination":
            self.threshold_ = threshold_for_contamination(
                self.decision_scores_, float(self.config_.contamination)
            )
        else:
            self.threshold_ = self.calibrator_.threshold
        self._set_labels()

    # ---------------------------------------------------------------- inputs
    def _validate_input(self, X: Any, *, reset: bool) -> pd.DataFrame:
        """Turn X into a DataFrame, recording (reset) or checking its shape."""
        if isinstance(X, pd.DataFrame):
            if not all(isinstance(c, str) for c in X.columns):
                X = X.rename(columns=str)
            if reset:
                self.feature_names_in_ = np.asarray(
                    [str(c) for c in X.columns], dtype=object
                )
                self.n_features_in_ = X.shape[1]
            return X
        array = check_array(
            X, dtype=np.float64, ensure_all_finite="allow-nan", ensure_min_samples=1
        )
        if reset:
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            self.n_features_in_ = array.shape[1]
            self._array_input = True
        elif array.shape[1] != self.n_features_in_:
            msg = (
                f"X has {array.shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input"
            )
            raise ValueError(msg)
        if getattr(self, "_array_input", False) or not hasattr(
            self, "feature_names_in_"
        ):
            names = [f"x{i}" for i in range(array.shape[1])]
        else:
            names = [str(c) for c in self.feature_names_in_]
        return pd.DataFrame(array, columns=names)

    # --------------------------------------------------------------- scoring
    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly scores, higher for more anomalous rows.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        anomaly_scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "calibrator_")
        scores = self.score_rows(self._validate_input(X, reset=False)).scores
        return scores.anomaly_score

    def score_components(self, X: Any) -> pd.DataFrame:
        """Score and flag with each normalised component.

        Returns
        -------
        DataFrame with columns ``anomaly_score``, ``is_anomaly`` (0/1) and
        ``score_recon``, ``score_latent``, ``score_disc``, ``score_knn``,
        ``score_marginal``.
        """
        check_is_fitted(self, "calibrator_")
        scores = self.score_rows(self._validate_input(X, reset=False)).scores
        return self.components_frame(scores)

    def ablation_scores(self, X: Any) -> dict[str, np.ndarray]:
        """Scores of this fitted model with parts of the score left out.

        The same normalised components, recombined by the model's own rule
        with some weights set to 0: which part carries the ranking.

        Returns
        -------
        dict of str to ndarray of shape (n_samples,)
            ``"gan"``: the GAN's residuals (recon, latent, disc) alone;
            ``"recon"``, ``"latent"``, ``"disc"``, ``"knn"``: each component
            alone; ``"no gan"``: the default without the GAN's residuals;
            ``"no recon"`` etc.: the default without that component. Only
            components with a positive weight appear.
        """
        check_is_fitted(self, "calibrator_")
        scores = self.score_rows(self._validate_input(X, reset=False)).scores
        return ablation_scores(self.calibrator_, scores.components)

    def explain(self, X: Any, top_k: int = 3) -> pd.DataFrame:
        """Return the ``top_k`` features behind each row's reconstruction residual.

        Returns
        -------
        DataFrame with, for k = 1..top_k, ``feature_k`` (column name),
        ``share_k`` (its share of the row's scaled residual), ``value_k`` (the
        row's value) and ``expected_k`` (the value the model reconstructed).
        """
        check_is_fitted(self, "calibrator_")
        frame = self._validate_input(X, reset=False)
        scores, x_hat = self.score_rows(frame)
        return self._explain_frame(frame, scores, x_hat, top_k)

    def score_rows(
        self,
        frame: pd.DataFrame,
        report: TransformReport | None = None,
        *,
        row_offset: int = 0,
    ) -> ScoreResult:
        """Encode and score the rows of ``frame`` (not validated: its columns by name).

        ``report`` collects unseen categories and coerced values (row numbers
        counted from ``row_offset``); without one, they are warned about.
        """
        if report is None:
            report = TransformReport()
            encoded = self.preprocessor_.transform_with_report(frame, report)
            warn_report(report, stacklevel=4)
        else:
            encoded = self.preprocessor_.transform_with_report(
                frame, report, row_offset=row_offset
            )
        return self.score_encoded(frame, encoded)

    def score_encoded(self, frame: pd.DataFrame, encoded: np.ndarray) -> ScoreResult:
        """Score rows already encoded by ``preprocessor_`` (``encoded``: their encoding).

        The one scoring call under every driver: the API, the streaming job,
        Dask, ``evaluate`` and the dashboard all end here.
        """
        forward = self._residuals(frame, encoded)
        return ScoreResult(self.calibrator_.score(forward.raw), forward.x_hat)

    def _residuals(
        self,
        frame: pd.DataFrame,
        encoded: np.ndarray,
        *,
        in_reference: np.ndarray | None = None,
    ) -> _Forward:
        """Raw residuals of rows of ``frame`` (``encoded``: their encoding)."""
        out = compute_residuals(
            self.generator_, self.discriminator_, encoded, self.device_
        )
        knn = self.knn_views_.distance(
            frame, encoded, self.device_, in_reference=in_reference
        )
        marginal = self.marginal_.surprise(encoded)
        raw = RawResiduals(out.recon, out.latent, out.disc, knn, marginal)
        return _Forward(raw, out.x_hat)

    def _explain_frame(
        self, frame: pd.DataFrame, scores: Scores, x_hat: np.ndarray, top_k: int
    ) -> pd.DataFrame:
        names = self.preprocessor_.required_columns_
        index, share = top_features(scores.feature_residuals, names, top_k)
        expected = self.preprocessor_.expected_values(x_hat)
        rows = np.arange(len(frame))
        out: dict[str, Any] = {}
        for k in range(index.shape[1]):
            cols = index[:, k]
            out[columns.reason("feature", k + 1)] = np.asarray(names, dtype=object)[
                cols
            ]
            out[columns.reason("share", k + 1)] = share[:, k]
            out[columns.reason("value", k + 1)] = _pick(frame[names], rows, cols)
            out[columns.reason("expected", k + 1)] = _pick(expected, rows, cols)
        return pd.DataFrame(out, index=frame.index)

    # ----------------------------------------------------------- persistence
    def _model_parts(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return _tabular_parts.model_parts(self)

    @classmethod
    def _restore(
        cls,
        config: dict[str, Any],
        tensors: dict[str, torch.Tensor],
        parts: dict[str, Any],
    ) -> tuple[GANomalyDetector, torch.nn.Module, torch.nn.Module]:
        return _tabular_parts.restore(cls, config, tensors, parts)

    def _after_load(self, path: str | Path, tensors: dict[str, torch.Tensor]) -> None:
        self.fingerprint_ = self.metadata_.get("training_fingerprint", "")
        _tabular_parts.check_calibration(path, self)

    # Pickling (for joblib, multiprocessing, Dask) carries the networks as state
    # dicts: torch cannot pickle spectral-norm modules. Persistence to disk goes
    # through save()/load(), never through pickle.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in ("generator_", "discriminator_"):
            if name in state:
                state[name] = {k: v.cpu() for k, v in state[name].state_dict().items()}
        if "device_" in state:
            state["device_"] = str(state["device_"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "generator_" in state:
            self.device_ = torch.device("cpu")
            gen, disc = self._build_networks(len(self.preprocessor_.output_names_))
            gen.load_state_dict(state["generator_"])
            disc.load_state_dict(state["discriminator_"])
            self.generator_, self.discriminator_ = gen.eval(), disc.eval()

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.non_deterministic = self.random_state is None
        return tags


class _Forward(NamedTuple):
    raw: RawResiduals
    x_hat: np.ndarray


def _pick(frame: pd.DataFrame, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Per row, the value of the column given by ``cols``."""
    values = np.empty(len(rows), dtype=object)
    for j in np.unique(cols):
        mask = cols == j
        values[mask] = frame.iloc[rows[mask], int(j)].to_numpy(dtype=object)
    return values


__all__ = ["GANomalyDetector", "NotFittedError"]
