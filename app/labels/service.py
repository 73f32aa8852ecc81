"""The packs of a batch as labels: what the register says about them, serial by serial."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg

from app.errors import InvalidInput, NotFound
from app.labels.layouts import MAX_LABELS
from app.labels.sheet import LabelPack

_BATCH = """
SELECT b.expiry, p.name, p.name_fa, b.commissioned
FROM batches b JOIN products p ON p.gtin = b.gtin
WHERE b.gtin = %s AND b.lot = %s
"""
_SERIALS = (
    "SELECT serial FROM packs WHERE gtin = %s AND lot = %s ORDER BY serial OFFSET %s LIMIT %s"
)


async def batch_labels(
    connection: psycopg.AsyncConnection[Any], gtin: str, lot: str, offset: int, limit: int
) -> Iterator[LabelPack]:
    """The labels of packs `offset` … `offset + limit` of the batch, in serial order. The serials
    are read first (60 bytes a pack); the labels themselves are made as the PDF is written."""
    if not 1 <= limit <= MAX_LABELS or offset < 0:
        raise InvalidInput(
            f"limit: 1 to {MAX_LABELS:,} labels per document (use offset for the next ones).",
            field="limit",
        )
    row = await (await connection.execute(_BATCH, (gtin, lot))).fetchone()
    if row is None:
        raise NotFound(f"No batch {lot} of GTIN {gtin}.")
    expiry, name, name_fa, commissioned = row
    if commissioned == 0:
        raise InvalidInput(f"Batch {lot} has no serialized packs yet; serialize it first.")
    cursor = await connection.execute(_SERIALS, (gtin, lot, offset, limit))
    serials = [serial for (serial,) in await cursor.fetchall()]
    return (LabelPack(gtin, serial, lot, expiry, name, name_fa) for serial in serials)
