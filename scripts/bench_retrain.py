#!/usr/bin/env python
"""Does the retraining job keep fraud out of what it learns? (issue 21)

In one run, on generated transactions:
1. a champion is trained on 30,000 normal rows and promoted to 'production' in a
   fresh registry;
2. fresh windows of 30,000 rows, their labels dropped (the fraud is unknown, as in
   production): with 0%, 1%, 3% and 5% fraud of each generated pattern, and one
   "new normal" window where the cards of a country the champion never saw make
   up about 15% of the traffic, all of it normal;
3. for each window, `retrain` runs from the same champion twice: as configured
   by default (the champion's alerts held back from training, the unlabelled gate
   with its three checks) and with `hold_back_flagged = false` (the gate alone);
4. the challenger (whether promoted or not) and the champion are evaluated on a
   labelled file of 20,000 rows with 1% fraud of every pattern: recall at each
   model's threshold and average precision; for the new-normal window, each
   model's flag rate on fresh rows of the new country's cards.

A window passes when the job keeps the champion or promotes a model whose
recall at its threshold and average precision are within 0.02 of the
champion's; the new-normal window passes when a promoted model flags at most
twice the target false-positive rate of the new cards' rows.

Usage: python scripts/bench_retrain.py [--rows N] [--out FILE] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from anomaly_gan import GANomalyDetector, make_transactions
from anomaly_gan.jobs.retrain import run_retrain
from anomaly_gan.jobs.retrain_config import RetrainConfig
from anomaly_gan.stores.registry import ModelRegistry

PATTERNS = ("card_testing", "cross_border_night", "account_takeover")
RATES = (0.01, 0.03, 0.05)
NEW_COUNTRY = "NZ"
DETECTOR = {
    "id_cols": ["transaction_id", "card_id"],
    "timestamp_cols": ["timestamp"],
    "exclude_cols": ["fraud_type", "is_fraud"],
    "random_state": 0,
}
TOLERANCE = 0.02


def window(rows: int, pattern: str | None, rate: float, seed: int) -> pd.DataFrame:
    """Fresh traffic with ``rate`` fraud of one pattern (None: no fraud)."""
    if pattern is None or rate == 0:
        return make_transactions(rows, fraud_rate=0.0, random_state=seed)
    # Generate the three patterns at three times the rate, keep one of them.
    frame = make_transactions(
        round(rows * (1 + 2 * rate)), fraud_rate=min(0.5, 3 * rate), random_state=seed
    )
    keep = (frame["is_fraud"] == 0) | (frame["fraud_type"] == pattern)
    return frame[keep].reset_index(drop=True)


def new_normal(frame: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    """Move ``share`` of the cards to a country never seen before (all normal)."""
    rng = np.random.default_rng(seed)
    cards = frame["card_id"].unique()
    moved = set(rng.choice(cards, round(share * len(cards)), replace=False))
    rows = frame["card_id"].isin(moved)
    out = frame.copy()
    domestic = rows & (out["country"] == out["home_country"])
    out.loc[rows, "home_country"] = NEW_COUNTRY
    out.loc[domestic, "country"] = NEW_COUNTRY
    return out


def evaluate(det: GANomalyDetector, test: pd.DataFrame) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        scores = det.decision_function(test)
    y = test["is_fraud"].to_numpy()
    flagged = scores > det.threshold_
    return {
        "recall": float(flagged[y == 1].mean()),
        "average_precision": float(average_precision_score(y, scores)),
        "flag_rate_normal": float(flagged[y == 0].mean()),
    }


def flag_rate(det: GANomalyDetector, rows: pd.DataFrame) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return float((det.decision_function(rows) > det.threshold_).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--out", type=Path, default=Path("docs/results/retrain.md"))
    parser.add_argument("--json", type=Path, default=Path("docs/results/retrain.json"))
    args = parser.parse_args()
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="bench-retrain-"))
    try:
        results = run(work, args.rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["seconds"] = time.perf_counter() - started
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    args.out.write_text(render(results) + "\n")
    print(render(results))
    return 0


def run(work: Path, rows: int) -> dict:
    champion = GANomalyDetector(**DETECTOR).fit(
        make_transactions(rows, fraud_rate=0.0, random_state=0)
    )
    registry = work / "registry"
    ModelRegistry(registry).register(
        champion.save(work / "champion"), promote_to="production"
    )
    test = make_transactions(20_000, fraud_rate=0.01, random_state=99)
    baseline = evaluate(champion, test)
    new_rows = new_normal(
        make_transactions(20_000, fraud_rate=0.0, random_state=98), 0.15, 98
    )
    new_rows = new_rows[new_rows["home_country"] == NEW_COUNTRY]
    windows: list[tuple[str, str | None, float, pd.DataFrame]] = [
        ("no fraud", None, 0.0, window(rows, None, 0.0, 10))
    ]
    for i, pattern in enumerate(PATTERNS):
        for j, rate in enumerate(RATES):
            windows.append(
                (
                    f"{pattern} {rate:.0%}",
                    pattern,
                    rate,
                    window(rows, pattern, rate, 20 + 3 * i + j),
                )
            )
    windows.append(
        (
            "new normal: 15% of cards from a new country",
            None,
            0.0,
            new_normal(window(rows, None, 0.0, 40), 0.15, 40),
        )
    )
    out = {
        "rows": rows,
        "champion": {**baseline, "flag_rate_new_normal": flag_rate(champion, new_rows)},
        "target_fpr": champion.config_.target_fpr,
        "windows": [],
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
    }
    for name, pattern, _rate, frame in windows:
        fraud_share = float(frame["is_fraud"].mean())
        data = work / "window.parquet"
        frame.drop(columns=["is_fraud", "fraud_type"]).to_parquet(data)
        for hold_back in (True, False):
            run_registry = work / f"registry-{hold_back}"
            shutil.copytree(registry, run_registry, dirs_exist_ok=False)
            config = RetrainConfig.from_dict(
                {
                    "data": {"paths": [str(data)], "timestamp_col": "timestamp"},
                    "normal": {
                        "id_col": "transaction_id",
                        "hold_back_flagged": hold_back,
                    },
                    "detector": {
                        k: v for k, v in DETECTOR.items() if k != "exclude_cols"
                    },
                }
            )
            outcome = run_retrain(config, registry=run_registry)
            reg = ModelRegistry(run_registry)
            challenger = GANomalyDetector.load(reg.model_path(outcome.version))
            quality = evaluate(challenger, test)
            row = {
                "window": name,
                "pattern": pattern,
                "fraud_share": fraud_share,
                "hold_back": hold_back,
                "decision": outcome.decision,
                "decided_by": outcome.gate.get("decided_by"),
                "reason": outcome.reason,
                "rows": outcome.rows,
                "agreement": outcome.gate.get("agreement"),
                "challenger": {
                    **quality,
                    "flag_rate_new_normal": flag_rate(challenger, new_rows),
                },
            }
            row["passed"] = passed(row, out["champion"], out["target_fpr"], name)
            out["windows"].append(row)
            print(
                f"{name:45s} hold_back={hold_back!s:5s} {outcome.decision:14s} "
                f"{row['decided_by']!s:20s} recall {quality['recall']:.3f} AP "
                f"{quality['average_precision']:.3f} passed={row['passed']}",
                flush=True,
            )
            shutil.rmtree(run_registry)
    return out


def passed(row: dict, champion: dict, target_fpr: float, name: str) -> bool:
    promoted = row["decision"] == "promote"
    if name.startswith("new normal"):
        return promoted and row["challenger"]["flag_rate_new_normal"] <= 2 * target_fpr
    if not promoted:
        return True
    new = row["challenger"]
    return (
        new["recall"] >= champion["recall"] - TOLERANCE
        and new["average_precision"] >= champion["average_precision"] - TOLERANCE
    )


def render(results: dict) -> str:
    champ = results["champion"]
    lines = [
        "# Retraining on fresh windows with unlabelled fraud",
        "",
        f"`python scripts/bench_retrain.py` ({results['rows']:,} rows per window; "
        f"{results['seconds']:.0f} s; {results['machine']}). Champion trained on "
        f"normal rows; on the labelled test file (20,000 rows, 1% fraud of every "
        f"pattern): recall at its threshold {champ['recall']:.3f}, average "
        f"precision {champ['average_precision']:.3f}, flag rate on normal rows "
        f"{champ['flag_rate_normal']:.4f}; on the new country's rows it flags "
        f"{champ['flag_rate_new_normal']:.3f}. Target false-positive rate "
        f"{results['target_fpr']}.",
        "",
        "| window | fraud in window | hold back the champion's alerts | decision | decided by "
        "| held back | alert retention | rank agreement | challenger recall | challenger AP "
        "| challenger flag rate on the new country | passes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["windows"]:
        agree = row["agreement"] or {}
        retention = agree.get("alert_retention")
        rank = agree.get("rank_agreement")
        ch = row["challenger"]
        lines.append(
            f"| {row['window']} | {row['fraud_share']:.2%} | {'yes' if row['hold_back'] else 'no'} "
            f"| {row['decision']} | {row['decided_by']} | {row['rows'].get('held_back', 0):,} "
            f"| {'' if retention is None else f'{retention:.2f}'} "
            f"| {'' if rank is None else f'{rank:.3f}'} | {ch['recall']:.3f} "
            f"| {ch['average_precision']:.3f} | {ch['flag_rate_new_normal']:.3f} "
            f"| {'yes' if row['passed'] else '**no**'} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
