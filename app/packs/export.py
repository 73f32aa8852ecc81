"""The serial list of a batch as CSV, streamed from PostgreSQL (COPY … TO STDOUT) so that a
million rows never sit in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg

from app.db.database import Database


async def serials_csv(db: Database, gtin: str, lot: str) -> AsyncIterator[bytes]:
    assert db.engine is not None
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, psycopg.AsyncConnection)
        async with (
            driver.cursor() as cursor,
            cursor.copy(
                "COPY (SELECT gtin, serial, lot, status FROM packs WHERE gtin = %s AND lot = %s "
                "ORDER BY serial) TO STDOUT WITH (FORMAT csv, HEADER true)",
                (gtin, lot),
            ) as copy,
        ):
            async for chunk in copy:
                yield bytes(chunk)
