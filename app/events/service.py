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

from sqlalchemy import Table, bindparam, insert, tuple_, update
from sqlalchemy import text as sql
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.principal import Principal
from app.errors import Forbidden, InvalidInput
from app.events.transitions import MOVES, Context, Decision, PackState, decide
from app.facilities.service import acting_facility, by_gln
from models.base import utcnow
from models.catalog import Batch, Product
from models.codes import CodeError, PackCode, parse_pack_code
from models.events import BUSINESS_STEP, Action, Event, Outcome, PackEvent
from models.identity import Facility, Role
from models.packs import Overlay, Pack

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
    """What one event does, built up code by code."""

    results: list[dict[str, Any]] = field(default_factory=list)
    pack_events: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    conflict: bool = False


async def record(session: AsyncSession, principal: Principal, request: EventRequest) -> EventAnswer:
    _check_request(principal, request)
    facility = await acting_facility(session, principal, request.facility_gln)
    destination = await _destination(session, request, facility)
    now = utcnow()
    event_time = _event_time(request.event_time, now)
    payload_hash = _payload_hash(request, principal, facility)

    existing = await session.get(Event, request.event_id)
    if existing is not None:
        return _replay(existing, payload_hash)

    codes = [_read(text) for text in request.codes]
    keys = sorted({(c.gtin, c.serial) for c in codes if isinstance(c, PackCode) and c.serial})
    packs = await _lock_packs(session, keys)
    batches = await _batches(session, {(p.gtin, p.lot) for p in packs.values()})
    products = await _known_products(session, {c.gtin for c in codes if isinstance(c, PackCode)})
    names = await _facility_names(session, packs.values(), facility, destination)
    ctx = Context(
        action=request.action,
        facility_id=facility.id,
        destination_id=destination.id if destination else None,
        event_time=event_time,
        offline=request.offline,
        names=names,
    )

    work = _Work()
    seen: set[tuple[str, str]] = set()
    for text, code in zip(request.codes, codes, strict=True):
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
                _unknown(work, text, code, ctx, products, batches)
            else:
                _apply(work, text, code, pack, batches[(pack.gtin, pack.lot)], ctx)

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
    session.add(
        Event(
            event_id=request.event_id,
            action=request.action,
            business_step=BUSINESS_STEP[request.action],
            facility_id=facility.id,
            destination_id=destination.id if destination else None,
            actor_kind=principal.kind,
            actor_id=principal.id,
            event_time=event_time,
            recorded_at=now,
            offline=request.offline,
            payload_hash=payload_hash,
            response={"status_code": status_code, "body": body},
        )
    )
    try:
        await session.flush()
        connection = await session.connection()
        if work.pack_events:
            for row in work.pack_events:
                row |= {"event_id": request.event_id, "recorded_at": now}
            await connection.execute(insert(_PACK_EVENTS), work.pack_events)
        if work.updates:
            for row in work.updates:
                row["last_event_id"] = request.event_id
            await connection.execute(_UPDATE_PACK, work.updates)
        await session.commit()
    except IntegrityError:
        # The same event_id arrived twice at once and the other copy won: answer as it did.
        await session.rollback()
        winner = await session.get(Event, request.event_id)
        if winner is None:
            raise
        return _replay(winner, payload_hash)
    return EventAnswer(status_code, body)


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
    session: AsyncSession, request: EventRequest, facility: Facility
) -> Facility | None:
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
    destination = await by_gln(session, request.destination_gln, "destination_gln")
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


def _payload_hash(request: EventRequest, principal: Principal, facility: Facility) -> str:
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


def _replay(event: Event, payload_hash: str) -> EventAnswer:
    if event.payload_hash != payload_hash:
        raise InvalidInput(
            f"event_id {event.event_id} was already used for a different event; "
            "use a new event_id for a new event.",
            field="event_id",
        )
    return EventAnswer(event.response["status_code"], event.response["body"])


def _read(text: str) -> PackCode | str:
    try:
        return parse_pack_code(text)
    except CodeError as exc:
        return f"cannot read the code: {exc}"


_LOCK_PACKS = sql(
    "SELECT packs.* FROM packs"
    " JOIN unnest(CAST(:gtins AS text[]), CAST(:serials AS text[])) AS wanted(gtin, serial)"
    " ON packs.gtin = wanted.gtin AND packs.serial = wanted.serial"
    " ORDER BY packs.gtin, packs.serial FOR UPDATE OF packs"
)


async def _lock_packs(
    session: AsyncSession, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], Pack]:
    """The packs, locked in key order (so concurrent events on the same packs queue up instead
    of deadlocking). The keys travel as two arrays: an IN list of 10,000 pairs would exceed
    PostgreSQL's parser stack."""
    if not keys:
        return {}
    statement = select(Pack).from_statement(
        _LOCK_PACKS.bindparams(gtins=[k[0] for k in keys], serials=[k[1] for k in keys])
    )
    rows = await session.exec(statement)  # type: ignore[call-overload]
    return {(p.gtin, p.serial): p for p in rows.scalars().all()}


async def _batches(
    session: AsyncSession, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], Batch]:
    if not keys:
        return {}
    rows = await session.exec(
        select(Batch).where(tuple_(col(Batch.gtin), col(Batch.lot)).in_(keys))
    )
    return {(b.gtin, b.lot): b for b in rows.all()}


async def _known_products(session: AsyncSession, gtins: set[str]) -> set[str]:
    if not gtins:
        return set()
    rows = await session.exec(select(Product.gtin).where(col(Product.gtin).in_(gtins)))
    return set(rows.all())


async def _facility_names(
    session: AsyncSession,
    packs: Iterable[Pack],
    facility: Facility,
    destination: Facility | None,
) -> dict[uuid.UUID, str]:
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
    rows = await session.exec(select(Facility).where(col(Facility.id).in_(ids)))
    return {f.id: f"{f.name} ({f.gln})" for f in rows.all()}


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
    work: _Work,
    text: str,
    code: PackCode,
    ctx: Context,
    products: set[str],
    batches: dict[tuple[str, str], Batch],
) -> None:
    if code.gtin not in products:
        reason = f"unknown product: GTIN {code.gtin} is not registered"
    else:
        reason = f"unknown serial: no pack {code.serial} of GTIN {code.gtin} was commissioned"
    reason += " — suspected falsified pack: do not supply it, set it aside and report it"
    outcome = Outcome.warning if ctx.offline else Outcome.refused
    work.results.append(_result(text, code, outcome, "unknown", reason))
    work.pack_events.append(
        _pack_event(code.gtin, code.serial or "", ctx, outcome, None, None, reason)
    )


def _apply(work: _Work, text: str, code: PackCode, pack: Pack, batch: Batch, ctx: Context) -> None:
    state = PackState(
        status=pack.status,
        holder_id=pack.holder_id,
        transit_from_id=pack.transit_from_id,
        transit_to_id=pack.transit_to_id,
        status_facility_id=pack.status_facility_id,
        status_at=pack.status_at,
        overlays=frozenset({Overlay.expired} if batch.expiry < ctx.event_time.date() else ()),
    )
    mismatch = _register_mismatch(code, batch)
    decision: Decision
    if mismatch and not ctx.offline:
        decision = Decision(Outcome.refused, mismatch, state)
    else:
        decision = decide(state, ctx)
        if mismatch:
            decision = Decision(Outcome.warning, f"{mismatch}; {decision.reason}", decision.state)
    work.conflict |= decision.conflict
    status = decision.state.status
    work.results.append(_result(text, code, decision.outcome, status.value, decision.reason))
    work.pack_events.append(
        _pack_event(
            pack.gtin, pack.serial, ctx, decision.outcome, pack.status, status, decision.reason
        )
    )
    if decision.state != state:
        new = decision.state
        work.updates.append(
            {
                "k_gtin": pack.gtin,
                "k_serial": pack.serial,
                "status": new.status,
                "holder_id": new.holder_id,
                "transit_from_id": new.transit_from_id,
                "transit_to_id": new.transit_to_id,
                "status_facility_id": new.status_facility_id,
                "status_at": new.status_at,
            }
        )


def _register_mismatch(code: PackCode, batch: Batch) -> str | None:
    """A code whose batch or expiry differs from the register (EU FMD alerts A68 and A52)."""
    if code.lot is not None and code.lot != batch.lot:
        return (
            f"batch mismatch: the code says lot {code.lot}, the register says {batch.lot} — "
            "check the scanner's set-up, else suspect a falsified pack"
        )
    if code.expiry is not None and code.expiry != batch.expiry:
        return (
            f"expiry mismatch: the code says {code.expiry.isoformat()}, the register says "
            f"{batch.expiry.isoformat()}"
        )
    return None


def _pack_event(
    gtin: str,
    serial: str,
    ctx: Context,
    outcome: Outcome,
    before: Any,
    after: Any,
    reason: str,
) -> dict[str, Any]:
    return {
        "gtin": gtin,
        "serial": serial[:20],
        "action": ctx.action,
        "facility_id": ctx.facility_id,
        "destination_id": ctx.destination_id,
        "event_time": ctx.event_time,
        "offline": ctx.offline,
        "outcome": outcome,
        "status_before": before,
        "status_after": after,
        "reason": reason[:300],
    }


def _status_code(work: _Work) -> int:
    if work.results and all(r["outcome"] == Outcome.refused.value for r in work.results):
        return 409 if work.conflict else 422
    return 200


# Core statements (not ORM bulk operations): executed once with many parameter sets.
_PACKS: Table = Pack.__table__  # type: ignore[attr-defined]
_PACK_EVENTS: Table = PackEvent.__table__  # type: ignore[attr-defined]
_UPDATE_PACK = (
    update(_PACKS)
    .where(_PACKS.c.gtin == bindparam("k_gtin"), _PACKS.c.serial == bindparam("k_serial"))
    .values(
        status=bindparam("status"),
        holder_id=bindparam("holder_id"),
        transit_from_id=bindparam("transit_from_id"),
        transit_to_id=bindparam("transit_to_id"),
        status_facility_id=bindparam("status_facility_id"),
        status_at=bindparam("status_at"),
        last_event_id=bindparam("last_event_id"),
    )
)
