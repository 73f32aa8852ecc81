"""Facilities (sites with a GLN): admins register them for an organisation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.principal import Principal
from app.errors import Conflict, InvalidInput, NotFound
from app.scoping import checked_key, get_visible, scoped
from models.gs1 import validate_gln
from models.identity import Facility, Organization
from models.translatable import Translatable


@dataclass(frozen=True)
class NewFacility:
    gln: str
    organization_id: uuid.UUID
    name: str
    name_fa: str
    address: str
    province: str
    city: str


async def create(session: AsyncSession, data: NewFacility) -> Facility:
    gln = checked_key(validate_gln, data.gln, "gln")
    if await session.get(Organization, data.organization_id) is None:
        raise InvalidInput(
            "organization_id: no organisation with this id.", field="organization_id"
        )
    if (await session.exec(select(Facility).where(Facility.gln == gln))).first():
        raise Conflict(
            Translatable("A facility with GLN %(gln)s is already registered.", gln=gln),
            field="gln",
        )
    facility = Facility(
        gln=gln,
        organization_id=data.organization_id,
        name=data.name,
        name_fa=data.name_fa,
        address=data.address,
        province=data.province,
        city=data.city,
    )
    session.add(facility)
    await session.commit()
    return facility


async def list_visible(
    session: AsyncSession, principal: Principal, organization_id: uuid.UUID | None = None
) -> Sequence[Facility]:
    statement = select(Facility).order_by(col(Facility.name))
    statement = scoped(statement, principal, Facility.organization_id, organization_id)
    return (await session.exec(statement)).all()


async def get(session: AsyncSession, principal: Principal, facility_id: uuid.UUID) -> Facility:
    return await get_visible(session, principal, Facility, facility_id, "facility")


async def get_by_gln(session: AsyncSession, principal: Principal, gln: str) -> Facility:
    """A site by its GLN, scoped as by its id (your organisation's, or any for inspectors)."""
    gln = checked_key(validate_gln, gln, "gln")
    found = (await session.exec(select(Facility).where(Facility.gln == gln))).first()
    if found is None or not principal.may_read_organization(found.organization_id):
        raise NotFound(f"No facility with GLN {gln}.")
    return found
