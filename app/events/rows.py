"""What flows between the event service, the decisions of `work` and `aggregation`, and the
writes of `store` and `containers`: named, frozen rows. What the whole event shares (its id, the
time it was recorded) is given to the writers once, not carried by every row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.events.transitions import PackState
from models.events import Action, Outcome
from models.packs import PackStatus


@dataclass(frozen=True, slots=True)
class PackRow:
    """A pack as locked for an event, with what its batch says of it."""

    gtin: str
    serial: str
    lot: str
    status: PackStatus
    holder_id: uuid.UUID | None
    transit_from_id: uuid.UUID | None
    transit_to_id: uuid.UUID | None
    status_facility_id: uuid.UUID | None
    status_at: datetime
    expiry: date
    overlay: str | None  # the batch's recall or withdrawal
    owner_id: uuid.UUID  # the batch's owner
    container_sscc: str | None
    returning: bool  # in transit as a return
    version: int  # how many pack events it has had (0: just commissioned)

    @property
    def key(self) -> tuple[str, str]:
        return (self.gtin, self.serial)


@dataclass(frozen=True, slots=True)
class PackEventRow:
    """One line of a pack's history. `version` numbers the lines of a registered pack (given
    under its row lock, when the event is written); an unknown pack's lines have none."""

    gtin: str
    serial: str
    action: Action
    facility_id: uuid.UUID
    destination_id: uuid.UUID | None
    event_time: datetime
    offline: bool
    outcome: Outcome
    status_before: PackStatus | None
    status_after: PackStatus | None
    reason: str
    container_sscc: str | None
    version: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.gtin, self.serial)


@dataclass(frozen=True, slots=True)
class PackUpdate:
    """A pack's new state; `pack` is the row as it was, so that what the change moves (stock,
    custody) is known without reading it again."""

    pack: PackRow
    state: PackState
    container_sscc: str | None

    @property
    def changed(self) -> bool:
        return (
            self.state.status is not self.pack.status
            or self.state.holder_id != self.pack.holder_id
            or self.state.transit_from_id != self.pack.transit_from_id
            or self.state.transit_to_id != self.pack.transit_to_id
            or self.state.status_facility_id != self.pack.status_facility_id
            or self.state.status_at != self.pack.status_at
            or self.state.returning != self.pack.returning
            or self.container_sscc != self.pack.container_sscc
        )


@dataclass(frozen=True, slots=True)
class CaseEventRow:
    """One line of a case's history."""

    sscc: str
    action: Action
    facility_id: uuid.UUID
    destination_id: uuid.UUID | None
    event_time: datetime
    packs: int
    outcome: Outcome
    reason: str


@dataclass(frozen=True, slots=True)
class EventRow:
    event_id: uuid.UUID
    action: Action
    business_step: str
    facility_id: uuid.UUID
    destination_id: uuid.UUID | None
    actor_kind: str
    actor_id: uuid.UUID
    event_time: datetime
    recorded_at: datetime
    offline: bool
    payload_hash: str
    response: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CodeResult:
    """What one scanned code came to. A case's result also counts the packs it moved and lists
    those that were not ok."""

    code: str
    gtin: str | None
    serial: str | None
    outcome: Outcome
    status: str | None
    reason: str
    received_from: dict[str, str] | None = None
    sscc: str | None = None
    packs: int | None = None
    summary: dict[str, int] | None = None
    issues: list[CodeResult] | None = None

    @property
    def is_pack(self) -> bool:
        return self.gtin is not None

    def as_json(self) -> dict[str, Any]:
        """The answer's form: a case's extras and the sender only where they apply."""
        answer: dict[str, Any] = {"code": self.code, "gtin": self.gtin, "serial": self.serial}
        if self.sscc is not None:
            answer["sscc"] = self.sscc
        answer |= {"outcome": self.outcome.value, "status": self.status, "reason": self.reason}
        if self.packs is not None:
            answer["packs"] = self.packs
        if self.summary is not None:
            answer["summary"] = self.summary
        if self.issues is not None:
            answer["issues"] = [issue.as_json() for issue in self.issues]
        if self.received_from is not None:
            answer["received_from"] = self.received_from
        return answer
