"""The retraining gate: whether a challenger may replace the champion.

With labels of both classes, a metric comparison (``tolerance``); without,
the challenger's false-positive rate, alert retention and rank agreement with
the champion, each against its bound (see ``retrain``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from anomaly_gan.detectors.tabular import GANomalyDetector
from anomaly_gan.exceptions import SchemaError
from anomaly_gan.features.transform_report import TransformReport
from anomaly_gan.jobs.retrain_config import RetrainConfig
from anomaly_gan.scoring.metrics import evaluate_scores


def assess_scores(
    scores: np.ndarray, threshold: float, labels: np.ndarray | None
) -> dict[str, Any]:
    """Return a model's holdout figures: metrics with labels, else its flag rate."""
    if labels is None:
        return {
            "false_positive_rate": float((scores > threshold).mean()),
            "n_rows": len(scores),
            "threshold": float(threshold),
        }
    return evaluate_scores(scores, labels, threshold).to_dict()


def score_agreement(
    champion: np.ndarray,
    champion_cut: float,
    challenger: np.ndarray,
    challenger_cut: float,
    max_alerts: float,
) -> dict[str, Any]:
    """How far the challenger keeps the champion's view of the holdout.

    The champion's alerts are the holdout rows it flags (its highest scores
    first, at most ``max_alerts`` of the rows, as the hold-back rule counts
    them). One is retained when the challenger flags it or ranks it among its
    as many highest scores. The new-alert rate is the share of the other rows
    (those the champion lets pass) that the challenger flags: without labels,
    the estimate of its false-positive rate that the window's own fraud does
    not inflate. Rank agreement is Spearman's correlation of the two models'
    scores.
    """
    from scipy.stats import spearmanr

    flagged = np.flatnonzero(champion > champion_cut)
    quiet = champion <= champion_cut
    new_alerts = (
        float((challenger[quiet] > challenger_cut).mean()) if quiet.any() else 0.0
    )
    cap = max(1, int(np.floor(max_alerts * len(champion))))
    if len(flagged) > cap:
        flagged = flagged[np.argsort(-champion[flagged], kind="stable")[:cap]]
    rank = float(spearmanr(champion, challenger).statistic)
    out: dict[str, Any] = {
        "new_alert_rate": new_alerts,
        "champion_alerts": len(flagged),
        "rank_agreement": rank if np.isfinite(rank) else 0.0,
        "alert_retention": None,
        "challenger_margin_on_champion_alerts": None,
    }
    if len(flagged):
        top = np.zeros(len(challenger), dtype=bool)
        top[np.argsort(-challenger, kind="stable")[: len(flagged)]] = True
        kept = (challenger[flagged] > challenger_cut) | top[flagged]
        out["alert_retention"] = float(kept.mean())
        out["challenger_margin_on_champion_alerts"] = float(
            np.median(challenger[flagged]) - challenger_cut
        )
    return out


def apply_gate(
    config: RetrainConfig,
    champion: dict[str, Any] | None,
    challenger: dict[str, Any],
    labels: np.ndarray | None,
    agreement: dict[str, Any] | None = None,
) -> tuple[bool, str, dict[str, Any]]:
    """Return whether the challenger passes, the deciding reason and the checks."""
    labelled = labels is not None and 0 < int(labels.sum()) < len(labels)
    if labelled:
        metric = config.gate_metric
        rule = {
            "rule": f"{metric} >= champion's - {config.tolerance}",
            "metric": metric,
            "tolerance": config.tolerance,
            "decided_by": metric,
        }
        new = challenger.get(metric)
        if champion is None or "error" in champion or champion.get(metric) is None:
            why = (
                "no champion"
                if champion is None
                else "the champion cannot score this data"
            )
            return (
                True,
                f"{why}; challenger {metric} {new:.4f}",
                {**rule, "challenger": new},
            )
        old = champion[metric]
        passed = new >= old - config.tolerance
        verdict = "not lower than" if passed else "lower than"
        return (
            passed,
            f"challenger {metric} {new:.4f} is {verdict} champion's {old:.4f} minus {config.tolerance}",
            {**rule, "challenger": new, "champion": old},
        )
    fpr = challenger["false_positive_rate"]
    if agreement is not None:  # its flags on the rows the champion lets pass
        fpr = agreement["new_alert_rate"]
        what = "new-alert rate (flags on the holdout rows the champion lets pass)"
    else:
        what = "false-positive rate (flag rate on the holdout)"
    checks = [
        {
            "check": "false_positive_rate",
            "value": fpr,
            "bound": f"<= {config.max_fpr}",
            "passed": fpr <= config.max_fpr,
            "text": f"challenger {what} {fpr:.4f} is "
            f"{'within' if fpr <= config.max_fpr else 'above'} the bound {config.max_fpr}",
        }
    ]
    if agreement is not None:
        retention = agreement["alert_retention"]
        if retention is not None:
            # The share of the champion's alerts in the training window that
            # the job learned after all (given back as normal to the fresh
            # data, confirmed benign, over the cap) is not expected to be kept.
            explained = float(agreement.get("explained_share") or 0.0)
            bound = round(config.min_alert_retention * (1.0 - explained), 4)
            ok = retention >= bound
            why = (
                f" ({config.min_alert_retention} of the {1 - explained:.0%} of the "
                "champion's alerts that the fresh data did not explain)"
                if explained
                else ""
            )
            checks.append(
                {
                    "check": "alert_retention",
                    "value": retention,
                    "bound": f">= {bound:g}",
                    "passed": ok,
                    "text": f"the challenger keeps {retention:.2f} of the champion's "
                    f"{agreement['champion_alerts']} alerts on the holdout "
                    f"({'at least' if ok else 'below'} {bound:g}{why})",
                }
            )
        rank = agreement["rank_agreement"]
        ok = rank >= config.min_rank_agreement
        checks.append(
            {
                "check": "rank_agreement",
                "value": rank,
                "bound": f">= {config.min_rank_agreement}",
                "passed": ok,
                "text": f"rank agreement with the champion {rank:.3f} "
                f"({'at least' if ok else 'below'} {config.min_rank_agreement})",
            }
        )
    failed = [c for c in checks if not c["passed"]]
    decided = failed[0] if failed else checks[-1]
    reason = (
        "; ".join(c["text"] for c in failed)
        if failed
        else "; ".join(c["text"] for c in checks)
    )
    gate = {
        "rule": "no labels of both classes: "
        + ", ".join(f"{c['check']} {c['bound']}" for c in checks),
        "checks": [{k: v for k, v in c.items() if k != "text"} for c in checks],
        "decided_by": decided["check"] if failed else "all checks",
        "max_fpr": config.max_fpr,
        "challenger": fpr,
    }
    if agreement is not None:
        gate["agreement"] = agreement
    return not failed, reason, gate


def verdict_check(
    config: RetrainConfig,
    champion: GANomalyDetector | None,
    champion_cut: float,
    challenger: GANomalyDetector,
    fraud: pd.DataFrame | None,
) -> dict[str, Any] | None:
    """Judge the challenger on the rows analysts confirmed as fraud.

    These rows never train either model in this run (``confirmed_fraud_ids``
    excludes them). The share each model flags at its own threshold is its
    recall of known fraud; the challenger passes when its recall is at least
    the champion's minus ``verdict_tolerance``. None with fewer than
    ``min_verdict_rows`` such rows in the window.
    """
    if fraud is None or len(fraud) < config.min_verdict_rows:
        return None
    new = _flag_share(challenger, fraud, float(challenger.threshold_))
    item: dict[str, Any] = {
        "check": "verdict_fraud_recall",
        "rows": len(fraud),
        "value": new,
        "champion": None,
        "bound": None,
        "passed": True,
    }
    old = _champion_share(champion, fraud, champion_cut)
    if old is not None:
        item["champion"] = old
        item["bound"] = f">= {old:.4f} - {config.verdict_tolerance}"
        item["passed"] = new >= old - config.verdict_tolerance
    item["text"] = (
        f"the challenger flags {new:.2f} of the {len(fraud)} rows analysts confirmed "
        "as fraud"
        + (
            ""
            if item["champion"] is None
            else f" (the champion {item['champion']:.2f}; tolerance "
            f"{config.verdict_tolerance})"
        )
    )
    return item


def benign_check(
    config: RetrainConfig,
    champion: GANomalyDetector | None,
    champion_cut: float,
    challenger: GANomalyDetector,
    benign: pd.DataFrame | None,
) -> dict[str, Any] | None:
    """Judge the challenger on holdout rows analysts confirmed as false positives.

    Only holdout rows count: neither model trained on them in this run. The
    share each model flags at its own threshold is its false-alert rate on
    known benign events; the challenger passes when its rate is at most the
    champion's plus ``verdict_tolerance``. None with fewer than
    ``min_verdict_rows`` such rows.
    """
    if benign is None or len(benign) < config.min_verdict_rows:
        return None
    new = _flag_share(challenger, benign, float(challenger.threshold_))
    item: dict[str, Any] = {
        "check": "verdict_false_alerts",
        "rows": len(benign),
        "value": new,
        "champion": None,
        "bound": None,
        "passed": True,
    }
    old = _champion_share(champion, benign, champion_cut)
    if old is not None:
        item["champion"] = old
        item["bound"] = f"<= {old:.4f} + {config.verdict_tolerance}"
        item["passed"] = new <= old + config.verdict_tolerance
    item["text"] = (
        f"the challenger flags {new:.2f} of the {len(benign)} holdout rows analysts "
        "confirmed as false positives"
        + (
            ""
            if item["champion"] is None
            else f" (the champion {item['champion']:.2f}; tolerance "
            f"{config.verdict_tolerance})"
        )
    )
    return item


def _champion_share(
    champion: GANomalyDetector | None, rows: pd.DataFrame, cut: float
) -> float | None:
    """Return the champion's flagged share of ``rows`` (None: no champion, or it cannot score them)."""
    if champion is None:
        return None
    try:
        return _flag_share(champion, rows, cut)
    except SchemaError:
        return None


def _flag_share(det: GANomalyDetector, rows: pd.DataFrame, cut: float) -> float:
    scores = det.score_rows(rows, TransformReport()).scores.anomaly_score
    return float(np.mean(scores > cut))
