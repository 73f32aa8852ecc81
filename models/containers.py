"""Cases and pallets (SSCC, AI 00): what is packed in them and where they are. Packs point to
their container (`packs.container_sscc`); containers to theirs (`parent_sscc`), so pallets of
cases nest. Shipping or receiving a container moves everything inside it."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import timestamp_field


class Container(SQLModel, table=True):
    __tablename__ = "containers"

    sscc: str = Field(sa_type=sa.CHAR(18), primary_key=True)
    organization_id: uuid.UUID = Field(index=True)
    packed_at_id: uuid.UUID
    parent_sscc: str | None = Field(default=None, sa_type=sa.CHAR(18), index=True)
    holder_id: uuid.UUID | None = None
    transit_from_id: uuid.UUID | None = None
    transit_to_id: uuid.UUID | None = None
    created_at: datetime = timestamp_field()
    last_event_id: uuid.UUID


class ContainerEvent(SQLModel, table=True):
    """What happened to a container (append-only): packed, shipped, received, unpacked."""

    __tablename__ = "container_events"

    sscc: str = Field(sa_type=sa.CHAR(18), primary_key=True)
    event_id: uuid.UUID = Field(primary_key=True)
    action: str = Field(max_length=12)
    facility_id: uuid.UUID
    destination_id: uuid.UUID | None = None
    event_time: datetime = Field(sa_type=sa.DateTime(timezone=True))
    packs: int
    outcome: str = Field(max_length=8)
    reason: str = Field(default="", max_length=300)
