"""Imports every table module so that `SQLModel.metadata` is complete (for Alembic and tests)."""

from sqlmodel import SQLModel

from models import access, catalog, events, identity, packs

metadata = SQLModel.metadata

__all__ = ["access", "catalog", "events", "identity", "metadata", "packs"]
