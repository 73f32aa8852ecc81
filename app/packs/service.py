"""Verifying a pack and reading its chain of custody."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.access_log.service import LOGGED_CTE, AccessEntry
from app.alerts.verification import alert_on_verification, risk
from app.auth.principal import Principal
from app.catalog.service import gtin_of
from app.errors import InvalidInput, NotFound
from app.facilities.directory import FacilityDirectory
from app.scoping import ensure_pack_handled
from models.base import utcnow
from models.codes import CodeError, PackCode, ReaderConfig, parse_pack_code
from models.events import BUSINESS_STEP, Action, Event, Outcome, PackEvent
from models.identity import Facility, Organization
from models.packs import Overlay, Pack, pack_overlays

Connection = psycopg.AsyncConnection[Any]


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


async def verify_code(
    connection: Connection,
    directory: FacilityDirectory,
    principal: Principal,
    text: str,
    reader: ReaderConfig,
    access: AccessEntry | None = None,
) -> PackView:
    """`access`: the request's access-log row, written by the pack's lookup itself (answered
    200), so that a verification costs one round trip; a code that cannot be read is refused
    before, and its row is the middleware's."""
    try:
        code = parse_pack_code(text, reader)
    except CodeError as exc:
        raise InvalidInput(f"code: cannot read it: {exc}", field="code") from exc
    if code.serial is None:
        raise InvalidInput(
            "code: it has no serial number (AI 21); scan the pack's 2D code.", field="code"
        )
    found = await view(connection, principal, code, access)
    alert = risk(found.status, found.overlays, found.product is not None)
    if alert is not None:
        pack = (code.gtin, code.serial, found.lot)
        await alert_on_verification(connection, directory, principal, alert, pack, found.reason)
    return found


async def pack_view(
    connection: Connection,
    principal: Principal,
    gtin: str,
    serial: str,
    access: AccessEntry | None = None,
) -> PackView:
    return await view(connection, principal, PackCode(gtin=gtin_of(gtin), serial=serial), access)


# One round trip for a known pack: the hot path of every scan, in plain SQL.
_PACK_VIEW = """
SELECT p.status, p.status_at, b.lot, b.expiry, b.overlay,
       pr.name, pr.name_fa, pr.generic_name, pr.form, pr.strength, pr.pack_size,
       h.gln, h.name, h.organization_id,
       f.gln, f.name, f.organization_id,
       t.gln, t.name, t.organization_id, p.in_return
FROM packs p
JOIN batches b ON b.gtin = p.gtin AND b.lot = p.lot
JOIN products pr ON pr.gtin = p.gtin
LEFT JOIN facilities h ON h.id = p.holder_id
LEFT JOIN facilities f ON f.id = p.transit_from_id
LEFT JOIN facilities t ON t.id = p.transit_to_id
WHERE p.gtin = %s AND p.serial = %s
"""
# The same in the statement that writes the request's access-log row (autocommit: committed
# before the answer is sent).
_LOGGED_PACK_VIEW = f"WITH {LOGGED_CTE} {_PACK_VIEW}"
ANSWERED = 200  # what the routes that show a pack answer, known or not
_PRODUCT = (
    "SELECT name, name_fa, generic_name, form, strength, pack_size FROM products WHERE gtin = %s"
)
_BATCH_EXISTS = "SELECT 1 FROM batches WHERE gtin = %s AND lot = %s"
PRODUCT_FIELDS = ("name", "name_fa", "generic_name", "form", "strength", "pack_size")


async def view(
    connection: Connection,
    principal: Principal | None,
    code: PackCode,
    access: AccessEntry | None = None,
) -> PackView:
    """`principal` None: an anonymous patient, who never sees custody. `access`: the request's
    access-log row, written by the lookup."""
    assert code.serial is not None
    if access is None:
        found = await connection.execute(_PACK_VIEW, (code.gtin, code.serial))
    else:
        parameters = (*access.parameters(ANSWERED), code.gtin, code.serial)
        found = await connection.execute(_LOGGED_PACK_VIEW, parameters)
        access.logged(ANSWERED)
    row = await found.fetchone()
    if row is None:
        return await _unknown_part(connection, code)
    status, status_at, lot, expiry, batch_overlay = row[0:5]
    product = dict(zip(PRODUCT_FIELDS, row[5:11], strict=True))
    holder, source, destination = row[11:14], row[14:17], row[17:20]
    overlays = sorted(o.value for o in pack_overlays(expiry, batch_overlay, utcnow().date()))
    reasons = []
    if code.lot is not None and code.lot != lot:
        reasons.append(f"batch mismatch: the code says lot {code.lot}, the register says {lot}")
    if code.expiry is not None and code.expiry != expiry:
        reasons.append(
            f"expiry mismatch: the code says {code.expiry.isoformat()}, "
            f"the register says {expiry.isoformat()}"
        )
    if batch_overlay:
        reasons.append(f"batch {lot} {batch_overlay}: do not supply; follow the recall notice")
    if Overlay.expired.value in overlays:
        reasons.append(f"expired on {expiry.isoformat()}: do not supply")
    if status != "active" and not reasons:
        reasons.append(f"{status} on {status_at.date().isoformat()}")
    return PackView(
        status=status,
        gtin=code.gtin,
        serial=code.serial,
        lot=lot,
        expiry=expiry,
        product=product,
        overlays=overlays,
        holder=_custody(principal, holder, source, destination, returning=row[20])
        if principal
        else None,
        reason="; ".join(reasons),
    )


async def _unknown_part(connection: Connection, code: PackCode) -> PackView:
    row = await (await connection.execute(_PRODUCT, (code.gtin,))).fetchone()
    if row is None:
        return _unknown(code, f"unknown product: GTIN {code.gtin} is not registered")
    product = dict(zip(PRODUCT_FIELDS, row, strict=True))
    if code.lot is not None:
        batch = await (await connection.execute(_BATCH_EXISTS, (code.gtin, code.lot))).fetchone()
        if batch is None:
            return _unknown(
                code, f"unknown batch: no batch {code.lot} of GTIN {code.gtin}", product
            )
    return _unknown(code, f"unknown serial: no pack {code.serial} of GTIN {code.gtin}", product)


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


Site = tuple[Any, ...]  # (gln, name, organization_id), all None when absent


def _custody(
    principal: Principal, holder: Site, source: Site, destination: Site, *, returning: bool
) -> dict[str, Any] | None:
    """Custody is shown to inspectors and to the organisations involved in it."""
    involved = {site[2] for site in (holder, source, destination) if site[0] is not None}
    if not principal.reads_everything and principal.organization_id not in involved:
        return None

    def describe(site: Site) -> dict[str, str] | None:
        return {"gln": site[0], "name": site[1]} if site[0] is not None else None

    if destination[0] is not None:
        return {
            "in_transit": True,
            "returning": returning,
            "from": describe(source),
            "to": describe(destination),
        }
    return {"in_transit": False, "facility": describe(holder)}


@dataclass(frozen=True)
class HistoryEntry:
    event_id: uuid.UUID
    action: str
    business_step: str
    event_time: datetime
    recorded_at: datetime
    facility: dict[str, Any]  # gln, name, name_fa, province, city, organization
    destination: dict[str, Any] | None
    outcome: str
    status_before: str | None
    status_after: str | None
    reason: str
    offline: bool
    # The pack's version this line made (commissioning: 0; none for lines recorded before
    # versions were kept).
    version: int | None


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
    # In the order the pack went through them (its versions, given under its row lock); lines
    # from before versions were kept come first, as recorded.
    order = (col(PackEvent.version).asc().nulls_first(), col(PackEvent.recorded_at))
    rows = (await session.exec(statement.order_by(*order))).all()
    commission = await session.get(Event, pack.commission_event_id)
    custody = [pack.holder_id, pack.transit_from_id, pack.transit_to_id]
    handled = [
        site
        for r in rows
        if r.outcome != Outcome.refused
        for site in (r.facility_id, r.destination_id)
    ]
    commissioned_at = commission.facility_id if commission else None
    ensure_pack_handled(own, [commissioned_at, *custody, *handled], gtin, serial)
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
                version=0,
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
                version=row.version,
            )
        )
    return entries


async def _names(
    session: AsyncSession, rows: list[PackEvent] | Any, commission: Event | None
) -> dict[uuid.UUID, dict[str, Any]]:
    """Each facility with its organisation, in English and Persian."""
    ids = {r.facility_id for r in rows} | {r.destination_id for r in rows if r.destination_id}
    if commission is not None:
        ids.add(commission.facility_id)
    found = await session.exec(
        select(Facility, Organization)
        .join(Organization, col(Organization.id) == col(Facility.organization_id))
        .where(col(Facility.id).in_(ids))
    )
    return {
        f.id: {
            "gln": f.gln,
            "name": f.name,
            "name_fa": f.name_fa,
            "province": f.province,
            "city": f.city,
            "organization": {"gln": o.gln, "name": o.name, "name_fa": o.name_fa, "kind": o.kind},
        }
        for f, o in found.all()
    }


MAX_SERIAL_MATCHES = 50
_WITH_SERIAL = """
SELECT p.gtin, p.serial, p.lot, p.status FROM packs p
JOIN batches b ON b.gtin = p.gtin AND b.lot = p.lot
WHERE p.serial = %(serial)s
  AND (%(everything)s OR b.organization_id = %(organization)s
       OR p.holder_id IN (SELECT id FROM facilities WHERE organization_id = %(organization)s))
ORDER BY p.gtin LIMIT %(limit)s
"""


async def packs_with_serial(
    connection: Connection, principal: Principal, serial: str
) -> list[dict[str, str]]:
    """The packs numbered `serial` (a serial typed alone) of any GTIN, that the caller may see
    without more: inspectors all, others those of their batches or held at their sites."""
    cursor = await connection.execute(
        _WITH_SERIAL,
        {"serial": serial, "everything": principal.reads_everything,
         "organization": principal.organization_id, "limit": MAX_SERIAL_MATCHES},
    )  # fmt: skip
    return [
        {"gtin": gtin.strip(), "serial": found, "lot": lot, "status": status}
        for gtin, found, lot, status in await cursor.fetchall()
    ]
