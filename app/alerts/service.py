"""Alert triage: each organisation sees the alerts that involve it, inspectors see all; an alert
goes new → investigating → closed (with a root cause), and every change is kept."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from app.auth.principal import Principal
from app.errors import Conflict, InvalidInput, NotFound
from models.alerts import AlertCode, AlertStatus, Severity
from models.base import utcnow

Connection = psycopg.AsyncConnection[Any]

NEXT: dict[AlertStatus, frozenset[AlertStatus]] = {
    AlertStatus.new: frozenset({AlertStatus.investigating, AlertStatus.closed}),
    AlertStatus.investigating: frozenset({AlertStatus.closed}),
    AlertStatus.closed: frozenset({AlertStatus.investigating}),  # reopened
}

_COLUMNS = """
a.id, a.code, a.severity, a.status, a.message, a.gtin, a.serial, a.lot, a.event_id,
a.raised_at, a.updated_at, a.root_cause,
f.gln AS facility_gln, f.name AS facility_name, o.name AS organization,
pr.name AS product,
(SELECT array_agg(io.name ORDER BY io.name) FROM organizations io
 WHERE io.id = ANY(a.organization_ids)) AS organizations_involved
"""
_FROM = """
FROM alerts a
JOIN facilities f ON f.id = a.facility_id
JOIN organizations o ON o.id = f.organization_id
LEFT JOIN products pr ON pr.gtin = a.gtin
"""


@dataclass(frozen=True)
class AlertFilter:
    status: AlertStatus | None = None
    code: AlertCode | None = None
    severity: Severity | None = None
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    facility_gln: str | None = None
    before: datetime | None = None
    before_id: uuid.UUID | None = None
    limit: int = 100


async def list_alerts(
    connection: Connection, principal: Principal, wanted: AlertFilter
) -> list[dict[str, Any]]:
    """Newest first; page with `before` and `before_id`, the `raised_at` and `id` of the last
    alert of a page (the alerts of one event share their time)."""
    conditions = []
    if not principal.reads_everything:
        conditions.append("a.organization_ids @> ARRAY[%(org)s]::uuid[]")  # the GIN index
    for name in ("status", "code", "severity", "gtin", "lot", "serial"):
        if getattr(wanted, name) is not None:
            conditions.append(f"a.{name} = %({name})s")
    if wanted.facility_gln is not None:
        conditions.append("f.gln = %(facility_gln)s")
    if wanted.before is not None and wanted.before_id is not None:
        conditions.append("(a.raised_at, a.id) < (%(before)s, %(before_id)s)")
    elif wanted.before is not None:
        conditions.append("a.raised_at < %(before)s")
    params = {
        "org": principal.organization_id,
        "status": wanted.status,
        "code": wanted.code,
        "severity": wanted.severity,
        "gtin": wanted.gtin,
        "lot": wanted.lot,
        "serial": wanted.serial,
        "facility_gln": wanted.facility_gln,
        "before": wanted.before,
        "before_id": wanted.before_id,
        "limit": wanted.limit,
    }
    query = (
        f"SELECT {_COLUMNS} {_FROM} WHERE {' AND '.join(conditions) or 'true'}"
        " ORDER BY a.raised_at DESC, a.id DESC LIMIT %(limit)s"
    )
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(query, params)
        return await cursor.fetchall()


async def get_alert(
    connection: Connection, principal: Principal, alert_id: uuid.UUID
) -> dict[str, Any]:
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            f"SELECT {_COLUMNS}, a.organization_ids {_FROM} WHERE a.id = %s",
            (alert_id,),
        )
        alert = await cursor.fetchone()
        if alert is None or not _involves(principal, alert.pop("organization_ids")):
            raise NotFound("No alert with this id.")
        await cursor.execute(
            "SELECT c.at, c.status, c.note, coalesce(u.username, c.by::text) AS by"
            " FROM alert_changes c LEFT JOIN users u ON u.id = c.by"
            " WHERE c.alert_id = %s ORDER BY c.id",
            (alert_id,),
        )
        alert["changes"] = await cursor.fetchall()
    return alert


async def change_status(
    connection: Connection,
    principal: Principal,
    alert_id: uuid.UUID,
    status: AlertStatus,
    root_cause: str | None,
    note: str,
) -> dict[str, Any]:
    if status is AlertStatus.closed and not (root_cause and root_cause.strip()):
        raise InvalidInput(
            "root_cause: say why it happened before closing the alert.", field="root_cause"
        )
    async with connection.transaction():
        row = await (
            await connection.execute(
                "SELECT status, organization_ids FROM alerts WHERE id = %s FOR UPDATE",
                (alert_id,),
            )
        ).fetchone()
        if row is None or not _involves(principal, row[1]):
            raise NotFound("No alert with this id.")
        current = AlertStatus(row[0])
        if status not in NEXT[current]:
            raise Conflict(f"The alert is {current.value}; it cannot become {status.value}.")
        now = utcnow()
        await connection.execute(
            "UPDATE alerts SET status = %s, updated_at = %s,"
            " root_cause = CASE WHEN %s = 'closed' THEN %s ELSE root_cause END WHERE id = %s",
            (status.value, now, status.value, root_cause, alert_id),
        )
        await connection.execute(
            "INSERT INTO alert_changes (alert_id, at, by, status, note)"
            " VALUES (%s, %s, %s, %s, %s)",
            (alert_id, now, principal.id, status.value, note),
        )
    return await get_alert(connection, principal, alert_id)


def _involves(principal: Principal, organizations: list[uuid.UUID]) -> bool:
    return principal.reads_everything or principal.organization_id in organizations
