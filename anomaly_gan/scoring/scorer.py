"""Turn raw residuals into one calibrated anomaly score, a threshold and reasons.

Pure numpy. Inputs are the raw residuals of a batch of encoded rows:
``recon`` (|x - x_hat| per encoded column), ``latent`` (mean squared
``z - z_hat`` per row), ``disc`` (mean squared difference of the
discriminator's features of ``x`` and ``x_hat``), ``knn`` (mean distance of
the encoded row to its nearest normal training rows) and ``marginal`` (how rare
each of the row's values is in its own column, ``anomaly_gan.models.marginal_tails``).
``ScoreCalibrator`` learns on held-out rows of the training data:

1. a scale per model column: the mean of its summed encoded residual, so that
   hard-to-reconstruct columns do not drown the others;
2. per component, a robust centre and spread (median, IQR / 1.349);
3. the threshold: the ``1 - target_fpr`` quantile of the validation scores.

Each normalised component ``n_c = (c - median_c) / spread_c`` is compressed
with a signed log, ``g(n) = sign(n) * log(1 + |n|)``. The components form three
groups of evidence: the GAN's residuals (``recon``, ``latent``, ``disc``), the
neighbours' (``knn``) and the columns' own (``marginal``, since 0.6). ``combine="signed_log"`` (0.2 to 0.4) is the
weighted mean of ``g`` over all components. ``combine="max"`` takes the
weighted mean of ``g`` within each group, then the largest of the groups: a
row is as anomalous as the strongest evidence against it, so a group that is
blind to some anomalies cannot outvote the others. That matters when the
training rows hold unlabelled anomalies: look-alike anomalies then sit among a
row's nearest neighbours and its knn distance is small, while the GAN, trained
briefly, has not learned to reconstruct them. ``combine="balanced"`` (the
tabular default since 0.5) is the average of the two: most of the mean's
precision on clean training data, and the maximum's guarantee that strong
evidence from one group is not cancelled by the others (docs/benchmarks.md, log
items 13 and 15). Calibrations written before 0.2 (``combine="linear"``) keep the plain
weighted mean. It never normalises a set with its own statistics. No
torch, no pandas here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from anomaly_gan.exceptions import SchemaError

COMPONENTS = ("recon", "latent", "disc", "knn", "marginal")
GAN_COMPONENTS = ("recon", "latent", "disc")
# The evidence groups the "max" rule compares (see the module docstring).
GROUPS = (GAN_COMPONENTS, ("knn",), ("marginal",))
COMBINE_RULES = ("balanced", "max", "signed_log", "linear")
_SCALE_FLOOR = 1e-2
_SPREAD_FLOOR = 1e-6


class RawResiduals(NamedTuple):
    """Residuals of one batch before calibration."""

    recon: np.ndarray  # (n, n_encoded) absolute residual per encoded column
    latent: np.ndarray  # (n,)
    disc: np.ndarray  # (n,)
    knn: np.ndarray  # (n,) zeros when the model keeps no reference rows
    marginal: np.ndarray  # (n,) zeros when the model keeps no reference rows


class Scores(NamedTuple):
    """Calibrated output for one batch."""

    anomaly_score: np.ndarray  # (n,)
    components: dict[str, np.ndarray]  # name -> (n,) normalised component
    feature_residuals: np.ndarray  # (n, n_columns) scaled residual per model column


@dataclass
class ScoreCalibrator:
    """Calibration learned on held-out normal rows; JSON round trip.

    Attributes
    ----------
    weights : dict of str to float
        Weight of each normalised component.
    slices : list of (int, int)
        Encoded column range of each model column.
    feature_scale : ndarray of shape (n_columns,)
        Mean summed residual of each model column on validation rows.
    center, spread : dict of str to float
        Robust location and scale of each raw component on validation rows.
    threshold : float
        Score above which a row is flagged.
    combine : {"balanced", "max", "signed_log", "linear"}
        How normalised components are combined (see the module docstring).
    """

    weights: dict[str, float]
    slices: list[tuple[int, int]]
    feature_scale: np.ndarray
    center: dict[str, float]
    spread: dict[str, float]
    threshold: float = float("inf")
    combine: str = "signed_log"

    @classmethod
    def fit(
        cls,
        residuals: RawResiduals,
        slices: list[tuple[int, int]],
        weights: dict[str, float],
        *,
        target_fpr: float = 0.01,
        combine: str = "signed_log",
    ) -> ScoreCalibrator:
        """Learn scales, component statistics and the threshold from held-out rows."""
        if residuals.latent.shape[0] < 2:
            msg = "validation rows: expected at least 2 to calibrate the scorer, found fewer"
            raise SchemaError(msg)
        per_feature = _per_feature(residuals.recon, slices)
        scale = np.maximum(per_feature.mean(axis=0), _SCALE_FLOOR)
        calibrator = cls(
            weights={k: float(v) for k, v in weights.items()},
            slices=[(int(a), int(b)) for a, b in slices],
            feature_scale=scale,
            center={},
            spread={},
            combine=_checked_rule(combine),
        )
        raw = calibrator._raw_components(residuals, per_feature / scale)
        for name, values in raw.items():
            calibrator.center[name], calibrator.spread[name] = robust_location(values)
        scores = calibrator.score(residuals).anomaly_score
        calibrator.threshold = threshold_for_fpr(scores, target_fpr)
        return calibrator

    def _raw_components(
        self, residuals: RawResiduals, scaled_features: np.ndarray
    ) -> dict[str, np.ndarray]:
        return {
            "recon": scaled_features.mean(axis=1),
            "latent": np.asarray(residuals.latent, dtype=np.float64),
            "disc": np.asarray(residuals.disc, dtype=np.float64),
            "knn": np.asarray(residuals.knn, dtype=np.float64),
            "marginal": np.asarray(residuals.marginal, dtype=np.float64),
        }

    def score(self, residuals: RawResiduals) -> Scores:
        """Normalise and combine a batch's residuals."""
        scaled = _per_feature(residuals.recon, self.slices) / self.feature_scale
        raw = self._raw_components(residuals, scaled)
        components = {
            name: (raw[name] - self.center[name]) / self.spread[name]
            for name in COMPONENTS
        }
        return Scores(
            anomaly_score=self.combine_components(components),
            components=components,
            feature_residuals=scaled,
        )

    def combine_components(
        self,
        components: dict[str, np.ndarray],
        weights: dict[str, float] | None = None,
    ) -> np.ndarray:
        """Combine normalised components into the anomaly score.

        ``weights`` (default: the calibration's own) lets a caller score the
        same components with some of them left out (weight 0), as the
        benchmark's ablations do.
        """
        weights = self.weights if weights is None else weights
        used = [name for name in COMPONENTS if weights.get(name, 0.0) > 0]
        if not used:
            msg = "score weights: expected a positive weight on at least one component"
            raise ValueError(msg)
        squash = _identity if self.combine == "linear" else _signed_log

        def weighted_mean(names: list[str]) -> np.ndarray:
            total = sum(weights[name] for name in names)
            mean = sum(weights[name] * squash(components[name]) for name in names)
            return np.asarray(mean, dtype=np.float64) / total

        if self.combine in ("signed_log", "linear"):
            return weighted_mean(used)
        groups = [[n for n in group if n in used] for group in GROUPS]
        strongest: np.ndarray = np.maximum.reduce(
            [weighted_mean(group) for group in groups if group]
        )
        if self.combine == "max":
            return strongest
        out: np.ndarray = 0.5 * (weighted_mean(used) + strongest)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the calibration as JSON-ready data."""
        return {
            "weights": dict(self.weights),
            "slices": [list(s) for s in self.slices],
            "feature_scale": [float(v) for v in self.feature_scale],
            "center": dict(self.center),
            "spread": dict(self.spread),
            "threshold": float(self.threshold),
            "combine": self.combine,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoreCalibrator:
        """Rebuild from ``to_dict`` output.

        Calibrations written before the ``knn`` or ``marginal`` component
        existed get a neutral one (centre 0, spread 1, weight 0): their scores
        are unchanged.
        """
        combine = _checked_rule(str(data.get("combine", "linear")))
        center = {k: float(v) for k, v in data["center"].items()}
        spread = {k: float(v) for k, v in data["spread"].items()}
        for name in COMPONENTS:
            center.setdefault(name, 0.0)
            spread.setdefault(name, 1.0)
        return cls(
            weights={k: float(v) for k, v in data["weights"].items()},
            slices=[(int(a), int(b)) for a, b in data["slices"]],
            feature_scale=np.asarray(data["feature_scale"], dtype=np.float64),
            center=center,
            spread=spread,
            threshold=float(data["threshold"]),
            combine=combine,
        )


def threshold_for_fpr(normal_scores: np.ndarray, target_fpr: float) -> float:
    """Smallest threshold flagging at most ``target_fpr`` of ``normal_scores``.

    A row is flagged when its score is strictly above the threshold.
    """
    ordered = np.sort(np.asarray(normal_scores, dtype=np.float64))
    n = ordered.size
    allowed = int(np.floor(target_fpr * n))  # rows that may lie above
    return float(ordered[n - 1 - allowed])


def threshold_with_held_back(
    validation_scores: np.ndarray,
    n_learned: int,
    held_scores: np.ndarray,
    target_fpr: float,
) -> float:
    """Threshold of a model whose training window had suspected anomalies held back.

    The model learned from ``n_learned`` rows and was calibrated on a sample
    of them (``validation_scores``); the held-back rows (``held_scores``) were
    its window's suspected anomalies: fraud, and the top of the normal tail
    that the model in service flagged as well. A threshold set on the learned
    rows alone flags ``target_fpr`` of a population whose top has been cut
    off, so it flags more than that of the whole population. Here each
    validation row stands for ``n_learned / len(validation_scores)`` rows of
    the window, each held-back row for itself, and the threshold is the
    smallest score that flags at most ``max(target_fpr, held share)`` of the
    window: the held-back rows count as the window's anomalies, and none of the
    normal tail is counted twice.
    """
    val = np.asarray(validation_scores, dtype=np.float64)
    held = np.asarray(held_scores, dtype=np.float64)
    n_window = n_learned + held.size
    if not val.size or not held.size or n_window <= 0:
        return threshold_for_fpr(val, target_fpr)
    scores = np.concatenate([val, held])
    weights = np.concatenate(
        [np.full(val.size, n_learned / val.size), np.ones(held.size)]
    )
    order = np.argsort(-scores, kind="stable")
    above = np.cumsum(weights[order])
    allowed = max(target_fpr, held.size / n_window) * n_window
    n_above = int(np.searchsorted(above, allowed * (1 + 1e-12), side="right"))
    if n_above >= scores.size:
        return float(scores[order[-1]])
    return float(scores[order[n_above]])


def fpr_estimate(sorted_normal: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Estimated false-positive rate of each score: the normal rows scoring at least as high.

    ``(1 + #{normal >= score}) / (n + 1)`` over ``sorted_normal`` (the
    calibration scores, ascending): the share of held-out normal rows a
    threshold just below this score would flag, with one pseudo-row so that a
    score above every normal one reads ``1 / (n + 1)``, not 0 (a conformal
    p-value). 0.003 means "0.3% of normal rows score this high".
    """
    n = sorted_normal.size
    at_least = n - np.searchsorted(sorted_normal, scores, side="left")
    return np.asarray((1.0 + at_least) / (n + 1.0), dtype=np.float64)


def threshold_for_contamination(
    train_scores: np.ndarray, contamination: float
) -> float:
    """PyOD's rule: the ``1 - contamination`` percentile of the training scores."""
    return float(np.percentile(train_scores, 100 * (1 - contamination)))


def top_features(
    feature_residuals: np.ndarray, names: list[str], top_k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``top_k`` columns by their share of each row's residual.

    Returns
    -------
    index : ndarray of shape (n, top_k)
        Model-column indices, largest share first.
    share : ndarray of shape (n, top_k)
        Share of the row's total scaled residual, in [0, 1].
    """
    k = min(top_k, len(names))
    total = feature_residuals.sum(axis=1, keepdims=True)
    share = feature_residuals / np.where(total > 0, total, 1.0)
    index = np.argsort(-share, axis=1, kind="stable")[:, :k]
    return index, np.take_along_axis(share, index, axis=1)


def robust_location(values: np.ndarray) -> tuple[float, float]:
    """Return a component's median and spread on normal rows.

    The spread is IQR / 1.349, the standard deviation when the IQR is zero,
    and never below a small floor.
    """
    q1, median, q3 = np.quantile(
        np.asarray(values, dtype=np.float64), [0.25, 0.5, 0.75]
    )
    spread = (q3 - q1) / 1.349
    if not spread > _SPREAD_FLOOR:
        spread = max(float(np.std(values)), _SPREAD_FLOOR)
    return float(median), float(spread)


def _checked_rule(combine: str) -> str:
    if combine not in COMBINE_RULES:
        msg = f"combine: expected one of {', '.join(COMBINE_RULES)}, found {combine!r}"
        raise ValueError(msg)
    return combine


def _signed_log(values: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.sign(values) * np.log1p(np.abs(values))
    return out


def _identity(values: np.ndarray) -> np.ndarray:
    return values


def _per_feature(recon: np.ndarray, slices: list[tuple[int, int]]) -> np.ndarray:
    recon = np.asarray(recon, dtype=np.float64)
    starts = np.asarray([a for a, _ in slices], dtype=np.intp)
    # Slices are contiguous and ordered, so one reduceat sums each column's block.
    return (
        np.add.reduceat(recon, starts, axis=1)
        if recon.shape[0]
        else np.zeros((0, len(slices)))
    )


def ablation_scores(
    calibrator: ScoreCalibrator, components: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Recombine normalised components with parts of the score left out.

    ``"gan"``: the GAN's residuals alone; each component alone; ``"no gan"``:
    without the GAN's residuals; ``"no <name>"``: without that component. Only
    components with a positive weight appear.
    """
    weights = calibrator.weights
    used = [name for name in COMPONENTS if weights.get(name, 0.0) > 0]
    gan = [name for name in used if name in GAN_COMPONENTS]
    variants: dict[str, list[str]] = {}
    if gan:
        variants["gan"] = gan
    variants.update({name: [name] for name in used})
    if gan and len(gan) < len(used):
        variants["no gan"] = [name for name in used if name not in gan]
    if len(used) > 1:
        variants.update({f"no {name}": [n for n in used if n != name] for name in used})
    out = {}
    for label, keep in variants.items():
        kept = {name: weights[name] for name in keep}
        out[label] = calibrator.combine_components(components, kept)
    return out
