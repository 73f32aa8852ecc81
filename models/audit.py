"""Tamper evidence: events, pack events and the access log are hash chains. Rows are written
unsealed (`chain_seq` and `row_hash` NULL), so that no request waits on a chain; the sealer
(app/audit/sealer.py, in the server and `darutrace audit seal`) then links them in batches, in
order, within a second: each gets the next sequence number of its stream and
`row_hash = sha256(previous row_hash || the row's content as canonical JSON)`, and the head of
each stream is kept here. The database lets the sealer set a row's chain columns once and
refuses every other change. Each chain has 64 streams, picked by a hash of the row's key (an
event's pack events go with it): the per-row trigger that linked rows before the sealer needed
them to spread its waiting writers, and the rows it linked keep their streams. Checkpoints
record heads at a moment, so a chain rewritten wholesale is caught too when the checkpoint's
digest is kept outside the database."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import timestamp_field

# The chained tables and the column whose value picks each row's stream: one of 64, by a
# stable hash (`audit_stream` in the database).
CHAINS: dict[str, str] = {
    "events": "event_id",
    "pack_events": "event_id",
    "access_log": "id",
}
# When each chained table's row was written (how old the unsealed tail is).
WRITTEN_AT: dict[str, str] = {
    "events": "recorded_at",
    "pack_events": "recorded_at",
    "access_log": "at",
}
# The advisory lock that keeps sealers to one at a time across processes (migration 0014).
SEALER_LOCK = 7_310_414_725_001


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
