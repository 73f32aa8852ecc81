"""Recalls and withdrawals issued by the Food and Drug Organization: which batches, why, what
holders must do, and who has acknowledged. The `recalled`/`withdrawn` overlay of every pack of an
affected batch is the batch's `overlay` column, so a recall of a million packs is one update."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import enum_column, timestamp_field


class RecallKind(enum.StrEnum):
    recall = "recall"
    withdrawal = "withdrawal"


class RecallClass(enum.StrEnum):
    """FDA/WHO practice: I = may cause serious harm or death, II = temporary or reversible harm,
    III = unlikely to cause harm."""

    I = "I"  # noqa: E741
    II = "II"
    III = "III"


class Recall(SQLModel, table=True):
    __tablename__ = "recalls"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: RecallKind = Field(sa_type=enum_column(RecallKind, length=10))
    recall_class: RecallClass = Field(sa_type=enum_column(RecallClass, length=3))
    gtin: str = Field(sa_type=sa.CHAR(14), foreign_key="products.gtin", index=True)
    whole_product: bool = False
    reason: str = Field(max_length=1000)
    instructions: str = Field(max_length=2000)
    deadline: date
    issued_by: uuid.UUID
    issued_at: datetime = timestamp_field()


class RecallBatch(SQLModel, table=True):
    __tablename__ = "recall_batches"
    __table_args__ = (sa.ForeignKeyConstraint(["gtin", "lot"], ["batches.gtin", "batches.lot"]),)

    recall_id: uuid.UUID = Field(foreign_key="recalls.id", primary_key=True)
    gtin: str = Field(sa_type=sa.CHAR(14), primary_key=True)
    lot: str = Field(max_length=20, primary_key=True)


class RecallNotice(SQLModel, table=True):
    """A facility told of a recall: it held (or was being sent) affected packs, or it is a
    pharmacy or hospital that supplied some before the recall (its patients may have to be
    reached), or both."""

    __tablename__ = "recall_notices"

    recall_id: uuid.UUID = Field(foreign_key="recalls.id", primary_key=True)
    facility_id: uuid.UUID = Field(foreign_key="facilities.id", primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    packs_at_notice: int  # held or on their way there
    packs_supplied: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    first_supplied_at: datetime | None = timestamp_field(nullable=True)
    last_supplied_at: datetime | None = timestamp_field(nullable=True)
    notified_at: datetime = timestamp_field()
    acknowledged_at: datetime | None = timestamp_field(nullable=True)
    acknowledged_by: uuid.UUID | None = None


class RecallProgress(SQLModel, table=True):
    """Packs of each recall by category and facility (app/recalls/progress.py), moved in the
    transaction of every change to a recalled pack, so that progress is read as a few hundred
    rows however many packs a recall reaches. A group that emptied stays as a 0 row; no facility
    is the nil UUID, as the column is in the primary key."""

    __tablename__ = "recall_progress"

    recall_id: uuid.UUID = Field(foreign_key="recalls.id", primary_key=True)
    category: str = Field(max_length=30, primary_key=True)
    facility_id: uuid.UUID = Field(primary_key=True)
    packs: int = Field(sa_type=sa.BigInteger)
