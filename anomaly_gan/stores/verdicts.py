"""The analysts' verdict store: scored batches, events, verdicts and the audit trail.

An embedded SQLite database (WAL mode, so readers never block the writer) with
a versioned schema: ``PRAGMA user_version`` holds the version and ``MIGRATIONS``
brings any older file up to date in one transaction. Every write is a
transaction and every verdict change also appends an audit row (who, when, what,
the previous value), so several analysts and processes can write at once
without losing anything (SQLite serialises writers; a busy writer waits up to
``timeout`` seconds).

Schema (version 2)::

    batches(id, name, source, model, threshold, n_rows, n_flagged, scored_at, added_at)
    events(batch_id, event_id, score, is_anomaly)            -- one row per scored event
    verdicts(batch_id, event_id, verdict, note, analyst, updated_at)
    audit(id, at, analyst, action, batch_id, event_id, old_verdict, new_verdict, note)
    suppressions(id, name, conditions, note, analyst, created_at, active)   -- since 2

A suppression rule marks a pattern benign: ``conditions`` is JSON, a column
name to the values that match (every column must match). ``score
--suppressions`` writes matching rows as suppressed (not alerted) and
``retrain`` does not learn from them; rules are ended, never deleted, and
both changes are audited (batch 0, event ``rule:ID``).

Verdicts are ``confirmed`` (a real anomaly), ``false_positive`` or
``needs_review``. The dashboard writes here; ``anomaly-gan feedback export``
reads it for retraining and evaluation.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from anomaly_gan.data.tables import write_table
from anomaly_gan.exceptions import ConfigError, DataError
from anomaly_gan.scoring import columns

VERDICTS = ("confirmed", "false_positive", "needs_review")
SCHEMA_VERSION = 2

MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: the first schema
    """
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        source TEXT,
        model TEXT,
        threshold REAL,
        n_rows INTEGER NOT NULL,
        n_flagged INTEGER NOT NULL,
        scored_at TEXT,
        added_at TEXT NOT NULL
    );
    CREATE TABLE events (
        batch_id INTEGER NOT NULL REFERENCES batches(id),
        event_id TEXT NOT NULL,
        score REAL NOT NULL,
        is_anomaly INTEGER NOT NULL,
        PRIMARY KEY (batch_id, event_id)
    );
    CREATE TABLE verdicts (
        batch_id INTEGER NOT NULL,
        event_id TEXT NOT NULL,
        verdict TEXT NOT NULL CHECK (verdict IN ('confirmed', 'false_positive', 'needs_review')),
        note TEXT NOT NULL DEFAULT '',
        analyst TEXT NOT NULL CHECK (length(trim(analyst)) > 0),
        updated_at TEXT NOT NULL,
        PRIMARY KEY (batch_id, event_id),
        FOREIGN KEY (batch_id, event_id) REFERENCES events(batch_id, event_id)
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        analyst TEXT NOT NULL,
        action TEXT NOT NULL,
        batch_id INTEGER NOT NULL,
        event_id TEXT NOT NULL,
        old_verdict TEXT,
        new_verdict TEXT,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX audit_by_event ON audit(batch_id, event_id);
    """,
    # 1 -> 2: suppression rules (benign patterns: reported, not alerted, not learned)
    """
    CREATE TABLE suppressions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        conditions TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        analyst TEXT NOT NULL CHECK (length(trim(analyst)) > 0),
        created_at TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1
    );
    """,
)


class VerdictStore:
    """Read and write verdicts in a SQLite file (created and migrated on open).

    Parameters
    ----------
    path : path-like
        The database file.
    timeout : float, default=10
        Seconds a writer waits for another writer's transaction.
    """

    def __init__(self, path: str | Path, *, timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.DatabaseError as exc:
                msg = f"verdict store '{self.path}': expected an SQLite database, found another kind of file ({exc})"
                raise DataError(msg) from exc
            self._migrate(conn)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None
            )
        except sqlite3.Error as exc:
            msg = f"verdict store '{self.path}': cannot be opened ({exc})"
            raise DataError(msg) from exc
        try:
            conn.execute("PRAGMA foreign_keys=ON")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            msg = (
                f"verdict store '{self.path}': schema version {version} is newer than "
                f"this anomaly-gan knows ({SCHEMA_VERSION}); upgrade anomaly-gan"
            )
            raise DataError(msg)
        if version == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the lock: another process may have migrated meanwhile.
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        """Return the schema version of the file."""
        with self._connect() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    # ----------------------------------------------------------------- writes
    def add_batch(
        self,
        name: str,
        scored: pd.DataFrame,
        *,
        id_col: str,
        source: str | None = None,
        model: str | None = None,
        threshold: float | None = None,
        scored_at: str | None = None,
    ) -> int:
        """Record a scored batch and its events; return the batch id.

        ``scored`` needs ``id_col``, ``anomaly_score`` and ``is_anomaly``.
        """
        missing = [
            c for c in (id_col, columns.SCORE, columns.FLAG) if c not in scored.columns
        ]
        if missing:
            msg = f"scored batch '{name}': column '{missing[0]}' is missing"
            raise DataError(msg)
        ids = scored[id_col].astype(str)
        if ids.duplicated().any():
            dup = ids[ids.duplicated()].iloc[0]
            msg = f"scored batch '{name}': column '{id_col}' must identify events, found '{dup}' twice"
            raise DataError(msg)
        rows = list(
            zip(
                ids,
                scored[columns.SCORE].astype(float),
                scored[columns.FLAG].astype(int),
                strict=True,
            )
        )
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO batches (name, source, model, threshold, n_rows, n_flagged, scored_at, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    source,
                    model,
                    threshold,
                    len(rows),
                    int(scored[columns.FLAG].sum()),
                    scored_at,
                    _now(),
                ),
            )
            batch_id = int(cursor.lastrowid or 0)
            conn.executemany(
                "INSERT INTO events (batch_id, event_id, score, is_anomaly) VALUES (?, ?, ?, ?)",
                ((batch_id, *row) for row in rows),
            )
        return batch_id

    def set_verdicts(
        self,
        batch_id: int,
        event_ids: Iterable[str],
        verdict: str,
        *,
        analyst: str,
        note: str = "",
    ) -> int:
        """Set one verdict on events (one transaction, one audit row each); return the count."""
        if verdict not in VERDICTS:
            msg = f"verdict: expected one of {', '.join(VERDICTS)}, found {verdict!r}"
            raise ConfigError(msg)
        if not analyst or not analyst.strip():
            msg = "analyst: expected a name, found a blank one"
            raise ConfigError(msg)
        ids = [str(e) for e in event_ids]
        now = _now()
        with self._transaction() as conn:
            known = {
                r[0]
                for chunk in _chunks(ids, 500)
                for r in conn.execute(
                    f"SELECT event_id FROM events WHERE batch_id = ? AND event_id IN ({','.join('?' * len(chunk))})",
                    (batch_id, *chunk),
                )
            }
            unknown = [e for e in ids if e not in known]
            if unknown:
                msg = f"batch {batch_id}: no event '{unknown[0]}' ({len(unknown)} unknown in all)"
                raise DataError(msg)
            for event_id in ids:
                old = conn.execute(
                    "SELECT verdict FROM verdicts WHERE batch_id = ? AND event_id = ?",
                    (batch_id, event_id),
                ).fetchone()
                conn.execute(
                    "INSERT INTO verdicts (batch_id, event_id, verdict, note, analyst, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (batch_id, event_id) DO UPDATE SET verdict = excluded.verdict, note = excluded.note, "
                    "analyst = excluded.analyst, updated_at = excluded.updated_at",
                    (batch_id, event_id, verdict, note, analyst.strip(), now),
                )
                conn.execute(
                    "INSERT INTO audit (at, analyst, action, batch_id, event_id, old_verdict, new_verdict, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        now,
                        analyst.strip(),
                        "set_verdict",
                        batch_id,
                        event_id,
                        old[0] if old else None,
                        verdict,
                        note,
                    ),
                )
        return len(ids)

    # ------------------------------------------------------------------ reads
    def batches(self) -> pd.DataFrame:
        """Return every recorded batch, newest first."""
        return self._query("SELECT * FROM batches ORDER BY id DESC")

    def events(self, batch_ids: Iterable[int]) -> pd.DataFrame:
        """Return every event (batch_id, event_id, score, is_anomaly) of these batches."""
        ids = [int(b) for b in batch_ids]
        if not ids:
            return pd.DataFrame(columns=["batch_id", "event_id", "score", "is_anomaly"])
        marks = ", ".join("?" * len(ids))
        return self._query(
            f"SELECT batch_id, event_id, score, is_anomaly FROM events "
            f"WHERE batch_id IN ({marks}) ORDER BY batch_id, event_id",
            ids,
        )

    def add_suppression(
        self,
        conditions: dict[str, list[str]],
        *,
        analyst: str,
        name: str = "",
        note: str = "",
    ) -> int:
        """Record a suppression rule (see the module docstring); return its id."""
        if not analyst or not analyst.strip():
            msg = "suppression rule: expected the analyst's name, found none"
            raise ConfigError(msg)
        clean = {
            str(col): sorted({str(v) for v in values})
            for col, values in conditions.items()
            if str(col).strip() and values
        }
        if not clean:
            msg = "suppression rule: expected at least one column and value to match"
            raise ConfigError(msg)
        name = name.strip() or " & ".join(
            f"{c}={'|'.join(v)}" for c, v in sorted(clean.items())
        )
        stamp = _now()
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO suppressions (name, conditions, note, analyst, created_at) VALUES (?, ?, ?, ?, ?)",
                (name, json.dumps(clean, sort_keys=True), note, analyst, stamp),
            )
            rule = int(cursor.lastrowid or 0)
            conn.execute(
                "INSERT INTO audit (at, analyst, action, batch_id, event_id, old_verdict, new_verdict, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (stamp, analyst, "suppress", 0, f"rule:{rule}", None, name, note),
            )
        return rule

    def end_suppression(self, rule: int, *, analyst: str, note: str = "") -> None:
        """End a suppression rule (it stays on record, inactive)."""
        with self._transaction() as conn:
            found = conn.execute(
                "SELECT name FROM suppressions WHERE id = ? AND active = 1", (rule,)
            ).fetchone()
            if found is None:
                msg = f"suppression rule {rule}: no active rule with this id"
                raise ConfigError(msg)
            conn.execute("UPDATE suppressions SET active = 0 WHERE id = ?", (rule,))
            conn.execute(
                "INSERT INTO audit (at, analyst, action, batch_id, event_id, old_verdict, new_verdict, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _now(),
                    analyst,
                    "unsuppress",
                    0,
                    f"rule:{rule}",
                    found[0],
                    None,
                    note,
                ),
            )

    def suppressions(self, *, active_only: bool = True) -> list[dict[str, object]]:
        """Return the suppression rules (the active ones by default), oldest first."""
        sql = "SELECT * FROM suppressions" + (
            " WHERE active = 1" if active_only else ""
        )
        rules: list[dict[str, object]] = self._query(sql + " ORDER BY id").to_dict(
            "records"
        )
        for rule in rules:
            rule["conditions"] = json.loads(str(rule["conditions"]))
        return rules

    def verdicts(
        self, batch_id: int | None = None, verdict: str | None = None
    ) -> pd.DataFrame:
        """Return verdicts with their event's score and batch name (optionally filtered)."""
        sql = (
            "SELECT v.event_id, v.verdict, v.note, v.analyst, v.updated_at, v.batch_id, b.name AS batch, e.score "
            "FROM verdicts v JOIN events e USING (batch_id, event_id) JOIN batches b ON b.id = v.batch_id WHERE 1 = 1"
        )
        params: list[object] = []
        if batch_id is not None:
            sql += " AND v.batch_id = ?"
            params.append(batch_id)
        if verdict is not None:
            sql += " AND v.verdict = ?"
            params.append(verdict)
        return self._query(sql + " ORDER BY v.batch_id, v.event_id", params)

    def audit(self, batch_id: int | None = None) -> pd.DataFrame:
        """Return the audit trail, oldest first."""
        if batch_id is None:
            return self._query("SELECT * FROM audit ORDER BY id")
        return self._query(
            "SELECT * FROM audit WHERE batch_id = ? ORDER BY id", [batch_id]
        )

    def _query(self, sql: str, params: Iterable[object] = ()) -> pd.DataFrame:
        with self._connect() as conn:
            cursor = conn.execute(sql, tuple(params))
            names = [d[0] for d in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=names)

    def export(self, out: str | Path, *, verdict: str | None = None) -> int:
        """Write verdicts as CSV or Parquet (atomic); ``event_id`` is the first column."""
        if verdict is not None and verdict not in VERDICTS:
            msg = f"verdict: expected one of {', '.join(VERDICTS)}, found {verdict!r}"
            raise ConfigError(msg)
        frame = self.verdicts(verdict=verdict)
        write_table(frame, out)
        return len(frame)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
