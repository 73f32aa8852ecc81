"""Reading codes for people and programs (`POST /api/codes/parse`, `darutrace code parse`),
with the register settling readings that lost separators leave open."""

from __future__ import annotations

from typing import Any

import psycopg

from models.codes import ReadCode, ReaderConfig, read_code

_KNOWN_PACKS = (
    "SELECT gtin, serial FROM packs"
    " WHERE (gtin, serial) IN (SELECT * FROM unnest(%s::char(14)[], %s::text[]))"
)
_KNOWN_BATCHES = (
    "SELECT gtin, lot FROM batches"
    " WHERE (gtin, lot) IN (SELECT * FROM unnest(%s::char(14)[], %s::text[]))"
)


async def read(
    connection: psycopg.AsyncConnection[Any] | None, text: str, config: ReaderConfig
) -> ReadCode:
    result = read_code(text, config)
    if result.ok or not result.candidates or connection is None:
        return result
    packs, batches = await _registered(connection, result.candidates)

    def known(reading: dict[str, str]) -> bool:
        gtin = reading.get("01", "")
        if "21" in reading:
            return (gtin, reading["21"]) in packs
        return "10" in reading and (gtin, reading["10"]) in batches

    return read_code(text, config, known=known)


async def _registered(
    connection: psycopg.AsyncConnection[Any], readings: list[dict[str, str]]
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    serials = [(r["01"], r["21"]) for r in readings if "01" in r and "21" in r]
    lots = [(r["01"], r["10"]) for r in readings if "01" in r and "10" in r]
    packs = await connection.execute(
        _KNOWN_PACKS, ([g for g, _ in serials], [s for _, s in serials])
    )
    batches = await connection.execute(_KNOWN_BATCHES, ([g for g, _ in lots], [x for _, x in lots]))
    return (
        {(g.strip(), s) for g, s in await packs.fetchall()},
        {(g.strip(), x) for g, x in await batches.fetchall()},
    )
