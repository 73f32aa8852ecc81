"""Raising alerts from what the event service decided: written in the event's own transaction,
so an alert exists exactly when its event does."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from app.facilities.directory import FacilityDirectory
from app.indicators import summaries
from models.alerts import SEVERITY, AlertCode, AlertStatus
from models.events import Action

Connection = psycopg.AsyncConnection[Any]

# A repeated decommission at the same facility is usually a double scan at the counter: the
# first repeat is a warning only; the next ones raise an alert.
REPEATS_BEFORE_ALERT = 1


@dataclass(frozen=True)
class AlertDraft:
    code: AlertCode
    message: str
    facility_id: uuid.UUID
    gtin: str | None = None
    serial: str | None = None
    lot: str | None = None
    # Facilities whose organisations are involved (holder, last decommissioning site, …).
    related: tuple[uuid.UUID | None, ...] = ()
    owner_id: uuid.UUID | None = None  # the batch's or product's owner


_PRIOR_REPEATS = """
SELECT pe.gtin, pe.serial, count(*)
FROM pack_events pe
JOIN unnest(%s::char(14)[], %s::text[]) AS wanted(gtin, serial)
  ON pe.gtin = wanted.gtin AND pe.serial = wanted.serial
WHERE pe.facility_id = %s AND pe.action = %s AND pe.outcome = 'warning'
  AND pe.status_before = pe.status_after
GROUP BY pe.gtin, pe.serial
"""
_OPEN = """
SELECT a.gtin, a.serial, a.code, a.facility_id
FROM alerts a
JOIN unnest(%s::char(14)[], %s::text[]) AS wanted(gtin, serial)
  ON a.gtin = wanted.gtin AND a.serial = wanted.serial
WHERE a.status <> 'closed'
"""
_INSERT = """
INSERT INTO alerts (id, code, severity, status, message, gtin, serial, lot, event_id,
                    facility_id, organization_ids, raised_at, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


async def worth_raising(
    connection: Connection, drafts: Sequence[AlertDraft], facility_id: uuid.UUID, action: Action
) -> list[AlertDraft]:
    """The drafts that become alerts: all but the first repeats of a decommission here."""
    repeats = [d for d in drafts if d.code is AlertCode.repeat_decommission]
    if not repeats:
        return list(drafts)
    cursor = await connection.execute(
        _PRIOR_REPEATS,
        ([d.gtin for d in repeats], [d.serial for d in repeats], facility_id, action.value),
    )
    prior = {(gtin, serial): count for gtin, serial, count in await cursor.fetchall()}
    return [
        d
        for d in drafts
        if d.code is not AlertCode.repeat_decommission
        or prior.get((d.gtin, d.serial), 0) >= REPEATS_BEFORE_ALERT
    ]


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: uuid.UUID
    code: AlertCode
    message: str
    gtin: str | None
    serial: str | None
    lot: str | None
    event_id: uuid.UUID | None
    facility_id: uuid.UUID
    organization_ids: list[uuid.UUID]
    raised_at: datetime


async def raise_alerts(
    connection: Connection,
    directory: FacilityDirectory,
    event_id: uuid.UUID | None,
    drafts: Sequence[AlertDraft],
    now: datetime,
) -> None:
    await insert_alerts(connection, await new_alerts(connection, directory, event_id, drafts, now))


async def new_alerts(
    connection: Connection,
    directory: FacilityDirectory,
    event_id: uuid.UUID | None,
    drafts: Sequence[AlertDraft],
    now: datetime,
) -> list[AlertRow]:
    """The alerts to insert, less those already open for the same pack, kind and site (a pack
    scanned again while its alert is being looked into adds nothing to triage). Reads only:
    the event path writes them with the rest of the event."""
    rows = []
    for draft in await _not_open(connection, drafts):
        organizations = []
        for site_id in (draft.facility_id, *draft.related):
            site = await directory.by_id(connection, site_id) if site_id else None
            if site is not None and site.organization_id not in organizations:
                organizations.append(site.organization_id)
        if draft.owner_id is not None and draft.owner_id not in organizations:
            organizations.append(draft.owner_id)
        rows.append(
            AlertRow(
                uuid.uuid4(),
                draft.code,
                draft.message[:500],
                draft.gtin,
                draft.serial[:20] if draft.serial else None,
                draft.lot,
                event_id,
                draft.facility_id,
                organizations,
                now,
            )
        )
    return rows


async def insert_alerts(
    connection: Connection, rows: Sequence[AlertRow], *, counted: bool = True
) -> None:
    """`counted`: whether they are added to the summaries now (an event adds them last)."""
    if not rows:
        return
    values = [
        (
            r.id, r.code.value, SEVERITY[r.code].value, AlertStatus.new.value, r.message, r.gtin,
            r.serial, r.lot, r.event_id, r.facility_id, r.organization_ids, r.raised_at,
            r.raised_at,
        )
        for r in rows
    ]  # fmt: skip
    async with connection.cursor() as cursor:
        await cursor.executemany(_INSERT, values)
    if counted:
        await count_alerts(connection, rows)


async def count_alerts(connection: Connection, rows: Sequence[AlertRow]) -> None:
    await summaries.count_alerts(
        connection, [(r.raised_at, r.facility_id, r.gtin, r.code.value) for r in rows]
    )


async def _not_open(connection: Connection, drafts: Sequence[AlertDraft]) -> list[AlertDraft]:
    packs = sorted({(d.gtin, d.serial) for d in drafts if d.gtin and d.serial})
    if not packs:
        return list(drafts)
    cursor = await connection.execute(
        _OPEN, ([gtin for gtin, _ in packs], [serial for _, serial in packs])
    )
    open_ = {(g, s, AlertCode(c), f) for g, s, c, f in await cursor.fetchall()}
    fresh, seen = [], set()
    for draft in drafts:
        key = (draft.gtin, draft.serial, draft.code, draft.facility_id)
        if draft.gtin and draft.serial and (key in open_ or key in seen):
            continue
        seen.add(key)
        fresh.append(draft)
    return fresh
