"""Packs and their state: the EU FMD status, and custody (who holds it, or where it travels).
The state is a projection of the pack's events, updated in the same transaction as they are."""

from __future__ import annotations

import enum
import functools
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import enum_column, timestamp_field


class PackStatus(enum.StrEnum):
    active = "active"
    dispensed = "dispensed"
    exported = "exported"
    sample = "sample"
    free_sample = "free_sample"
    locked = "locked"
    checked_out = "checked_out"
    stolen = "stolen"
    destroyed = "destroyed"


class Overlay(enum.StrEnum):
    """Conditions from the batch or product that can never be undone."""

    expired = "expired"
    recalled = "recalled"
    withdrawn = "withdrawn"


FINAL_STATUSES = frozenset({PackStatus.stolen, PackStatus.destroyed})


@functools.lru_cache(maxsize=1024)  # an event's packs share a few batches: pure, so kept
def pack_overlays(expiry: date, batch_overlay: str | None, today: date) -> frozenset[Overlay]:
    """A pack's overlays: expired from its batch's expiry date, recalled or withdrawn from its
    batch (set by a recall)."""
    overlays = {Overlay.expired} if expiry < today else set()
    if batch_overlay:
        overlays.add(Overlay(batch_overlay))
    return frozenset(overlays)


class Pack(SQLModel, table=True):
    """No foreign keys (nor on `pack_events`): each would be checked once per pack written, and
    commissioning writes a million at once (bench/keys.py: with them commissioning took 3.5
    times as long, events of many packs 15 % longer). A pack refers to the batch it was
    commissioned in (locked while it is) and to the facilities and events of the events that
    wrote it, which are keyed once in each event's row (migration 0015);
    tests/test_integrity.py looks for any reference that is missing."""

    __tablename__ = "packs"
    __table_args__ = (
        sa.Index("ix_packs_gtin_lot", "gtin", "lot"),
        sa.Index(
            "ix_packs_container_sscc",
            "container_sscc",
            postgresql_where=sa.text("container_sscc IS NOT NULL"),
        ),
    )

    gtin: str = Field(sa_type=sa.CHAR(14), primary_key=True)
    serial: str = Field(max_length=20, primary_key=True)
    lot: str = Field(max_length=20)
    status: PackStatus = Field(sa_type=enum_column(PackStatus, length=12))
    # Custody: the holding facility, or (while shipped) the facilities it travels between.
    holder_id: uuid.UUID | None = None
    transit_from_id: uuid.UUID | None = None
    transit_to_id: uuid.UUID | None = None
    # Where and when the current status was set (an undo must happen there, within 10 days).
    status_facility_id: uuid.UUID | None = None
    # The case or pallet the pack is packed in (aggregation), if any.
    container_sscc: str | None = Field(default=None, sa_type=sa.CHAR(18), nullable=True)
    # In transit as a return (EPCIS disposition `returned`), to whichever facility it goes.
    in_return: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # How many lines its history has (pack_events.version of the last); counted under the row
    # lock, so that the history is in the order the pack went through it.
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    status_at: datetime = timestamp_field()
    commissioned_at: datetime = timestamp_field()
    commission_event_id: uuid.UUID
    last_event_id: uuid.UUID
