"""What a scan's row at the counter names: the product, the batch and its expiry of each pack in
an event's answer, so that a person at the counter sees what they hold without opening a page."""

from __future__ import annotations

from typing import Any

from app.events.store import Connection

_LABELS = """
SELECT p.gtin, p.serial, p.lot, b.expiry, pr.name, pr.name_fa
FROM packs p
JOIN unnest(%s::char(14)[], %s::text[]) AS wanted(gtin, serial)
  ON p.gtin = wanted.gtin AND p.serial = wanted.serial
JOIN batches b ON b.gtin = p.gtin AND b.lot = p.lot
JOIN products pr ON pr.gtin = p.gtin
"""
_PRODUCTS = "SELECT gtin, name, name_fa FROM products WHERE gtin = ANY(%s::char(14)[])"


async def labelled(connection: Connection, body: dict[str, Any]) -> dict[str, Any]:
    """`body` (an event's answer) with `lot`, `expiry`, `name`, `name_fa` on each pack's result.
    Only codes the caller scanned, and what is printed on the pack anyway."""
    results: list[dict[str, Any]] = body.get("results") or []
    keys = [(r["gtin"], r["serial"]) for r in results if r.get("gtin") and r.get("serial")]
    gtins = sorted({r["gtin"] for r in results if r.get("gtin")})
    if not gtins:
        return body
    async with connection.cursor() as cursor:
        await cursor.execute(_LABELS, ([k[0] for k in keys], [k[1] for k in keys]))
        packs = {(row[0], row[1]): row[2:] for row in await cursor.fetchall()}
        await cursor.execute(_PRODUCTS, (gtins,))
        products = {row[0]: row[1:] for row in await cursor.fetchall()}
    labelled_results = []
    for result in results:
        extra: dict[str, Any] = {}
        if (product := products.get(result.get("gtin") or "")) is not None:
            extra |= {"name": product[0], "name_fa": product[1]}
        if (pack := packs.get((result.get("gtin"), result.get("serial")))) is not None:
            extra |= {"lot": pack[0], "expiry": pack[1].isoformat()}
        labelled_results.append(result | extra)
    return body | {"results": labelled_results}
