"""`darutrace audit verify|checkpoint`."""

from __future__ import annotations

import sys

import click
import psycopg

from app.audit import service
from app.db.database import Database
from app.settings import Settings
from models.base import utcnow


@click.group("audit")
def audit_group() -> None:
    """Tamper evidence: the hash chains of events and of the access log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Recompute every chain; report the first broken link of each stream (exit 1 if any)."""
    database = Database(Settings.from_env())
    database.start()
    try:
        with psycopg.connect(database.conninfo) as connection:
            report = service.verify(connection)
    finally:
        database.stop()
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
    database = Database(Settings.from_env())
    database.start()
    try:
        with psycopg.connect(database.conninfo) as connection:
            digest = service.checkpoint(connection, utcnow())
    finally:
        database.stop()
    click.echo(f"checkpoint {digest}")
