"""Sealing and checking the hash chains (models/audit.py). Checking: every sealed row's hash is
recomputed from its content and the previous row's hash, sequence numbers must follow each
other, each stream's last row must be its head, and every checkpoint must still be on its chain;
reports the first broken link of each stream, and the unsealed tail of each chain (rows
committed but not linked yet: how many, and how old the oldest is)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from models.audit import CHAINS, WRITTEN_AT

Connection = psycopg.Connection[Any]

# Per stream, in chain order: the sequence number, the stored hash, the expected hash and the
# previous row's sequence number.
_LINKS = """
SELECT stream, chain_seq, row_hash, key,
       sha256(coalesce(lag(row_hash) OVER w, ''::bytea) || convert_to(content::text, 'UTF8'))
         AS expected,
       lag(chain_seq) OVER w AS previous
FROM (SELECT {stream} AS stream, chain_seq, row_hash, {key} AS key,
             audit_content(to_jsonb(t)) AS content
      FROM {table} t
      WHERE chain_seq IS NOT NULL) rows
WINDOW w AS (PARTITION BY stream ORDER BY chain_seq)
ORDER BY stream, chain_seq
"""
HALF_SEALED = (
    "{} row(s) have a hash but no place in the chain (changed; the sealer cannot link them)"
)
_KEYS = {
    "events": "event_id::text",
    "pack_events": "gtin || '/' || serial || ' ' || event_id",
    "access_log": "id::text",
}


@dataclass(frozen=True)
class Break:
    chain: str
    stream: uuid.UUID | None
    seq: int | None
    row: str | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.chain}" + (f" stream {self.stream.int}" if self.stream else "")
        at = f" at #{self.seq}" if self.seq is not None else ""
        row = f" (row {self.row})" if self.row else ""
        return f"{where}{at}{row}: {self.problem}"


@dataclass(frozen=True)
class Tail:
    """A chain's rows not sealed yet."""

    rows: int
    oldest: datetime | None  # when the oldest of them was written


@dataclass(frozen=True)
class Report:
    rows: dict[str, int]  # sealed rows checked, by chain
    breaks: list[Break]
    unsealed: dict[str, Tail]
    at: datetime  # the database's clock when the snapshot was taken

    @property
    def ok(self) -> bool:
        return not self.breaks


def verify(connection: Connection) -> Report:
    """One snapshot of every chain, its heads and checkpoints, so that events written while it
    runs cannot look like broken links."""
    with connection.transaction():
        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        connection.execute("SET LOCAL TimeZone = 'UTC'")
        return _verify(connection)


def _verify(connection: Connection) -> Report:
    rows: dict[str, int] = {}
    breaks: list[Break] = []
    unsealed: dict[str, Tail] = {}
    for table, key in CHAINS.items():
        unsealed[table], half_sealed = _tail(connection, table)
        if half_sealed:
            breaks.append(Break(table, None, None, None, HALF_SEALED.format(half_sealed)))
        heads = {
            stream: (seq, digest)
            for stream, seq, digest in connection.execute(
                "SELECT stream, seq, hash FROM audit_heads WHERE chain = %s", (table,)
            )
        }
        checkpoints = _checkpoints(connection, table)
        stream = f"audit_stream({key}::text)"
        query = _LINKS.format(stream=stream, key=_KEYS[table], table=table)
        count, broken, last = 0, set(), {}
        # A server-side cursor: the chains of a national register do not fit in memory.
        with connection.cursor(name=f"audit_{table}") as cursor:
            cursor.itersize = 10_000
            cursor.execute(query)
            for stream_id, seq, stored, row_key, expected, previous in cursor:
                count += 1
                if stream_id in broken:
                    continue
                checkpoint = checkpoints.get((stream_id, seq))
                problem = _problem(seq, stored, expected, previous, checkpoint)
                if problem:
                    broken.add(stream_id)
                    breaks.append(Break(table, stream_id, seq, row_key, problem))
                last[stream_id] = (seq, stored)
        rows[table] = count
        for stream_id in heads.keys() | last.keys():
            if stream_id in broken:
                continue
            problem = _tail_problem(heads.get(stream_id), last.get(stream_id))
            if problem:
                breaks.append(Break(table, stream_id, None, None, problem))
        for (stream_id, seq), _ in checkpoints.items():
            if stream_id not in broken and seq > last.get(stream_id, (0, b""))[0]:
                breaks.append(Break(table, stream_id, seq, None, "a checkpointed row is missing"))
    at = connection.execute("SELECT now()").fetchone()
    assert at is not None
    return Report(rows, breaks, unsealed, at[0])


def _tail(connection: Connection, table: str) -> tuple[Tail, int]:
    """The unsealed rows (by the partial index that finds them for the sealer), and how many of
    them carry a hash anyway, which only a hand in the tables could have put there."""
    found = connection.execute(
        f"SELECT count(*), min({WRITTEN_AT[table]}), count(row_hash)"  # noqa: S608 (names)
        f" FROM {table} WHERE chain_seq IS NULL"
    ).fetchone()
    assert found is not None
    return Tail(found[0], found[1]), found[2]


def _problem(
    seq: int,
    stored: bytes | None,
    expected: bytes,
    previous: int | None,
    checkpoint: bytes | None,
) -> str | None:
    if (previous or 0) != seq - 1:
        if previous == seq:
            return "two rows share one place in the chain (a row was inserted)"
        return f"rows #{(previous or 0) + 1}–#{seq - 1} are missing (deleted)"
    if stored is None or bytes(stored) != bytes(expected):
        return "the row's content or hash does not match the chain (changed or inserted)"
    if checkpoint is not None and bytes(checkpoint) != bytes(stored):
        return "the chain differs from its checkpoint (rewritten)"
    return None


def _tail_problem(head: tuple[int, bytes] | None, last: tuple[int, bytes] | None) -> str | None:
    if head is None:
        return "rows without a head (the chain's head was deleted)"
    if last is None:
        return f"all {head[0]} rows are missing (deleted)"
    if head[0] != last[0] or bytes(head[1]) != bytes(last[1]):
        if head[0] > last[0]:
            return f"rows #{last[0] + 1}–#{head[0]} at the end are missing (deleted)"
        return "the last row is not the chain's head"
    return None


def _checkpoints(connection: Connection, table: str) -> dict[tuple[uuid.UUID, int], bytes]:
    rows = connection.execute(
        "SELECT stream, seq, hash FROM audit_checkpoints WHERE chain = %s", (table,)
    )
    return {(stream, seq): digest for stream, seq, digest in rows}


def checkpoint(connection: Connection, at: datetime) -> str:
    """Record every head now; returns a digest of them all, to keep outside the database (in a
    ticket, a signed e-mail, a paper log): a chain rewritten wholesale cannot match it."""
    with connection.transaction():
        heads = connection.execute(
            "SELECT chain, stream, seq, hash FROM audit_heads ORDER BY chain, stream FOR SHARE"
        ).fetchall()
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO audit_checkpoints (at, chain, stream, seq, hash)"
                " VALUES (%s, %s, %s, %s, %s)",
                [(at, *head) for head in heads],
            )
    digest = hashlib.sha256()
    for chain, stream, seq, value in heads:
        digest.update(f"{chain}:{stream}:{seq}:".encode() + bytes(value).hex().encode() + b"\n")
    return digest.hexdigest()


# One batch of one chain, in one statement (migration 0014): up to SEAL_BATCH rows linked and
# their heads moved; NULL when another sealer holds the lock and the caller would not wait.
SEAL = "SELECT audit_seal(%s, %s, %s)"
SEAL_BATCH = 5_000


def seal(connection: Connection) -> dict[str, int]:
    """Link every row committed before now into its chain (waiting for a sealer at work in a
    server to finish its batch); returns how many rows of each chain were sealed."""
    sealed = dict.fromkeys(CHAINS, 0)
    for table in CHAINS:
        while True:
            with connection.transaction():
                found = connection.execute(SEAL, (table, SEAL_BATCH, True)).fetchone()
            assert found is not None
            sealed[table] += found[0]
            if found[0] < SEAL_BATCH:
                break
    return sealed
