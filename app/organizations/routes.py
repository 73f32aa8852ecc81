"""/api/organizations"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from app.auth.guards import EVERY_ROLE, allow
from app.dependencies import Caller, Session
from app.organizations import service
from models.identity import Organization, OrganizationKind, Role

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class OrganizationIn(msgspec.Struct):
    gln: str
    name: Name
    name_fa: Name
    kind: OrganizationKind


class OrganizationOut(msgspec.Struct):
    id: uuid.UUID
    gln: str
    name: str
    name_fa: str
    kind: OrganizationKind
    created_at: datetime


def organization_out(organization: Organization) -> OrganizationOut:
    return msgspec.convert(organization, OrganizationOut, from_attributes=True)


class OrganizationController(Controller):
    path = "/api/organizations"
    tags = ["identity"]  # noqa: RUF012
    opt = {"audit": "organizations"}  # noqa: RUF012

    @post("/", guards=[allow({Role.admin})], summary="Register an organisation (admin)")
    async def create(self, session: Session, data: JSONBody[OrganizationIn]) -> OrganizationOut:
        new = service.NewOrganization(data.gln, data.name, data.name_fa, data.kind)
        return organization_out(await service.create(session, new))

    @get("/", guards=[allow(EVERY_ROLE)], summary="Organisations the caller may see")
    async def index(self, session: Session, principal: Caller) -> list[OrganizationOut]:
        return [organization_out(o) for o in await service.list_visible(session, principal)]

    @get("/{org_id:uuid}", guards=[allow(EVERY_ROLE)], summary="One organisation")
    async def show(
        self, session: Session, principal: Caller, org_id: FromPath[uuid.UUID]
    ) -> OrganizationOut:
        return organization_out(await service.get(session, principal, org_id))
