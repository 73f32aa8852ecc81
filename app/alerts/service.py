"""Alert triage: each organisation sees the alerts that involve it, inspectors see all; an alert
goes new → investigating → closed (with a root cause), and every change is kept."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from app.auth.principal import Principal
from app.errors import Conflict, InvalidInput, NotFound
from app.indicators import summaries
from app.web.provinces import province as province_named
from models.alerts import AlertCode, AlertStatus, RootCause, Severity
from models.base import utcnow

Connection = psycopg.AsyncConnection[Any]

NEXT: dict[AlertStatus, frozenset[AlertStatus]] = {
    AlertStatus.new: frozenset({AlertStatus.investigating, AlertStatus.closed}),
    AlertStatus.investigating: frozenset({AlertStatus.closed}),
    AlertStatus.closed: frozenset({AlertStatus.investigating}),  # reopened
}

_COLUMNS = """
a.id, a.code, a.severity, a.status, a.message, a.gtin, a.serial, a.lot, a.event_id,
a.raised_at, a.updated_at, a.root_cause, a.root_cause_kind,
f.gln AS facility_gln, f.name AS facility_name, f.name_fa AS facility_name_fa,
f.province AS facility_province, o.name AS organization,
pr.name AS product, pr.name_fa AS product_fa,
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
    province: str | None = None  # where it was raised, in any spelling `province()` knows
    since: datetime | None = None  # raised at or after
    until: datetime | None = None  # raised before


def _where(
    principal: Principal, wanted: AlertFilter, *, by_status: bool = True
) -> tuple[str, dict[str, Any]]:
    conditions = []
    if not principal.reads_everything:
        conditions.append("a.organization_ids @> ARRAY[%(org)s]::uuid[]")  # the GIN index
    for name in ("status", "code", "severity", "gtin", "lot", "serial"):
        if getattr(wanted, name) is not None and (by_status or name != "status"):
            conditions.append(f"a.{name} = %({name})s")
    if wanted.facility_gln is not None:
        conditions.append("f.gln = %(facility_gln)s")
    spellings: list[str] = []
    if wanted.province is not None:
        spellings = _spellings(wanted.province)
        conditions.append("lower(f.province) = ANY(%(province)s)")
    if wanted.since is not None:
        conditions.append("a.raised_at >= %(since)s")
    if wanted.until is not None:
        conditions.append("a.raised_at < %(until)s")
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
        "province": spellings,
        "since": wanted.since,
        "until": wanted.until,
        "before": wanted.before,
        "before_id": wanted.before_id,
        "limit": wanted.limit,
    }
    return " AND ".join(conditions) or "true", params


def _spellings(name: str) -> list[str]:
    """Facilities carry their province as typed: every spelling of the province `name` means."""
    found = province_named(name)
    if found is None:
        return [name.strip().lower()]
    return [s.lower() for s in (found.name, found.name_fa, *found.aliases)]


async def list_alerts(
    connection: Connection, principal: Principal, wanted: AlertFilter
) -> list[dict[str, Any]]:
    """Newest first; page with `before` and `before_id`, the `raised_at` and `id` of the last
    alert of a page (the alerts of one event share their time)."""
    where, params = _where(principal, wanted)
    query = (
        f"SELECT {_COLUMNS} {_FROM} WHERE {where}"
        " ORDER BY a.raised_at DESC, a.id DESC LIMIT %(limit)s"
    )
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(query, params)
        return await cursor.fetchall()


async def count_by_status(
    connection: Connection, principal: Principal, wanted: AlertFilter
) -> dict[AlertStatus, int]:
    """How many alerts the filter finds in each status (its own status and paging aside)."""
    where, params = _where(principal, replace(wanted, before=None, before_id=None), by_status=False)
    rows = await (
        await connection.execute(
            f"SELECT a.status, count(*) {_FROM} WHERE {where} GROUP BY 1", params
        )
    ).fetchall()
    counted = {status: 0 for status in AlertStatus}
    counted.update({AlertStatus(status): n for status, n in rows})
    return counted


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
    root_cause_kind: RootCause | None = None,
) -> dict[str, Any]:
    """Closing needs a root cause: its category, a description, or both."""
    _check_cause(status, root_cause, root_cause_kind)
    async with connection.transaction():
        await _change(connection, principal, alert_id, status, root_cause, note, root_cause_kind)
    return await get_alert(connection, principal, alert_id)


async def close_many(
    connection: Connection,
    principal: Principal,
    alert_ids: Sequence[uuid.UUID],
    root_cause_kind: RootCause | None,
    root_cause: str | None,
    note: str = "",
) -> list[uuid.UUID]:
    """Close several alerts with one root cause (false positives found together): all of them
    or, if any cannot be closed by the caller, none."""
    if not alert_ids:
        raise InvalidInput("alert_ids: choose at least one alert to close.", field="alert_ids")
    _check_cause(AlertStatus.closed, root_cause, root_cause_kind)
    chosen = list(dict.fromkeys(alert_ids))
    async with connection.transaction():
        for alert_id in sorted(chosen):  # one lock order: two bulk closes cannot deadlock
            await _change(
                connection, principal, alert_id, AlertStatus.closed, root_cause, note,
                root_cause_kind,
            )  # fmt: skip
    return chosen


def _check_cause(status: AlertStatus, root_cause: str | None, kind: RootCause | None) -> None:
    if status is AlertStatus.closed and kind is None and not (root_cause and root_cause.strip()):
        raise InvalidInput(
            "root_cause: say why it happened before closing the alert.", field="root_cause"
        )


async def _change(
    connection: Connection,
    principal: Principal,
    alert_id: uuid.UUID,
    status: AlertStatus,
    root_cause: str | None,
    note: str,
    root_cause_kind: RootCause | None,
) -> None:
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
    closing = status is AlertStatus.closed
    await connection.execute(
        "UPDATE alerts SET status = %s, updated_at = %s,"
        " root_cause = CASE WHEN %s THEN %s ELSE root_cause END,"
        " root_cause_kind = CASE WHEN %s THEN %s ELSE root_cause_kind END WHERE id = %s",
        (
            status.value, now, closing, (root_cause or "").strip() or None, closing,
            root_cause_kind.value if root_cause_kind else None, alert_id,
        ),
    )  # fmt: skip
    opened = (status is not AlertStatus.closed) - (current is not AlertStatus.closed)
    if opened:
        await summaries.alert_open_changed(connection, alert_id, opened)
    await connection.execute(
        "INSERT INTO alert_changes (alert_id, at, by, status, note) VALUES (%s, %s, %s, %s, %s)",
        (alert_id, now, principal.id, status.value, note),
    )


def _involves(principal: Principal, organizations: list[uuid.UUID]) -> bool:
    return principal.reads_everything or principal.organization_id in organizations
