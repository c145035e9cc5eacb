"""Thresholds from verdicts: target precision, alert budget, and the command."""

import json

import numpy as np
import pandas as pd
import pytest

from anomaly_gan.cli import main
from anomaly_gan.scoring.threshold_advice import (
    at_threshold,
    for_alert_budget,
    for_precision,
)
from anomaly_gan.stores.verdicts import VerdictStore

# 10 days of 100 events; analysts reviewed the 40 highest: the top 20 are
# confirmed, the next 20 false positives.
SCORES = np.arange(1000.0)
LABELLED = SCORES[-40:]
CONFIRMED = SCORES[-20:]


def test_target_precision_takes_the_lowest_threshold_that_reaches_it():
    advice = for_precision(SCORES, LABELLED, CONFIRMED, 10, 0.8, min_labelled=10)
    # flagging the top 25 labelled events: 20 confirmed of 25 = 0.8
    assert advice.labelled_above == 25 and advice.precision == pytest.approx(0.8)
    assert advice.recall == 1.0 and advice.confirmed_above == 20
    assert advice.alerts_per_day == pytest.approx(2.5)
    assert SCORES[-26] <= advice.threshold < SCORES[-25]
    strict = for_precision(SCORES, LABELLED, CONFIRMED, 10, 1.0, min_labelled=10)
    assert strict.precision == 1.0 and strict.labelled_above == 20
    none = for_precision(SCORES, LABELLED, CONFIRMED, 10, 1.0, min_labelled=30)
    assert none.threshold is None and "at least 30 labelled events" in none.reason


def test_alert_budget_takes_the_lowest_threshold_within_it():
    advice = for_alert_budget(SCORES, LABELLED, CONFIRMED, 10, 3.0)
    assert advice.alerts_per_day == pytest.approx(3.0)
    assert advice.precision == pytest.approx(20 / 30)
    wide = for_alert_budget(SCORES, LABELLED, CONFIRMED, 10, 10.0)
    assert wide.alerts_per_day == pytest.approx(10.0)
    assert "below every labelled score" in wide.reason
    here = at_threshold(SCORES, LABELLED, CONFIRMED, 10, float(SCORES[-11]))
    assert here["alerts_per_day"] == pytest.approx(1.0) and here["precision"] == 1.0
    assert here["recall"] == pytest.approx(0.5)


@pytest.fixture
def store(tmp_path):
    db = VerdictStore(tmp_path / "v.db")
    rng = np.random.default_rng(0)
    for day in range(3):
        scores = rng.normal(0, 1, 500)
        frame = pd.DataFrame(
            {"id": [f"d{day}e{i}" for i in range(500)], "anomaly_score": scores}
        )
        frame["is_anomaly"] = (scores > 2.0).astype(int)
        batch = db.add_batch(
            f"day{day}", frame, id_col="id", model="registry:1", threshold=2.0,
            scored_at=f"2026-11-2{day}T06:00:00+00:00",
        )  # fmt: skip
        top = frame.sort_values("anomaly_score", ascending=False)["id"].tolist()
        db.set_verdicts(batch, top[:8], "confirmed", analyst="ana")
        db.set_verdicts(batch, top[8:20], "false_positive", analyst="ana")
    return tmp_path / "v.db"


def test_threshold_suggest_reads_the_verdict_store(store, tmp_path, capsys):
    argv = ["threshold", "suggest", "--db", str(store), "--target-precision", "0.9"]
    assert main([*argv, "--json", str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    assert (
        "from 3 batch(es) over 3 day(s): 1,500 events, 60 with a verdict (24 confirmed)"
        in out
    )
    assert "suggested (precision >= 0.9): threshold" in out
    assert "the batches' own threshold: threshold 2:" in out
    assert "apply it with: anomaly-gan registry set-threshold 1 " in out
    report = json.loads((tmp_path / "s.json").read_text())
    assert report["suggested"]["precision"] >= 0.9
    assert report["suggested"]["recall"] == 1.0  # confirmed are the very top
    # every event above it carries a verdict (each day's top 20 were reviewed)
    suggested = report["suggested"]
    assert suggested["alerts_per_day"] * 3 == pytest.approx(suggested["labelled_above"])
    assert 24 <= suggested["labelled_above"] < 24 / 0.9
    assert (
        main(["threshold", "suggest", "--db", str(store), "--alerts-per-day", "5"]) == 0
    )
    assert "alerts per day <= 5" in capsys.readouterr().out


def test_threshold_suggest_errors_are_one_line(store, tmp_path, capsys):
    base = ["threshold", "suggest", "--db", str(store)]
    assert main([*base, "--target-precision", "1.5"]) == 2
    assert (
        "--target-precision: expected a number in (0, 1], found 1.5"
        in capsys.readouterr().err
    )
    assert main([*base, "--alerts-per-day", "5", "--model", "registry:9"]) == 2
    assert "no scored batches scored with 'registry:9'" in capsys.readouterr().err
    missing = ["threshold", "suggest", "--db", str(tmp_path / "none.db")]
    assert main([*missing, "--alerts-per-day", "5"]) == 2
    assert "not found (the dashboard creates it; pass --db)" in capsys.readouterr().err
