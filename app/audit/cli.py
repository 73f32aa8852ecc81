"""`darutrace audit verify|seal|checkpoint`."""

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
    """Recompute every sealed row's link; report the first broken link of each stream (exit 1
    if any) and the rows not sealed yet."""
    from app.audit import service

    with _connected() as connection:
        report = service.verify(connection)
    counts = ", ".join(f"{rows:,} {table}" for table, rows in report.rows.items())
    for table, tail in report.unsealed.items():
        if tail.rows:
            assert tail.oldest is not None
            age = (report.at - tail.oldest).total_seconds()
            click.echo(
                f"unsealed {table}: {tail.rows:,} row(s), the oldest written {age:.1f} s ago"
            )
    if report.ok:
        click.echo(f"audit: all chains intact ({counts} sealed)")
        return
    for broken in report.breaks:
        click.echo(f"BROKEN {broken}", err=True)
    click.echo(f"audit: {len(report.breaks)} broken link(s) ({counts} sealed)", err=True)
    sys.exit(1)


@audit_group.command("seal")
def audit_seal() -> None:
    """Link every row committed until now into its chain (a running server does so within a
    second by itself); print how many rows of each chain were sealed."""
    from app.audit import service

    with _connected() as connection:
        sealed = service.seal(connection)
    for table, rows in sealed.items():
        click.echo(f"sealed {rows:,} {table}")


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """Record every chain's head; print a digest to keep outside the database."""
    from app.audit import service
    from models.base import utcnow

    with _connected() as connection:
        digest = service.checkpoint(connection, utcnow())
    click.echo(f"checkpoint {digest}")
