"""Organisations: admins register them; members see their own; inspectors see all."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.principal import Principal
from app.errors import Conflict
from app.scoping import checked_key, ensure_visible, get_or_404
from models.gs1 import validate_gln
from models.identity import Organization, OrganizationKind


@dataclass(frozen=True)
class NewOrganization:
    gln: str
    name: str
    name_fa: str
    kind: OrganizationKind


async def create(session: AsyncSession, data: NewOrganization) -> Organization:
    gln = checked_key(validate_gln, data.gln, "gln")
    if (await session.exec(select(Organization).where(Organization.gln == gln))).first():
        raise Conflict(f"An organisation with GLN {gln} is already registered.", field="gln")
    organization = Organization(gln=gln, name=data.name, name_fa=data.name_fa, kind=data.kind)
    session.add(organization)
    await session.commit()
    return organization


async def list_visible(session: AsyncSession, principal: Principal) -> Sequence[Organization]:
    statement = select(Organization).order_by(col(Organization.name))
    if not principal.reads_everything:
        statement = statement.where(Organization.id == principal.organization_id)
    return (await session.exec(statement)).all()


async def get(session: AsyncSession, principal: Principal, org_id: uuid.UUID) -> Organization:
    ensure_visible(principal, org_id, "organisation")
    return await get_or_404(session, Organization, org_id, "organisation")
