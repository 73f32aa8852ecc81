"""Supply-chain events (append-only). `events` holds one row per event as sent by a scanner or a
user; `pack_events` one row per pack the event touched, with what happened to it."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import enum_column, timestamp_field, unsealed_index
from models.packs import PackStatus


class Action(enum.StrEnum):
    commission = "commission"
    ship = "ship"
    receive = "receive"
    dispense = "dispense"
    undo = "undo"
    return_ = "return"
    destroy = "destroy"
    export = "export"
    sample = "sample"
    free_sample = "free_sample"
    lock = "lock"
    unlock = "unlock"
    check_out = "check_out"
    stolen = "stolen"
    pack = "pack"
    unpack = "unpack"


# The CBV 2.0 business step each action records.
BUSINESS_STEP: dict[Action, str] = {
    Action.commission: "commissioning",
    Action.ship: "shipping",
    Action.receive: "receiving",
    Action.dispense: "dispensing",
    Action.undo: "decommissioning",
    Action.return_: "shipping",
    Action.destroy: "destroying",
    Action.export: "shipping",
    Action.sample: "sampling",
    Action.free_sample: "sampling",
    Action.lock: "holding",
    Action.unlock: "holding",
    Action.check_out: "decommissioning",
    Action.stolen: "decommissioning",
    Action.pack: "packing",
    Action.unpack: "unpacking",
}


class Outcome(enum.StrEnum):
    ok = "ok"
    warning = "warning"
    refused = "refused"


class Event(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (
        unsealed_index("events", "recorded_at", "event_id"),
        # In time order, for reading the register's events as EPCIS events page by page.
        sa.Index("ix_events_event_time", "event_time", "event_id"),
        sa.Index("ix_events_recorded_at", "recorded_at", "event_id"),
    )

    event_id: uuid.UUID = Field(primary_key=True)
    action: Action = Field(sa_type=enum_column(Action, length=12))
    business_step: str = Field(max_length=40)
    facility_id: uuid.UUID = Field(foreign_key="facilities.id", index=True)
    destination_id: uuid.UUID | None = Field(default=None, foreign_key="facilities.id")
    actor_kind: str = Field(max_length=10)
    # A user's id or a device's, as actor_kind says: no one table to refer to.
    actor_id: uuid.UUID
    event_time: datetime = Field(sa_type=sa.DateTime(timezone=True))
    recorded_at: datetime = timestamp_field()
    offline: bool = False
    payload_hash: str = Field(sa_type=sa.CHAR(64))
    response: dict[str, Any] = Field(sa_type=JSONB)
    # The hash chain (models/audit.py), set by the sealer soon after the row commits.
    chain_seq: int | None = Field(default=None, sa_type=sa.BigInteger)
    row_hash: bytes | None = Field(default=None, sa_type=sa.LargeBinary)


class PackEvent(SQLModel, table=True):
    """No foreign keys, as on `packs` (checked per pack, they cost too much: models/packs.py);
    its event, facility and destination are its `events` row's, keyed there. None could refer
    to `packs` or `products` anyway: a code scanned that names no commissioned pack (an unknown
    serial, an unregistered GTIN: a suspected falsified pack) is recorded too, nor to the case
    packed into: a refused packing into a new SSCC names a case that was never made."""

    __tablename__ = "pack_events"
    __table_args__ = (
        sa.UniqueConstraint("gtin", "serial", "version", name="uq_pack_events_version"),
        unsealed_index("pack_events", "recorded_at", "event_id", "gtin", "serial"),
        # An event's lines (its EPCIS epcList), however the packs are keyed.
        sa.Index("ix_pack_events_event_id", "event_id"),
    )

    gtin: str = Field(sa_type=sa.CHAR(14), primary_key=True)
    serial: str = Field(max_length=20, primary_key=True)
    event_id: uuid.UUID = Field(primary_key=True)
    action: Action = Field(sa_type=enum_column(Action, length=12))
    facility_id: uuid.UUID
    destination_id: uuid.UUID | None = None
    event_time: datetime = Field(sa_type=sa.DateTime(timezone=True))
    recorded_at: datetime = timestamp_field()
    offline: bool = False
    outcome: Outcome = Field(sa_type=enum_column(Outcome, length=8))
    status_before: PackStatus | None = Field(
        default=None,
        sa_type=enum_column(PackStatus, length=12, name="status_before"),
        nullable=True,
    )
    status_after: PackStatus | None = Field(
        default=None,
        sa_type=enum_column(PackStatus, length=12, name="status_after"),
        nullable=True,
    )
    reason: str = Field(default="", max_length=300)
    # For packing and unpacking, and for packs moved as part of a container: which one.
    container_sscc: str | None = Field(default=None, sa_type=sa.CHAR(18), nullable=True)
    # The line's place in the pack's history (1, 2, …: the pack's version it made); none for a
    # code of no registered pack, and for lines recorded before versions were kept.
    version: int | None = Field(default=None, nullable=True)
    # The hash chain (models/audit.py), set by the sealer soon after the row commits.
    chain_seq: int | None = Field(default=None, sa_type=sa.BigInteger)
    row_hash: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
