"""/api/facilities"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from app.auth.guards import EVERY_ROLE, allow
from app.dependencies import Caller, Session
from app.facilities import service
from models.identity import Facility, Role

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Place = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class FacilityIn(msgspec.Struct):
    gln: str
    organization_id: uuid.UUID
    name: Name
    province: Place
    city: Place
    name_fa: Annotated[str, msgspec.Meta(max_length=200)] = ""
    address: Annotated[str, msgspec.Meta(max_length=500)] = ""


class FacilityOut(msgspec.Struct):
    id: uuid.UUID
    gln: str
    organization_id: uuid.UUID
    name: str
    name_fa: str
    address: str
    province: str
    city: str
    created_at: datetime


def facility_out(facility: Facility) -> FacilityOut:
    return msgspec.convert(facility, FacilityOut, from_attributes=True)


class FacilityController(Controller):
    path = "/api/facilities"
    tags = ["identity"]  # noqa: RUF012
    opt = {"audit": "facilities"}  # noqa: RUF012

    @post("/", guards=[allow({Role.admin})], summary="Register a facility (admin)")
    async def create(self, session: Session, data: JSONBody[FacilityIn]) -> FacilityOut:
        new = service.NewFacility(**msgspec.structs.asdict(data))
        return facility_out(await service.create(session, new))

    @get("/", guards=[allow(EVERY_ROLE, devices=True)], summary="Facilities the caller may see")
    async def index(
        self,
        session: Session,
        principal: Caller,
        organization_id: FromQuery[uuid.UUID | None] = None,
    ) -> list[FacilityOut]:
        facilities = await service.list_visible(session, principal, organization_id)
        return [facility_out(f) for f in facilities]

    @get("/{facility_id:uuid}", guards=[allow(EVERY_ROLE, devices=True)], summary="One facility")
    async def show(
        self, session: Session, principal: Caller, facility_id: FromPath[uuid.UUID]
    ) -> FacilityOut:
        return facility_out(await service.get(session, principal, facility_id))
