"""The scanner's offline outbox: every scan is written durably to a local SQLite file before it
is sent, so that an outage of the network or the server never loses or delays a scan, and a
crash (even kill -9) loses nothing. Events leave in the order they were scanned; each carries
its own event_id, which the server uses to count it exactly once however often it is sent."""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    sent_at TEXT,
    status INTEGER,
    response TEXT,
    maybe_delivered INTEGER NOT NULL DEFAULT 0
)
"""


@dataclass(frozen=True)
class Queued:
    seq: int
    event_id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class OutboxStatus:
    queued: int
    sent: int
    refused: int  # answered 4xx: recorded by the server as refused, or rejected


class Outbox:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit; WAL with synchronous=FULL: a committed scan survives power loss.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def enqueue(self, payload: dict[str, Any]) -> str:
        """Store one event (given an event_id and event_time if it has none); durable on return."""
        event = {
            "event_id": str(uuid.uuid4()),
            "event_time": datetime.now(UTC).isoformat(),
            **payload,
        }
        self._db.execute(
            "INSERT INTO outbox (event_id, payload, queued_at) VALUES (?, ?, ?)",
            (event["event_id"], json.dumps(event), datetime.now(UTC).isoformat()),
        )
        return str(event["event_id"])

    def pending(self, limit: int = 100) -> list[Queued]:
        rows = self._db.execute(
            "SELECT seq, event_id, payload FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?",
            (limit,),
        ).fetchall()
        return [Queued(seq, event_id, json.loads(payload)) for seq, event_id, payload in rows]

    def mark_sent(self, event_id: str, status: int, response: Any) -> None:
        self._db.execute(
            "UPDATE outbox SET sent_at = ?, status = ?, response = ? WHERE event_id = ?",
            (datetime.now(UTC).isoformat(), status, json.dumps(response), event_id),
        )

    def mark_attempted(self, event_id: str) -> None:
        """A request for this event may have reached the server (a timeout, a 5xx): from now on
        its payload must never change, or the server would refuse it as a different event."""
        self._db.execute("UPDATE outbox SET maybe_delivered = 1 WHERE event_id = ?", (event_id,))

    def mark_offline(self) -> None:
        """The server could not be reached: the queued scans that it has certainly never seen
        were captured offline, and say so (the server then records conflicts as warnings)."""
        self._db.execute(
            "UPDATE outbox SET payload = json_set(payload, '$.offline', json('true'))"
            " WHERE sent_at IS NULL AND maybe_delivered = 0"
        )

    def answer(self, event_id: str) -> tuple[int, Any] | None:
        """The server's answer to an event, once it has been sent."""
        row = self._db.execute(
            "SELECT status, response FROM outbox WHERE event_id = ? AND sent_at IS NOT NULL",
            (event_id,),
        ).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def status(self) -> OutboxStatus:
        queued, sent, refused = self._db.execute(
            "SELECT count(*) FILTER (WHERE sent_at IS NULL),"
            " count(*) FILTER (WHERE sent_at IS NOT NULL),"
            " count(*) FILTER (WHERE status >= 400) FROM outbox"
        ).fetchone()
        return OutboxStatus(queued, sent, refused)
