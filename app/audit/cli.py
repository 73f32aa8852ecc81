"""`darutrace audit verify|checkpoint`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from app.settings import Settings

if TYPE_CHECKING:
    import psycopg


@contextmanager
def _connected() -> Iterator[psycopg.Connection[Any]]:
    """The database (started if embedded, migrated) and a plain connection to it."""
    import psycopg

    from app.db.database import Database

    database = Database(Settings.from_env())
    database.start()
    try:
        with psycopg.connect(database.conninfo) as connection:
            yield connection
    finally:
        database.stop()


@click.group("audit")
def audit_group() -> None:
    """Tamper evidence: the hash chains of events and of the access log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Recompute every chain; report the first broken link of each stream (exit 1 if any)."""
    from app.audit import service

    with _connected() as connection:
        report = service.verify(connection)
    counts = ", ".join(f"{rows:,} {table}" for table, rows in report.rows.items())
    if report.ok:
        click.echo(f"audit: all chains intact ({counts})")
        return
    for broken in report.breaks:
        click.echo(f"BROKEN {broken}", err=True)
    click.echo(f"audit: {len(report.breaks)} broken link(s) ({counts})", err=True)
    sys.exit(1)


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """Record every chain's head; print a digest to keep outside the database."""
    from app.audit import service
    from models.base import utcnow

    with _connected() as connection:
        digest = service.checkpoint(connection, utcnow())
    click.echo(f"checkpoint {digest}")
