"""Organisations: admins register them and set their GS1 company prefixes; members see their
own; inspectors see all."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.principal import Principal
from app.errors import Conflict, NotFound
from app.organizations import prefixes
from app.scoping import checked_key, ensure_visible, get_or_404
from models.gs1 import validate_gln
from models.identity import Organization, OrganizationKind
from models.translatable import Translatable


@dataclass(frozen=True)
class NewOrganization:
    gln: str
    name: str
    name_fa: str
    kind: OrganizationKind
    company_prefixes: Sequence[str] = ()


@dataclass(frozen=True)
class OrganizationRecord:
    organization: Organization
    company_prefixes: list[str] = field(default_factory=list)


async def create(session: AsyncSession, data: NewOrganization) -> OrganizationRecord:
    gln = checked_key(validate_gln, data.gln, "gln")
    wanted = prefixes.validated(data.company_prefixes)
    if (await session.exec(select(Organization).where(Organization.gln == gln))).first():
        raise Conflict(
            Translatable("An organisation with GLN %(gln)s is already registered.", gln=gln),
            field="gln",
        )
    organization = Organization(gln=gln, name=data.name, name_fa=data.name_fa, kind=data.kind)
    session.add(organization)
    await session.flush()
    if wanted:
        await prefixes.replace(session, organization, wanted)
    await session.commit()
    return OrganizationRecord(organization, wanted)


async def set_company_prefixes(
    session: AsyncSession, org_id: uuid.UUID, company_prefixes: Sequence[str]
) -> OrganizationRecord:
    """Replace the organisation's prefixes with `company_prefixes` (an administrator's act)."""
    organization = await get_or_404(session, Organization, org_id, "organisation")
    return await _replace(session, organization, prefixes.validated(company_prefixes))


async def add_company_prefixes(
    session: AsyncSession, gln: str, company_prefixes: Sequence[str]
) -> OrganizationRecord:
    """Give the organisation with this GLN more prefixes, keeping those it holds."""
    gln = checked_key(validate_gln, gln, "gln")
    organization = (await session.exec(select(Organization).where(Organization.gln == gln))).first()
    if organization is None:
        raise NotFound(f"No organisation with GLN {gln}.")
    held = (await prefixes.of_organizations(session, [organization.id]))[organization.id]
    return await _replace(session, organization, prefixes.validated([*held, *company_prefixes]))


async def _replace(
    session: AsyncSession, organization: Organization, wanted: list[str]
) -> OrganizationRecord:
    await prefixes.replace(session, organization, wanted)
    await session.commit()
    return OrganizationRecord(organization, wanted)


async def list_visible(session: AsyncSession, principal: Principal) -> list[OrganizationRecord]:
    statement = select(Organization).order_by(col(Organization.name))
    if not principal.reads_everything:
        statement = statement.where(Organization.id == principal.organization_id)
    return await _with_prefixes(session, (await session.exec(statement)).all())


async def get(session: AsyncSession, principal: Principal, org_id: uuid.UUID) -> OrganizationRecord:
    ensure_visible(principal, org_id, "organisation")
    organization = await get_or_404(session, Organization, org_id, "organisation")
    return (await _with_prefixes(session, [organization]))[0]


async def _with_prefixes(
    session: AsyncSession, organizations: Sequence[Organization]
) -> list[OrganizationRecord]:
    held = await prefixes.of_organizations(session, [o.id for o in organizations])
    return [OrganizationRecord(o, held[o.id]) for o in organizations]
