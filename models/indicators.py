"""Summaries behind the national indicators (directive Article 14.1), kept up to date in the
same transaction as the events and alerts that change them, so that an indicator over a period
reads a few rows per day and site instead of the whole history. Days are Asia/Tehran days."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# The day an event or alert counts on.
DAY_ZONE = "Asia/Tehran"


class IndicatorFlow(SQLModel, table=True):
    """Per day, site, product and action: the packs it was done to (pack events recorded, not
    refused, of registered packs; commissioning: the packs serialized) and the scans (every pack
    event, refused ones too; none for commissioning, which scans nothing)."""

    __tablename__ = "indicator_flows"

    day: date = Field(primary_key=True)
    facility_id: uuid.UUID = Field(primary_key=True)
    gtin: str = Field(sa_type=sa.CHAR(14), primary_key=True)
    action: str = Field(max_length=12, primary_key=True)
    packs: int = Field(sa_type=sa.BigInteger)
    scans: int = Field(sa_type=sa.BigInteger)


class IndicatorFlowMonth(SQLModel, table=True):
    """The same per month (`month`: its first day), moved with the daily row: a long period
    reads its whole months here."""

    __tablename__ = "indicator_flows_monthly"

    month: date = Field(primary_key=True)
    facility_id: uuid.UUID = Field(primary_key=True)
    gtin: str = Field(sa_type=sa.CHAR(14), primary_key=True)
    action: str = Field(max_length=12, primary_key=True)
    packs: int = Field(sa_type=sa.BigInteger)
    scans: int = Field(sa_type=sa.BigInteger)


class IndicatorAlert(SQLModel, table=True):
    """Alerts raised per day, site, product ('' when the alert names none) and kind."""

    __tablename__ = "indicator_alerts"

    day: date = Field(primary_key=True)
    facility_id: uuid.UUID = Field(primary_key=True)
    gtin: str = Field(max_length=14, primary_key=True)
    code: str = Field(max_length=24, primary_key=True)
    raised: int = Field(sa_type=sa.BigInteger)


class IndicatorOpenAlert(SQLModel, table=True):
    """Alerts not closed, per site, product ('' when none) and kind: a current state, moved by
    raising, closing and reopening."""

    __tablename__ = "indicator_open_alerts"

    facility_id: uuid.UUID = Field(primary_key=True)
    gtin: str = Field(max_length=14, primary_key=True)
    code: str = Field(max_length=24, primary_key=True)
    open: int = Field(sa_type=sa.BigInteger)


class IndicatorStock(SQLModel, table=True):
    """Packs of each batch held by each site (active or locked, not in transit): moved with
    custody by every pack update and by commissioning."""

    __tablename__ = "indicator_stock"

    gtin: str = Field(sa_type=sa.CHAR(14), primary_key=True)
    lot: str = Field(max_length=20, primary_key=True)
    facility_id: uuid.UUID = Field(primary_key=True)
    packs: int = Field(sa_type=sa.BigInteger)


class BatchCustody(SQLModel, table=True):
    """Packs of each batch by status and custody (holder, or the facilities it travels
    between): what the batch distribution counts, moved by every pack update and by
    commissioning, so that a batch of a million packs is read as its few hundred groups. A
    group that emptied stays as a 0 row. No custody (a pack's NULL) is the nil UUID here, as
    the columns are the primary key."""

    __tablename__ = "batch_custody"

    gtin: str = Field(sa_type=sa.CHAR(14), primary_key=True)
    lot: str = Field(max_length=20, primary_key=True)
    status: str = Field(max_length=12, primary_key=True)
    holder_id: uuid.UUID = Field(primary_key=True)
    transit_from_id: uuid.UUID = Field(primary_key=True)
    transit_to_id: uuid.UUID = Field(primary_key=True)
    packs: int = Field(sa_type=sa.BigInteger)
