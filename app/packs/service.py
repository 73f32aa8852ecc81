"""Verifying a pack and reading its chain of custody."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.principal import Principal
from app.catalog.service import gtin_of
from app.errors import InvalidInput, NotFound
from models.base import utcnow
from models.catalog import Batch, Product
from models.codes import CodeError, PackCode, parse_pack_code
from models.events import BUSINESS_STEP, Action, Event, PackEvent
from models.identity import Facility
from models.packs import Overlay, Pack


@dataclass(frozen=True)
class PackView:
    status: str
    gtin: str
    serial: str | None
    lot: str | None
    expiry: date | None
    product: dict[str, Any] | None
    overlays: list[str]
    holder: dict[str, Any] | None
    reason: str


async def verify_code(session: AsyncSession, principal: Principal, text: str) -> PackView:
    try:
        code = parse_pack_code(text)
    except CodeError as exc:
        raise InvalidInput(f"code: cannot read it: {exc}", field="code") from exc
    if code.serial is None:
        raise InvalidInput(
            "code: it has no serial number (AI 21); scan the pack's 2D code.", field="code"
        )
    return await view(session, principal, code)


_PACKS: sa.Table = Pack.__table__  # type: ignore[attr-defined]
_HOLDER = aliased(Facility)
_FROM = aliased(Facility)
_TO = aliased(Facility)
# One round trip for a known pack: the hot path of every scan.
_PACK_VIEW = (
    sa.select(Pack, Batch, Product, _HOLDER, _FROM, _TO)
    .join(Batch, and_(col(Batch.gtin) == Pack.gtin, col(Batch.lot) == Pack.lot))
    .join(Product, col(Product.gtin) == Pack.gtin)
    .outerjoin(_HOLDER, col(_HOLDER.id) == Pack.holder_id)
    .outerjoin(_FROM, col(_FROM.id) == Pack.transit_from_id)
    .outerjoin(_TO, col(_TO.id) == Pack.transit_to_id)
)


async def view(session: AsyncSession, principal: Principal, code: PackCode) -> PackView:
    assert code.serial is not None
    statement = _PACK_VIEW.where(_PACKS.c.gtin == code.gtin, _PACKS.c.serial == code.serial)
    row = (await session.exec(statement)).first()  # type: ignore[call-overload]
    if row is None:
        return await _unknown_part(session, code)
    pack, batch, product, holder, source, destination = row
    overlays = [Overlay.expired.value] if batch.expiry < utcnow().date() else []
    reasons = []
    if code.lot is not None and code.lot != batch.lot:
        reasons.append(
            f"batch mismatch: the code says lot {code.lot}, the register says {batch.lot}"
        )
    if code.expiry is not None and code.expiry != batch.expiry:
        reasons.append(
            f"expiry mismatch: the code says {code.expiry.isoformat()}, "
            f"the register says {batch.expiry.isoformat()}"
        )
    if overlays:
        reasons.append(f"expired on {batch.expiry.isoformat()}: do not supply")
    if pack.status.value != "active" and not reasons:
        reasons.append(f"{pack.status.value} on {pack.status_at.date().isoformat()}")
    return PackView(
        status=pack.status.value,
        gtin=pack.gtin,
        serial=pack.serial,
        lot=batch.lot,
        expiry=batch.expiry,
        product=_product_info(product),
        overlays=overlays,
        holder=_custody(principal, holder, source, destination),
        reason="; ".join(reasons),
    )


def _product_info(product: Product) -> dict[str, Any]:
    return {
        "name": product.name,
        "name_fa": product.name_fa,
        "generic_name": product.generic_name,
        "form": product.form,
        "strength": product.strength,
        "pack_size": product.pack_size,
    }


async def _unknown_part(session: AsyncSession, code: PackCode) -> PackView:
    product = await session.get(Product, code.gtin)
    if product is None:
        return _unknown(code, f"unknown product: GTIN {code.gtin} is not registered")
    info = _product_info(product)
    if code.lot is not None and await session.get(Batch, (code.gtin, code.lot)) is None:
        return _unknown(code, f"unknown batch: no batch {code.lot} of GTIN {code.gtin}", info)
    return _unknown(code, f"unknown serial: no pack {code.serial} of GTIN {code.gtin}", info)


def _unknown(code: PackCode, reason: str, product: dict[str, Any] | None = None) -> PackView:
    return PackView(
        status="unknown",
        gtin=code.gtin,
        serial=code.serial,
        lot=code.lot,
        expiry=code.expiry,
        product=product,
        overlays=[],
        holder=None,
        reason=reason + " — suspected falsified pack: do not supply it, set it aside and report it",
    )


def _custody(
    principal: Principal,
    holder: Facility | None,
    source: Facility | None,
    destination: Facility | None,
) -> dict[str, Any] | None:
    """Custody is shown to inspectors and to the organisations involved in it."""
    involved = {f.organization_id for f in (holder, source, destination) if f is not None}
    if not principal.reads_everything and principal.organization_id not in involved:
        return None

    def describe(facility: Facility | None) -> dict[str, str] | None:
        return {"gln": facility.gln, "name": facility.name} if facility else None

    if destination is not None:
        return {"in_transit": True, "from": describe(source), "to": describe(destination)}
    return {"in_transit": False, "facility": describe(holder)}


async def pack_view(
    session: AsyncSession, principal: Principal, gtin: str, serial: str
) -> PackView:
    return await view(session, principal, PackCode(gtin=gtin_of(gtin), serial=serial))


@dataclass(frozen=True)
class HistoryEntry:
    event_id: uuid.UUID
    action: str
    business_step: str
    event_time: datetime
    recorded_at: datetime
    facility: dict[str, str]
    destination: dict[str, str] | None
    outcome: str
    status_before: str | None
    status_after: str | None
    reason: str
    offline: bool


async def history(
    session: AsyncSession, principal: Principal, gtin: str, serial: str
) -> list[HistoryEntry]:
    """The pack's events, oldest first: inspectors see all of them; an organisation sees those
    at its own facilities (or shipped to them)."""
    gtin = gtin_of(gtin)
    pack = await session.get(Pack, (gtin, serial))
    if pack is None:
        raise NotFound(f"No pack {serial} of GTIN {gtin}.")
    own: set[uuid.UUID] | None = None
    if not principal.reads_everything:
        own = set(
            (
                await session.exec(
                    select(Facility.id).where(Facility.organization_id == principal.organization_id)
                )
            ).all()
        )
    statement = select(PackEvent).where(PackEvent.gtin == gtin, PackEvent.serial == serial)
    if own is not None:
        statement = statement.where(
            or_(col(PackEvent.facility_id).in_(own), col(PackEvent.destination_id).in_(own))
        )
    rows = (await session.exec(statement.order_by(col(PackEvent.recorded_at)))).all()
    commission = await session.get(Event, pack.commission_event_id)
    names = await _names(session, rows, commission)
    entries = []
    if commission is not None and (own is None or commission.facility_id in own):
        entries.append(
            HistoryEntry(
                event_id=commission.event_id,
                action=Action.commission.value,
                business_step=BUSINESS_STEP[Action.commission],
                event_time=commission.event_time,
                recorded_at=commission.recorded_at,
                facility=names[commission.facility_id],
                destination=None,
                outcome="ok",
                status_before=None,
                status_after="active",
                reason="",
                offline=False,
            )
        )
    for row in rows:
        entries.append(
            HistoryEntry(
                event_id=row.event_id,
                action=row.action.value,
                business_step=BUSINESS_STEP[row.action],
                event_time=row.event_time,
                recorded_at=row.recorded_at,
                facility=names[row.facility_id],
                destination=names[row.destination_id] if row.destination_id else None,
                outcome=row.outcome.value,
                status_before=row.status_before.value if row.status_before else None,
                status_after=row.status_after.value if row.status_after else None,
                reason=row.reason,
                offline=row.offline,
            )
        )
    return entries


async def _names(
    session: AsyncSession, rows: list[PackEvent] | Any, commission: Event | None
) -> dict[uuid.UUID, dict[str, str]]:
    ids = {r.facility_id for r in rows} | {r.destination_id for r in rows if r.destination_id}
    if commission is not None:
        ids.add(commission.facility_id)
    facilities = (await session.exec(select(Facility).where(col(Facility.id).in_(ids)))).all()
    return {f.id: {"gln": f.gln, "name": f.name, "name_fa": f.name_fa} for f in facilities}
