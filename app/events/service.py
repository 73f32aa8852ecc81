"""Recording what happens to packs: one event from a scanner or a user, many codes, one result
per code. Every write is one transaction; the same event_id sent again returns the first answer
and changes nothing."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg

from app.access_log import service as access_log
from app.access_log.service import AccessEntry
from app.alerts.engine import count_alerts, insert_alerts, new_alerts, worth_raising
from app.auth.principal import Principal
from app.errors import Conflict, Forbidden, InvalidInput
from app.events import containers, store
from app.events.aggregation import (
    MOVING,
    PACKING,
    CaseWork,
    case_into,
    case_result,
    check_contents,
    move_case,
    pack_into,
    pack_text,
    receipt_discrepancies,
)
from app.events.rows import CodeResult, EventRow, PackRow
from app.events.store import Connection
from app.events.transitions import MOVES, Context
from app.events.work import (
    Code,
    ContainerCode,
    Work,
    pack_work,
    read,
    related_sites,
    result,
    status_code_of,
)
from app.facilities.directory import FacilityDirectory, Site, acting_site, registered_site
from models.base import utcnow
from models.codes import GS1_DEFAULTS, PackCode, ReaderConfig
from models.events import BUSINESS_STEP, Action, Outcome
from models.identity import Role
from models.translatable import Translatable

MAX_CODES = 100_000
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
    Action.pack: _CHAIN,
    Action.unpack: _CHAIN,
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
    container: str | None = None  # packing and unpacking: the case
    contents: Sequence[str] | None = None  # a receipt checked against the packs found
    reader: ReaderConfig = GS1_DEFAULTS  # how codes are read: the server passes settings.reader


@dataclass(frozen=True)
class EventAnswer:
    status_code: int
    body: dict[str, Any]


async def record(
    connection: Connection,
    directory: FacilityDirectory,
    principal: Principal,
    request: EventRequest,
    access: AccessEntry | None = None,
) -> EventAnswer:
    """`connection` is in autocommit mode; the event is written in one transaction, with the
    request's access-log row when `access` is given (a replay or a refusal leaves that row to
    the access-log middleware)."""
    _check_request(principal, request)
    facility = await acting_site(directory, connection, principal, request.facility_gln)
    destination = await _destination(directory, connection, request, facility)
    now = utcnow()
    event_time = checked_event_time(request.event_time, now)
    payload_hash = _payload_hash(request, principal, facility)
    codes = [read(text, request.reader) for text in request.codes]
    target = _target(request)
    found = _found(request)
    # A few codes naming no case: the whole transaction is pipelined, so that its writes go out
    # in one burst (bench/round_trips.py: BEGIN, the lock, the writes, COMMIT). Cases may hold
    # thousands of packs, whose rows go by COPY, which a pipeline cannot carry.
    few = len(codes) < store.BULK and target is None
    few = few and not any(isinstance(code, ContainerCode) for code in codes)
    try:
        async with connection.pipeline() if few else nullcontext(), connection.transaction():
            locked = await _lock(connection, request, codes, target, facility, found)
            ctx = await _context(
                connection, directory, request, locked, facility, destination, event_time
            )
            work, cases = Work(), CaseWork()
            unknown_gtins = {key[0] for key in locked.wanted if key not in locked.packs}
            products = await store.product_owners(connection, unknown_gtins)
            discrepancies = _decide(request, codes, locked, products, ctx, found, work, cases)
            drafts = await worth_raising(connection, work.alerts, facility.id, request.action)
            alerts = await new_alerts(connection, directory, request.event_id, drafts, now)
            status_code, body = _answer(request, facility, destination, event_time, work)
            if discrepancies is not None:
                body["discrepancies"] = discrepancies
            event_row = EventRow(
                request.event_id,
                request.action,
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
            )
            # The writes go out together (a nested pipeline inside the whole transaction's would
            # only add a wait for them); many go by COPY instead.
            bulk = max(len(work.pack_events), len(work.updates)) >= store.BULK
            async with nullcontext() if bulk or few else connection.pipeline():
                changed = await store.write_event(
                    connection, event_row, work.pack_events, work.updates, locked.packs
                )
                new_case = locked.target if locked.new_target else None
                if new_case is not None and new_case.sscc in cases.saves:
                    await containers.create(
                        connection, new_case, facility.id, now, request.event_id
                    )
                await containers.save(connection, list(cases.saves.values()), request.event_id)
                await containers.record_events(connection, cases.events, request.event_id)
                await insert_alerts(connection, alerts, counted=False)
                await store.count(connection, work.pack_events, changed)
                await count_alerts(connection, alerts)
                if access is not None:
                    await access_log.write(connection, access, status_code)
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.constraint_name != store.EVENT_KEY:
            raise
        # A retry of an event already recorded (or racing its twin): answer as the first did.
        stored = await store.stored_event(connection, request.event_id)
        assert stored is not None
        return _replay(request.event_id, stored, payload_hash)
    except (Conflict, InvalidInput):
        # Refused for the state things are in now; a retry of an event recorded before that
        # change still gets its first answer.
        stored = await store.stored_event(connection, request.event_id)
        if stored is None:
            raise
        return _replay(request.event_id, stored, payload_hash)
    if access is not None:
        access.logged(status_code)
    return EventAnswer(status_code, body)


async def _context(
    connection: Connection,
    directory: FacilityDirectory,
    request: EventRequest,
    locked: _Locked,
    facility: Site,
    destination: Site | None,
    event_time: datetime,
) -> Context:
    involved = related_sites(
        locked.packs.values(),
        (tree.root for tree in locked.trees.values()),
        facility,
        destination,
    )
    return Context(
        action=request.action,
        facility_id=facility.id,
        destination_id=destination.id if destination else None,
        event_time=event_time,
        offline=request.offline,
        organization_id=facility.organization_id,
        sites=await directory.sites(connection, involved),
    )


@dataclass
class _Locked:
    """The rows an event works on, locked: packs, and the cases it moves or packs into."""

    wanted: list[tuple[str, str]]
    packs: dict[tuple[str, str], PackRow]
    trees: dict[str, containers.Tree] = field(default_factory=dict)
    target: containers.ContainerRow | None = None
    cases: dict[str, containers.ContainerRow] = field(default_factory=dict)
    new_target: bool = False  # packing into an SSCC not used before: the case is created
    above_target: set[str] = field(default_factory=set)
    # When unpacking a whole case: what is in it, as codes.
    unpack_all: list[tuple[str, Code]] = field(default_factory=list)


async def _lock(
    connection: Connection,
    request: EventRequest,
    codes: Sequence[Code],
    target: str | None,
    facility: Site,
    found: set[tuple[str, str]] | None,
) -> _Locked:
    keys = {(c.gtin, c.serial) for c in codes if isinstance(c, PackCode) and c.serial}
    keys.update(found or ())  # a receipt's discrepancies name the batches of the packs found
    ssccs = [c.sscc for c in codes if isinstance(c, ContainerCode)]
    locked = _Locked(wanted=[], packs={})
    if request.action in MOVING:
        locked.trees = await containers.lock_trees(connection, ssccs)
        for tree in locked.trees.values():
            keys.update(tree.packs)
    elif target is not None:
        unpack_all = request.action is Action.unpack and not request.codes
        children = await containers.children(connection, target) if unpack_all else []
        # One sorted lock of every case involved, as shipping a pallet takes them.
        rows = await containers.lock(connection, [target, *ssccs, *children])
        existing = rows.pop(target, None)
        locked.cases = rows
        locked.target = _usable_target(request, existing, target, facility)
        locked.new_target = existing is None
        locked.above_target = await containers.ancestors(connection, target)
        if unpack_all:
            inside = await containers.packs_in(connection, target)
            keys.update(inside)
            locked.unpack_all = [(pack_text(*key), PackCode(*key)) for key in inside] + [
                (f"(00){sscc}", ContainerCode(sscc)) for sscc in children if sscc in rows
            ]
    locked.wanted = sorted(keys)
    locked.packs = await store.lock_packs(connection, locked.wanted)
    return locked


def _usable_target(
    request: EventRequest,
    row: containers.ContainerRow | None,
    sscc: str,
    facility: Site,
) -> containers.ContainerRow:
    """The case packed into or unpacked, held here; packing into a new SSCC makes a new case
    (created when something is packed into it)."""
    if row is None:
        if request.action is Action.unpack:
            raise InvalidInput(f"container: no case {sscc} was packed.", field="container")
        return containers.ContainerRow(
            sscc, facility.organization_id, None, facility.id, None, None
        )
    if row.holder_id != facility.id or row.transit_to_id is not None:
        raise Conflict(
            Translatable(
                "Case %(sscc)s is not held here (it is elsewhere or in transit); %(action)s it "
                "where it is, after receiving it.",
                sscc=sscc,
                action=request.action.value,
            )
        )
    return row


def _decide(
    request: EventRequest,
    codes: Sequence[Code],
    locked: _Locked,
    products: dict[str, uuid.UUID],
    ctx: Context,
    found: set[tuple[str, str]] | None,
    work: Work,
    cases: CaseWork,
) -> dict[str, list[dict[str, str]]] | None:
    """Every code's result and rows; for a receipt checked against the packs found, what was
    missing from the cases and what was found beyond them."""
    scanned: list[tuple[str, Code]] = list(zip(request.codes, codes, strict=True))
    if locked.unpack_all:
        scanned = locked.unpack_all
    # A case scanned with the pallet it is on, or a pack with its case, moves with the outer one.
    inner = {c.sscc for root, t in locked.trees.items() for c in t.containers if c.sscc != root}
    moved_with = {
        member: root
        for root, tree in locked.trees.items()
        if root not in inner
        for member in [*(c.sscc for c in tree.containers if c.sscc != root), *tree.packs]
    }
    missing: list[dict[str, str]] = []
    seen: set[object] = set()
    for text, code in scanned:
        key = _key(code)
        if key is not None and key in seen:
            reason = Translatable("scanned twice in this event; counted once")
            work.results.append(_duplicate(text, code, reason))
            continue
        seen.add(key)
        if key is not None and key in moved_with:
            reason = Translatable(
                "moves with case %(sscc)s, scanned in this event", sscc=moved_with[key]
            )
            work.results.append(_duplicate(text, code, reason))
        elif isinstance(code, str):
            work.results.append(result(text, None, Outcome.refused, None, code))
        elif isinstance(code, ContainerCode):
            if locked.target is not None:
                case = locked.cases.get(code.sscc)
                case_into(
                    work, cases, text, case, code.sscc, locked.target, locked.above_target, ctx
                )
            elif request.action not in MOVING:
                reason = Translatable(
                    "a case cannot be %(action)sed as a whole; unpack it and scan its packs",
                    action=request.action.value,
                )
                work.results.append(case_result(text, code.sscc, Outcome.refused, reason))
            elif (tree := locked.trees.get(code.sscc)) is None:
                reason = Translatable("unknown case: no case %(sscc)s was packed", sscc=code.sscc)
                work.results.append(case_result(text, code.sscc, Outcome.refused, reason))
            else:
                if found is not None:
                    missing += check_contents(work, tree, found, locked.packs, ctx)
                move_case(work, cases, text, tree, locked.packs, ctx)
        elif locked.target is not None:
            pack = locked.packs.get((code.gtin, code.serial or ""))
            pack_into(work, text, code, pack, locked.target, ctx)
        else:
            pack_work(work, text, code, locked.packs, products, ctx)
    changed = sum(r.outcome is not Outcome.refused for r in work.results)
    if locked.target is not None and changed:
        packed = sum(r.outcome is Outcome.ok and r.is_pack for r in work.results)
        cases.saves.setdefault(locked.target.sscc, locked.target)
        cases.record(ctx, locked.target.sscc, packed, Outcome.ok, "")
    if found is None:
        return None
    in_cases = {key for tree in locked.trees.values() for key in tree.packs}
    extra = [{"gtin": g, "serial": s} for g, s in sorted(found - in_cases)]
    work.alerts += receipt_discrepancies(
        list(locked.trees.values()), missing, extra, locked.packs, products, ctx
    )
    return {"missing": missing, "extra": extra}


def _key(code: Code) -> object:
    """What a scanned code names, to notice it twice in one event (None: nothing readable)."""
    if isinstance(code, ContainerCode):
        return code.sscc
    if isinstance(code, PackCode) and code.serial:
        return (code.gtin, code.serial)
    return None


def _duplicate(text: str, code: Code, reason: str) -> CodeResult:
    if isinstance(code, ContainerCode):
        return case_result(text, code.sscc, Outcome.warning, reason)
    assert isinstance(code, PackCode)
    return result(text, code, Outcome.warning, None, reason)


def _target(request: EventRequest) -> str | None:
    if request.action not in PACKING:
        if request.container is not None:
            raise InvalidInput(
                "container: only packing and unpacking name a container; to move a case, "
                "scan its SSCC among the codes.",
                field="container",
            )
        return None
    if request.container is None:
        raise InvalidInput(
            f"container: the SSCC of the case to {request.action.value}.", field="container"
        )
    code = read(request.container, request.reader)
    if not isinstance(code, ContainerCode):
        detail = (
            code
            if isinstance(code, str)
            else Translatable("it is a pack's code, not an SSCC (AI 00)")
        )
        raise InvalidInput(Translatable("container: %(detail)s", detail=detail), field="container")
    return code.sscc


def _found(request: EventRequest) -> set[tuple[str, str]] | None:
    if request.contents is None:
        return None
    if request.action is not Action.receive:
        raise InvalidInput(
            "contents: only a receipt is checked against the packs found in its cases.",
            field="contents",
        )
    found = set()
    for text in request.contents:
        code = read(text, request.reader)
        if not isinstance(code, PackCode) or code.serial is None:
            why = code if isinstance(code, str) else "not a pack's code with a serial"
            raise InvalidInput(f"contents: {text!r}: {why}", field="contents")
        found.add((code.gtin, code.serial))
    return found


def _answer(
    request: EventRequest,
    facility: Site,
    destination: Site | None,
    event_time: datetime,
    work: Work,
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {
        "event_id": str(request.event_id),
        "action": request.action.value,
        "facility_gln": facility.gln,
        "destination_gln": destination.gln if destination else None,
        "event_time": event_time.isoformat(),
        "offline": request.offline,
        "results": [r.as_json() for r in work.results],
        "summary": {o.value: sum(r.outcome is o for r in work.results) for o in Outcome},
    }
    status_code = status_code_of(work)
    if status_code != 200:
        body |= {
            "status": status_code,
            "title": "Conflict" if status_code == 409 else "Invalid input",
            "detail": Translatable(
                "Every code was refused; nothing changed. %(reason)s",
                reason=work.results[0].reason,
            ),
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
            Translatable(
                "Your role (%(role)s) may not record '%(action)s'.",
                role=principal.role.value,
                action=request.action.value,
            )
        )
    if not request.codes and request.action is not Action.unpack:
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
            Translatable(
                "destination_gln: say where the packs are going (%(action)s).",
                action=request.action.value,
            ),
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


def checked_event_time(event_time: datetime | None, now: datetime) -> datetime:
    """When something happened, as told: any time in the past (an offline scan may arrive days
    late), not in the future beyond the clocks' skew; by default, now."""
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
    # Only when set, so that an event without them hashes as it always did.
    if request.container is not None:
        payload["container"] = request.container
    if request.contents is not None:
        payload["contents"] = list(request.contents)
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
