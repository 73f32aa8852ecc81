"""What is made: products (GTIN) and their batches (GTIN + lot)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import enum_column, timestamp_field


class BatchOrigin(enum.StrEnum):
    produced = "produced"
    imported = "imported"


class Product(SQLModel, table=True):
    __tablename__ = "products"

    gtin: str = Field(sa_type=sa.CHAR(14), primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    irc: str = Field(max_length=40, index=True)
    name: str = Field(max_length=200)
    name_fa: str = Field(max_length=200)
    generic_name: str = Field(max_length=200)
    form: str = Field(max_length=80)
    strength: str = Field(max_length=80)
    pack_size: int
    atc: str = Field(max_length=10)
    created_at: datetime = timestamp_field()


class Batch(SQLModel, table=True):
    __tablename__ = "batches"

    gtin: str = Field(sa_type=sa.CHAR(14), foreign_key="products.gtin", primary_key=True)
    lot: str = Field(max_length=20, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    expiry: date
    manufactured_on: date
    quantity: int
    origin: BatchOrigin = Field(sa_type=enum_column(BatchOrigin, length=12))
    commissioned: int = 0
    created_at: datetime = timestamp_field()
    # Set by a recall or withdrawal (`recalled` / `withdrawn`): an overlay on every pack of the
    # batch that is never lifted.
    overlay: str | None = Field(default=None, max_length=10)
    recall_id: uuid.UUID | None = Field(default=None, foreign_key="recalls.id")
