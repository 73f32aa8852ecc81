"""Cases and pallets (SSCC, AI 00): what is packed in them and where they are. Packs point to
their container (`packs.container_sscc`); containers to theirs (`parent_sscc`), so pallets of
cases nest. Shipping or receiving a container moves everything inside it."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import timestamp_field


def _case_key(column: str) -> sa.ForeignKeyConstraint:
    """A reference to a case, checked at commit: an event moves or records cases in the order
    it decides them, which may come before the row of a case it creates."""
    return sa.ForeignKeyConstraint(
        [column], ["containers.sscc"], deferrable=True, initially="DEFERRED"
    )


class Container(SQLModel, table=True):
    __tablename__ = "containers"
    __table_args__ = (_case_key("parent_sscc"),)

    sscc: str = Field(sa_type=sa.CHAR(18), primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    packed_at_id: uuid.UUID = Field(foreign_key="facilities.id")
    parent_sscc: str | None = Field(default=None, sa_type=sa.CHAR(18), index=True)
    holder_id: uuid.UUID | None = Field(default=None, foreign_key="facilities.id")
    transit_from_id: uuid.UUID | None = Field(default=None, foreign_key="facilities.id")
    transit_to_id: uuid.UUID | None = Field(default=None, foreign_key="facilities.id")
    created_at: datetime = timestamp_field()
    last_event_id: uuid.UUID = Field(foreign_key="events.event_id")


class ContainerEvent(SQLModel, table=True):
    """What happened to a container (append-only): packed, shipped, received, unpacked."""

    __tablename__ = "container_events"
    __table_args__ = (_case_key("sscc"), sa.Index("ix_container_events_event_id", "event_id"))

    sscc: str = Field(sa_type=sa.CHAR(18), primary_key=True)
    event_id: uuid.UUID = Field(foreign_key="events.event_id", primary_key=True)
    action: str = Field(max_length=12)
    facility_id: uuid.UUID = Field(foreign_key="facilities.id")
    destination_id: uuid.UUID | None = Field(default=None, foreign_key="facilities.id")
    event_time: datetime = Field(sa_type=sa.DateTime(timezone=True))
    packs: int
    outcome: str = Field(max_length=8)
    reason: str = Field(default="", max_length=300)
