"""Imports every table module so that `SQLModel.metadata` is complete (for Alembic and tests)."""

from sqlmodel import SQLModel

from models import (
    access,
    alerts,
    audit,
    catalog,
    containers,
    epcis,
    events,
    identity,
    indicators,
    packs,
    rate_limits,
    recalls,
    sessions,
)

metadata = SQLModel.metadata

__all__ = [
    "access",
    "alerts",
    "audit",
    "catalog",
    "containers",
    "epcis",
    "events",
    "identity",
    "indicators",
    "metadata",
    "packs",
    "rate_limits",
    "recalls",
    "sessions",
]
