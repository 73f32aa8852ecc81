"""Column helpers shared by the tables."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# Deterministic constraint names, so that migrations can refer to them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def enum_column(enum_type: type[enum.Enum], *, length: int = 24, name: str | None = None) -> Any:
    """Enums are stored as their values in varchar columns (with a CHECK constraint): adding a
    value later is a migration that changes a constraint, not a PostgreSQL enum type."""
    return sa.Enum(
        enum_type,
        native_enum=False,
        length=length,
        create_constraint=True,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        name=name or enum_type.__name__.lower(),
    )


def timestamp_field(*, nullable: bool = False, index: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=sa.DateTime(timezone=True), nullable=True, index=index)
    return Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False, index=index
    )


def unsealed_index(table: str, *order: str) -> sa.Index:
    """A chained table's rows not yet linked into its hash chain (models/audit.py), in the
    order the sealer links them: only a second's worth of rows, however long the table."""
    return sa.Index(f"ix_{table}_unsealed", *order, postgresql_where=sa.text("chain_seq IS NULL"))
