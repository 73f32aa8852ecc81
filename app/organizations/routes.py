"""/api/organizations"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody

from app.auth.guards import EVERY_ROLE, allow
from app.dependencies import Caller, Session
from app.organizations import service
from models.identity import OrganizationKind, Role

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
# GS1 company prefixes, 4 to 12 digits each (the service checks them and their overlaps).
Prefixes = Annotated[list[str], msgspec.Meta(max_length=100)]


class OrganizationIn(msgspec.Struct):
    gln: str
    name: Name
    name_fa: Name
    kind: OrganizationKind
    company_prefixes: Prefixes = msgspec.field(default_factory=list)


class OrganizationChange(msgspec.Struct):
    company_prefixes: Prefixes


class OrganizationOut(msgspec.Struct):
    id: uuid.UUID
    gln: str
    name: str
    name_fa: str
    kind: OrganizationKind
    company_prefixes: list[str]
    created_at: datetime


def organization_out(record: service.OrganizationRecord) -> OrganizationOut:
    o = record.organization
    return OrganizationOut(
        o.id, o.gln, o.name, o.name_fa, o.kind, record.company_prefixes, o.created_at
    )


class OrganizationController(Controller):
    path = "/api/organizations"
    tags = ["identity"]  # noqa: RUF012
    opt = {"audit": "organizations"}  # noqa: RUF012

    @post("/", guards=[allow({Role.admin})], summary="Register an organisation (admin)")
    async def create(self, session: Session, data: JSONBody[OrganizationIn]) -> OrganizationOut:
        new = service.NewOrganization(
            data.gln, data.name, data.name_fa, data.kind, data.company_prefixes
        )
        return organization_out(await service.create(session, new))

    @patch(
        "/{org_id:uuid}",
        guards=[allow({Role.admin})],
        summary="Set an organisation's GS1 company prefixes (admin; the list replaces the old)",
    )
    async def change(
        self, session: Session, org_id: FromPath[uuid.UUID], data: JSONBody[OrganizationChange]
    ) -> OrganizationOut:
        record = await service.set_company_prefixes(session, org_id, data.company_prefixes)
        return organization_out(record)

    @get("/", guards=[allow(EVERY_ROLE)], summary="Organisations the caller may see")
    async def index(self, session: Session, principal: Caller) -> list[OrganizationOut]:
        return [organization_out(o) for o in await service.list_visible(session, principal)]

    @get("/{org_id:uuid}", guards=[allow(EVERY_ROLE)], summary="One organisation")
    async def show(
        self, session: Session, principal: Caller, org_id: FromPath[uuid.UUID]
    ) -> OrganizationOut:
        return organization_out(await service.get(session, principal, org_id))
