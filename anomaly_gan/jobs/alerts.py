"""Alerts from a scoring run: flagged rows as ECS-style JSON lines, to a file or a webhook.

``AlertCollector`` keeps, from each scored batch, the flagged rows' ids, kept
columns, score, ``fpr_estimate``, components and reasons, and turns them into
alert documents with Elastic Common Schema (ECS) field names where ECS has
one (``@timestamp``, ``event.kind = "alert"``, ``event.id``,
``event.risk_score``, ``event.severity``, ``rule.name``, ``labels``) and the
rest under ``anomaly_gan``. With ``entity_cols`` it sends one alert per
entity and time window (the highest-scoring row; ``anomaly_gan.rows`` counts
the flagged rows it stands for), so a burst from one card or host is one
alert, not hundreds.

``deliver`` writes them as JSON lines to a file (complete, renamed into
place) or POSTs them to an ``http(s)://`` URL as ``application/x-ndjson`` in
chunks, with a timeout and retries with backoff; what could not be delivered
goes to a dead-letter file beside the output, to be re-sent later. The field
list is in docs/alerts.md.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from anomaly_gan.data.tables import atomic_write
from anomaly_gan.scoring import columns

RULE_NAME = "anomaly-gan: score above the threshold"


@dataclass
class AlertCollector:
    """Flagged rows of a run, shaped into alert documents.

    Parameters
    ----------
    copied : list of str
        The output's copied columns (ids and kept columns).
    id_col : str, optional
        The event id column (the first id column).
    timestamp_col : str, optional
        A kept timestamp column: ``@timestamp`` and the windows come from it.
    entity_cols : list of str
        One alert per value of these columns and window (none: one per row).
    window_minutes : float
        The de-duplication window.
    context : dict
        Added to every alert under ``anomaly_gan`` (model, version, threshold).
    """

    copied: list[str]
    id_col: str | None = None
    timestamp_col: str | None = None
    entity_cols: list[str] = field(default_factory=list)
    window_minutes: float = 60.0
    context: dict[str, Any] = field(default_factory=dict)
    _groups: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)
    flagged: int = 0

    def add(self, table: pa.Table) -> None:
        """Keep the flagged rows of one scored batch (its output table)."""
        if table.num_rows == 0:
            return
        mask = pc.equal(table[columns.FLAG], 1)
        if columns.SUPPRESSED in table.column_names:  # benign patterns: no alert
            mask = pc.and_(mask, pc.equal(table[columns.SUPPRESSED], ""))
        flagged = table.filter(mask).to_pylist()
        self.flagged += len(flagged)
        for position, row in enumerate(flagged):
            key = self._key(row, position)
            held = self._groups.get(key)
            if held is None:
                self._groups[key] = {"row": row, "rows": 1}
            else:
                held["rows"] += 1
                if row[columns.SCORE] > held["row"][columns.SCORE]:
                    held["row"] = row

    def _key(self, row: dict[str, Any], position: int) -> tuple[Any, ...]:
        if not self.entity_cols:
            return ("row", self.flagged, position)
        window: Any = None
        if self.timestamp_col is not None:
            stamp = _parse_time(row.get(self.timestamp_col))
            if stamp is not None:
                window = math.floor(stamp.timestamp() / (self.window_minutes * 60))
        return (*(str(row.get(c)) for c in self.entity_cols), window)

    def documents(self) -> list[dict[str, Any]]:
        """Return the alerts, highest score first."""
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        docs = [self._document(g["row"], g["rows"], now) for g in self._groups.values()]
        return sorted(docs, key=lambda d: -d["event"]["risk_score"])

    def _document(self, row: dict[str, Any], rows: int, now: str) -> dict[str, Any]:
        stamp = _parse_time(row.get(self.timestamp_col)) if self.timestamp_col else None
        fpr = row.get(columns.FPR)
        reasons = []
        k = 1
        while columns.reason("feature", k) in row:
            reasons.append(
                {
                    part: row.get(columns.reason(part, k))
                    for part in columns.REASON_PARTS
                }
            )
            k += 1
        doc: dict[str, Any] = {
            "@timestamp": stamp.isoformat() if stamp is not None else now,
            "event": {
                "kind": "alert",
                "module": "anomaly-gan",
                "created": now,
                "risk_score": float(row[columns.SCORE]),
                # ECS severity is a number the source defines; here 25 per decade
                # of the estimated false-positive rate: 50 at 1%, 75 at 0.1%,
                # 100 at 0.01% of normal rows scoring this high or fewer.
                "severity": None if fpr is None else _severity(float(fpr)),
            },
            "rule": {"name": RULE_NAME},
            "anomaly_gan": {
                **self.context,
                "score": float(row[columns.SCORE]),
                "fpr_estimate": fpr,
                "components": {
                    k.removeprefix("score_"): v
                    for k, v in row.items()
                    if k.startswith("score_")
                },
                "reasons": reasons,
                "rows": rows,
                "fields": {c: _plain(row.get(c)) for c in self.copied},
            },
        }
        if self.id_col is not None:
            doc["event"]["id"] = str(row.get(self.id_col))
        if self.entity_cols:
            doc["labels"] = {c: str(row.get(c)) for c in self.entity_cols}
        return doc


@dataclass
class Delivery:
    """What ``deliver`` did: where, how many sent, how many went to the dead letter."""

    target: str
    sent: int = 0
    failed: int = 0
    dead_letter: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "target": self.target,
            "sent": self.sent,
            "failed": self.failed,
            "dead_letter": self.dead_letter,
            "error": self.error,
        }


def deliver(
    docs: Sequence[dict[str, Any]],
    target: str,
    *,
    dead_letter: Path,
    chunk: int = 500,
    timeout: float = 10.0,
    retries: int = 3,
    backoff: float = 0.5,
) -> Delivery:
    """Send ``docs`` to a file path or an ``http(s)://`` URL (see the module docstring)."""
    result = Delivery(target)
    if not target.startswith(("http://", "https://")):
        with atomic_write(target) as tmp:
            tmp.write_text("".join(_line(d) for d in docs))
        result.sent = len(docs)
        return result
    undelivered: list[dict[str, Any]] = []
    for start in range(0, len(docs), chunk):
        part = list(docs[start : start + chunk])
        error = _post(part, target, timeout, retries, backoff)
        if error is None:
            result.sent += len(part)
        else:
            undelivered += part
            result.error = error
    if undelivered:
        with atomic_write(dead_letter) as tmp:
            tmp.write_text("".join(_line(d) for d in undelivered))
        result.failed = len(undelivered)
        result.dead_letter = str(dead_letter)
    else:
        dead_letter.unlink(missing_ok=True)  # an earlier run's, now delivered
    return result


def _post(
    docs: list[dict[str, Any]], url: str, timeout: float, retries: int, backoff: float
) -> str | None:
    """POST one chunk; return None when delivered, else the last error."""
    body = "".join(_line(d) for d in docs).encode()
    error = "not tried"
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-ndjson"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if 200 <= response.status < 300:
                    return None
                error = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            error = f"HTTP {exc.code}"
            if 400 <= exc.code < 500 and exc.code not in (408, 429):
                return error  # the receiver refuses this content: retrying won't help
        except (urllib.error.URLError, OSError) as exc:
            error = str(getattr(exc, "reason", exc))
    return error


def _severity(fpr: float) -> int:
    return int(min(100, max(0, round(-25 * math.log10(max(fpr, 1e-12))))))


def _line(doc: dict[str, Any]) -> str:
    return json.dumps(doc, default=str, sort_keys=True) + "\n"


def _parse_time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        stamp = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            return None
        return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)  # Zeek's ts
    else:
        try:
            stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.timezone.utc)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
