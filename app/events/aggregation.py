"""Cases and pallets in events (EPCIS aggregation). Packing puts active packs held here, or cases
held here, into a case (created on first use); unpacking takes them out. Shipping, returning or
receiving a case moves every case and pack inside it with one scan, and a receipt can be checked
against the packs actually found in the case."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

from app.alerts.engine import AlertDraft
from app.events.containers import ContainerRow, Tree
from app.events.rows import CaseEventRow, CodeResult, PackRow, PackUpdate
from app.events.transitions import MOVES, Context, conflicting
from app.events.work import Work, apply, pack_event, pack_state, result
from models.alerts import AlertCode
from models.codes import PackCode
from models.events import Action, Outcome
from models.packs import PackStatus

MOVING = MOVES | {Action.receive}
PACKING = frozenset({Action.pack, Action.unpack})
MAX_ISSUES = 50  # non-ok packs listed under a case's result
MAX_SERIALS = 5  # serials named in a receipt discrepancy's alert (the event lists them all)


@dataclass
class CaseWork:
    """Container rows to save and container events to record."""

    saves: dict[str, ContainerRow] = field(default_factory=dict)
    events: list[CaseEventRow] = field(default_factory=list)

    def record(self, ctx: Context, sscc: str, packs: int, outcome: Outcome, reason: str) -> None:
        self.events.append(
            CaseEventRow(
                sscc,
                ctx.action,
                ctx.facility_id,
                ctx.destination_id,
                ctx.event_time,
                packs,
                outcome,
                reason[:300],
            )
        )


def case_result(
    text: str,
    sscc: str,
    outcome: Outcome,
    reason: str,
    *,
    packs: int | None = None,
    summary: dict[str, int] | None = None,
    issues: list[CodeResult] | None = None,
    received_from: dict[str, str] | None = None,
) -> CodeResult:
    return CodeResult(
        text, None, None, outcome, None, reason, received_from, sscc, packs, summary, issues
    )


def pack_text(gtin: str, serial: str) -> str:
    return f"(01){gtin}(21){serial}"


def move_case(
    work: Work,
    cases: CaseWork,
    text: str,
    tree: Tree,
    packs: dict[tuple[str, str], PackRow],
    ctx: Context,
) -> None:
    """One scanned case in a shipment, return or receipt: the case, the cases in it and their
    packs move together; packs refused on their own are taken out of the case."""
    root = tree.root
    outcome, reason, alert = _case_decision(root, ctx)
    if alert is not None:
        work.alerts.append(
            AlertDraft(
                alert,
                f"{ctx.action.value} of case {root.sscc}: {reason}",
                ctx.facility_id,
                related=(root.holder_id, root.transit_from_id, root.transit_to_id),
                owner_id=root.organization_id,
            )
        )
    if outcome is Outcome.refused:
        work.conflict = True
        work.results.append(case_result(text, root.sscc, outcome, reason, packs=len(tree.packs)))
        cases.record(ctx, root.sscc, 0, outcome, reason)
        return
    for container in tree.containers:
        cases.saves[container.sscc] = _moved(container, ctx, is_root=container is root)
    moved = Work()
    for gtin, serial in tree.packs:
        apply(
            moved,
            pack_text(gtin, serial),
            PackCode(gtin, serial),
            packs[(gtin, serial)],
            ctx,
            root.sscc,
        )
    work.absorb(moved)
    counts = Counter(r.outcome for r in moved.results)
    if counts[Outcome.refused]:
        note = f"{counts[Outcome.refused]} of {len(tree.packs)} packs refused and taken out"
        reason = f"{reason}; {note}" if reason else note
    if set(counts) - {Outcome.ok}:
        outcome = Outcome.warning
    issues = [r for r in moved.results if r.outcome is not Outcome.ok][:MAX_ISSUES]
    work.results.append(
        case_result(
            text,
            root.sscc,
            outcome,
            reason,
            packs=len(tree.packs),
            summary={o.value: counts[o] for o in Outcome},
            issues=issues,
            received_from=ctx.received_from(root.transit_from_id, root.transit_to_id),
        )
    )
    cases.record(ctx, root.sscc, len(tree.packs), outcome, reason)


def check_contents(
    work: Work,
    tree: Tree,
    found: set[tuple[str, str]],
    packs: dict[tuple[str, str], PackRow],
    ctx: Context,
) -> list[dict[str, str]]:
    """A receipt checked against the packs found in the case: packs listed in the case but not
    found stay in transit and leave the case (they are not here); returns them. What happens to
    them is recorded as taking them out of the case: they were not received."""
    missing = [key for key in tree.packs if key not in found]
    reason = f"missing from case {tree.root.sscc} when it was received"
    taken_out = replace(ctx, action=Action.unpack)
    for gtin, serial in missing:
        pack = packs[(gtin, serial)]
        work.pack_events.append(
            pack_event(
                gtin,
                serial,
                taken_out,
                Outcome.warning,
                pack.status,
                pack.status,
                reason,
                tree.root.sscc,
            )
        )
        work.updates.append(PackUpdate(pack, pack_state(pack, ctx), None))
    tree.packs = [key for key in tree.packs if key in found]
    return [{"gtin": gtin, "serial": serial, "sscc": tree.root.sscc} for gtin, serial in missing]


def receipt_discrepancies(
    trees: list[Tree],
    missing: list[dict[str, str]],
    extra: list[dict[str, str]],
    packs: dict[tuple[str, str], PackRow],
    products: dict[str, uuid.UUID],
    ctx: Context,
) -> list[AlertDraft]:
    """One alert per batch with packs missing from the cases received or found beyond them: it
    names the batch (a pack not in the register: its product), and the batch's owner is among
    the organisations involved, with the senders."""
    found: dict[tuple[str, str | None], tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    owners: dict[tuple[str, str | None], uuid.UUID | None] = {}
    for listed, side in ((missing, 0), (extra, 1)):
        for item in listed:
            pack = packs.get((item["gtin"], item["serial"]))
            key = (item["gtin"], pack.lot if pack else None)
            owners[key] = pack.owner_id if pack else products.get(item["gtin"])
            found[key][side].append(item["serial"])
    cases = ", ".join(sorted(t.root.sscc for t in trees)) or "no case"
    senders = tuple(t.root.transit_from_id for t in trees)
    alerts = []
    for (gtin, lot), (absent, beyond) in sorted(found.items(), key=lambda kv: str(kv[0])):
        batch = f"batch {lot} of GTIN {gtin}" if lot else f"GTIN {gtin} (not in the register)"
        alerts.append(
            AlertDraft(
                AlertCode.receipt_discrepancy,
                f"receipt of case {cases} checked, {batch}: {len(absent)} packs missing"
                f"{_serials(absent)}, {len(beyond)} packs found beyond the cases"
                f"{_serials(beyond)}",
                ctx.facility_id,
                gtin,
                None,
                lot,
                related=senders,
                owner_id=owners[(gtin, lot)],
            )
        )
    return alerts


def _serials(serials: list[str]) -> str:
    if not serials:
        return ""
    shown = ", ".join(sorted(serials)[:MAX_SERIALS])
    return f" ({shown}{', …' if len(serials) > MAX_SERIALS else ''})"


def pack_into(
    work: Work,
    text: str,
    code: PackCode,
    pack: PackRow | None,
    target: ContainerRow,
    ctx: Context,
) -> None:
    """One pack scanned into (packing) or out of (unpacking) the target case."""
    packing = ctx.action is Action.pack
    outcome, reason, container = Outcome.ok, "", target.sscc if packing else None
    if pack is None:
        outcome, reason = (
            Outcome.refused,
            f"unknown pack: no pack {code.serial} of GTIN {code.gtin}",
        )
    elif not packing:
        if pack.container_sscc != target.sscc:
            where = f"in case {pack.container_sscc}" if pack.container_sscc else "in no case"
            outcome, reason = Outcome.refused, f"the pack is {where}, not in {target.sscc}"
    elif pack.status is not PackStatus.active:
        outcome, reason = (
            Outcome.refused,
            f"the pack is {pack.status.value}; only active packs are packed",
        )
    elif pack.holder_id != ctx.facility_id or pack.transit_to_id is not None:
        outcome, reason = Outcome.refused, "the pack is not held here; receive it first"
    elif pack.container_sscc == target.sscc:
        outcome, reason = Outcome.warning, "already in this case"
    elif pack.container_sscc is not None:
        outcome = Outcome.refused
        reason = f"the pack is packed in case {pack.container_sscc}; unpack it first"
    status = pack.status.value if pack else "unknown"
    work.conflict |= outcome is Outcome.refused and pack is not None
    work.results.append(result(text, code, outcome, status, reason))
    if pack is None:
        return
    work.pack_events.append(
        pack_event(
            pack.gtin, pack.serial, ctx, outcome, pack.status, pack.status, reason, target.sscc
        )
    )
    if outcome is Outcome.ok:
        work.updates.append(PackUpdate(pack, pack_state(pack, ctx), container))


def case_into(
    work: Work,
    cases: CaseWork,
    text: str,
    child: ContainerRow | None,
    sscc: str,
    target: ContainerRow,
    above_target: set[str],
    ctx: Context,
) -> None:
    """One case scanned into (packing) or out of (unpacking) the target case, e.g. on a pallet."""
    packing = ctx.action is Action.pack
    outcome, reason = Outcome.ok, ""
    if sscc == target.sscc or (packing and sscc in above_target):
        outcome, reason = Outcome.refused, f"case {sscc} cannot go inside itself"
    elif child is None:
        outcome, reason = Outcome.refused, f"unknown case: no case {sscc} was packed"
    elif not packing:
        if child.parent_sscc != target.sscc:
            outcome, reason = Outcome.refused, f"case {sscc} is not in {target.sscc}"
    elif child.holder_id != ctx.facility_id or child.transit_to_id is not None:
        outcome, reason = Outcome.refused, f"case {sscc} is not held here; receive it first"
    elif child.parent_sscc == target.sscc:
        outcome, reason = Outcome.warning, "already in this case"
    elif child.parent_sscc is not None:
        outcome, reason = Outcome.refused, f"case {sscc} is in {child.parent_sscc}; unpack it first"
    work.results.append(case_result(text, sscc, outcome, reason))
    work.conflict |= outcome is Outcome.refused and child is not None
    if child is not None and outcome is Outcome.ok:
        cases.saves[sscc] = replace(child, parent_sscc=target.sscc if packing else None)
        cases.record(ctx, sscc, 0, outcome, f"{ctx.action.value}ed in {target.sscc}")


def _case_decision(root: ContainerRow, ctx: Context) -> tuple[Outcome, str, AlertCode | None]:
    here = ctx.facility_id
    if ctx.action in MOVES:
        if root.transit_to_id is not None:
            return _conflict(
                ctx, "the case is in transit; it must be received before it moves again"
            )
        if root.holder_id != here:
            return _conflict(ctx, "the case is registered at another facility, not here")
        return Outcome.ok, "", None
    if root.transit_to_id == here:
        return Outcome.ok, "", None
    if root.holder_id == here:
        return Outcome.warning, "already received here", None
    if root.transit_to_id is not None:
        return (
            Outcome.warning,
            "received here, but the case was shipped elsewhere",
            AlertCode.receipt_discrepancy,
        )
    return Outcome.warning, "received without a recorded shipment", AlertCode.receipt_discrepancy


def _conflict(ctx: Context, reason: str) -> tuple[Outcome, str, AlertCode | None]:
    return (*conflicting(ctx, reason), AlertCode.not_held_here)


def _moved(container: ContainerRow, ctx: Context, *, is_root: bool) -> ContainerRow:
    # A case moved on its own leaves the pallet it was on.
    parent = None if is_root else container.parent_sscc
    if ctx.action is Action.receive:
        return replace(
            container,
            parent_sscc=parent,
            holder_id=ctx.facility_id,
            transit_from_id=None,
            transit_to_id=None,
        )
    return replace(
        container,
        parent_sscc=parent,
        holder_id=None,
        transit_from_id=ctx.facility_id,
        transit_to_id=ctx.destination_id,
    )
