"""Writing and querying the access log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.principal import Principal
from models.access import AccessLogEntry, AccessOutcome

MAX_PAGE = 1000


def outcome_of(status_code: int) -> AccessOutcome:
    if status_code < 400:
        return AccessOutcome.ok
    if status_code == 403:
        return AccessOutcome.forbidden
    if status_code == 404:
        return AccessOutcome.not_found
    if status_code < 500:
        return AccessOutcome.invalid
    return AccessOutcome.error


_INSERT = (
    "INSERT INTO access_log (at, actor_kind, actor_id, actor_name, role, organization_id,"
    " resource, object_id, method, path, client_address, status_code, outcome)"
    " VALUES (clock_timestamp(), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


async def record(
    connection: psycopg.AsyncConnection[Any],
    principal: Principal,
    *,
    resource: str,
    object_id: str | None,
    method: str,
    path: str,
    client_address: str | None,
    status_code: int,
) -> None:
    """Written (autocommit) before the request ends; plain SQL, as it runs on every audited
    request."""
    await connection.execute(
        _INSERT,
        (
            principal.kind,
            principal.id,
            principal.name,
            principal.role.value,
            principal.organization_id,
            resource,
            object_id,
            method,
            path[:500],
            client_address,
            status_code,
            outcome_of(status_code).value,
        ),
    )


@dataclass(frozen=True)
class AccessLogQuery:
    actor_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    resource: str | None = None
    object_id: str | None = None
    outcome: AccessOutcome | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    limit: int = 100


async def search(session: AsyncSession, query: AccessLogQuery) -> Sequence[AccessLogEntry]:
    """Newest first; page with `before_id` (the smallest id of the previous page)."""
    statement = select(AccessLogEntry).order_by(col(AccessLogEntry.id).desc())
    filters = {
        AccessLogEntry.actor_id: query.actor_id,
        AccessLogEntry.organization_id: query.organization_id,
        AccessLogEntry.resource: query.resource,
        AccessLogEntry.object_id: query.object_id,
        AccessLogEntry.outcome: query.outcome,
    }
    for column, value in filters.items():
        if value is not None:
            statement = statement.where(column == value)
    if query.since is not None:
        statement = statement.where(col(AccessLogEntry.at) >= query.since)
    if query.until is not None:
        statement = statement.where(col(AccessLogEntry.at) < query.until)
    if query.before_id is not None:
        statement = statement.where(col(AccessLogEntry.id) < query.before_id)
    statement = statement.limit(max(1, min(query.limit, MAX_PAGE)))
    return (await session.exec(statement)).all()
