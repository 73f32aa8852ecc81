"""Alembic, driven from code: upgrade on start, report the current revision, check readiness.

Alembic (with the template engine it loads) takes about a third of a second to import, so a start
on an up-to-date database reads the head revision from the migration files' headers and the
current one with a plain query, and loads Alembic only when there is something to upgrade."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
_REVISION = re.compile(r'^revision: str = "(\w+)"$', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision: str \| None = (?:"(\w+)"|None)$', re.MULTILINE)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["url"] = url
    return config


def upgrade(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            if current_revision(connection) == head_revision():
                return
    finally:
        engine.dispose()
    from alembic import command

    command.upgrade(alembic_config(url), "head")


@cache
def head_revision() -> str | None:
    """The migration no other migration revises (migrations form one line)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"):
        text = path.read_text()
        revision, down = _REVISION.search(text), _DOWN_REVISION.search(text)
        if revision is None or down is None:
            raise RuntimeError(f"{path.name}: no `revision` / `down_revision` header")
        revisions.add(revision[1])
        if down[1]:
            revised.add(down[1])
    heads = revisions - revised
    if len(heads) > 1:
        raise RuntimeError(f"migrations branch: several heads {sorted(heads)}")
    return heads.pop() if heads else None


def current_revision(connection: sa.Connection) -> str | None:
    if connection.scalar(sa.text("SELECT to_regclass('alembic_version')")) is None:
        return None
    revision: str | None = connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
    return revision
