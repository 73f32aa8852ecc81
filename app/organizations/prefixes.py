"""GS1 company prefixes: which organisation a GTIN belongs to.

A GTIN-13 begins with its company prefix; a GTIN-14 with an indicator digit and then the prefix;
a GTIN-12 (UPC) is a GTIN-13 with a leading 0, so its UPC company prefix is held here as the
GS1 prefix 0 + UPC prefix. We compare a prefix with the GTIN-14's digits after the indicator
(its GTIN-13 form), which covers all three. A GTIN-8 has no company prefix: GS1 licenses each
one by itself; in GTIN-13 form it is 00000 + its eight digits, so the organisation that holds
one is given the 12-digit prefix 00000 + its first seven digits (the check digit follows)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import Conflict, InvalidInput
from models.identity import CompanyPrefix, Organization
from models.translatable import Translatable

MIN_LENGTH, MAX_LENGTH = 4, 12
_GTIN8_SPACE = "00000"
# One writer at a time, so that two overlapping prefixes cannot be given at once.
_LOCK = sa.text("LOCK TABLE company_prefixes IN SHARE ROW EXCLUSIVE MODE")


def validate_prefix(value: str) -> str:
    prefix = value.strip()
    if not (prefix.isascii() and prefix.isdigit() and MIN_LENGTH <= len(prefix) <= MAX_LENGTH):
        raise InvalidInput(
            Translatable(
                "company_prefixes: a GS1 company prefix is 4 to 12 digits, got '%(value)s'.",
                value=value,
            ),
            field="company_prefixes",
        )
    if prefix.startswith(_GTIN8_SPACE) and len(prefix) != MAX_LENGTH:
        raise InvalidInput(
            Translatable(
                "company_prefixes: %(prefix)s lies in the GTIN-8 range (00000…), where GS1 "
                "licenses GTINs one by one; give a GTIN-8 as the 12 digits 00000 + its first "
                "seven digits.",
                prefix=prefix,
            ),
            field="company_prefixes",
        )
    return prefix


def validated(values: Iterable[str]) -> list[str]:
    """Each prefix checked; two that overlap in one list are refused like any other overlap."""
    prefixes = sorted({validate_prefix(value) for value in values})
    for shorter, longer in itertools.pairwise(prefixes):
        if longer.startswith(shorter):
            raise InvalidInput(
                Translatable(
                    "company_prefixes: %(longer)s lies inside %(shorter)s; give one of them.",
                    longer=longer,
                    shorter=shorter,
                ),
                field="company_prefixes",
            )
    return prefixes


def _leading_parts(digits: str) -> list[str]:
    return [digits[:n] for n in range(MIN_LENGTH, min(len(digits), MAX_LENGTH) + 1)]


async def holder_of(session: AsyncSession, gtin: str) -> CompanyPrefix | None:
    """The prefix (and so the organisation) a normalised GTIN-14 falls under, if any."""
    statement = select(CompanyPrefix).where(col(CompanyPrefix.prefix).in_(_leading_parts(gtin[1:])))
    return (await session.exec(statement)).first()


async def of_organizations(
    session: AsyncSession, organization_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    rows = await session.exec(
        select(CompanyPrefix)
        .where(col(CompanyPrefix.organization_id).in_(organization_ids))
        .order_by(col(CompanyPrefix.prefix))
    )
    held: dict[uuid.UUID, list[str]] = {organization_id: [] for organization_id in organization_ids}
    for row in rows:
        held[row.organization_id].append(row.prefix)
    return held


async def replace(session: AsyncSession, organization: Organization, prefixes: list[str]) -> None:
    """Make `prefixes` (already `validated`) the organisation's; the caller commits. Prefixes
    taken away stop new registrations under them; products registered stay registered."""
    await (await session.connection()).execute(_LOCK)
    held = (
        await session.exec(
            select(CompanyPrefix).where(CompanyPrefix.organization_id == organization.id)
        )
    ).all()
    for row in held:
        if row.prefix not in prefixes:
            await session.delete(row)
    kept = {row.prefix for row in held}
    for prefix in prefixes:
        clash = await _overlapping(session, prefix, organization.id)
        if clash is not None:
            raise Conflict(
                Translatable(
                    "company_prefixes: %(prefix)s overlaps %(held)s, which belongs to "
                    "%(holder)s; a company prefix belongs to one company.",
                    prefix=prefix,
                    held=clash[0],
                    holder=clash[1],
                ),
                field="company_prefixes",
            )
        if prefix not in kept:
            session.add(CompanyPrefix(prefix=prefix, organization_id=organization.id))
    await session.flush()


async def _overlapping(
    session: AsyncSession, prefix: str, organization_id: uuid.UUID
) -> tuple[str, str] | None:
    """Another organisation's prefix that `prefix` lies inside, or that lies inside it."""
    statement = (
        select(CompanyPrefix.prefix, Organization.name)
        .join(Organization, col(Organization.id) == col(CompanyPrefix.organization_id))
        .where(
            CompanyPrefix.organization_id != organization_id,
            sa.or_(
                col(CompanyPrefix.prefix).in_(_leading_parts(prefix)),
                col(CompanyPrefix.prefix).startswith(prefix),
            ),
        )
    )
    row = (await session.exec(statement)).first()
    return (row[0], row[1]) if row else None
