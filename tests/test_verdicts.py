"""The verdict store: schema and migrations, verdicts with audit, concurrency, export."""

import multiprocessing
import sqlite3

import pandas as pd
import pytest

from anomaly_gan.cli import main
from anomaly_gan.exceptions import ConfigError, DataError
from anomaly_gan.stores.verdicts import SCHEMA_VERSION, VerdictStore

SCORED = pd.DataFrame(
    {
        "transaction_id": [f"T{i}" for i in range(40)],
        "anomaly_score": [float(i) for i in range(40)],
        "is_anomaly": [int(i >= 36) for i in range(40)],
    }
)


@pytest.fixture
def store(tmp_path):
    return VerdictStore(tmp_path / "v.db")


def test_a_new_file_gets_the_current_schema_in_wal_mode(store):
    assert store.schema_version == SCHEMA_VERSION
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    assert {"batches", "events", "verdicts", "audit"} <= tables
    VerdictStore(store.path)  # reopening migrates nothing and loses nothing
    assert store.schema_version == SCHEMA_VERSION


def test_a_newer_schema_is_refused(store):
    with sqlite3.connect(store.path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(
        DataError,
        match=f"schema version {SCHEMA_VERSION + 1} is newer than this anomaly-gan knows",
    ):
        VerdictStore(store.path)


def test_verdicts_are_saved_read_back_and_audited(store):
    batch = store.add_batch(
        "2026-11-22",
        SCORED,
        id_col="transaction_id",
        model="registry:3",
        threshold=35.5,
    )
    assert store.batches().loc[0, "n_flagged"] == 4
    store.set_verdicts(batch, ["T36", "T37"], "needs_review", analyst="ana")
    store.set_verdicts(
        batch, ["T36"], "confirmed", analyst="bo", note="card testing burst"
    )
    got = store.verdicts(batch).set_index("event_id")
    assert (
        got.loc["T36", "verdict"] == "confirmed" and got.loc["T36", "analyst"] == "bo"
    )
    assert got.loc["T36", "note"] == "card testing burst"
    assert got.loc["T37", "verdict"] == "needs_review"
    audit = store.audit(batch).fillna({"old_verdict": "-"})
    assert audit[
        ["analyst", "event_id", "old_verdict", "new_verdict"]
    ].values.tolist() == [
        ["ana", "T36", "-", "needs_review"],
        ["ana", "T37", "-", "needs_review"],
        ["bo", "T36", "needs_review", "confirmed"],
    ]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda s, b: s.set_verdicts(b, ["T1"], "guilty", analyst="a"),
            ConfigError,
            "verdict: expected one of confirmed, false_positive, needs_review, found 'guilty'",
        ),
        (
            lambda s, b: s.set_verdicts(b, ["T1"], "confirmed", analyst="  "),
            ConfigError,
            "analyst: expected a name, found a blank one",
        ),
        (
            lambda s, b: s.set_verdicts(b, ["T1", "nope"], "confirmed", analyst="a"),
            DataError,
            r"no event 'nope' \(1 unknown in all\)",
        ),
        (
            lambda s, b: s.add_batch(
                "x", SCORED.drop(columns=["anomaly_score"]), id_col="transaction_id"
            ),
            DataError,
            "column 'anomaly_score' is missing",
        ),
        (
            lambda s, b: s.add_batch(
                "x", pd.concat([SCORED, SCORED]), id_col="transaction_id"
            ),
            DataError,
            "found 'T0' twice",
        ),
    ],
)
def test_bad_writes_are_refused_and_change_nothing(store, call, error, message):
    batch = store.add_batch("b", SCORED, id_col="transaction_id")
    with pytest.raises(error, match=message):
        call(store, batch)
    assert len(store.verdicts()) == 0 and len(store.audit()) == 0
    assert len(store.batches()) == 1


def _write_many(path, batch, analyst, ids):
    store = VerdictStore(path, timeout=30)
    for event_id in ids:
        store.set_verdicts(batch, [event_id], "confirmed", analyst=analyst)


@pytest.mark.slow
def test_concurrent_writers_lose_nothing(store):
    batch = store.add_batch("b", SCORED, id_col="transaction_id")
    ctx = multiprocessing.get_context("spawn")
    ids = [f"T{i}" for i in range(40)]
    procs = [
        ctx.Process(
            target=_write_many, args=(store.path, batch, f"analyst{k}", ids[k::4])
        )
        for k in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(store.verdicts(batch)) == 40
    assert len(store.audit(batch)) == 40


def test_feedback_export_feeds_retraining(store, tmp_path, capsys):
    batch = store.add_batch("b", SCORED, id_col="transaction_id")
    store.set_verdicts(batch, ["T38", "T39"], "confirmed", analyst="ana")
    store.set_verdicts(batch, ["T37"], "false_positive", analyst="ana")
    out = tmp_path / "confirmed.csv"
    assert (
        main(
            [
                "feedback",
                "export",
                "--db",
                str(store.path),
                "--out",
                str(out),
                "--verdict",
                "confirmed",
            ]
        )
        == 0
    )
    exported = pd.read_csv(out)
    assert exported.columns[0] == "event_id"
    assert exported["event_id"].tolist() == ["T38", "T39"]
    assert capsys.readouterr().out.strip() == f"wrote 2 verdict(s) to {out}"
    assert (
        main(
            ["feedback", "export", "--db", str(tmp_path / "none.db"), "--out", str(out)]
        )
        == 2
    )
    assert "verdict store" in capsys.readouterr().err
