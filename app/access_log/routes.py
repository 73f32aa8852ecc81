"""GET /api/access-log: who read what, for admins and inspectors."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from app.access_log import service
from app.auth.guards import allow
from app.dependencies import Session
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
        session: Session,
        actor_id: FromQuery[uuid.UUID | None] = None,
        organization_id: FromQuery[uuid.UUID | None] = None,
        resource: FromQuery[str | None] = None,
        object_id: FromQuery[str | None] = None,
        outcome: FromQuery[AccessOutcome | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        before_id: FromQuery[int | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=service.MAX_PAGE)] = 100,
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
