"""GS1 EPCIS 2.0 events as captured (`/epcis/capture`, `/epcis/events`), kept as an EPCIS
repository keeps them, beside the register's own events. `epcis_events` holds one row per event
with the fields queries filter on and the event's JSON as it came, less its EPC lists;
`epcis_epcs` holds those lists, one row per EPC, so that the events of one pack are found by an
index however many EPCs they list (a commissioning of 100,000 packs is one event)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from models.base import enum_column, timestamp_field


class ErrorBehaviour(enum.StrEnum):
    """`GS1-Capture-Error-Behaviour`: all or nothing, or store what is valid."""

    rollback = "rollback"
    proceed = "proceed"


class EpcRole(enum.StrEnum):
    """Where an EPC stands in its event: the instance lists, the parent, and the classes of
    the quantity lists (`epcClass`)."""

    epc = "e"
    child = "c"
    parent = "p"
    input = "i"
    output = "o"
    quantity = "Q"
    child_quantity = "C"
    input_quantity = "I"
    output_quantity = "O"


class EpcisCapture(SQLModel, table=True):
    """A capture job: the document waits in `document` until the job has run."""

    __tablename__ = "epcis_captures"

    capture_id: uuid.UUID = Field(primary_key=True)
    error_behaviour: ErrorBehaviour = Field(sa_type=enum_column(ErrorBehaviour, length=8))
    # Who captured it (app/auth/principal.py's fields), for a job resumed after a restart.
    actor: dict[str, Any] = Field(sa_type=JSONB)
    organization_id: uuid.UUID | None = Field(default=None, foreign_key="organizations.id")
    created_at: datetime = timestamp_field()
    finished_at: datetime | None = timestamp_field(nullable=True)
    running: bool = True
    success: bool | None = None
    event_count: int
    stored_count: int = 0
    errors: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONB, sa_column_kwargs={"server_default": "[]"}
    )
    document: bytes | None = Field(default=None, sa_type=sa.LargeBinary)


class EpcisEvent(SQLModel, table=True):
    __tablename__ = "epcis_events"
    __table_args__ = (
        sa.Index("ix_epcis_events_event_time", "event_time", "id"),
        sa.Index("ix_epcis_events_record_time", "record_time", "id"),
        sa.Index("ix_epcis_events_gtins", "gtins", postgresql_using="gin"),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, sa.Identity(), primary_key=True)
    )
    event_id: str = Field(max_length=500, unique=True)
    hash_id: str = Field(max_length=100, unique=True)
    capture_id: uuid.UUID | None = Field(
        default=None, foreign_key="epcis_captures.capture_id", index=True
    )
    event_type: str = Field(max_length=24)
    action: str | None = Field(default=None, max_length=8)
    biz_step: str | None = Field(default=None, max_length=500, index=True)
    disposition: str | None = Field(default=None, max_length=500, index=True)
    # Locations as their canonical GS1 Digital Link (URN or link alike), else as sent.
    read_point: str | None = Field(default=None, max_length=500, index=True)
    biz_location: str | None = Field(default=None, max_length=500, index=True)
    event_time: datetime = Field(sa_type=sa.DateTime(timezone=True))
    event_time_zone_offset: str = Field(max_length=6)
    record_time: datetime = timestamp_field()
    actor_kind: str = Field(max_length=10)
    actor_id: uuid.UUID
    organization_id: uuid.UUID | None = Field(
        default=None, foreign_key="organizations.id", index=True
    )
    # Who may see it besides its capturer: the register's site at its location, and the
    # products it names (their owners see their packs' events).
    facility_id: uuid.UUID | None = Field(default=None, foreign_key="facilities.id", index=True)
    gtins: list[str] = Field(default_factory=list, sa_type=ARRAY(sa.CHAR(14)))
    # The register's event this one drove (`events.event_id`), when it changed pack state.
    register_event_id: uuid.UUID | None = Field(default=None, index=True)
    document: dict[str, Any] = Field(sa_type=JSONB)


class EpcisEpc(SQLModel, table=True):
    """No foreign key to `epcis_events`: its rows are written by one COPY with their event's row
    (checked per row, keys cost 4–5× on bulk writes: models/packs.py)."""

    __tablename__ = "epcis_epcs"
    __table_args__ = (
        sa.Index(
            "ix_epcis_epcs_key",
            "key",
            "event_pk",
            postgresql_ops={"key": "text_pattern_ops"},
        ),
    )

    event_pk: int = Field(sa_type=sa.BigInteger, primary_key=True)
    role: EpcRole = Field(sa_type=enum_column(EpcRole, length=1), primary_key=True)
    position: int = Field(primary_key=True)
    epc: str = Field(max_length=500)  # as captured
    key: str = Field(max_length=500)  # the canonical GS1 Digital Link, else as captured
