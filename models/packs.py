"""Packs and their state: the EU FMD status, and custody (who holds it, or where it travels).
The state is a projection of the pack's events, updated in the same transaction as they are."""

from __future__ import annotations

import enum
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


def pack_overlays(expiry: date, batch_overlay: str | None, today: date) -> frozenset[Overlay]:
    """A pack's overlays: expired from its batch's expiry date, recalled or withdrawn from its
    batch (set by a recall)."""
    overlays = {Overlay.expired} if expiry < today else set()
    if batch_overlay:
        overlays.add(Overlay(batch_overlay))
    return frozenset(overlays)


class Pack(SQLModel, table=True):
    __tablename__ = "packs"
    # The references are checked by the database (migration 0015); none of the referenced rows
    # is ever deleted or renumbered, so the custody columns need no index for the keys' sake
    # (an index on them would also end the HOT updates every event makes).
    __table_args__ = (
        sa.ForeignKeyConstraint(["gtin", "lot"], ["batches.gtin", "batches.lot"]),
        # Deferred to the commit: an event packing into a new case sets the packs' case before it
        # creates the case's row.
        sa.ForeignKeyConstraint(
            ["container_sscc"], ["containers.sscc"], deferrable=True, initially="DEFERRED"
        ),
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
    holder_id: uuid.UUID | None = Field(default=None, foreign_key="facilities.id")
    transit_from_id: uuid.UUID | None = Field(default=None, foreign_key="facilities.id")
    transit_to_id: uuid.UUID | None = Field(default=None, foreign_key="facilities.id")
    # Where and when the current status was set (an undo must happen there, within 10 days).
    status_facility_id: uuid.UUID | None = Field(default=None, foreign_key="facilities.id")
    # The case or pallet the pack is packed in (aggregation), if any.
    container_sscc: str | None = Field(default=None, sa_type=sa.CHAR(18), nullable=True)
    # In transit as a return (EPCIS disposition `returned`), to whichever facility it goes.
    in_return: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    status_at: datetime = timestamp_field()
    commissioned_at: datetime = timestamp_field()
    commission_event_id: uuid.UUID = Field(foreign_key="events.event_id")
    last_event_id: uuid.UUID = Field(foreign_key="events.event_id")
