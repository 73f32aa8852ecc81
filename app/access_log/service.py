"""Writing and querying the access log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import psycopg
from litestar.types import Scope
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


# The row of one request; `clock_timestamp()`, not the transaction's start, when written in a
# handler's transaction.
_COLUMNS = (
    "at, actor_kind, actor_id, actor_name, role, organization_id, resource, object_id, method,"
    " path, client_address, status_code, outcome"
)
_VALUES = "clock_timestamp(), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s"
INSERT = f"INSERT INTO access_log ({_COLUMNS}) VALUES ({_VALUES})"  # noqa: S608 (constants)
# For a handler that logs its request in the statement that does its work (`WITH logged AS
# (...) SELECT ...`): the row's parameters are `entry.parameters(status_code)`, first.
LOGGED_CTE = f"logged AS ({INSERT})"
_KEY = "darutrace_access"


@dataclass
class AccessEntry:
    """The access-log row of an audited request, known before the handler runs but for its
    status. The middleware writes it (autocommit) when the answer starts, before the answer
    leaves; a handler with a transaction of its own may write it there instead, with the
    status it will answer, and say so (`logged`) once that transaction has committed."""

    principal: Principal
    resource: str
    object_id: str | None
    method: str
    path: str
    client_address: str | None
    logged_status: int | None = None

    def parameters(self, status_code: int) -> tuple[Any, ...]:
        principal = self.principal
        return (
            principal.kind,
            principal.id,
            principal.name,
            principal.role.value,
            principal.organization_id,
            self.resource,
            self.object_id,
            self.method,
            self.path[:500],
            self.client_address,
            status_code,
            outcome_of(status_code).value,
        )

    def logged(self, status_code: int) -> None:
        """The row with this status is committed: the middleware writes none."""
        self.logged_status = status_code


def new_entry(scope: Scope, principal: Principal, resource: str) -> AccessEntry:
    """The request's entry, kept in its scope for the handler (`access_entry`)."""
    path_params: dict[str, Any] = scope.get("path_params") or {}
    client = scope.get("client")
    entry = AccessEntry(
        principal,
        resource=resource,
        object_id=next((str(v) for v in path_params.values()), None),
        method=str(scope.get("method", "")),
        path=scope["path"],
        client_address=client[0] if client else None,
    )
    cast(dict[str, Any], scope)[_KEY] = entry
    return entry


def access_entry(scope: Scope) -> AccessEntry | None:
    """The entry of an audited request by an authenticated caller; None for any other."""
    entry = cast(dict[str, Any], scope).get(_KEY)
    return entry if isinstance(entry, AccessEntry) else None


async def write(
    connection: psycopg.AsyncConnection[Any], entry: AccessEntry, status_code: int
) -> None:
    """The entry's row, in whatever transaction `connection` is (autocommit: at once). Plain
    SQL: it runs on every audited request."""
    await connection.execute(INSERT, entry.parameters(status_code))


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
