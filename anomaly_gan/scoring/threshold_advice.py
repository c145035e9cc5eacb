"""A threshold from analysts' verdicts: for a target precision or an alert budget.

Inputs are the scores of every event of some scored batches, the verdicts
analysts set on some of them (``confirmed`` = a real anomaly, ``false_positive``)
and how many days the batches cover. For each candidate threshold ``t`` (the
labelled events' scores), with events flagged when their score is above ``t``:

- **precision**: confirmed / labelled among the labelled events above ``t``;
- **recall**: the confirmed events above ``t`` among all confirmed ones (recall of
  the anomalies analysts know of, not of all anomalies);
- **alerts per day**: all events above ``t``, labelled or not, per day covered.

``for_precision`` picks the lowest threshold whose precision reaches the target
with at least ``min_labelled`` labelled events above it (the most recall the
target allows); ``for_alert_budget`` the lowest threshold within the budget.
Verdicts mostly cover events that were flagged, so below the lowest labelled
score precision is unknown: a target precision never goes below it, an
alert budget says when it does, and the result says how many labels each
figure rests on. Pure numpy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ThresholdAdvice:
    """A suggested threshold and what to expect at it."""

    threshold: float | None
    goal: str
    precision: float | None
    recall: float | None
    alerts_per_day: float | None
    labelled_above: int
    confirmed_above: int
    labelled: int
    confirmed: int
    events: int
    days: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


class _Curve:
    def __init__(
        self,
        scores: np.ndarray,
        labelled: np.ndarray,
        confirmed: np.ndarray,
        days: float,
    ) -> None:
        self.scores = np.sort(np.asarray(scores, dtype=np.float64))
        lab = np.sort(np.asarray(labelled, dtype=np.float64))
        conf = np.sort(np.asarray(confirmed, dtype=np.float64))
        self.lab, self.conf, self.days = lab, conf, max(days, 1e-9)
        # candidates: just below each labelled score, highest first
        self.candidates = np.unique(lab)[::-1]

    def above(self, values: np.ndarray, t: float) -> int:
        return int(values.size - np.searchsorted(values, t, side="right"))

    def at(self, t: float) -> tuple[float | None, float | None, float, int, int]:
        n_lab, n_conf = self.above(self.lab, t), self.above(self.conf, t)
        precision = n_conf / n_lab if n_lab else None
        recall = n_conf / self.conf.size if self.conf.size else None
        return precision, recall, self.above(self.scores, t) / self.days, n_lab, n_conf


def _advice(
    curve: _Curve, t: float | None, goal: str, reason: str, events: int
) -> ThresholdAdvice:
    precision, recall, per_day, n_lab, n_conf = (
        curve.at(t) if t is not None else (None, None, None, 0, 0)
    )
    return ThresholdAdvice(
        threshold=t,
        goal=goal,
        precision=precision,
        recall=recall,
        alerts_per_day=per_day,
        labelled_above=n_lab,
        confirmed_above=n_conf,
        labelled=int(curve.lab.size),
        confirmed=int(curve.conf.size),
        events=events,
        days=curve.days,
        reason=reason,
    )


def _below(score: float) -> float:
    """Return the largest threshold that still flags ``score`` (flags are score > t)."""
    return float(np.nextafter(score, -np.inf))


def for_precision(
    scores: np.ndarray,
    labelled: np.ndarray,
    confirmed: np.ndarray,
    days: float,
    target: float,
    *,
    min_labelled: int = 10,
) -> ThresholdAdvice:
    """Return the lowest threshold whose verdict precision reaches ``target``."""
    curve = _Curve(scores, labelled, confirmed, days)
    goal = f"precision >= {target:g}"
    best = None
    for score in curve.candidates:
        t = _below(score)
        precision, _, _, n_lab, _ = curve.at(t)
        if n_lab >= min_labelled and precision is not None and precision >= target:
            best = t
    if best is None:
        return _advice(
            curve,
            None,
            goal,
            f"no threshold reaches precision {target:g} with at least {min_labelled} "
            "labelled events above it (more verdicts, or a lower target)",
            len(scores),
        )
    return _advice(
        curve, best, goal, "the lowest threshold that reaches the target", len(scores)
    )


def for_alert_budget(
    scores: np.ndarray,
    labelled: np.ndarray,
    confirmed: np.ndarray,
    days: float,
    per_day: float,
) -> ThresholdAdvice:
    """Return the lowest threshold that raises at most ``per_day`` alerts a day."""
    curve = _Curve(scores, labelled, confirmed, days)
    goal = f"alerts per day <= {per_day:g}"
    ordered = curve.scores
    allowed = int(np.floor(per_day * curve.days))  # events that may lie above
    if ordered.size == 0:
        return _advice(curve, None, goal, "no scored events", 0)
    if allowed >= ordered.size:
        t = _below(float(ordered[0]))
        reason = "every event fits in the budget"
    else:
        t = float(ordered[ordered.size - 1 - allowed])
        reason = "the lowest threshold within the budget"
    if curve.lab.size and t < float(curve.lab[0]):
        reason += (
            "; it lies below every labelled score, so its precision counts only "
            "the labelled events, all above it"
        )
    return _advice(curve, t, goal, reason, int(ordered.size))


def at_threshold(
    scores: np.ndarray,
    labelled: np.ndarray,
    confirmed: np.ndarray,
    days: float,
    threshold: float,
) -> dict[str, Any]:
    """Return what to expect at a given threshold (the same figures as an advice)."""
    curve = _Curve(scores, labelled, confirmed, days)
    return _advice(curve, threshold, "given", "", len(scores)).to_dict()
