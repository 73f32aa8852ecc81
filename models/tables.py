"""Imports every table module so that `SQLModel.metadata` is complete (for Alembic and tests)."""

from sqlmodel import SQLModel

from models import access, alerts, catalog, containers, events, identity, packs, recalls

metadata = SQLModel.metadata

__all__ = [
    "access",
    "alerts",
    "catalog",
    "containers",
    "events",
    "identity",
    "metadata",
    "packs",
    "recalls",
]
