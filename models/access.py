"""The record of every authenticated read of health and identity data (who, what, when, where
from, and what they got)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import enum_column, timestamp_field, unsealed_index
from models.identity import Role


class AccessOutcome(enum.StrEnum):
    ok = "ok"
    forbidden = "forbidden"
    not_found = "not_found"
    invalid = "invalid"
    error = "error"


class AccessLogEntry(SQLModel, table=True):
    __tablename__ = "access_log"
    __table_args__ = (unsealed_index("access_log", "id"),)

    id: int | None = Field(default=None, sa_type=sa.BigInteger, primary_key=True)
    at: datetime = timestamp_field(index=True)
    actor_kind: str = Field(max_length=10)  # "user" or "device"
    actor_id: uuid.UUID = Field(index=True)
    actor_name: str = Field(max_length=120)
    role: Role = Field(sa_type=enum_column(Role))
    organization_id: uuid.UUID = Field(index=True)
    resource: str = Field(max_length=60, index=True)
    object_id: str | None = Field(default=None, max_length=120)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    client_address: str | None = Field(default=None, max_length=64)
    status_code: int
    outcome: AccessOutcome = Field(sa_type=enum_column(AccessOutcome, length=12))
    # The hash chain (models/audit.py), set by the sealer soon after the row commits.
    chain_seq: int | None = Field(default=None, sa_type=sa.BigInteger)
    row_hash: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
