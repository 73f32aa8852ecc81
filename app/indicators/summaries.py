"""Keeping the indicator summaries (models/indicators.py) true: called by the writers of pack
events, pack updates, commissioning and alerts, in their transaction, with one set-based upsert
per batch of rows. Rows are upserted in key order, so that concurrent writers queue on a shared
summary row instead of deadlocking."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from models.indicators import DAY_ZONE

Connection = psycopg.AsyncConnection[Any]

# Pack statuses in which a pack held by a site is stock there (as recalls count it).
HELD = ("active", "locked")
# No custody (a pack's NULL holder or transit) in `batch_custody`, whose columns are its key.
NO_SITE = "'00000000-0000-0000-0000-000000000000'::uuid"

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
# A pack update's effect on stock, read from the pack rows before the update: minus one where
# the pack was held, plus one where it will be.
_MOVE_STOCK = f"""
INSERT INTO indicator_stock AS s (gtin, lot, facility_id, packs)
SELECT p.gtin, p.lot, d.facility_id, sum(d.delta)
FROM unnest(%s::char(14)[], %s::text[], %s::text[], %s::uuid[])
     AS u(gtin, serial, status, holder_id)
JOIN packs p ON p.gtin = u.gtin AND p.serial = u.serial
CROSS JOIN LATERAL (
    VALUES (CASE WHEN p.status IN {HELD} THEN p.holder_id END, -1),
           (CASE WHEN u.status IN {HELD} THEN u.holder_id END, 1)
) AS d(facility_id, delta)
WHERE d.facility_id IS NOT NULL
GROUP BY 1, 2, 3
HAVING sum(d.delta) <> 0
ORDER BY 1, 2, 3
ON CONFLICT (gtin, lot, facility_id) DO UPDATE SET packs = s.packs + excluded.packs
"""  # noqa: S608 (constants only)
# The same update's effect on the batch's custody groups (`batch_custody`; no custody is the
# nil UUID there): minus one from the pack's group before, plus one to its group after.
_MOVE_CUSTODY = f"""
INSERT INTO batch_custody AS s (gtin, lot, status, holder_id, transit_from_id, transit_to_id,
                                packs)
SELECT p.gtin, p.lot, d.status, d.holder_id, d.transit_from_id, d.transit_to_id, sum(d.delta)
FROM unnest(%s::char(14)[], %s::text[], %s::text[], %s::uuid[], %s::uuid[], %s::uuid[])
     AS u(gtin, serial, status, holder_id, transit_from_id, transit_to_id)
JOIN packs p ON p.gtin = u.gtin AND p.serial = u.serial
CROSS JOIN LATERAL (
    VALUES (p.status, p.holder_id, p.transit_from_id, p.transit_to_id, -1),
           (u.status, u.holder_id, u.transit_from_id, u.transit_to_id, 1)
) AS c(status, holder_id, transit_from_id, transit_to_id, delta)
CROSS JOIN LATERAL (
    SELECT c.status, coalesce(c.holder_id, {NO_SITE}), coalesce(c.transit_from_id, {NO_SITE}),
           coalesce(c.transit_to_id, {NO_SITE}), c.delta
) AS d(status, holder_id, transit_from_id, transit_to_id, delta)
GROUP BY 1, 2, 3, 4, 5, 6
HAVING sum(d.delta) <> 0
ORDER BY 1, 2, 3, 4, 5, 6
ON CONFLICT (gtin, lot, status, holder_id, transit_from_id, transit_to_id)
DO UPDATE SET packs = s.packs + excluded.packs
"""  # noqa: S608 (constants only)
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


def counted(outcome: str, status_after: str | None) -> bool:
    """Whether a pack event counts as done to a pack: recorded (not refused), of a registered
    pack (an unknown code has no status)."""
    return outcome != "refused" and status_after is not None


async def count_pack_events(connection: Connection, rows: Sequence[Sequence[Any]]) -> None:
    """`rows` in store.insert_pack_events' column order."""
    groups: Counter[tuple[datetime, uuid.UUID, str, str]] = Counter()
    done: Counter[tuple[datetime, uuid.UUID, str, str]] = Counter()
    for row in rows:
        key = (row[6], row[4], row[0], row[3])
        groups[key] += 1
        done[key] += counted(row[9], row[11])
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


async def move_stock(connection: Connection, updates: Sequence[Sequence[Any]]) -> None:
    """Before the packs are updated (stock per site, and each batch's custody groups):
    `updates` in store.update_packs' column order."""
    if updates:
        keys = ([u[9] for u in updates], [u[10] for u in updates])
        status, holder = [u[0] for u in updates], [u[1] for u in updates]
        await connection.execute(_MOVE_STOCK, (*keys, status, holder))
        moved = ([u[2] for u in updates], [u[3] for u in updates])
        await connection.execute(_MOVE_CUSTODY, (*keys, status, holder, *moved))


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
        columns = list(zip(*rows, strict=True))
        await connection.execute(_ADD_FLOWS, [list(column) for column in columns])


async def _add_open(connection: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    columns = list(zip(*rows, strict=True))
    await connection.execute(_ADD_OPEN, [list(column) for column in columns])
