"""Recording what happens to packs: one event from a scanner or a user, many codes, one result
per code. Every write is one transaction; the same event_id sent again returns the first answer
and changes nothing."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.alerts.engine import AlertDraft, raise_alerts, worth_raising
from app.auth.principal import Principal
from app.errors import Forbidden, InvalidInput
from app.events import store
from app.events.store import Connection, PackRow
from app.events.transitions import MOVES, Context, Decision, PackState, decide
from app.facilities.directory import FacilityDirectory, Site, acting_site, registered_site
from models.alerts import AlertCode
from models.base import utcnow
from models.codes import CodeError, PackCode, parse_pack_code
from models.events import BUSINESS_STEP, Action, Outcome
from models.identity import Role
from models.packs import PackStatus, pack_overlays

MAX_CODES = 10_000
CLOCK_SKEW = timedelta(minutes=5)

_CHAIN = frozenset(
    {Role.manufacturer, Role.importer, Role.distributor, Role.pharmacy, Role.hospital}
)
_WHOLESALE = frozenset({Role.manufacturer, Role.importer, Role.distributor})
ALLOWED_ROLES: dict[Action, frozenset[Role]] = {
    Action.ship: _CHAIN,
    Action.receive: _CHAIN,
    Action.return_: _CHAIN,
    Action.dispense: frozenset({Role.pharmacy, Role.hospital}),
    Action.undo: _CHAIN,
    Action.destroy: _CHAIN,
    Action.export: _WHOLESALE,
    Action.sample: _WHOLESALE | {Role.inspector},
    Action.free_sample: _WHOLESALE,
    Action.lock: _CHAIN | {Role.inspector},
    Action.unlock: _CHAIN | {Role.inspector},
    Action.check_out: _CHAIN,
    Action.stolen: _CHAIN,
}


@dataclass(frozen=True)
class EventRequest:
    event_id: uuid.UUID
    action: Action
    codes: Sequence[str]
    facility_gln: str | None = None
    destination_gln: str | None = None
    event_time: datetime | None = None
    offline: bool = False


@dataclass(frozen=True)
class EventAnswer:
    status_code: int
    body: dict[str, Any]


@dataclass
class _Work:
    """What one event does, built up code by code (rows in the column order of `store`)."""

    results: list[dict[str, Any]] = field(default_factory=list)
    pack_events: list[list[Any]] = field(default_factory=list)
    updates: list[list[Any]] = field(default_factory=list)
    alerts: list[AlertDraft] = field(default_factory=list)
    conflict: bool = False


class _AlreadyRecorded(Exception):
    pass


async def record(
    connection: Connection,
    directory: FacilityDirectory,
    principal: Principal,
    request: EventRequest,
) -> EventAnswer:
    """`connection` is in autocommit mode; the event is written in one transaction."""
    _check_request(principal, request)
    facility = await acting_site(directory, connection, principal, request.facility_gln)
    destination = await _destination(directory, connection, request, facility)
    now = utcnow()
    event_time = _event_time(request.event_time, now)
    payload_hash = _payload_hash(request, principal, facility)
    codes = [_read(text) for text in request.codes]
    keys = sorted({(c.gtin, c.serial) for c in codes if isinstance(c, PackCode) and c.serial})
    try:
        async with connection.transaction():
            packs = await store.lock_packs(connection, keys)
            unknown_gtins = {gtin for gtin, serial in keys if (gtin, serial) not in packs}
            products = await store.product_owners(connection, unknown_gtins)
            ctx = Context(
                action=request.action,
                facility_id=facility.id,
                destination_id=destination.id if destination else None,
                event_time=event_time,
                offline=request.offline,
                names=await directory.labels(
                    connection, _related(packs.values(), facility, destination)
                ),
            )
            work = _work(request.codes, codes, packs, products, ctx)
            alerts = await worth_raising(connection, work.alerts, facility.id, request.action)
            status_code, body = _answer(request, facility, destination, event_time, work)
            event_row = [
                request.event_id,
                request.action.value,
                BUSINESS_STEP[request.action],
                facility.id,
                destination.id if destination else None,
                principal.kind,
                principal.id,
                event_time,
                now,
                request.offline,
                payload_hash,
                {"status_code": status_code, "body": body},
            ]
            if not await store.insert_event(connection, event_row):
                raise _AlreadyRecorded
            for row in work.pack_events:
                row[2:2] = [request.event_id]
                row[7:7] = [now]
            await store.insert_pack_events(connection, work.pack_events)
            for row in work.updates:
                row[6:6] = [request.event_id]
            await store.update_packs(connection, work.updates)
            await raise_alerts(connection, directory, request.event_id, alerts, now)
    except _AlreadyRecorded:
        # A retry of an event already recorded (or racing its twin): answer as the first did.
        stored = await store.stored_event(connection, request.event_id)
        assert stored is not None
        return _replay(request.event_id, stored, payload_hash)
    return EventAnswer(status_code, body)


def _related(packs: Iterable[PackRow], facility: Site, destination: Site | None) -> set[uuid.UUID]:
    ids = {facility.id} | ({destination.id} if destination else set())
    for pack in packs:
        for related in (
            pack.holder_id,
            pack.transit_from_id,
            pack.transit_to_id,
            pack.status_facility_id,
        ):
            if related is not None:
                ids.add(related)
    return ids


def _work(
    texts: Sequence[str],
    codes: Sequence[PackCode | str],
    packs: dict[tuple[str, str], PackRow],
    products: dict[str, uuid.UUID],
    ctx: Context,
) -> _Work:
    work = _Work()
    seen: set[tuple[str, str]] = set()
    for text, code in zip(texts, codes, strict=True):
        if isinstance(code, str):
            work.results.append(_result(text, None, Outcome.refused, None, code))
        elif code.serial is None:
            reason = "the code has no serial number (AI 21); scan the pack's 2D code"
            work.results.append(_result(text, code, Outcome.refused, None, reason))
        elif (code.gtin, code.serial) in seen:
            reason = "scanned twice in this event; counted once"
            work.results.append(_result(text, code, Outcome.warning, None, reason))
        else:
            seen.add((code.gtin, code.serial))
            pack = packs.get((code.gtin, code.serial))
            if pack is None:
                _unknown(work, text, code, ctx, products)
            else:
                _apply(work, text, code, pack, ctx)
    return work


def _answer(
    request: EventRequest,
    facility: Site,
    destination: Site | None,
    event_time: datetime,
    work: _Work,
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {
        "event_id": str(request.event_id),
        "action": request.action.value,
        "facility_gln": facility.gln,
        "destination_gln": destination.gln if destination else None,
        "event_time": event_time.isoformat(),
        "offline": request.offline,
        "results": work.results,
        "summary": {o.value: sum(r["outcome"] == o.value for r in work.results) for o in Outcome},
    }
    status_code = _status_code(work)
    if status_code != 200:
        body |= {
            "status": status_code,
            "title": "Conflict" if status_code == 409 else "Invalid input",
            "detail": "Every code was refused; nothing changed. " + work.results[0]["reason"],
        }
    return status_code, body


def _check_request(principal: Principal, request: EventRequest) -> None:
    if request.action is Action.commission:
        raise InvalidInput(
            "action: packs are commissioned with POST /api/batches/{gtin}/{lot}/packs.",
            field="action",
        )
    if principal.role not in ALLOWED_ROLES[request.action]:
        raise Forbidden(
            f"Your role ({principal.role.value}) may not record '{request.action.value}'."
        )
    if not request.codes:
        raise InvalidInput("codes: at least one code.", field="codes")
    if len(request.codes) > MAX_CODES:
        raise InvalidInput(f"codes: at most {MAX_CODES:,} codes per event.", field="codes")


async def _destination(
    directory: FacilityDirectory,
    connection: Connection,
    request: EventRequest,
    facility: Site,
) -> Site | None:
    if request.action not in MOVES:
        if request.destination_gln:
            raise InvalidInput(
                "destination_gln: only shipments and returns have a destination.",
                field="destination_gln",
            )
        return None
    if not request.destination_gln:
        raise InvalidInput(
            f"destination_gln: say where the packs are going ({request.action.value}).",
            field="destination_gln",
        )
    destination = await registered_site(
        directory, connection, request.destination_gln, "destination_gln"
    )
    if destination.id == facility.id:
        raise InvalidInput(
            "destination_gln: the destination is the facility the packs are at.",
            field="destination_gln",
        )
    return destination


def _event_time(event_time: datetime | None, now: datetime) -> datetime:
    if event_time is None:
        return now
    if event_time.tzinfo is None:
        raise InvalidInput(
            "event_time: include a time zone, e.g. 2026-11-26T10:15:00+03:30.", field="event_time"
        )
    if event_time > now + CLOCK_SKEW:
        raise InvalidInput(
            "event_time: in the future; check the device's clock.", field="event_time"
        )
    return event_time


def _payload_hash(request: EventRequest, principal: Principal, facility: Site) -> str:
    payload = {
        "action": request.action.value,
        "codes": list(request.codes),
        "facility": str(facility.id),
        "destination": request.destination_gln,
        "event_time": request.event_time.isoformat() if request.event_time else None,
        "offline": request.offline,
        "actor": str(principal.id),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _replay(event_id: uuid.UUID, stored: tuple[str, Any], payload_hash: str) -> EventAnswer:
    stored_hash, response = stored
    if stored_hash != payload_hash:
        raise InvalidInput(
            f"event_id {event_id} was already used for a different event; "
            "use a new event_id for a new event.",
            field="event_id",
        )
    return EventAnswer(response["status_code"], response["body"])


def _read(text: str) -> PackCode | str:
    try:
        return parse_pack_code(text)
    except CodeError as exc:
        return f"cannot read the code: {exc}"


def _result(
    text: str, code: PackCode | None, outcome: Outcome, status: str | None, reason: str
) -> dict[str, Any]:
    return {
        "code": text,
        "gtin": code.gtin if code else None,
        "serial": code.serial if code else None,
        "outcome": outcome.value,
        "status": status,
        "reason": reason,
    }


def _unknown(
    work: _Work, text: str, code: PackCode, ctx: Context, products: dict[str, uuid.UUID]
) -> None:
    if code.gtin not in products:
        reason = f"unknown product: GTIN {code.gtin} is not registered"
        alert = AlertCode.unknown_product
    else:
        reason = f"unknown serial: no pack {code.serial} of GTIN {code.gtin} was commissioned"
        alert = AlertCode.unknown_serial
    reason += " — suspected falsified pack: do not supply it, set it aside and report it"
    outcome = Outcome.warning if ctx.offline else Outcome.refused
    work.results.append(_result(text, code, outcome, "unknown", reason))
    work.alerts.append(
        AlertDraft(
            alert,
            f"{ctx.action.value}: {reason}",
            ctx.facility_id,
            code.gtin,
            code.serial,
            code.lot,
            owner_id=products.get(code.gtin),
        )
    )
    work.pack_events.append(
        _pack_event(code.gtin, code.serial or "", ctx, outcome, None, None, reason)
    )


def _apply(work: _Work, text: str, code: PackCode, pack: PackRow, ctx: Context) -> None:
    state = PackState(
        status=pack.status,
        holder_id=pack.holder_id,
        transit_from_id=pack.transit_from_id,
        transit_to_id=pack.transit_to_id,
        status_facility_id=pack.status_facility_id,
        status_at=pack.status_at,
        overlays=pack_overlays(pack.expiry, pack.overlay, ctx.event_time.date()),
    )
    mismatch = _register_mismatch(code, pack)
    decision: Decision
    if mismatch and not ctx.offline:
        decision = Decision(Outcome.refused, mismatch[1], state, alert=mismatch[0])
    else:
        decision = decide(state, ctx)
        if mismatch:
            decision = Decision(
                Outcome.warning,
                f"{mismatch[1]}; {decision.reason}",
                decision.state,
                alert=mismatch[0],
            )
    work.conflict |= decision.conflict
    new = decision.state
    if decision.alert is not None:
        work.alerts.append(
            AlertDraft(
                decision.alert,
                f"{ctx.action.value}: {decision.reason}",
                ctx.facility_id,
                pack.gtin,
                pack.serial,
                pack.lot,
                related=(pack.holder_id, pack.status_facility_id, pack.transit_from_id),
                owner_id=pack.owner_id,
            )
        )
    work.results.append(_result(text, code, decision.outcome, new.status.value, decision.reason))
    work.pack_events.append(
        _pack_event(
            pack.gtin, pack.serial, ctx, decision.outcome, pack.status, new.status, decision.reason
        )
    )
    if new != state:
        # Column order of store.update_packs, less the event id.
        work.updates.append(
            [
                new.status.value,
                new.holder_id,
                new.transit_from_id,
                new.transit_to_id,
                new.status_facility_id,
                new.status_at,
                pack.gtin,
                pack.serial,
            ]
        )


def _register_mismatch(code: PackCode, pack: PackRow) -> tuple[AlertCode, str] | None:
    """A code whose batch or expiry differs from the register (EU FMD alerts A68 and A52)."""
    if code.lot is not None and code.lot != pack.lot:
        return AlertCode.batch_mismatch, (
            f"batch mismatch: the code says lot {code.lot}, the register says {pack.lot} — "
            "check the scanner's set-up, else suspect a falsified pack"
        )
    if code.expiry is not None and code.expiry != pack.expiry:
        return AlertCode.expiry_mismatch, (
            f"expiry mismatch: the code says {code.expiry.isoformat()}, the register says "
            f"{pack.expiry.isoformat()}"
        )
    return None


def _pack_event(
    gtin: str,
    serial: str,
    ctx: Context,
    outcome: Outcome,
    before: PackStatus | None,
    after: PackStatus | None,
    reason: str,
) -> list[Any]:
    """Column order of store.insert_pack_events, less the event id and recording time."""
    return [
        gtin,
        serial[:20],
        ctx.action.value,
        ctx.facility_id,
        ctx.destination_id,
        ctx.event_time,
        ctx.offline,
        outcome.value,
        before.value if before else None,
        after.value if after else None,
        reason[:300],
    ]


def _status_code(work: _Work) -> int:
    if work.results and all(r["outcome"] == Outcome.refused.value for r in work.results):
        return 409 if work.conflict else 422
    return 200
