"""Drift of scored data against the model's training reference, batch by batch.

``DriftMonitor`` is fed the encoded rows (and, when scored, their scores and
flags) of each batch and compares them with what the model was fitted on:

- **per feature**, against the reference rows the model keeps (the normal
  training rows of its marginal component): a numeric column through the
  deciles of its reference values, a categorical column through its
  categories (``<other>`` included: the share of values unseen in training),
  a boolean column through its two values;
- **the score**, against the calibration scores (the held-out normal rows the
  threshold was set on), through their deciles;
- **the flag rate**, against the share of calibration scores above the run's
  threshold.

The test is chosen by size. Up to ``exact_rows`` scored rows (1,000 by
default) the monitor keeps the rows and runs a two-sample test: Kolmogorov-
Smirnov for numeric columns and the score, chi-squared for categories
(``scipy.stats``); a column drifts when ``p < p_value`` (0.01). Beyond that
every p-value is tiny for any visible change, so the monitor reports an
effect size instead: the population stability index (PSI) over the same bins,
``sum((p - q) * ln(p / q))`` with each share floored at 1e-4; a column drifts
when PSI >= ``psi_bound`` (0.2; by the usual reading, below 0.1 is stable and
above 0.25 a major shift). The flag rate drifts when it is at least twice the
calibration rate and a one-sided binomial test gives ``p < p_value``.

Counts are kept per bin, so memory does not grow with the rows and reports of
partial runs can be merged. Pure numpy and scipy; no torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

NUMERIC, CATEGORICAL, BOOLEAN = "numeric", "categorical", "boolean"
_FLOOR = 1e-4
_DECILES = np.linspace(0.1, 0.9, 9)


@dataclass(frozen=True)
class DriftSettings:
    """Bounds of the drift tests (see the module docstring)."""

    psi_bound: float = 0.2
    p_value: float = 0.01
    exact_rows: int = 1_000


@dataclass(frozen=True)
class FeatureLayout:
    """One model column: its name, role and encoded columns ``[start, stop)``."""

    name: str
    role: str
    start: int
    stop: int
    labels: tuple[str, ...] = ()  # category names, for categorical columns


def psi(expected: np.ndarray, observed: np.ndarray) -> float:
    """Return the population stability index of two count vectors over the same bins."""
    p = np.maximum(
        np.asarray(observed, float) / max(float(np.sum(observed)), 1.0), _FLOOR
    )
    q = np.maximum(
        np.asarray(expected, float) / max(float(np.sum(expected)), 1.0), _FLOOR
    )
    return float(np.sum((p - q) * np.log(p / q)))


def _edges(values: np.ndarray) -> np.ndarray:
    """Distinct decile edges of reference values (ties collapse bins)."""
    return np.unique(np.quantile(values, _DECILES)) if len(values) else np.zeros(0)


def _bin(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.searchsorted(edges, values, side="right")


@dataclass
class _Column:
    layout: FeatureLayout
    edges: np.ndarray  # numeric: decile edges; others unused
    reference: np.ndarray  # numeric: reference values; others: reference bin counts
    counts: np.ndarray  # batch counts per bin
    kept: list[np.ndarray] = field(default_factory=list)  # numeric values, small runs

    @property
    def n_bins(self) -> int:
        return len(self.counts)

    def reference_counts(self) -> np.ndarray:
        if self.layout.role == NUMERIC:
            return np.bincount(_bin(self.reference, self.edges), minlength=self.n_bins)
        return self.reference


class DriftMonitor:
    """Accumulate a run's batches and report drift against the training reference.

    Parameters
    ----------
    layout : list of FeatureLayout
        The model's columns and their encoded positions.
    reference : ndarray of shape (m, d)
        Encoded reference rows (the model's normal training rows).
    calibration_scores : ndarray, optional
        Anomaly scores of the held-out normal rows; enables score drift.
    threshold : float, optional
        The run's threshold; with ``calibration_scores``, enables flag-rate drift.
    settings : DriftSettings
    """

    def __init__(
        self,
        layout: list[FeatureLayout],
        reference: np.ndarray,
        *,
        calibration_scores: np.ndarray | None = None,
        threshold: float | None = None,
        settings: DriftSettings | None = None,
    ) -> None:
        self.settings = settings or DriftSettings()
        self.n_reference = int(reference.shape[0])
        self.columns: list[_Column] = []
        for spec in layout:
            block = np.asarray(reference[:, spec.start : spec.stop], dtype=np.float64)
            if spec.role == NUMERIC:
                values = block[:, 0]
                edges = _edges(values)
                self.columns.append(
                    _Column(spec, edges, values, np.zeros(len(edges) + 1, np.int64))
                )
            else:
                ref_counts = self._counts(spec, block)
                self.columns.append(
                    _Column(spec, np.zeros(0), ref_counts, np.zeros_like(ref_counts))
                )
        self.calibration = (
            None
            if calibration_scores is None
            else np.asarray(calibration_scores, float)
        )
        self.score_edges = (
            _edges(self.calibration) if self.calibration is not None else np.zeros(0)
        )
        self.score_counts = np.zeros(len(self.score_edges) + 1, np.int64)
        self.threshold = threshold
        self.rows = 0
        self.scored = 0
        self.flagged = 0
        self._kept_scores: list[np.ndarray] = []
        self._kept_rows = 0

    @staticmethod
    def _counts(spec: FeatureLayout, block: np.ndarray) -> np.ndarray:
        """Rows per value: per category (one-hot columns), or false/true.

        Column sums, so the reference's columns may be sorted independently
        (the marginal component keeps them that way).
        """
        if spec.role == BOOLEAN:
            ones = int(np.count_nonzero(block[:, 0] > 0.5))
            return np.array([block.shape[0] - ones, ones], dtype=np.int64)
        counts: np.ndarray = np.count_nonzero(block > 0.5, axis=0).astype(np.int64)
        return counts

    # ----------------------------------------------------------------- feed
    def update(
        self,
        encoded: np.ndarray,
        scores: np.ndarray | None = None,
        flagged: int | None = None,
    ) -> None:
        """Add one batch: its encoded rows, and its scores and flag count when scored."""
        n = int(encoded.shape[0])
        if n == 0:
            return
        keep = max(0, min(n, self.settings.exact_rows + 1 - self._kept_rows))
        for col in self.columns:
            spec = col.layout
            block = encoded[:, spec.start : spec.stop]
            if spec.role == NUMERIC:
                values = np.asarray(block[:, 0], dtype=np.float64)
                col.counts += np.bincount(_bin(values, col.edges), minlength=col.n_bins)
                if keep:
                    col.kept.append(values[:keep])
            else:
                col.counts += self._counts(spec, block)
        self._kept_rows += keep
        self.rows += n
        if scores is not None and self.calibration is not None:
            scores = np.asarray(scores, dtype=np.float64)
            self.score_counts += np.bincount(
                _bin(scores, self.score_edges), minlength=len(self.score_counts)
            )
            if keep:
                self._kept_scores.append(scores[:keep])
            self.scored += len(scores)
            if flagged is not None:
                self.flagged += int(flagged)

    # --------------------------------------------------------------- report
    def report(self) -> dict[str, Any]:
        """Return the run's drift as a JSON-ready dict (see the module docstring)."""
        exact = 0 < self.rows <= self.settings.exact_rows
        features = [self._feature(col, exact) for col in self.columns]
        out: dict[str, Any] = {
            "rows": self.rows,
            "reference_rows": self.n_reference,
            "test": "exact" if exact else "psi",
            "settings": {
                "psi_bound": self.settings.psi_bound,
                "p_value": self.settings.p_value,
                "exact_rows": self.settings.exact_rows,
            },
            "features": features,
            "drifted_features": [f["name"] for f in features if f["drifted"]],
        }
        out["score"] = self._score(exact) if self.scored else None
        out["flag_rate"] = self._flag_rate() if self.scored else None
        out["drifted"] = bool(
            out["drifted_features"]
            or (out["score"] or {}).get("drifted")
            or (out["flag_rate"] or {}).get("drifted")
        )
        return out

    def _feature(self, col: _Column, exact: bool) -> dict[str, Any]:
        spec = col.layout
        ref_counts = col.reference_counts()
        item: dict[str, Any] = {"name": spec.name, "role": spec.role}
        if self.rows == 0:
            item.update(statistic=None, p_value=None, drifted=False)
            return item
        if exact and spec.role == NUMERIC:
            result = stats.ks_2samp(col.reference, np.concatenate(col.kept))
            item.update(
                test="ks",
                statistic=float(result.statistic),
                p_value=float(result.pvalue),
            )
        elif exact:
            expected = np.maximum(ref_counts / max(ref_counts.sum(), 1), _FLOOR)
            expected = expected / expected.sum() * col.counts.sum()
            result = stats.chisquare(col.counts, expected)
            item.update(
                test="chi2",
                statistic=float(result.statistic),
                p_value=float(result.pvalue),
            )
        else:
            item.update(test="psi", statistic=psi(ref_counts, col.counts), p_value=None)
        item["drifted"] = bool(
            item["p_value"] < self.settings.p_value
            if item["p_value"] is not None
            else item["statistic"] >= self.settings.psi_bound
        )
        if spec.role == CATEGORICAL and spec.labels:
            item["unseen_share"] = float(col.counts[-1] / max(col.counts.sum(), 1))
            item["reference_unseen_share"] = float(
                ref_counts[-1] / max(ref_counts.sum(), 1)
            )
        return item

    def _score(self, exact: bool) -> dict[str, Any]:
        assert self.calibration is not None  # scored implies a calibration
        p_value: float | None
        if exact:
            result = stats.ks_2samp(self.calibration, np.concatenate(self._kept_scores))
            test, statistic, p_value = (
                "ks",
                float(result.statistic),
                float(result.pvalue),
            )
            drifted = p_value < self.settings.p_value
        else:
            ref = np.bincount(
                _bin(self.calibration, self.score_edges),
                minlength=len(self.score_counts),
            )
            test, statistic, p_value = "psi", psi(ref, self.score_counts), None
            drifted = statistic >= self.settings.psi_bound
        return {
            "test": test,
            "statistic": statistic,
            "p_value": p_value,
            "drifted": bool(drifted),
        }

    def _flag_rate(self) -> dict[str, Any] | None:
        if self.threshold is None or self.calibration is None:
            return None
        expected = float(np.mean(self.calibration > self.threshold))
        observed = self.flagged / max(self.scored, 1)
        floor = max(expected, 1.0 / max(len(self.calibration), 1))
        p_value = float(
            stats.binomtest(
                self.flagged, self.scored, floor, alternative="greater"
            ).pvalue
        )
        ratio = observed / floor
        return {
            "observed": observed,
            "calibration": expected,
            "ratio": ratio,
            "p_value": p_value,
            "drifted": bool(ratio >= 2.0 and p_value < self.settings.p_value),
        }


def summary_text(report: dict[str, Any]) -> str:
    """Return a drift report as an aligned table for a terminal."""
    lines = [
        f"drift against {report['reference_rows']:,} training reference rows, "
        f"{report['rows']:,} rows ({'exact tests' if report['test'] == 'exact' else 'PSI'})"
    ]
    for f in report["features"]:
        stat = "n/a" if f["statistic"] is None else f"{f['statistic']:.4f}"
        extra = f"  p={f['p_value']:.2g}" if f.get("p_value") is not None else ""
        unseen = (
            f"  unseen {f['unseen_share']:.2%} (training {f['reference_unseen_share']:.2%})"
            if "unseen_share" in f
            else ""
        )
        mark = "DRIFT" if f["drifted"] else "ok"
        lines.append(
            f"  {f['name']:<24} {f.get('test', ''):<5} {stat:>9}{extra}  {mark}{unseen}"
        )
    if report.get("score"):
        s = report["score"]
        lines.append(
            f"  {'anomaly score':<24} {s['test']:<5} {s['statistic']:>9.4f}  "
            f"{'DRIFT' if s['drifted'] else 'ok'}"
        )
    if report.get("flag_rate"):
        r = report["flag_rate"]
        lines.append(
            f"  {'flag rate':<24} {r['observed']:.2%} against {r['calibration']:.2%} "
            f"on calibration rows (x{r['ratio']:.1f})  {'DRIFT' if r['drifted'] else 'ok'}"
        )
    drifted = report["drifted_features"]
    lines.append("drifted features: " + (", ".join(drifted) if drifted else "none"))
    return "\n".join(lines)


def summary_line(drift: dict[str, Any], path: str | None = None) -> str:
    """Return one line on a run's drift (the details are in the report at ``path``)."""
    names = drift["drifted_features"]
    parts = [
        f"drift: {len(names)} of {len(drift['features'])} features"
        + (
            f" ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''})"
            if names
            else ""
        )
    ]
    if drift.get("score"):
        s = drift["score"]
        parts.append(
            f"score {s['test']} {s['statistic']:.3g} {'DRIFT' if s['drifted'] else 'ok'}"
        )
    if drift.get("flag_rate"):
        r = drift["flag_rate"]
        parts.append(
            f"flag rate {r['observed']:.2%} against {r['calibration']:.2%} on the "
            f"calibration rows {'DRIFT' if r['drifted'] else 'ok'}"
        )
    return "; ".join(parts) + (f" (details in {path})" if path else "")
