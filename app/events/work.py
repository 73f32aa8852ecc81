"""What one event does to each pack, decided code by code: the per-code results, the rows to
write (pack events, pack updates) and the alerts to raise. Pure functions over locked rows.

A pack scanned on its own is handled on its own: if it was packed in a case, it leaves the case
(dispensing one pack of a case opened at the counter is normal; the case's contents stay true).
A pack moved as part of its case stays in it, unless the move is refused for that pack."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.alerts.engine import AlertDraft
from app.events.containers import ContainerRow
from app.events.rows import CodeResult, PackEventRow, PackRow, PackUpdate
from app.events.transitions import Context, Decision, PackState, decide
from app.facilities.directory import Site
from models.alerts import AlertCode
from models.codes import PackCode, ReaderConfig, read_code
from models.events import Outcome
from models.packs import PackStatus, pack_overlays
from models.translatable import Translatable


@dataclass(frozen=True)
class ContainerCode:
    sscc: str


Code = PackCode | ContainerCode | str  # str: why the code cannot be read


@dataclass
class Work:
    """What one event does, built up code by code."""

    results: list[CodeResult] = field(default_factory=list)
    pack_events: list[PackEventRow] = field(default_factory=list)
    updates: list[PackUpdate] = field(default_factory=list)
    alerts: list[AlertDraft] = field(default_factory=list)
    conflict: bool = False

    def absorb(self, other: Work) -> None:
        """Take `other`'s rows and alerts (not its results)."""
        self.pack_events += other.pack_events
        self.updates += other.updates
        self.alerts += other.alerts
        self.conflict |= other.conflict


def read(text: str, config: ReaderConfig) -> Code:
    result = read_code(text, config)
    if not result.ok:
        return Translatable("cannot read the code: %(why)s", why=result.error or "")
    if result.gtin is not None:
        return PackCode(result.gtin, result.serial, result.lot, result.expiry)
    if result.sscc is not None:
        return ContainerCode(result.sscc)
    return Translatable("not a pack or case code: it is %(what)s", what=result.identifies)


def related_sites(
    packs: Iterable[PackRow],
    cases: Iterable[ContainerRow],
    facility: Site,
    destination: Site | None,
) -> set[uuid.UUID]:
    ids: set[uuid.UUID | None] = {facility.id, destination.id if destination else None}
    for pack in packs:
        ids |= {pack.holder_id, pack.transit_from_id, pack.transit_to_id, pack.status_facility_id}
    for case in cases:  # an empty case received still names its sender
        ids |= {case.holder_id, case.transit_from_id, case.transit_to_id}
    return {i for i in ids if i is not None}


def pack_work(
    work: Work,
    text: str,
    code: PackCode,
    packs: dict[tuple[str, str], PackRow],
    products: dict[str, uuid.UUID],
    ctx: Context,
) -> None:
    """One scanned pack code (seen once in its event)."""
    if code.serial is None:
        reason = Translatable("the code has no serial number (AI 21); scan the pack's 2D code")
        work.results.append(result(text, code, Outcome.refused, None, reason))
    else:
        pack = packs.get((code.gtin, code.serial))
        if pack is None:
            unknown(work, text, code, ctx, products)
        else:
            apply(work, text, code, pack, ctx)


def result(
    text: str,
    code: PackCode | None,
    outcome: Outcome,
    status: str | None,
    reason: str,
    received_from: dict[str, str] | None = None,
) -> CodeResult:
    """One code's result; `received_from`: the sender (GLN, name) of a receipt of a shipment
    addressed here (only then is it there)."""
    return CodeResult(
        text,
        code.gtin if code else None,
        code.serial if code else None,
        outcome,
        status,
        reason,
        received_from or None,
    )


def unknown(
    work: Work, text: str, code: PackCode, ctx: Context, products: dict[str, uuid.UUID]
) -> None:
    if code.gtin not in products:
        reason = Translatable(
            "unknown product: GTIN %(gtin)s is not registered — suspected falsified pack: do not "
            "supply it, set it aside and report it",
            gtin=code.gtin,
        )
        alert = AlertCode.unknown_product
    else:
        reason = Translatable(
            "unknown serial: no pack %(serial)s of GTIN %(gtin)s was commissioned — suspected "
            "falsified pack: do not supply it, set it aside and report it",
            serial=code.serial,
            gtin=code.gtin,
        )
        alert = AlertCode.unknown_serial
    outcome = Outcome.warning if ctx.offline else Outcome.refused
    work.results.append(result(text, code, outcome, "unknown", reason))
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
        pack_event(code.gtin, code.serial or "", ctx, outcome, None, None, reason)
    )


def pack_state(pack: PackRow, ctx: Context) -> PackState:
    return PackState(
        status=pack.status,
        holder_id=pack.holder_id,
        transit_from_id=pack.transit_from_id,
        transit_to_id=pack.transit_to_id,
        status_facility_id=pack.status_facility_id,
        status_at=pack.status_at,
        overlays=pack_overlays(pack.expiry, pack.overlay, ctx.event_time.date()),
        returning=pack.returning,
    )


def apply(
    work: Work,
    text: str,
    code: PackCode,
    pack: PackRow,
    ctx: Context,
    case: str | None = None,
) -> None:
    """Decide and record one pack; `case`: the container it is moved in, if any."""
    state = pack_state(pack, ctx)
    mismatch = _register_mismatch(code, pack)
    decision: Decision
    if mismatch and not ctx.offline:
        decision = Decision(Outcome.refused, mismatch[1], state, alert=mismatch[0])
    else:
        decision = decide(state, ctx)
        if mismatch:
            decision = Decision(
                Outcome.warning,
                Translatable("%(first)s; %(then)s", first=mismatch[1], then=decision.reason),
                decision.state,
                alert=mismatch[0],
                named=f"{mismatch[1]}; {decision.alert_text}",
            )
    work.conflict |= decision.conflict
    new = decision.state
    refused = decision.outcome is Outcome.refused
    container = pack.container_sscc
    reason = decision.reason
    if container is not None and (refused if case else not refused):
        container = None
        left = Translatable("taken out of case %(sscc)s", sscc=pack.container_sscc)
        reason = Translatable("%(first)s; %(then)s", first=reason, then=left) if reason else left
    if decision.alert is not None:
        work.alerts.append(
            AlertDraft(
                decision.alert,
                f"{ctx.action.value}: {decision.alert_text}",
                ctx.facility_id,
                pack.gtin,
                pack.serial,
                pack.lot,
                related=(pack.holder_id, pack.status_facility_id, pack.transit_from_id),
                owner_id=pack.owner_id,
            )
        )
    sender = None if refused else ctx.received_from(state.transit_from_id, state.transit_to_id)
    work.results.append(result(text, code, decision.outcome, new.status.value, reason, sender))
    work.pack_events.append(
        pack_event(
            pack.gtin,
            pack.serial,
            ctx,
            decision.outcome,
            pack.status,
            new.status,
            reason,
            case or pack.container_sscc,
        )
    )
    if new != state or container != pack.container_sscc:
        work.updates.append(PackUpdate(pack, new, container))


def _register_mismatch(code: PackCode, pack: PackRow) -> tuple[AlertCode, str] | None:
    """A code whose batch or expiry differs from the register (EU FMD alerts A68 and A52)."""
    if code.lot is not None and code.lot != pack.lot:
        return AlertCode.batch_mismatch, Translatable(
            "batch mismatch: the code says lot %(lot)s, the register says %(registered)s — "
            "check the scanner's set-up, else suspect a falsified pack",
            lot=code.lot,
            registered=pack.lot,
        )
    if code.expiry is not None and code.expiry != pack.expiry:
        return AlertCode.expiry_mismatch, Translatable(
            "expiry mismatch: the code says %(expiry)s, the register says %(registered)s",
            expiry=code.expiry.isoformat(),
            registered=pack.expiry.isoformat(),
        )
    return None


def pack_event(
    gtin: str,
    serial: str,
    ctx: Context,
    outcome: Outcome,
    before: PackStatus | None,
    after: PackStatus | None,
    reason: str,
    container: str | None = None,
) -> PackEventRow:
    return PackEventRow(
        gtin,
        serial[:20],
        ctx.action,
        ctx.facility_id,
        ctx.destination_id,
        ctx.event_time,
        ctx.offline,
        outcome,
        before,
        after,
        reason[:300],
        container,
    )


def status_code_of(work: Work) -> int:
    if work.results and all(r.outcome is Outcome.refused for r in work.results):
        return 409 if work.conflict else 422
    return 200
