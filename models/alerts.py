"""Alerts, modelled on EU FMD level-5 alerts: raised by the event service where a scan signals a
risk, triaged by inspectors and the organisations involved (new → investigating → closed)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from models.base import enum_column, timestamp_field


class AlertCode(enum.StrEnum):
    unknown_product = "unknown_product"
    unknown_serial = "unknown_serial"
    batch_mismatch = "batch_mismatch"
    expiry_mismatch = "expiry_mismatch"
    cloned_code = "cloned_code"
    repeat_decommission = "repeat_decommission"
    inactive_pack = "inactive_pack"
    refused_change = "refused_change"
    recalled_pack = "recalled_pack"
    expired_pack = "expired_pack"
    stolen_pack = "stolen_pack"
    not_held_here = "not_held_here"
    receipt_discrepancy = "receipt_discrepancy"


class Severity(enum.StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


SEVERITY: dict[AlertCode, Severity] = {
    AlertCode.unknown_product: Severity.high,
    AlertCode.unknown_serial: Severity.high,
    AlertCode.cloned_code: Severity.high,
    AlertCode.recalled_pack: Severity.high,
    AlertCode.stolen_pack: Severity.high,
    AlertCode.batch_mismatch: Severity.medium,
    AlertCode.expiry_mismatch: Severity.medium,
    AlertCode.expired_pack: Severity.medium,
    AlertCode.repeat_decommission: Severity.medium,
    AlertCode.receipt_discrepancy: Severity.medium,
    AlertCode.inactive_pack: Severity.low,
    AlertCode.refused_change: Severity.low,
    AlertCode.not_held_here: Severity.low,
}


class AlertStatus(enum.StrEnum):
    new = "new"
    investigating = "investigating"
    closed = "closed"


class RootCause(enum.StrEnum):
    """Why a closed alert happened (the categories of EMVS alert management)."""

    user_error = "user_error"
    software = "software"
    data_upload = "data_upload"
    falsified = "falsified"  # a confirmed falsified medicine


class Alert(SQLModel, table=True):
    __tablename__ = "alerts"
    __table_args__ = (
        sa.Index("ix_alerts_organization_ids", "organization_ids", postgresql_using="gin"),
        sa.Index("ix_alerts_gtin_serial", "gtin", "serial"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: AlertCode = Field(sa_type=enum_column(AlertCode, length=24))
    severity: Severity = Field(sa_type=enum_column(Severity, length=8))
    status: AlertStatus = Field(sa_type=enum_column(AlertStatus, length=16), index=True)
    message: str = Field(max_length=500)
    gtin: str | None = Field(default=None, sa_type=sa.CHAR(14))
    serial: str | None = Field(default=None, max_length=20)
    lot: str | None = Field(default=None, max_length=20)
    event_id: uuid.UUID | None = None
    facility_id: uuid.UUID
    # Every organisation involved sees the alert: where it was scanned, who holds or last
    # decommissioned the pack, and the batch's owner (the marketing authorisation holder).
    organization_ids: list[uuid.UUID] = Field(sa_type=ARRAY(sa.Uuid()))
    raised_at: datetime = timestamp_field(index=True)
    updated_at: datetime = timestamp_field()
    root_cause: str | None = Field(default=None, max_length=1000)
    root_cause_kind: RootCause | None = Field(
        default=None, sa_type=enum_column(RootCause, length=16), nullable=True
    )


class AlertChange(SQLModel, table=True):
    """The triage trail of an alert (append-only)."""

    __tablename__ = "alert_changes"

    id: int | None = Field(default=None, sa_type=sa.BigInteger, primary_key=True)
    alert_id: uuid.UUID = Field(foreign_key="alerts.id", index=True)
    at: datetime = timestamp_field()
    by: uuid.UUID
    status: AlertStatus = Field(sa_type=enum_column(AlertStatus, length=16))
    note: str = Field(default="", max_length=1000)
