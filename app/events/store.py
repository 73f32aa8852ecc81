"""The event service's reads and writes, in plain SQL on one psycopg connection: recording an
event is the busiest write path (every scan at every counter)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from app.indicators import summaries
from models.packs import PackStatus

Connection = psycopg.AsyncConnection[Any]


@dataclass(frozen=True)
class PackRow:
    gtin: str
    serial: str
    lot: str
    status: PackStatus
    holder_id: uuid.UUID | None
    transit_from_id: uuid.UUID | None
    transit_to_id: uuid.UUID | None
    status_facility_id: uuid.UUID | None
    status_at: datetime
    expiry: date
    overlay: str | None  # the batch's recall or withdrawal
    owner_id: uuid.UUID  # the batch's owner
    container_sscc: str | None
    returning: bool  # in transit as a return


# The keys travel as two arrays: an IN list of 10,000 pairs would exceed PostgreSQL's parser
# stack. The GTINs are typed char(14), like the column, or the primary key could not be used.
# Locked in key order, so that concurrent events on the same packs queue up instead of
# deadlocking.
_LOCK_PACKS = """
SELECT p.gtin, p.serial, p.lot, p.status, p.holder_id, p.transit_from_id, p.transit_to_id,
       p.status_facility_id, p.status_at, b.expiry, b.overlay, b.organization_id,
       p.container_sscc, p.in_return
FROM packs p
JOIN unnest(%s::char(14)[], %s::text[]) AS wanted(gtin, serial)
  ON p.gtin = wanted.gtin AND p.serial = wanted.serial
JOIN batches b ON b.gtin = p.gtin AND b.lot = p.lot
ORDER BY p.gtin, p.serial
FOR UPDATE OF p
"""
_KNOWN_PRODUCTS = "SELECT gtin, organization_id FROM products WHERE gtin = ANY(%s::char(14)[])"
_INSERT_EVENT = """
INSERT INTO events (event_id, action, business_step, facility_id, destination_id, actor_kind,
                    actor_id, event_time, recorded_at, offline, payload_hash, response)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""
_PACK_EVENT_COLUMNS = """
gtin, serial, event_id, action, facility_id, destination_id, event_time, recorded_at, offline,
outcome, status_before, status_after, reason, container_sscc
"""
_INSERT_PACK_EVENT = f"""
INSERT INTO pack_events ({_PACK_EVENT_COLUMNS})
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""  # noqa: S608 (constants only, like the queries below)
# Many rows as one statement over arrays (a pallet moves 10,000 packs in one event).
_INSERT_PACK_EVENTS = f"""
INSERT INTO pack_events ({_PACK_EVENT_COLUMNS})
SELECT * FROM unnest(%s::char(14)[], %s::text[], %s::uuid[], %s::text[], %s::uuid[], %s::uuid[],
                     %s::timestamptz[], %s::timestamptz[], %s::bool[], %s::text[], %s::text[],
                     %s::text[], %s::text[], %s::char(18)[])
"""  # noqa: S608
_UPDATE_PACK = """
UPDATE packs SET status = %s, holder_id = %s, transit_from_id = %s, transit_to_id = %s,
                 status_facility_id = %s, status_at = %s, last_event_id = %s, container_sscc = %s,
                 in_return = %s
WHERE gtin = %s AND serial = %s
"""
_UPDATE_PACKS = """
UPDATE packs p SET status = u.status, holder_id = u.holder_id,
                   transit_from_id = u.transit_from_id, transit_to_id = u.transit_to_id,
                   status_facility_id = u.status_facility_id, status_at = u.status_at,
                   last_event_id = u.last_event_id, container_sscc = u.container_sscc,
                   in_return = u.in_return
FROM unnest(%s::text[], %s::uuid[], %s::uuid[], %s::uuid[], %s::uuid[], %s::timestamptz[],
            %s::uuid[], %s::char(18)[], %s::bool[], %s::char(14)[], %s::text[])
     AS u(status, holder_id, transit_from_id, transit_to_id, status_facility_id, status_at,
          last_event_id, container_sscc, in_return, gtin, serial)
WHERE p.gtin = u.gtin AND p.serial = u.serial
"""
_STORED_EVENT = "SELECT payload_hash, response FROM events WHERE event_id = %s"


async def lock_packs(
    connection: Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], PackRow]:
    if not keys:
        return {}
    cursor = await connection.execute(_LOCK_PACKS, ([k[0] for k in keys], [k[1] for k in keys]))
    packs = {}
    for row in await cursor.fetchall():
        packs[(row[0], row[1])] = PackRow(row[0], row[1], row[2], PackStatus(row[3]), *row[4:])
    return packs


async def product_owners(connection: Connection, gtins: set[str]) -> dict[str, uuid.UUID]:
    """The owner of each registered product among `gtins`."""
    if not gtins:
        return {}
    cursor = await connection.execute(_KNOWN_PRODUCTS, (list(gtins),))
    return {gtin: owner for gtin, owner in await cursor.fetchall()}


async def insert_event(connection: Connection, row: Sequence[Any]) -> bool:
    """False when an event with this id exists already (a retry raced this one)."""
    values = [*row[:-1], Jsonb(row[-1])]
    cursor = await connection.execute(_INSERT_EVENT, values)
    return await cursor.fetchone() is not None


async def insert_pack_events(connection: Connection, rows: Sequence[Sequence[Any]]) -> None:
    """The pack events, and what they add to the indicators."""
    await _write(connection, _INSERT_PACK_EVENT, _INSERT_PACK_EVENTS, rows)
    await summaries.count_pack_events(connection, rows)


async def update_packs(connection: Connection, rows: Sequence[Sequence[Any]]) -> None:
    """The packs' new state, and the stock it moves (read from the rows before they change)."""
    await summaries.move_stock(connection, rows)
    await _write(connection, _UPDATE_PACK, _UPDATE_PACKS, rows)


async def _write(
    connection: Connection, one: str, many: str, rows: Sequence[Sequence[Any]]
) -> None:
    if len(rows) == 1:  # the common case: one scan
        await connection.execute(one, rows[0])
    elif rows:
        await connection.execute(many, [list(column) for column in zip(*rows, strict=True)])


async def stored_event(connection: Connection, event_id: uuid.UUID) -> tuple[str, Any] | None:
    row = await (await connection.execute(_STORED_EVENT, (event_id,))).fetchone()
    return (row[0], row[1]) if row else None
