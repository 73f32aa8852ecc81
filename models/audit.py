"""Tamper evidence: events, pack events and the access log are hash chains. A database trigger
gives each new row the next sequence number of its stream and
`row_hash = sha256(previous row_hash || the row's content as canonical JSON)`; the head of each
stream is kept here. Streams are per facility for events (events at one site queue for its
head; sites never wait for each other) and one stream for the access log (each entry is a
single autocommitted statement, so its head is locked only for that statement). Checkpoints
record heads at a moment, so a chain rewritten wholesale is caught too when the checkpoint's
digest is kept outside the database."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import timestamp_field

# The chained tables and the column naming each row's stream (None: a single stream).
CHAINS: dict[str, str | None] = {
    "events": "facility_id",
    "pack_events": "facility_id",
    "access_log": None,
}
SINGLE_STREAM = uuid.UUID(int=0)


class AuditHead(SQLModel, table=True):
    __tablename__ = "audit_heads"

    chain: str = Field(max_length=20, primary_key=True)
    stream: uuid.UUID = Field(primary_key=True)
    seq: int = Field(sa_type=sa.BigInteger)
    hash: bytes = Field(sa_type=sa.LargeBinary)


class AuditCheckpoint(SQLModel, table=True):
    __tablename__ = "audit_checkpoints"

    id: int | None = Field(default=None, sa_type=sa.BigInteger, primary_key=True)
    at: datetime = timestamp_field(index=True)
    chain: str = Field(max_length=20)
    stream: uuid.UUID
    seq: int = Field(sa_type=sa.BigInteger)
    hash: bytes = Field(sa_type=sa.LargeBinary)
