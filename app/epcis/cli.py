"""`darutrace epcis export`: a batch's history as an EPCIS 2.0 document, written to a file (or
standard output) as it is read, by the same service as `GET /api/batches/{gtin}/{lot}/epcis`.
The operator at the command line holds the database itself, so sees every event."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import IO

import click

from app.settings import Settings


@click.group("epcis")
def epcis_group() -> None:
    """GS1 EPCIS 2.0: the register's events as EPCIS documents."""


@epcis_group.command("export")
@click.option("--gtin", required=True, help="The batch's GTIN.")
@click.option("--lot", required=True, help="The batch's lot number.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), default=None,
    help="The file to write (default: standard output).",
)  # fmt: skip
def epcis_export(gtin: str, lot: str, output: str | None) -> None:
    """Write the batch's events (commissioning, packing, shipping, receiving, dispensing, …)
    as one EPCISDocument, oldest first."""
    from app.db.database import Database
    from app.errors import ServiceError

    database = Database(Settings.from_env())
    database.start()
    try:
        asyncio.run(_export(database.conninfo, gtin, lot, output))
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from exc
    finally:
        database.stop()
    if output is not None:
        click.echo(output, err=True)


async def _export(conninfo: str, gtin: str, lot: str, output: str | None) -> None:
    import psycopg

    from app.epcis import export

    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as connection:
        found = await export.batch_export(connection, None, gtin, lot)
        if output is None:
            await _write(found.chunks, sys.stdout.buffer)
            return
        # Opened once the batch is known: a refusal leaves no empty file behind.
        with open(output, "wb") as target:  # noqa: ASYNC230 (local disk, written in order)
            await _write(found.chunks, target)


async def _write(chunks: AsyncIterator[bytes], target: IO[bytes]) -> None:
    async for chunk in chunks:
        target.write(chunk)
    target.flush()
