"""The scanner's offline outbox: every scan is written durably to a local SQLite file before it
is sent, so that an outage of the network or the server never loses or delays a scan, and a
crash (even kill -9) loses nothing. Events leave in the order they were scanned; each carries
its own event_id, which the server uses to count it exactly once however often it is sent.

Each event also keeps the identity it was captured under: a fingerprint of the scanner's API
key, never the key itself (the file lies on a shared machine; the fingerprint names the key
without being able to stand in for it). Sent with another scanner's key an event would be
refused, or recorded at the wrong site, so an event goes only with its own key or with a key of
the same site (a replaced key: the server told us each key's site when it accepted it), or —
when its own key was refused and never accepted, a mistyped key — with the working key the
person at that scanner gives next."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The first version's table; later versions change it by the migrations in `_migrate`.
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
_KEYS = """
CREATE TABLE IF NOT EXISTS scanner_keys (
    key_id TEXT PRIMARY KEY,
    facility_id TEXT,
    refused INTEGER NOT NULL DEFAULT 0
)
"""
SCHEMA_VERSION = 1
# Answers that say nothing about the event, only about the key that sent it.
KEY_REFUSED = (401, 403)


def fingerprint(api_key: str) -> str:
    """The fingerprint an event is stored under: the same key always gives the same one; it
    differs from the server's own hash of the key, so the file reveals nothing usable."""
    digest = hashlib.sha256(b"darutrace scanner outbox key\x00" + api_key.strip().encode())
    return digest.hexdigest()[:16]


# Unsent events a key may send: its own, those of another key of the same site, those of a key
# that was refused and never accepted (a mistyped key: the site is the one where they were
# scanned), and those from before identities were stored.
_SENDABLE = """sent_at IS NULL AND (key_id IS NULL OR key_id = :key_id OR key_id IN (
    SELECT key_id FROM scanner_keys WHERE facility_id = :facility_id
    OR (facility_id IS NULL AND refused = 1 AND :facility_id IS NOT NULL)))"""
_PENDING = f"""SELECT seq, event_id, payload FROM outbox WHERE {_SENDABLE}
ORDER BY seq LIMIT :limit"""  # noqa: S608 (constants only)
_COUNT_SENDABLE = f"SELECT count(*) FROM outbox WHERE {_SENDABLE}"  # noqa: S608


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
        if not path.exists():  # scans are the site's business: readable by its owner only
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        # Autocommit; WAL with synchronous=FULL: a committed scan survives power loss.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        _migrate(self._db)

    def close(self) -> None:
        self._db.close()

    def enqueue(self, payload: dict[str, Any], key_id: str) -> str:
        """Store one event, captured under the key whose fingerprint is `key_id` (given an
        event_id and event_time if it has none); durable on return."""
        event = {
            "event_id": str(uuid.uuid4()),
            "event_time": datetime.now(UTC).isoformat(),
            **payload,
        }
        self._db.execute(
            "INSERT INTO outbox (event_id, payload, queued_at, key_id) VALUES (?, ?, ?, ?)",
            (event["event_id"], json.dumps(event), datetime.now(UTC).isoformat(), key_id),
        )
        return str(event["event_id"])

    def learn_key(self, key_id: str, facility_id: str) -> None:
        """The server accepted the key and said which site it belongs to."""
        self._db.execute(
            "INSERT INTO scanner_keys (key_id, facility_id) VALUES (?, ?) ON CONFLICT (key_id)"
            " DO UPDATE SET facility_id = excluded.facility_id, refused = 0",
            (key_id, facility_id),
        )

    def mark_key_refused(self, key_id: str) -> None:
        self._db.execute(
            "INSERT INTO scanner_keys (key_id, refused) VALUES (?, 1) ON CONFLICT (key_id)"
            " DO UPDATE SET refused = 1",
            (key_id,),
        )

    def pending(self, key_id: str, facility_id: str | None, limit: int = 100) -> list[Queued]:
        """The oldest events that may be sent with the key whose fingerprint is `key_id`, of the
        site `facility_id` (None: not known yet). Events queued before the outbox stored
        identities have none: they go with whichever key syncs them, as they always did."""
        rows = self._db.execute(
            _PENDING, {"key_id": key_id, "facility_id": facility_id, "limit": limit}
        ).fetchall()
        return [Queued(seq, event_id, json.loads(payload)) for seq, event_id, payload in rows]

    def queued_for(self, key_id: str, facility_id: str | None) -> int:
        return int(
            self._db.execute(
                _COUNT_SENDABLE, {"key_id": key_id, "facility_id": facility_id}
            ).fetchone()[0]
        )

    def queued_for_other_keys(self, key_id: str, facility_id: str | None) -> int:
        """Events captured under another scanner's key: only that key can send them."""
        return self.status().queued - self.queued_for(key_id, facility_id)

    def mark_sent(self, event_id: str, status: int, response: Any) -> None:
        if status in KEY_REFUSED:
            raise ValueError(f"a {status} says nothing about the event: it stays queued")
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


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a file of any earlier version up to this one, in place and in one transaction (a
    scanner killed meanwhile leaves the file as it was)."""
    if db.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]  # another process may have won
        db.execute(_SCHEMA)
        if version < 1:
            db.execute("ALTER TABLE outbox ADD COLUMN key_id TEXT")
            db.execute(_KEYS)
            # Earlier versions filed a refused key (401) or device (403) as a final answer: the
            # server recorded nothing, so those scans were lost. They are queued again.
            db.execute(
                "UPDATE outbox SET sent_at = NULL, status = NULL, response = NULL"
                " WHERE status IN (?, ?)",
                KEY_REFUSED,
            )
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
