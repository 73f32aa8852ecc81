"""Containers (cases, pallets: SSCC) in plain SQL: their trees, their packs, their moves. Rows
are locked in SSCC order, like packs, so that concurrent events queue instead of deadlocking."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from app.events.rows import CaseEventRow

Connection = psycopg.AsyncConnection[Any]


@dataclass(frozen=True)
class ContainerRow:
    sscc: str
    organization_id: uuid.UUID
    parent_sscc: str | None
    holder_id: uuid.UUID | None
    transit_from_id: uuid.UUID | None
    transit_to_id: uuid.UUID | None


@dataclass
class Tree:
    """A container with every container nested in it, and every pack in any of them."""

    root: ContainerRow
    containers: list[ContainerRow]
    packs: list[tuple[str, str]]


_COLUMNS = "sscc, organization_id, parent_sscc, holder_id, transit_from_id, transit_to_id"
_LOCK = f"SELECT {_COLUMNS} FROM containers WHERE sscc = ANY(%s) ORDER BY sscc FOR UPDATE"  # noqa: S608
_TREES = """
WITH RECURSIVE tree(root, sscc) AS (
    SELECT sscc, sscc FROM containers WHERE sscc = ANY(%s)
    UNION ALL
    SELECT tree.root, c.sscc FROM containers c JOIN tree ON c.parent_sscc = tree.sscc
)
SELECT root, sscc FROM tree
"""
_PACKS_IN = """
SELECT container_sscc, gtin, serial FROM packs
WHERE container_sscc = ANY(%s::char(18)[])
ORDER BY gtin, serial
"""
_ANCESTORS = """
WITH RECURSIVE up(sscc) AS (
    SELECT parent_sscc FROM containers WHERE sscc = %s AND parent_sscc IS NOT NULL
    UNION ALL
    SELECT c.parent_sscc FROM containers c JOIN up ON c.sscc = up.sscc
    WHERE c.parent_sscc IS NOT NULL
)
SELECT sscc FROM up
"""
_CREATE = """
INSERT INTO containers (sscc, organization_id, packed_at_id, holder_id, created_at, last_event_id)
VALUES (%s, %s, %s, %s, %s, %s)
"""
_MOVE = """
UPDATE containers c SET parent_sscc = m.parent_sscc, holder_id = m.holder_id,
                        transit_from_id = m.transit_from_id, transit_to_id = m.transit_to_id,
                        last_event_id = %s
FROM unnest(%s::char(18)[], %s::char(18)[], %s::uuid[], %s::uuid[], %s::uuid[])
     AS m(sscc, parent_sscc, holder_id, transit_from_id, transit_to_id)
WHERE c.sscc = m.sscc
"""
_EVENTS = """
INSERT INTO container_events (sscc, event_id, action, facility_id, destination_id, event_time,
                              packs, outcome, reason)
SELECT e.sscc, %s, e.action, e.facility_id, e.destination_id, e.event_time, e.packs, e.outcome,
       e.reason
FROM unnest(%s::char(18)[], %s::text[], %s::uuid[], %s::uuid[], %s::timestamptz[], %s::int[],
            %s::text[], %s::text[])
     AS e(sscc, action, facility_id, destination_id, event_time, packs, outcome, reason)
"""


async def lock(connection: Connection, ssccs: Sequence[str]) -> dict[str, ContainerRow]:
    if not ssccs:
        return {}
    cursor = await connection.execute(_LOCK, (sorted(set(ssccs)),))
    return {row[0]: ContainerRow(*row) for row in await cursor.fetchall()}


async def lock_trees(connection: Connection, roots: Sequence[str]) -> dict[str, Tree]:
    """The trees under `roots` (those that exist), every container in them locked."""
    if not roots:
        return {}
    cursor = await connection.execute(_TREES, (sorted(set(roots)),))
    members: dict[str, list[str]] = {}
    for root, sscc in await cursor.fetchall():
        members.setdefault(root, []).append(sscc)
    rows = await lock(connection, [s for group in members.values() for s in group])
    trees = {
        root: Tree(rows[root], [rows[s] for s in group if s in rows], [])
        for root, group in members.items()
        if root in rows
    }
    # A case scanned with the pallet it is on belongs to both trees.
    roots_of: dict[str, list[str]] = {}
    for root, group in members.items():
        for sscc in group:
            roots_of.setdefault(sscc, []).append(root)
    cursor = await connection.execute(_PACKS_IN, (list(roots_of),))
    for sscc, gtin, serial in await cursor.fetchall():
        for root in roots_of[sscc]:
            if root in trees:
                trees[root].packs.append((gtin, serial))
    return trees


async def packs_in(connection: Connection, sscc: str) -> list[tuple[str, str]]:
    cursor = await connection.execute(_PACKS_IN, ([sscc],))
    return [(gtin, serial) for _, gtin, serial in await cursor.fetchall()]


async def children(connection: Connection, sscc: str) -> list[str]:
    cursor = await connection.execute(
        "SELECT sscc FROM containers WHERE parent_sscc = %s ORDER BY sscc", (sscc,)
    )
    return [row[0] for row in await cursor.fetchall()]


async def ancestors(connection: Connection, sscc: str) -> set[str]:
    cursor = await connection.execute(_ANCESTORS, (sscc,))
    return {row[0] for row in await cursor.fetchall()}


async def create(
    connection: Connection,
    case: ContainerRow,
    facility_id: uuid.UUID,
    at: datetime,
    event_id: uuid.UUID,
) -> None:
    await connection.execute(
        _CREATE, (case.sscc, case.organization_id, facility_id, facility_id, at, event_id)
    )


async def save(connection: Connection, rows: Sequence[ContainerRow], event_id: uuid.UUID) -> None:
    if rows:
        columns = [
            [r.sscc for r in rows],
            [r.parent_sscc for r in rows],
            [r.holder_id for r in rows],
            [r.transit_from_id for r in rows],
            [r.transit_to_id for r in rows],
        ]
        await connection.execute(_MOVE, (event_id, *columns))


async def record_events(
    connection: Connection, rows: Sequence[CaseEventRow], event_id: uuid.UUID
) -> None:
    if rows:
        columns = [
            [r.sscc for r in rows],
            [r.action.value for r in rows],
            [r.facility_id for r in rows],
            [r.destination_id for r in rows],
            [r.event_time for r in rows],
            [r.packs for r in rows],
            [r.outcome.value for r in rows],
            [r.reason for r in rows],
        ]
        await connection.execute(_EVENTS, (event_id, *columns))
