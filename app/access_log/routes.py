"""GET /api/access-log: who read what, for admins and inspectors."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from litestar import Controller, get
from litestar.params import Parameter
from sqlmodel.ext.asyncio.session import AsyncSession

from app.access_log import service
from app.auth.guards import allow
from models.access import AccessOutcome
from models.identity import Role


class AccessLogEntryOut(msgspec.Struct):
    id: int
    at: datetime
    actor_kind: str
    actor_id: uuid.UUID
    actor_name: str
    role: Role
    organization_id: uuid.UUID
    resource: str
    object_id: str | None
    method: str
    path: str
    client_address: str | None
    status_code: int
    outcome: AccessOutcome


class AccessLogController(Controller):
    path = "/api/access-log"
    tags = ["access log"]  # noqa: RUF012
    guards = [allow({Role.admin, Role.inspector})]  # noqa: RUF012
    opt = {"audit": "access-log"}  # noqa: RUF012

    @get("/", summary="Search the access log (newest first)")
    async def search(
        self,
        session: AsyncSession,
        actor_id: uuid.UUID | None = None,
        organization_id: uuid.UUID | None = None,
        resource: str | None = None,
        object_id: str | None = None,
        outcome: AccessOutcome | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: int | None = None,
        limit: int = Parameter(default=100, ge=1, le=service.MAX_PAGE),
    ) -> list[AccessLogEntryOut]:
        query = service.AccessLogQuery(
            actor_id=actor_id,
            organization_id=organization_id,
            resource=resource,
            object_id=object_id,
            outcome=outcome,
            since=since,
            until=until,
            before_id=before_id,
            limit=limit,
        )
        entries = await service.search(session, query)
        return [msgspec.convert(e, AccessLogEntryOut, from_attributes=True) for e in entries]
