"""Rate-limit counts, shared by every worker process (and every machine) serving one database."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class RateLimitCount(SQLModel, table=True):
    """Requests of one client under one rule in one window (window number = epoch seconds //
    the rule's period). UNLOGGED: no WAL for a write on every limited request; a crash of
    PostgreSQL empties the table, which only forgives the counts of the last period or two.
    Rows are dead once `expires` (epoch seconds) has passed and are purged then."""

    __tablename__ = "rate_limit_counts"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    rule: str = Field(primary_key=True, max_length=20)
    client: str = Field(primary_key=True, max_length=200)
    window: int = Field(primary_key=True, sa_type=sa.BigInteger)
    hits: int
    expires: int = Field(sa_type=sa.BigInteger, index=True)
