"""Facilities (sites with a GLN): admins register them for an organisation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.principal import Principal
from app.errors import Conflict, InvalidInput
from app.scoping import checked_key, ensure_visible, get_or_404
from models.gs1 import validate_gln
from models.identity import Facility, Organization


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
        raise Conflict(f"A facility with GLN {gln} is already registered.", field="gln")
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
    if not principal.reads_everything:
        statement = statement.where(Facility.organization_id == principal.organization_id)
    if organization_id is not None:
        statement = statement.where(Facility.organization_id == organization_id)
    return (await session.exec(statement)).all()


async def get(session: AsyncSession, principal: Principal, facility_id: uuid.UUID) -> Facility:
    facility = await get_or_404(session, Facility, facility_id, "facility")
    ensure_visible(principal, facility.organization_id, "facility")
    return facility


async def acting_facility(
    session: AsyncSession, principal: Principal, facility_gln: str | None
) -> Facility:
    """Where the caller acts: a device's own facility; for a user, the facility named in the
    request (one of their organisation's) or else their home facility."""
    if principal.kind == "device" or facility_gln is None:
        if principal.facility_id is None:
            raise InvalidInput(
                "facility_gln: you have no home facility; say where this happens.",
                field="facility_gln",
            )
        facility = await get_or_404(session, Facility, principal.facility_id, "facility")
        if facility_gln is not None and facility_gln.strip() != facility.gln:
            raise InvalidInput(
                f"facility_gln: this device belongs to facility {facility.gln}.",
                field="facility_gln",
            )
        return facility
    gln = checked_key(validate_gln, facility_gln, "facility_gln")
    found = (await session.exec(select(Facility).where(Facility.gln == gln))).first()
    if found is None or found.organization_id != principal.organization_id:
        raise InvalidInput(
            f"facility_gln: {gln} is not one of your organisation's facilities.",
            field="facility_gln",
        )
    return found


async def by_gln(session: AsyncSession, gln: str, field: str) -> Facility:
    """Any registered facility (a shipment's destination may belong to anyone)."""
    gln = checked_key(validate_gln, gln, field)
    found = (await session.exec(select(Facility).where(Facility.gln == gln))).first()
    if found is None:
        raise InvalidInput(f"{field}: no facility is registered with GLN {gln}.", field=field)
    return found
