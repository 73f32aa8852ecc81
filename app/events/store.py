"""The event service's reads and writes, in plain SQL on one psycopg connection: recording an
event is the busiest write path (every scan at every counter)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import msgspec
import psycopg
from psycopg.types.json import Jsonb

from app.events.rows import EventRow, PackEventRow, PackRow, PackUpdate
from app.events.transitions import PackState
from app.indicators import summaries
from app.recalls import progress as recall_progress
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
# An event id recorded already (a retry, or its twin racing it) is this key's violation: the
# transaction is rolled back and the first answer given again.
EVENT_KEY = "pk_events"
_INSERT_EVENT = """
INSERT INTO events (event_id, action, business_step, facility_id, destination_id, actor_kind,
                    actor_id, event_time, recorded_at, offline, payload_hash, response)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
# A few rows (a scan) go as one statement over arrays: one round trip. From `BULK` rows on they go
# by binary COPY, measured on 10,000 rows: pack events 0.12–0.2 s against 0.44–0.7 s as one
# INSERT over arrays; the packs' update from a COPYed temporary table 0.18–0.32 s against 0.4–0.7 s.
BULK = 500
_PACK_EVENT_COLUMNS = (
    "gtin, serial, version, event_id, action, facility_id, destination_id, event_time, "
    "recorded_at, offline, outcome, status_before, status_after, reason, container_sscc"
)
_PACK_EVENT_TYPES = (
    "text", "text", "int4", "uuid", "text", "uuid", "uuid", "timestamptz", "timestamptz", "bool",
    "text", "text", "text", "text", "text",
)  # fmt: skip
_INSERT_PACK_EVENTS = f"""
INSERT INTO pack_events ({_PACK_EVENT_COLUMNS})
SELECT * FROM unnest(%s::char(14)[], %s::text[], %s::int[], %s::uuid[], %s::text[], %s::uuid[],
                     %s::uuid[], %s::timestamptz[], %s::timestamptz[], %s::bool[], %s::text[],
                     %s::text[], %s::text[], %s::text[], %s::char(18)[])
"""  # noqa: S608 (constants only)
_COPY_PACK_EVENTS = f"COPY pack_events ({_PACK_EVENT_COLUMNS}) FROM STDIN (FORMAT BINARY)"
_PACK_WRITE_TYPES = (
    "text", "text", "text", "uuid", "uuid", "uuid", "uuid", "timestamptz", "text", "bool", "int4",
    "bool",
)  # fmt: skip
_PACK_WRITES = """
CREATE TEMPORARY TABLE IF NOT EXISTS pack_writes (
    gtin char(14), serial text, status text, holder_id uuid, transit_from_id uuid,
    transit_to_id uuid, status_facility_id uuid, status_at timestamptz, container_sscc char(18),
    in_return bool, version int, changed bool
) ON COMMIT DELETE ROWS
"""
_COPY_PACK_WRITES = "COPY pack_writes FROM STDIN (FORMAT BINARY)"
_ARRAY_PACK_WRITES = """
unnest(%s::char(14)[], %s::text[], %s::text[], %s::uuid[], %s::uuid[], %s::uuid[], %s::uuid[],
       %s::timestamptz[], %s::char(18)[], %s::bool[], %s::int[], %s::bool[])
AS u(gtin, serial, status, holder_id, transit_from_id, transit_to_id, status_facility_id,
     status_at, container_sscc, in_return, version, changed)
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
FROM {writes}
WHERE p.gtin = u.gtin AND p.serial = u.serial
"""
_STORED_EVENT = "SELECT payload_hash, response FROM events WHERE event_id = %s"


async def lock_packs(
    connection: Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], PackRow]:
    if not keys:
        return {}
    # Binary results: a tenth of a second less to read 10,000 rows of UUIDs and times.
    cursor = await connection.execute(
        _LOCK_PACKS, ([k[0] for k in keys], [k[1] for k in keys]), binary=True
    )
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


async def write_event(
    connection: Connection,
    row: EventRow,
    lines: Sequence[PackEventRow],
    updates: Sequence[PackUpdate],
    packs: dict[tuple[str, str], PackRow],
) -> list[PackUpdate]:
    """The event, its lines in the packs' histories, each registered pack's next version (under
    the lock taken by `lock_packs`) and the packs' new state: one statement each, whatever the
    number of packs (in a pipeline, nothing is waited for). Returns the packs that changed."""
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
    await connection.execute(_INSERT_EVENT, _event_values(row))
    history = _pack_event_rows(row.event_id, row.recorded_at, lines, numbers)
    if len(lines) >= BULK:
        await _copy(connection, _COPY_PACK_EVENTS, _PACK_EVENT_TYPES, history)
    elif lines:
        await connection.execute(_INSERT_PACK_EVENTS, _columns(list(history)))
    final = {update.pack.key: update for update in updates}
    for key in versions.keys() - final.keys():  # a line in its history, its state unchanged
        pack = packs[key]
        final[key] = PackUpdate(pack, _as_it_stands(pack), pack.container_sscc)
    writes = [final[key] for key in sorted(final)]
    await _update_packs(connection, row.event_id, writes, versions)
    return [w for w in writes if w.changed]


async def count(
    connection: Connection, lines: Sequence[PackEventRow], changed: Sequence[PackUpdate]
) -> None:
    """What the event adds to the indicator summaries. Their rows are shared by every event of
    a product at a site on a day: written last, just before COMMIT, they are held locked as
    briefly as can be."""
    await summaries.count_pack_events(connection, lines)
    await summaries.move_stock(connection, changed)
    await recall_progress.move(connection, changed)


def _event_values(row: EventRow) -> tuple[Any, ...]:
    return (
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


def _as_it_stands(pack: PackRow) -> PackState:
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


def _pack_event_rows(
    event_id: uuid.UUID,
    recorded_at: datetime,
    lines: Sequence[PackEventRow],
    versions: list[int | None],
) -> Iterator[tuple[Any, ...]]:
    """Made as they are sent: 100,000 of them need not all be held at once."""
    return (
        (
            r.gtin, r.serial, version, event_id, r.action.value, r.facility_id, r.destination_id,
            r.event_time, recorded_at, r.offline, r.outcome.value,
            r.status_before.value if r.status_before else None,
            r.status_after.value if r.status_after else None, r.reason, r.container_sscc,
        )
        for r, version in zip(lines, versions, strict=True)
    )  # fmt: skip


async def _update_packs(
    connection: Connection,
    event_id: uuid.UUID,
    writes: Sequence[PackUpdate],
    versions: dict[tuple[str, str], int],
) -> None:
    rows = (
        (
            w.pack.gtin, w.pack.serial, w.state.status.value, w.state.holder_id,
            w.state.transit_from_id, w.state.transit_to_id, w.state.status_facility_id,
            w.state.status_at, w.container_sscc, w.state.returning,
            versions.get(w.pack.key, w.pack.version), w.changed,
        )
        for w in writes
    )  # fmt: skip
    if len(writes) >= BULK:
        await connection.execute(_PACK_WRITES)
        await _copy(connection, _COPY_PACK_WRITES, _PACK_WRITE_TYPES, rows)
        await connection.execute(_UPDATE_PACKS.format(writes="pack_writes u"), (event_id,))
        # Emptied now, not at commit: one transaction may record several events (an EPCIS
        # document), and the next one's update must not meet these rows.
        await connection.execute("TRUNCATE pack_writes")
    elif writes:
        statement = _UPDATE_PACKS.format(writes=_ARRAY_PACK_WRITES)
        await connection.execute(statement, (event_id, *_columns(list(rows))))


def _columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


async def _copy(
    connection: Connection, statement: str, types: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    async with connection.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types(list(types))
        for row in rows:
            await copy.write_row(row)


async def stored_event(connection: Connection, event_id: uuid.UUID) -> tuple[str, Any] | None:
    row = await (await connection.execute(_STORED_EVENT, (event_id,))).fetchone()
    return (row[0], row[1]) if row else None
