"""The pack state machine (EU FMD statuses plus custody), as pure functions: given a pack's state
and an action at a facility, decide the outcome, the reason a person can act on, and the new
state. Online, an impossible change is refused; offline, the event already happened, so it is
recorded with a warning (and applied where the new state can be represented)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import reduce

from app.facilities.directory import Site
from models.alerts import AlertCode
from models.events import Action, Outcome
from models.packs import FINAL_STATUSES, Overlay, PackStatus
from models.translatable import Translatable

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
    Action.ship: Translatable("shipped"),
    Action.return_: Translatable("returned"),
    Action.receive: Translatable("received"),
    Action.dispense: Translatable("dispensed"),
    Action.export: Translatable("exported"),
    Action.sample: Translatable("taken as a sample"),
    Action.free_sample: Translatable("given as a free sample"),
    Action.check_out: Translatable("checked out"),
    Action.lock: Translatable("locked"),
    Action.stolen: Translatable("reported stolen"),
    Action.destroy: Translatable("destroyed"),
    Action.undo: Translatable("undone"),
    Action.unlock: Translatable("unlocked"),
}


@dataclass(frozen=True, slots=True)
class PackState:
    status: PackStatus
    holder_id: uuid.UUID | None
    transit_from_id: uuid.UUID | None
    transit_to_id: uuid.UUID | None
    status_facility_id: uuid.UUID | None
    status_at: datetime
    overlays: frozenset[Overlay] = frozenset()
    returning: bool = False  # in transit as a return (whatever the destination)

    # The two moves of a pallet's 100,000 packs, built directly: dataclasses.replace costs
    # several times as much.
    def in_transit(self, sender: uuid.UUID, receiver: uuid.UUID, returning: bool) -> PackState:
        return PackState(
            self.status, None, sender, receiver, self.status_facility_id, self.status_at,
            self.overlays, returning,
        )  # fmt: skip

    def held_at(self, facility_id: uuid.UUID) -> PackState:
        return PackState(
            self.status, facility_id, None, None, self.status_facility_id, self.status_at,
            self.overlays, False,
        )  # fmt: skip


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str  # what the scanning site is told
    state: PackState  # the state after the event (unchanged when nothing applies)
    conflict: bool = False  # refused because of the pack's state (HTTP 409), not the input
    alert: AlertCode | None = None  # the risk this signals, if any
    # The reason with every facility named, for the alert (seen by inspectors and the
    # organisations involved); empty when it is the reason itself.
    named: str = ""

    @property
    def alert_text(self) -> str:
        return self.named or self.reason


# A facility as a reason places it ("at Dr. Razi Pharmacy"), or None where it may not be named.
Namer = Callable[[uuid.UUID | None], str | None]
Wording = Callable[[Namer], str]

# The register's words inside reasons: the English is the code itself, so that the API's
# answers read as they always did; the console translates them.
STATUS = {
    PackStatus.active: Translatable("active"),
    PackStatus.dispensed: Translatable("dispensed"),
    PackStatus.exported: Translatable("exported"),
    PackStatus.sample: Translatable("sample"),
    PackStatus.free_sample: Translatable("free_sample"),
    PackStatus.locked: Translatable("locked"),
    PackStatus.checked_out: Translatable("checked_out"),
    PackStatus.stolen: Translatable("stolen"),
    PackStatus.destroyed: Translatable("destroyed"),
}
OVERLAY = {
    Overlay.expired: Translatable("expired"),
    Overlay.recalled: Translatable("recalled"),
    Overlay.withdrawn: Translatable("withdrawn"),
}


@dataclass(frozen=True)
class Context:
    action: Action
    facility_id: uuid.UUID
    destination_id: uuid.UUID | None
    event_time: datetime
    offline: bool
    organization_id: uuid.UUID  # the scanning site's organisation
    sites: dict[uuid.UUID, Site]  # the facilities involved, for reasons people can read

    def name(self, facility_id: uuid.UUID | None) -> str:
        """Any facility by name: for alerts, which inspectors and those involved read."""
        if facility_id is None:
            return Translatable("an unknown facility")
        site = self.sites.get(facility_id)
        return site.label if site else Translatable("another facility")

    def told(self, facility_id: uuid.UUID | None) -> str | None:
        """A facility the scanning site may be told of: its own organisation's. Custody is
        confidential between competitors, so another organisation's site goes unnamed."""
        site = self.sites.get(facility_id) if facility_id else None
        return site.label if site and site.organization_id == self.organization_id else None

    def worded(self, wording: Wording) -> tuple[str, str]:
        """(what the scanning site is told, the same with every facility named)."""
        told, named = wording(self.told), wording(self.name)
        return told, "" if named == told else named

    def received_from(
        self, transit_from_id: uuid.UUID | None, transit_to_id: uuid.UUID | None
    ) -> dict[str, str] | None:
        """Where a receipt came from: the sender of a shipment addressed here, whatever its
        organisation (the receiver knows its supplier); None for anything else, so that a pack
        shipped to another site does not name its sender."""
        if self.action is not Action.receive or transit_to_id != self.facility_id:
            return None
        site = self.sites.get(transit_from_id) if transit_from_id else None
        return {"gln": site.gln, "name": site.name} if site else None


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


def _warn(
    state: PackState, ctx: Context, wording: Wording, alert: AlertCode | None = None
) -> Decision:
    told, named = ctx.worded(wording)
    return Decision(Outcome.warning, told, state, alert=alert, named=named)


def _refuse(
    state: PackState,
    ctx: Context,
    reason: str | Wording,
    alert: AlertCode,
    *,
    apply: PackState | None = None,
) -> Decision:
    """Online: refused, nothing changes. Offline: the event happened anyway; record it with a
    warning and apply `apply` when given. Either way the conflict raises `alert`."""
    told, named = ctx.worded(reason) if callable(reason) else (reason, "")
    outcome, told = conflicting(ctx, told)
    named = conflicting(ctx, named)[1] if named else ""
    if ctx.offline:
        return Decision(outcome, told, apply or state, alert=alert, named=named)
    return Decision(outcome, told, state, conflict=True, alert=alert, named=named)


def conflicting(ctx: Context, reason: str) -> tuple[Outcome, str]:
    """A change the state forbids: refused online; offline it already happened, so a warning."""
    if ctx.offline:
        return Outcome.warning, Translatable(
            "recorded offline despite a conflict: %(reason)s", reason=reason
        )
    return Outcome.refused, reason


def _at(told: str | None) -> str:
    return Translatable("at %(site)s", site=told) if told else Translatable("elsewhere")


def _to(told: str | None) -> str:
    return Translatable("to %(site)s", site=told) if told else Translatable("elsewhere")


def _custody_note(state: PackState, ctx: Context) -> Wording | None:
    """Where the pack is registered, when not here (None: it is here)."""
    if state.holder_id == ctx.facility_id:
        return None
    if state.transit_to_id is not None:
        return lambda name: Translatable(
            "the pack is registered as %(transit)s", transit=_in_transit(state, name)
        )
    return lambda name: Translatable(
        "the pack is registered %(where)s, not here; it was not recorded as shipped to you: "
        "ask your supplier to record the shipment, or report the pack",
        where=_at(name(state.holder_id)),
    )


def _in_transit(state: PackState, name: Namer) -> str:
    source, destination = name(state.transit_from_id), name(state.transit_to_id)
    if source is None and destination is None:
        return Translatable("in transit elsewhere")
    another = Translatable("another organisation")
    return Translatable(
        "in transit from %(source)s to %(destination)s",
        source=source or another,
        destination=destination or another,
    )


def _overlay_text(overlays: frozenset[Overlay]) -> str:
    words = [OVERLAY[o] for o in sorted(overlays, key=lambda o: o.value)]
    return reduce(
        lambda left, right: Translatable("%(left)s and %(right)s", left=left, right=right), words
    )


def _status(state: PackState) -> str:
    return STATUS[state.status]


def _move(state: PackState, ctx: Context) -> Decision:
    assert ctx.destination_id is not None
    verb = VERB[ctx.action]
    moved = state.in_transit(ctx.facility_id, ctx.destination_id, ctx.action is Action.return_)
    if state.status is not PackStatus.active:
        return _refuse(
            state,
            ctx,
            Translatable(
                "the pack is %(status)s; only active packs can be %(verb)s",
                status=_status(state),
                verb=verb,
            ),
            AlertCode.inactive_pack,
        )
    if state.transit_to_id is not None:
        return _refuse(
            state,
            ctx,
            lambda name: Translatable(
                "the pack is already in transit %(where)s; it must be received before it is "
                "shipped again",
                where=_to(name(state.transit_to_id)),
            ),
            AlertCode.not_held_here,
            apply=moved,
        )
    note = _custody_note(state, ctx)
    if note is not None:
        return _refuse(state, ctx, note, AlertCode.not_held_here, apply=moved)
    if state.overlays and ctx.action is Action.ship:
        return Decision(
            Outcome.warning,
            Translatable(
                "shipped although the pack is %(overlays)s", overlays=_overlay_text(state.overlays)
            ),
            moved,
        )
    return _ok(moved)


def _receive(state: PackState, ctx: Context) -> Decision:
    received = state.held_at(ctx.facility_id)
    if state.status is not PackStatus.active:
        return _refuse(
            state,
            ctx,
            Translatable(
                "the pack is %(status)s; a decommissioned pack cannot re-enter the supply chain",
                status=_status(state),
            ),
            AlertCode.stolen_pack if state.status is PackStatus.stolen else AlertCode.inactive_pack,
        )
    if state.holder_id == ctx.facility_id:
        return Decision(Outcome.warning, Translatable("already received here"), state)
    if state.transit_to_id == ctx.facility_id:
        return _ok(received)
    check = Translatable("check the delivery with whoever brought it before you supply the pack")
    if state.transit_to_id is not None:
        return _warn(
            received,
            ctx,
            lambda name: Translatable(
                "received here, but the pack was registered as %(transit)s, not to here: %(check)s",
                transit=_in_transit(state, name),
                check=check,
            ),
            AlertCode.receipt_discrepancy,
        )
    return _warn(
        received,
        ctx,
        lambda name: Translatable(
            "received without a recorded shipment; it was registered %(where)s: %(check)s",
            where=_at(name(state.holder_id)),
            check=check,
        ),
        AlertCode.receipt_discrepancy,
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
        returning=False if leaves else state.returning,
    )
    when = state.status_at.date().isoformat()
    if state.status is target:
        if state.status_facility_id == ctx.facility_id:
            # Usually a double scan at the counter: a warning; the service raises an alert only
            # when it keeps happening.
            return Decision(
                Outcome.warning,
                Translatable("already %(verb)s here on %(when)s", verb=verb, when=when),
                state,
                alert=AlertCode.repeat_decommission,
            )
        return _refuse(
            state,
            ctx,
            lambda name: Translatable(
                "already %(verb)s %(where)s on %(when)s: the code may be cloned; do not supply "
                "this pack, set it aside and report it",
                verb=verb,
                where=_at(name(state.status_facility_id)),
                when=when,
            ),
            AlertCode.cloned_code,
        )
    if state.status in FINAL_STATUSES:
        return _refuse(
            state,
            ctx,
            Translatable(
                "the pack was %(status)s on %(when)s; this is final: do not supply it, set it "
                "aside and report it",
                status=_status(state),
                when=when,
            ),
            AlertCode.stolen_pack if state.status is PackStatus.stolen else AlertCode.inactive_pack,
        )
    if state.status is not PackStatus.active:
        return _refuse(
            state,
            ctx,
            lambda name: _inactive(state, verb, when, name(state.status_facility_id)),
            AlertCode.inactive_pack,
        )
    if ctx.action in SUPPLY and state.overlays:
        return _refuse(
            state,
            ctx,
            Translatable(
                "the pack is %(overlays)s; it must not be %(verb)s",
                overlays=_overlay_text(state.overlays),
                verb=verb,
            ),
            AlertCode.expired_pack
            if state.overlays == {Overlay.expired}
            else AlertCode.recalled_pack,
            apply=applied,
        )
    note = _custody_note(state, ctx)
    if note is not None and ctx.action in LEAVES_CHAIN:
        return _warn(
            applied,
            ctx,
            lambda name: Translatable("%(verb)s, but %(note)s", verb=verb, note=note(name)),
            AlertCode.not_held_here,
        )
    return _ok(applied)


def _inactive(state: PackState, verb: str, when: str, site: str | None) -> str:
    if site is None:
        return Translatable(
            "the pack was %(status)s elsewhere on %(when)s; only an active pack can be %(verb)s: "
            "do not supply it, set it aside and report it",
            status=_status(state),
            when=when,
            verb=verb,
        )
    return Translatable(
        "the pack is %(status)s (at %(site)s on %(when)s); only an active pack can be %(verb)s",
        status=_status(state),
        site=site,
        when=when,
        verb=verb,
    )


def _undo(state: PackState, ctx: Context) -> Decision:
    reactivated = replace(
        state,
        status=PackStatus.active,
        status_facility_id=ctx.facility_id,
        status_at=ctx.event_time,
    )
    when = state.status_at.date().isoformat()
    if state.status is PackStatus.active:
        return Decision(
            Outcome.warning, Translatable("the pack is already active; nothing to undo"), state
        )
    if state.status in FINAL_STATUSES:
        return _refuse(
            state,
            ctx,
            Translatable(
                "the pack was %(status)s on %(when)s; this is final",
                status=_status(state),
                when=when,
            ),
            AlertCode.refused_change,
        )
    if ctx.action is Action.unlock and state.status is not PackStatus.locked:
        return _refuse(
            state,
            ctx,
            Translatable("the pack is %(status)s, not locked", status=_status(state)),
            AlertCode.refused_change,
        )
    if state.status_facility_id != ctx.facility_id:
        return _refuse(
            state,
            ctx,
            lambda name: Translatable(
                "the pack was %(status)s %(where)s on %(when)s; only the facility that did it can "
                "undo it",
                status=_status(state),
                where=_at(name(state.status_facility_id)),
                when=when,
            ),
            AlertCode.refused_change,
        )
    if state.status in UNDO_WITHIN_WINDOW:
        if ctx.event_time - state.status_at > UNDO_WINDOW:
            return _refuse(
                state,
                ctx,
                Translatable(
                    "the pack was %(status)s on %(when)s, more than 10 days ago; it can no longer "
                    "be undone",
                    status=_status(state),
                    when=when,
                ),
                AlertCode.refused_change,
            )
        if state.overlays:
            return _refuse(
                state,
                ctx,
                Translatable(
                    "the pack is %(overlays)s; it cannot return to saleable stock",
                    overlays=_overlay_text(state.overlays),
                ),
                AlertCode.refused_change,
            )
    return _ok(reactivated)
