"""The event service's reads and writes, in plain SQL on one psycopg connection: recording an
event is the busiest write path (every scan at every counter)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
import psycopg
from psycopg.types.json import Jsonb

from app.events.rows import EventRow, PackEventRow, PackRow, PackUpdate
from app.events.transitions import PackState
from app.indicators import summaries
from models.packs import PackStatus

Connection = psycopg.AsyncConnection[Any]


# The keys travel as two arrays: an IN list of 10,000 pairs would exceed PostgreSQL's parser
# stack. The GTINs are typed char(14), like the column, or the primary key could not be used.
# Locked in key order, so that concurrent events on the same packs queue up instead of
# deadlocking.
_LOCK_PACKS = """
SELECT p.gtin, p.serial, p.lot, p.status, p.holder_id, p.transit_from_id, p.transit_to_id,
       p.status_facility_id, p.status_at, b.expiry, b.overlay, b.organization_id,
       p.container_sscc, p.in_return, p.version
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
# Many rows as one statement over arrays (a pallet moves 10,000 packs in one event); what the
# event shares is given once.
_INSERT_PACK_EVENTS = """
INSERT INTO pack_events (gtin, serial, version, event_id, action, facility_id, destination_id,
                         event_time, recorded_at, offline, outcome, status_before, status_after,
                         reason, container_sscc)
SELECT r.gtin, r.serial, r.version, %(event_id)s, r.action, r.facility_id, r.destination_id,
       r.event_time, %(recorded_at)s, r.offline, r.outcome, r.status_before, r.status_after,
       r.reason, r.container_sscc
FROM unnest(%(gtin)s::char(14)[], %(serial)s::text[], %(version)s::int[], %(action)s::text[],
            %(facility_id)s::uuid[], %(destination_id)s::uuid[], %(event_time)s::timestamptz[],
            %(offline)s::bool[], %(outcome)s::text[], %(status_before)s::text[],
            %(status_after)s::text[], %(reason)s::text[], %(container_sscc)s::char(18)[])
     AS r(gtin, serial, version, action, facility_id, destination_id, event_time, offline,
          outcome, status_before, status_after, reason, container_sscc)
"""
# Every pack with a new line in its history gets its new version; `changed` says whether its
# state changed too (only then is this event its last).
_UPDATE_PACKS = """
UPDATE packs p SET status = u.status, holder_id = u.holder_id,
                   transit_from_id = u.transit_from_id, transit_to_id = u.transit_to_id,
                   status_facility_id = u.status_facility_id, status_at = u.status_at,
                   container_sscc = u.container_sscc, in_return = u.in_return,
                   version = u.version,
                   last_event_id = CASE WHEN u.changed THEN %s ELSE p.last_event_id END
FROM unnest(%s::char(14)[], %s::text[], %s::text[], %s::uuid[], %s::uuid[], %s::uuid[],
            %s::uuid[], %s::timestamptz[], %s::char(18)[], %s::bool[], %s::int[], %s::bool[])
     AS u(gtin, serial, status, holder_id, transit_from_id, transit_to_id, status_facility_id,
          status_at, container_sscc, in_return, version, changed)
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


# The stored answer, as the API sends it; reasons are `Translatable` strings.
_ANSWER = msgspec.json.Encoder(enc_hook=str)


def _json(value: Any) -> str:
    return _ANSWER.encode(value).decode()


async def insert_event(connection: Connection, row: EventRow) -> bool:
    """False when an event with this id exists already (a retry raced this one)."""
    values = (
        row.event_id,
        row.action.value,
        row.business_step,
        row.facility_id,
        row.destination_id,
        row.actor_kind,
        row.actor_id,
        row.event_time,
        row.recorded_at,
        row.offline,
        row.payload_hash,
        Jsonb(row.response, dumps=_json),
    )
    cursor = await connection.execute(_INSERT_EVENT, values)
    return await cursor.fetchone() is not None


async def write_packs(
    connection: Connection,
    event_id: uuid.UUID,
    recorded_at: datetime,
    lines: Sequence[PackEventRow],
    updates: Sequence[PackUpdate],
    packs: dict[tuple[str, str], PackRow],
) -> None:
    """The event's lines in the packs' histories, each registered pack's next version (under
    the lock taken by `lock_packs`), the packs' new state, and what they add to the indicators:
    one statement each, whatever the number of packs."""
    versions: dict[tuple[str, str], int] = {}
    numbers: list[int | None] = []
    for line in lines:
        pack = packs.get(line.key)
        if pack is None:  # an unknown pack: no row to number it by
            numbers.append(None)
            continue
        version = versions.get(line.key, pack.version) + 1
        versions[line.key] = version
        numbers.append(version)
    await _insert_pack_events(connection, event_id, recorded_at, lines, numbers)
    await summaries.count_pack_events(connection, lines)
    final = {update.pack.key: update for update in updates}
    for key in versions.keys() - final.keys():  # a line in its history, its state unchanged
        pack = packs[key]
        final[key] = PackUpdate(pack, pack_state_of(pack), pack.container_sscc)
    writes = [final[key] for key in sorted(final)]
    await summaries.move_stock(connection, [w for w in writes if w.changed])
    await _update_packs(connection, event_id, writes, versions)


def pack_state_of(pack: PackRow) -> PackState:
    """The row's state as it stands (overlays play no part in what is written)."""
    return PackState(
        status=pack.status,
        holder_id=pack.holder_id,
        transit_from_id=pack.transit_from_id,
        transit_to_id=pack.transit_to_id,
        status_facility_id=pack.status_facility_id,
        status_at=pack.status_at,
        returning=pack.returning,
    )


async def _insert_pack_events(
    connection: Connection,
    event_id: uuid.UUID,
    recorded_at: datetime,
    lines: Sequence[PackEventRow],
    versions: list[int | None],
) -> None:
    if not lines:
        return
    await connection.execute(
        _INSERT_PACK_EVENTS,
        {
            "event_id": event_id,
            "recorded_at": recorded_at,
            "gtin": [r.gtin for r in lines],
            "serial": [r.serial for r in lines],
            "version": versions,
            "action": [r.action.value for r in lines],
            "facility_id": [r.facility_id for r in lines],
            "destination_id": [r.destination_id for r in lines],
            "event_time": [r.event_time for r in lines],
            "offline": [r.offline for r in lines],
            "outcome": [r.outcome.value for r in lines],
            "status_before": [r.status_before.value if r.status_before else None for r in lines],
            "status_after": [r.status_after.value if r.status_after else None for r in lines],
            "reason": [r.reason for r in lines],
            "container_sscc": [r.container_sscc for r in lines],
        },
    )


async def _update_packs(
    connection: Connection,
    event_id: uuid.UUID,
    writes: Sequence[PackUpdate],
    versions: dict[tuple[str, str], int],
) -> None:
    if not writes:
        return
    states = [w.state for w in writes]
    await connection.execute(
        _UPDATE_PACKS,
        (
            event_id,
            [w.pack.gtin for w in writes],
            [w.pack.serial for w in writes],
            [s.status.value for s in states],
            [s.holder_id for s in states],
            [s.transit_from_id for s in states],
            [s.transit_to_id for s in states],
            [s.status_facility_id for s in states],
            [s.status_at for s in states],
            [w.container_sscc for w in writes],
            [s.returning for s in states],
            [versions.get(w.pack.key, w.pack.version) for w in writes],
            [w.changed for w in writes],
        ),
    )


async def stored_event(connection: Connection, event_id: uuid.UUID) -> tuple[str, Any] | None:
    row = await (await connection.execute(_STORED_EVENT, (event_id,))).fetchone()
    return (row[0], row[1]) if row else None
