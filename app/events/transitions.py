"""The pack state machine (EU FMD statuses plus custody), as pure functions: given a pack's state
and an action at a facility, decide the outcome, the reason a person can act on, and the new
state. Online, an impossible change is refused; offline, the event already happened, so it is
recorded with a warning (and applied where the new state can be represented)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from models.alerts import AlertCode
from models.events import Action, Outcome
from models.packs import FINAL_STATUSES, Overlay, PackStatus

UNDO_WINDOW = timedelta(days=10)

DECOMMISSION: dict[Action, PackStatus] = {
    Action.dispense: PackStatus.dispensed,
    Action.export: PackStatus.exported,
    Action.sample: PackStatus.sample,
    Action.free_sample: PackStatus.free_sample,
    Action.check_out: PackStatus.checked_out,
    Action.lock: PackStatus.locked,
    Action.stolen: PackStatus.stolen,
    Action.destroy: PackStatus.destroyed,
}
# Decommissions that hand the pack to someone (and so must not happen to an expired, recalled or
# withdrawn pack); locking, reporting stolen and destroying remain possible.
SUPPLY = frozenset(
    {Action.dispense, Action.export, Action.sample, Action.free_sample, Action.check_out}
)
# Decommissions after which the pack has left the chain at this facility.
LEAVES_CHAIN = SUPPLY | {Action.destroy}
UNDO_WITHIN_WINDOW = frozenset(
    {
        PackStatus.dispensed,
        PackStatus.exported,
        PackStatus.sample,
        PackStatus.free_sample,
        PackStatus.checked_out,
    }
)
MOVES = frozenset({Action.ship, Action.return_})

VERB = {
    Action.ship: "shipped",
    Action.return_: "returned",
    Action.receive: "received",
    Action.dispense: "dispensed",
    Action.export: "exported",
    Action.sample: "taken as a sample",
    Action.free_sample: "given as a free sample",
    Action.check_out: "checked out",
    Action.lock: "locked",
    Action.stolen: "reported stolen",
    Action.destroy: "destroyed",
    Action.undo: "undone",
    Action.unlock: "unlocked",
}


@dataclass(frozen=True)
class PackState:
    status: PackStatus
    holder_id: uuid.UUID | None
    transit_from_id: uuid.UUID | None
    transit_to_id: uuid.UUID | None
    status_facility_id: uuid.UUID | None
    status_at: datetime
    overlays: frozenset[Overlay] = frozenset()


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    state: PackState  # the state after the event (unchanged when nothing applies)
    conflict: bool = False  # refused because of the pack's state (HTTP 409), not the input
    alert: AlertCode | None = None  # the risk this signals, if any


@dataclass(frozen=True)
class Context:
    action: Action
    facility_id: uuid.UUID
    destination_id: uuid.UUID | None
    event_time: datetime
    offline: bool
    names: dict[uuid.UUID, str]  # facility names, for reasons people can read

    def name(self, facility_id: uuid.UUID | None) -> str:
        if facility_id is None:
            return "an unknown facility"
        return self.names.get(facility_id, "another facility")


def decide(state: PackState, ctx: Context) -> Decision:
    if ctx.action in MOVES:
        return _move(state, ctx)
    if ctx.action is Action.receive:
        return _receive(state, ctx)
    if ctx.action in (Action.undo, Action.unlock):
        return _undo(state, ctx)
    return _decommission(state, ctx)


def _ok(state: PackState, reason: str = "") -> Decision:
    return Decision(Outcome.ok, reason, state)


def _refuse(
    state: PackState,
    ctx: Context,
    reason: str,
    alert: AlertCode,
    *,
    apply: PackState | None = None,
) -> Decision:
    """Online: refused, nothing changes. Offline: the event happened anyway; record it with a
    warning and apply `apply` when given. Either way the conflict raises `alert`."""
    outcome, reason = conflicting(ctx, reason)
    if ctx.offline:
        return Decision(outcome, reason, apply or state, alert=alert)
    return Decision(outcome, reason, state, conflict=True, alert=alert)


def conflicting(ctx: Context, reason: str) -> tuple[Outcome, str]:
    """A change the state forbids: refused online; offline it already happened, so a warning."""
    if ctx.offline:
        return Outcome.warning, f"recorded offline despite a conflict: {reason}"
    return Outcome.refused, reason


def _custody_note(state: PackState, ctx: Context) -> str:
    if state.holder_id == ctx.facility_id:
        return ""
    if state.transit_to_id is not None:
        return (
            f"the pack is registered as in transit from {ctx.name(state.transit_from_id)} "
            f"to {ctx.name(state.transit_to_id)}"
        )
    return f"the pack is registered at {ctx.name(state.holder_id)}, not here"


def _overlay_text(overlays: frozenset[Overlay]) -> str:
    return " and ".join(sorted(o.value for o in overlays))


def _move(state: PackState, ctx: Context) -> Decision:
    assert ctx.destination_id is not None
    verb = VERB[ctx.action]
    moved = replace(
        state, holder_id=None, transit_from_id=ctx.facility_id, transit_to_id=ctx.destination_id
    )
    if state.status is not PackStatus.active:
        return _refuse(
            state,
            ctx,
            f"the pack is {state.status.value}; only active packs can be {verb}",
            AlertCode.inactive_pack,
        )
    if state.transit_to_id is not None:
        return _refuse(
            state,
            ctx,
            f"the pack is already in transit to {ctx.name(state.transit_to_id)}; "
            "it must be received before it is shipped again",
            AlertCode.not_held_here,
            apply=moved,
        )
    if state.holder_id != ctx.facility_id:
        return _refuse(state, ctx, _custody_note(state, ctx), AlertCode.not_held_here, apply=moved)
    if state.overlays and ctx.action is Action.ship:
        return Decision(
            Outcome.warning, f"shipped although the pack is {_overlay_text(state.overlays)}", moved
        )
    return _ok(moved)


def _receive(state: PackState, ctx: Context) -> Decision:
    received = replace(state, holder_id=ctx.facility_id, transit_from_id=None, transit_to_id=None)
    if state.status is not PackStatus.active:
        return _refuse(
            state,
            ctx,
            f"the pack is {state.status.value}; a decommissioned pack cannot re-enter the "
            "supply chain",
            AlertCode.stolen_pack if state.status is PackStatus.stolen else AlertCode.inactive_pack,
        )
    if state.holder_id == ctx.facility_id:
        return Decision(Outcome.warning, "already received here", state)
    if state.transit_to_id == ctx.facility_id:
        return _ok(received)
    if state.transit_to_id is not None:
        return Decision(
            Outcome.warning,
            f"received here, but it was shipped from {ctx.name(state.transit_from_id)} to "
            f"{ctx.name(state.transit_to_id)}",
            received,
            alert=AlertCode.receipt_discrepancy,
        )
    return Decision(
        Outcome.warning,
        f"received without a recorded shipment; it was registered at {ctx.name(state.holder_id)}",
        received,
        alert=AlertCode.receipt_discrepancy,
    )


def _decommission(state: PackState, ctx: Context) -> Decision:
    target = DECOMMISSION[ctx.action]
    verb = VERB[ctx.action]
    leaves = ctx.action in LEAVES_CHAIN
    applied = replace(
        state,
        status=target,
        status_facility_id=ctx.facility_id,
        status_at=ctx.event_time,
        holder_id=ctx.facility_id if leaves else state.holder_id,
        transit_from_id=None if leaves else state.transit_from_id,
        transit_to_id=None if leaves else state.transit_to_id,
    )
    when = state.status_at.date().isoformat()
    if state.status is target:
        if state.status_facility_id == ctx.facility_id:
            # Usually a double scan at the counter: a warning; the service raises an alert only
            # when it keeps happening.
            return Decision(
                Outcome.warning,
                f"already {verb} here on {when}",
                state,
                alert=AlertCode.repeat_decommission,
            )
        return _refuse(
            state,
            ctx,
            f"already {verb} at {ctx.name(state.status_facility_id)} on {when}: the code may be "
            "cloned; do not supply this pack, set it aside and report it",
            AlertCode.cloned_code,
        )
    if state.status in FINAL_STATUSES:
        return _refuse(
            state,
            ctx,
            f"the pack was {state.status.value} on {when}; this is final: do not supply it, "
            "set it aside and report it",
            AlertCode.stolen_pack if state.status is PackStatus.stolen else AlertCode.inactive_pack,
        )
    if state.status is not PackStatus.active:
        return _refuse(
            state,
            ctx,
            f"the pack is {state.status.value} (at {ctx.name(state.status_facility_id)} on "
            f"{when}); only an active pack can be {verb}",
            AlertCode.inactive_pack,
        )
    if ctx.action in SUPPLY and state.overlays:
        return _refuse(
            state,
            ctx,
            f"the pack is {_overlay_text(state.overlays)}; it must not be {verb}",
            AlertCode.expired_pack
            if state.overlays == {Overlay.expired}
            else AlertCode.recalled_pack,
            apply=applied,
        )
    note = _custody_note(state, ctx)
    if note and ctx.action in LEAVES_CHAIN:
        return Decision(
            Outcome.warning, f"{verb}, but {note}", applied, alert=AlertCode.not_held_here
        )
    return _ok(applied)


def _undo(state: PackState, ctx: Context) -> Decision:
    reactivated = replace(
        state,
        status=PackStatus.active,
        status_facility_id=ctx.facility_id,
        status_at=ctx.event_time,
    )
    when = state.status_at.date().isoformat()
    if state.status is PackStatus.active:
        return Decision(Outcome.warning, "the pack is already active; nothing to undo", state)
    if state.status in FINAL_STATUSES:
        return _refuse(
            state,
            ctx,
            f"the pack was {state.status.value} on {when}; this is final",
            AlertCode.refused_change,
        )
    if ctx.action is Action.unlock and state.status is not PackStatus.locked:
        return _refuse(
            state, ctx, f"the pack is {state.status.value}, not locked", AlertCode.refused_change
        )
    if state.status_facility_id != ctx.facility_id:
        return _refuse(
            state,
            ctx,
            f"the pack was {state.status.value} at {ctx.name(state.status_facility_id)}; only "
            "that facility can undo it",
            AlertCode.refused_change,
        )
    if state.status in UNDO_WITHIN_WINDOW:
        if ctx.event_time - state.status_at > UNDO_WINDOW:
            return _refuse(
                state,
                ctx,
                f"the pack was {state.status.value} on {when}, more than 10 days ago; it can no "
                "longer be undone",
                AlertCode.refused_change,
            )
        if state.overlays:
            return _refuse(
                state,
                ctx,
                f"the pack is {_overlay_text(state.overlays)}; it cannot return to saleable stock",
                AlertCode.refused_change,
            )
    return _ok(reactivated)
