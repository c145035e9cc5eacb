"""Suppression rules: stored and audited, applied by score, alerts and retrain."""

import sqlite3

import pandas as pd
import pytest

from anomaly_gan.exceptions import ConfigError
from anomaly_gan.jobs.suppression import applicable, matched_rule
from anomaly_gan.stores.verdicts import MIGRATIONS, VerdictStore


def test_rules_are_stored_ended_and_audited(tmp_path):
    store = VerdictStore(tmp_path / "v.db")
    rule = store.add_suppression(
        {"merchant_category": ["fuel"], "country": ["DE", "FR"]},
        analyst="ana",
        note="fleet cards",
    )
    (saved,) = store.suppressions()
    assert saved["id"] == rule and saved["active"] == 1
    assert saved["name"] == "country=DE|FR & merchant_category=fuel"
    assert saved["conditions"] == {
        "country": ["DE", "FR"],
        "merchant_category": ["fuel"],
    }
    store.end_suppression(rule, analyst="bo", note="fleet contract ended")
    assert store.suppressions() == []
    assert len(store.suppressions(active_only=False)) == 1
    audit = store.audit(0)
    assert list(audit["action"]) == ["suppress", "unsuppress"]
    assert list(audit["analyst"]) == ["ana", "bo"]
    with pytest.raises(ConfigError, match="no active rule"):
        store.end_suppression(rule, analyst="bo")
    with pytest.raises(ConfigError, match="at least one column"):
        store.add_suppression({}, analyst="ana")
    with pytest.raises(ConfigError, match="analyst's name"):
        store.add_suppression({"a": ["b"]}, analyst=" ")


def test_a_version_1_store_gains_the_rules_table_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(MIGRATIONS[0])
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO batches (name, n_rows, n_flagged, added_at) VALUES ('b', 1, 0, 'x')"
        )
    store = VerdictStore(path)
    assert store.schema_version == 2 and len(store.batches()) == 1
    store.add_suppression({"a": ["b"]}, analyst="ana")
    assert len(store.suppressions()) == 1


def test_matching_needs_every_column_and_skips_rules_about_other_data():
    frame = pd.DataFrame({"m": ["fuel", "fuel", "food"], "c": ["DE", "US", "DE"]})
    rules = [
        {"id": 1, "name": "fuel in DE", "conditions": {"m": ["fuel"], "c": ["DE"]}},
        {"id": 2, "name": "food", "conditions": {"m": ["food"]}},
        {"id": 3, "name": "other data", "conditions": {"host": ["h1"]}},
    ]
    assert list(matched_rule(frame, rules)) == ["fuel in DE", "", "food"]
    assert [r["id"] for r in applicable(frame.columns, rules)] == [1, 2]
