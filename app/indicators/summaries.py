"""Keeping the indicator summaries (models/indicators.py) true: called by the writers of pack
events, pack updates, commissioning and alerts, in their transaction, with one set-based upsert
per batch of rows. Rows are upserted in key order, so that concurrent writers queue on a shared
summary row instead of deadlocking."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import psycopg

from app.indicators.months import month_of
from models.events import Outcome
from models.indicators import DAY_ZONE

if TYPE_CHECKING:
    from app.events.rows import PackEventRow, PackUpdate

Connection = psycopg.AsyncConnection[Any]
_ZONE = ZoneInfo(DAY_ZONE)

# Pack statuses in which a pack held by a site is stock there (as recalls count it).
HELD = ("active", "locked")
# No custody (a pack's NULL holder or transit) in `batch_custody`, whose columns are its key.
NIL = uuid.UUID(int=0)
NO_SITE = f"'{NIL}'::uuid"

_ADD_FLOWS = f"""
INSERT INTO indicator_flows AS s (day, facility_id, gtin, action, packs, scans)
SELECT (f.at AT TIME ZONE '{DAY_ZONE}')::date, f.facility_id, f.gtin, f.action,
       sum(f.packs), sum(f.scans)
FROM unnest(%s::timestamptz[], %s::uuid[], %s::char(14)[], %s::text[], %s::bigint[],
            %s::bigint[]) AS f(at, facility_id, gtin, action, packs, scans)
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4
ON CONFLICT (day, facility_id, gtin, action)
DO UPDATE SET packs = s.packs + excluded.packs, scans = s.scans + excluded.scans
"""  # noqa: S608 (constants only)
_ADD_MONTHLY_FLOWS = """
INSERT INTO indicator_flows_monthly AS s (month, facility_id, gtin, action, packs, scans)
SELECT f.month, f.facility_id, f.gtin, f.action, sum(f.packs), sum(f.scans)
FROM unnest(%s::date[], %s::uuid[], %s::char(14)[], %s::text[], %s::bigint[],
            %s::bigint[]) AS f(month, facility_id, gtin, action, packs, scans)
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4
ON CONFLICT (month, facility_id, gtin, action)
DO UPDATE SET packs = s.packs + excluded.packs, scans = s.scans + excluded.scans
"""
# What a set of pack updates moves, counted in Python from the rows as they were locked and as
# they become, and added in one upsert each.
_MOVE_STOCK = """
INSERT INTO indicator_stock AS s (gtin, lot, facility_id, packs)
SELECT * FROM unnest(%s::char(14)[], %s::text[], %s::uuid[], %s::bigint[])
ORDER BY 1, 2, 3
ON CONFLICT (gtin, lot, facility_id) DO UPDATE SET packs = s.packs + excluded.packs
"""
_MOVE_CUSTODY = """
INSERT INTO batch_custody AS s (gtin, lot, status, holder_id, transit_from_id, transit_to_id,
                                packs)
SELECT * FROM unnest(%s::char(14)[], %s::text[], %s::text[], %s::uuid[], %s::uuid[],
                     %s::uuid[], %s::bigint[])
ORDER BY 1, 2, 3, 4, 5, 6
ON CONFLICT (gtin, lot, status, holder_id, transit_from_id, transit_to_id)
DO UPDATE SET packs = s.packs + excluded.packs
"""
_ADD_CUSTODY = f"""
INSERT INTO batch_custody AS s (gtin, lot, status, holder_id, transit_from_id, transit_to_id,
                                packs)
VALUES (%s, %s, 'active', %s, {NO_SITE}, {NO_SITE}, %s)
ON CONFLICT (gtin, lot, status, holder_id, transit_from_id, transit_to_id)
DO UPDATE SET packs = s.packs + excluded.packs
"""  # noqa: S608 (constants only)
_ADD_STOCK = """
INSERT INTO indicator_stock AS s (gtin, lot, facility_id, packs) VALUES (%s, %s, %s, %s)
ON CONFLICT (gtin, lot, facility_id) DO UPDATE SET packs = s.packs + excluded.packs
"""
_ADD_ALERTS = f"""
INSERT INTO indicator_alerts AS s (day, facility_id, gtin, code, raised)
SELECT (a.at AT TIME ZONE '{DAY_ZONE}')::date, a.facility_id, a.gtin, a.code, sum(a.n)
FROM unnest(%s::timestamptz[], %s::uuid[], %s::text[], %s::text[], %s::bigint[])
     AS a(at, facility_id, gtin, code, n)
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4
ON CONFLICT (day, facility_id, gtin, code) DO UPDATE SET raised = s.raised + excluded.raised
"""  # noqa: S608
_ADD_OPEN = """
INSERT INTO indicator_open_alerts AS s (facility_id, gtin, code, open)
SELECT o.facility_id, o.gtin, o.code, sum(o.n)
FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::bigint[]) AS o(facility_id, gtin, code, n)
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
ON CONFLICT (facility_id, gtin, code) DO UPDATE SET open = s.open + excluded.open
"""


def counted(outcome: Outcome, status_after: object | None) -> bool:
    """Whether a pack event counts as done to a pack: recorded (not refused), of a registered
    pack (an unknown code has no status)."""
    return outcome is not Outcome.refused and status_after is not None


async def count_pack_events(connection: Connection, lines: Sequence[PackEventRow]) -> None:
    groups: Counter[tuple[datetime, uuid.UUID, str, str]] = Counter()
    done: Counter[tuple[datetime, uuid.UUID, str, str]] = Counter()
    for line in lines:
        key = (line.event_time, line.facility_id, line.gtin, line.action.value)
        groups[key] += 1
        done[key] += counted(line.outcome, line.status_after)
    await _add_flows(connection, [(*key, done[key], scans) for key, scans in groups.items()])


async def count_commissioned(
    connection: Connection,
    gtin: str,
    lot: str,
    facility_id: uuid.UUID,
    count: int,
    at: datetime,
) -> None:
    """`count` new packs of a batch, active and held at the site that serialized them."""
    await _add_flows(connection, [(at, facility_id, gtin, "commission", count, 0)])
    await connection.execute(_ADD_STOCK, (gtin, lot, facility_id, count))
    await connection.execute(_ADD_CUSTODY, (gtin, lot, facility_id, count))


async def move_stock(connection: Connection, updates: Sequence[PackUpdate]) -> None:
    """Stock per site, and each batch's custody groups, moved by `updates` (from each pack's
    locked row to its new state)."""
    stock: Counter[tuple[str, str, uuid.UUID]] = Counter()
    custody: Counter[tuple[str, str, str, uuid.UUID, uuid.UUID, uuid.UUID]] = Counter()
    for update in updates:
        pack, state = update.pack, update.state
        batch = (pack.gtin, pack.lot)
        if pack.status.value in HELD and pack.holder_id is not None:
            stock[(*batch, pack.holder_id)] -= 1
        if state.status.value in HELD and state.holder_id is not None:
            stock[(*batch, state.holder_id)] += 1
        before = (pack.status.value, pack.holder_id, pack.transit_from_id, pack.transit_to_id)
        after = (state.status.value, state.holder_id, state.transit_from_id, state.transit_to_id)
        custody[(*batch, *_custody_key(*before))] -= 1
        custody[(*batch, *_custody_key(*after))] += 1
    await _upsert(connection, _MOVE_STOCK, stock)
    await _upsert(connection, _MOVE_CUSTODY, custody)


def _custody_key(
    status: str, *sites: uuid.UUID | None
) -> tuple[str, uuid.UUID, uuid.UUID, uuid.UUID]:
    holder, sent_from, sent_to = (site or NIL for site in sites)
    return (status, holder, sent_from, sent_to)


async def _upsert(connection: Connection, statement: str, deltas: Counter[Any]) -> None:
    rows = [(*key, delta) for key, delta in deltas.items() if delta]
    if rows:
        columns = list(zip(*rows, strict=True))
        await connection.execute(statement, [list(column) for column in columns])


async def count_alerts(
    connection: Connection, alerts: Sequence[tuple[datetime, uuid.UUID, str | None, str]]
) -> None:
    """New alerts as (raised at, site, GTIN or None, kind): raised, and open."""
    if not alerts:
        return
    keyed = Counter((at, site, gtin or "", code) for at, site, gtin, code in alerts)
    columns = list(zip(*[(*key, n) for key, n in keyed.items()], strict=True))
    await connection.execute(_ADD_ALERTS, [list(column) for column in columns])
    opened = [(site, gtin, code, n) for (_, site, gtin, code), n in keyed.items()]
    await _add_open(connection, opened)


async def alert_open_changed(connection: Connection, alert_id: uuid.UUID, delta: int) -> None:
    """An alert closed (-1) or reopened (+1)."""
    row = await (
        await connection.execute(
            "SELECT facility_id, coalesce(gtin, ''), code FROM alerts WHERE id = %s", (alert_id,)
        )
    ).fetchone()
    if row is not None:
        await _add_open(connection, [(*row, delta)])


async def _add_flows(connection: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    if rows:
        columns = [list(column) for column in zip(*rows, strict=True)]
        await connection.execute(_ADD_FLOWS, columns)
        # The same into the Jalali month of each row's day (the calendar is Python's to know).
        columns[0] = [month_of(at.astimezone(_ZONE).date()) for at in columns[0]]
        await connection.execute(_ADD_MONTHLY_FLOWS, columns)


async def _add_open(connection: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    columns = list(zip(*rows, strict=True))
    await connection.execute(_ADD_OPEN, [list(column) for column in columns])
