"""Captured EPCIS events that touch the register's packs and cases drive its pack state through
the same rules as `/api/events`: commissioning serializes packs of a registered batch, packing
builds and breaks cases, the moves and decommissionings go through the event service. Where the
register says no, nothing of the register changes and the refusal is said (the event itself is
kept as captured, and the refusal raised as an alert)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg

from app.alerts.engine import AlertDraft, raise_alerts
from app.auth.principal import Principal
from app.epcis.captured import CapturedEvent, cbv_word, key_of
from app.epcis.identifiers import parse_epc
from app.errors import ServiceError
from app.events import service
from app.events.service import EventRequest
from app.facilities.directory import FacilityDirectory, Site
from app.packs.commissioning import copy_packs, ensure_room
from models.alerts import AlertCode
from models.base import utcnow
from models.catalog import Batch
from models.codes import ReaderConfig
from models.events import BUSINESS_STEP, Action

Connection = psycopg.AsyncConnection[Any]

# ObjectEvents by business step (bare CBV words); the disposition tells returns and thefts.
_OBJECT_STEPS: dict[str, Action] = {
    "shipping": Action.ship,
    "receiving": Action.receive,
    "accepting": Action.receive,
    "dispensing": Action.dispense,
    "retail_selling": Action.dispense,
    "destroying": Action.destroy,
    "decommissioning": Action.check_out,
    "sampling": Action.sample,
}
_LOT = ("cbvmda:lotNumber", "urn:epcglobal:cbv:mda:lotNumber", "https://gs1.org/voc/lotNumber")
_EXPIRY = (
    "cbvmda:itemExpirationDate",
    "urn:epcglobal:cbv:mda:itemExpirationDate",
    "https://gs1.org/voc/expirationDate",
)


@dataclass
class Applied:
    """What the register made of one event: its register event, and what it refused."""

    register_event_id: uuid.UUID | None = None
    refusals: list[str] = field(default_factory=list)


def register_action(event: CapturedEvent) -> Action | None:
    """The register's action for this event, if it is one the register keeps state for."""
    step, disposition = event.biz_step, event.disposition
    if event.event_type == "AggregationEvent" and event.action in ("ADD", "DELETE"):
        return Action.pack if event.action == "ADD" else Action.unpack
    if event.event_type != "ObjectEvent" or not event.identified.get("epcList"):
        return None
    if event.action == "ADD" and step == "commissioning":
        return Action.commission
    if step == "shipping" and disposition == "returned":
        return Action.return_
    if step == "decommissioning" and disposition == "stolen":
        return Action.stolen
    if step == "holding":
        return {"non_sellable_other": Action.lock, "sellable_accessible": Action.unlock}.get(
            disposition or ""
        )
    return _OBJECT_STEPS.get(step or "")


def register_event_id(event: CapturedEvent) -> uuid.UUID:
    """The same captured event always drives the same register event (a replay is one)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, event.hash_id)


async def apply(
    connection: Connection,
    directory: FacilityDirectory,
    principal: Principal,
    event: CapturedEvent,
    site: Site,
    reader: ReaderConfig,
) -> Applied:
    action = register_action(event)
    if action is None:
        return Applied()
    event_id = register_event_id(event)
    try:
        if action is Action.commission:
            return await _commission(connection, principal, event, site, event_id)
        answer = await service.record(
            connection, directory, principal, _request(event, action, site, event_id, reader)
        )
    except (ServiceError, _Refused) as exc:
        detail = exc.detail if isinstance(exc, ServiceError) else str(exc)
        await _raise_refusal(connection, directory, event, site, detail)
        return Applied(refusals=[detail])
    refused = [
        f"{result['code']}: {result['reason']}"
        for result in answer.body.get("results", [])
        if result.get("outcome") == "refused"
    ]
    if answer.status_code >= 400:
        detail = str(answer.body.get("detail", "refused"))
        await _raise_refusal(connection, directory, event, site, detail)
        return Applied(refusals=[detail])
    return Applied(register_event_id=event_id, refusals=refused)


def _request(
    event: CapturedEvent, action: Action, site: Site, event_id: uuid.UUID, reader: ReaderConfig
) -> EventRequest:
    # The register's reader takes every identifier in its GS1 Digital Link form.
    lists = event.identified
    if action in (Action.pack, Action.unpack):
        codes = [key_of(epc) for epc in lists.get("childEPCs", [])]
        parent = lists.get("parentID")
        container = key_of(parent[0]) if parent else None
    else:
        codes = [key_of(epc) for epc in lists.get("epcList", [])]
        container = None
    return EventRequest(
        event_id=event_id,
        action=action,
        codes=codes,
        facility_gln=site.gln,
        destination_gln=_destination(event) if action in (Action.ship, Action.return_) else None,
        event_time=event.event_time,
        container=container,
        reader=reader,
    )


def _destination(event: CapturedEvent) -> str | None:
    """The shipment's destination site: a `location` destination, else the owning party's."""
    found = event.document.get("destinationList") or []
    by_type = {cbv_word(item.get("type")): item.get("destination") for item in found}
    for kind in ("location", "owning_party", "possessing_party"):
        target = by_type.get(kind)
        if target:
            return parse_epc(target).gln
    return None


async def _commission(
    connection: Connection,
    principal: Principal,
    event: CapturedEvent,
    site: Site,
    event_id: uuid.UUID,
) -> Applied:
    ilmd = event.document.get("ilmd") or {}
    lot = next((ilmd[name] for name in _LOT if name in ilmd), None)
    expiry = next((ilmd[name] for name in _EXPIRY if name in ilmd), None)
    serials: dict[str, list[str]] = {}
    for epc in event.identified.get("epcList", []):
        if epc.gtin is None or epc.serial is None:
            raise _Refused([f"{epc.text}: only packs (SGTINs) can be commissioned"])
        serials.setdefault(epc.gtin, []).append(epc.serial)
    if not isinstance(lot, str):
        raise _Refused(["commissioning names no lot: the ILMD needs cbvmda:lotNumber"])
    refusals = []
    async with connection.transaction():
        for gtin, numbers in serials.items():
            problem = await _commission_batch(
                connection, principal, site, gtin, lot, expiry, numbers, event_id, event
            )
            if problem:
                refusals.append(problem)
        if refusals:
            raise _Refused(refusals)
    return Applied(register_event_id=event_id)


class _Refused(Exception):
    """Raised inside the commissioning's savepoint, so that a refused batch undoes the rest."""

    def __init__(self, refusals: list[str]) -> None:
        super().__init__("; ".join(refusals))


_BATCH = """
SELECT b.gtin, b.lot, b.organization_id, b.expiry, b.manufactured_on, b.quantity, b.origin,
       b.commissioned
FROM batches b JOIN products p ON p.gtin = b.gtin
WHERE b.gtin = %s AND b.lot = %s AND p.organization_id = %s
FOR UPDATE OF b
"""


async def _commission_batch(
    connection: Connection,
    principal: Principal,
    site: Site,
    gtin: str,
    lot: str,
    expiry: Any,
    serials: list[str],
    event_id: uuid.UUID,
    event: CapturedEvent,
) -> str | None:
    row = await (
        await connection.execute(_BATCH, (gtin, lot, principal.organization_id))
    ).fetchone()
    if row is None:
        return f"no batch {lot} of GTIN {gtin} is registered by your organisation"
    batch = Batch(
        gtin=row[0], lot=row[1], organization_id=row[2], expiry=row[3], manufactured_on=row[4],
        quantity=row[5], origin=row[6], commissioned=row[7],
    )  # fmt: skip
    if expiry is not None and str(expiry)[:10] != batch.expiry.isoformat():
        return f"batch {lot} of GTIN {gtin} expires on {batch.expiry.isoformat()}, not {expiry}"
    try:
        ensure_room(batch, gtin, lot, len(serials))
    except ServiceError as exc:
        return exc.detail
    await connection.execute(
        "INSERT INTO events (event_id, action, business_step, facility_id, actor_kind,"
        " actor_id, event_time, recorded_at, offline, payload_hash, response)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, false, %s, %s)"
        " ON CONFLICT (event_id) DO NOTHING",
        (
            event_id, Action.commission.value, BUSINESS_STEP[Action.commission], site.id,
            principal.kind, principal.id, event.event_time, utcnow(),
            hashlib.sha256(event.hash_id.encode()).hexdigest(),
            psycopg.types.json.Jsonb({"commissioned": len(serials), "gtin": gtin, "lot": lot}),
        ),
    )  # fmt: skip
    try:
        async with connection.transaction():
            await copy_packs(connection, batch, serials, site.id, event_id, event.event_time)
    except psycopg.errors.UniqueViolation:
        cursor = await connection.execute(
            "SELECT serial FROM packs WHERE gtin = %s AND serial = ANY(%s) LIMIT 5",
            (gtin, serials),
        )
        taken = [serial for (serial,) in await cursor.fetchall()]
        return f"GTIN {gtin}: serials already commissioned: {', '.join(taken) or 'repeated'}"
    await connection.execute(
        "UPDATE batches SET commissioned = commissioned + %s WHERE gtin = %s AND lot = %s",
        (len(serials), gtin, lot),
    )
    return None


async def _raise_refusal(
    connection: Connection,
    directory: FacilityDirectory,
    event: CapturedEvent,
    site: Site,
    detail: str,
) -> None:
    gtin = event.gtins[0] if len(event.gtins) == 1 else None
    draft = AlertDraft(
        code=AlertCode.refused_change,
        message=f"EPCIS event {event.event_id} refused by the register: {detail}",
        facility_id=site.id,
        gtin=gtin,
    )
    await raise_alerts(connection, directory, None, [draft], utcnow())
