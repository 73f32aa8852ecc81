"""A facility's stock: the active packs it holds, by product, batch and expiry, read from the
pack state projection (which events update in the same transaction as they are recorded).
Packs in transit to a facility are not its stock until received; decommissioned packs
(dispensed, destroyed, locked, …) are not stock either.

A facility's organisation sees its stock (its users and its scanner devices); inspectors and
admins see every facility's; to anyone else the facility does not exist (404)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from app.auth.principal import Principal
from app.db.database import Database
from app.errors import InvalidInput, NotFound
from app.scoping import checked_key
from app.trace.places import Connection, Place, facility_by_gln, places
from models.base import utcnow
from models.gs1 import validate_gln

MAX_DAYS = 3650


@dataclass(frozen=True)
class BatchStock:
    gtin: str
    name: str
    name_fa: str
    lot: str
    expiry: date
    days_to_expiry: int  # negative once expired
    expired: bool
    packs: int
    overlay: str | None  # recalled or withdrawn: still on the shelf, but not to be supplied


@dataclass(frozen=True)
class ProductStock:
    gtin: str
    name: str
    name_fa: str
    packs: int
    batches: int


@dataclass(frozen=True)
class Inventory:
    facility: Place
    as_of: date
    expiring_within_days: int | None
    packs: int
    products: list[ProductStock]  # by name
    batches: list[BatchStock]  # soonest expiry first


@dataclass(frozen=True)
class StockQuery:
    """What to count at one facility (from a visible facility's GLN)."""

    facility_id: uuid.UUID
    gln: str
    today: date
    until: date | None

    def params(self) -> dict[str, Any]:
        return {"facility": self.facility_id, "today": self.today, "until": self.until}


# Aggregated before the joins: one group per batch held. The names are the CSV's header.
_STOCK = """
SELECT s.gtin, pr.name AS product, pr.name_fa AS product_fa, s.lot, b.expiry,
       b.expiry - %(today)s::date AS days_to_expiry, s.packs, b.overlay
FROM (
    SELECT gtin, lot, count(*) AS packs FROM packs
    WHERE holder_id = %(facility)s AND status = 'active'
    GROUP BY gtin, lot
) s
JOIN batches b ON b.gtin = s.gtin AND b.lot = s.lot
JOIN products pr ON pr.gtin = s.gtin
WHERE %(until)s::date IS NULL OR b.expiry <= %(until)s::date
ORDER BY b.expiry, pr.name, s.lot
"""
_CSV = f"COPY ({_STOCK}) TO STDOUT WITH (FORMAT csv, HEADER true)"


async def stock_query(
    connection: Connection,
    principal: Principal,
    gln: str,
    expiring_within_days: int | None = None,
) -> StockQuery:
    gln = checked_key(validate_gln, gln, "gln")
    found = await facility_by_gln(connection, gln)
    if found is None or not principal.may_read_organization(found[1]):
        raise NotFound(f"No facility with GLN {gln}.")
    if expiring_within_days is not None and not 0 <= expiring_within_days <= MAX_DAYS:
        raise InvalidInput(
            f"expiring_within_days: between 0 and {MAX_DAYS} days.", field="expiring_within_days"
        )
    today = utcnow().date()
    until = None if expiring_within_days is None else today + timedelta(expiring_within_days)
    return StockQuery(found[0], gln, today, until)


async def inventory(
    connection: Connection,
    principal: Principal,
    gln: str,
    expiring_within_days: int | None = None,
) -> Inventory:
    query = await stock_query(connection, principal, gln, expiring_within_days)
    rows = await (await connection.execute(_STOCK, query.params())).fetchall()
    batches = [
        BatchStock(gtin, name, name_fa, lot, expiry, days, days < 0, packs, overlay)
        for gtin, name, name_fa, lot, expiry, days, packs, overlay in rows
    ]
    products: dict[str, ProductStock] = {}
    for line in batches:
        before = products.get(line.gtin)
        products[line.gtin] = ProductStock(
            line.gtin,
            line.name,
            line.name_fa,
            (before.packs if before else 0) + line.packs,
            (before.batches if before else 0) + 1,
        )
    facility = (await places(connection, [query.facility_id]))[query.facility_id]
    return Inventory(
        facility=facility,
        as_of=query.today,
        expiring_within_days=expiring_within_days,
        packs=sum(line.packs for line in batches),
        products=sorted(products.values(), key=lambda p: (p.name, p.gtin)),
        batches=batches,
    )


async def inventory_csv(db: Database, query: StockQuery) -> AsyncIterator[bytes]:
    """The same lines as CSV, streamed from PostgreSQL (COPY … TO STDOUT) on a connection of
    its own, as the response is written after the request's connection has done its work."""
    assert db.pool is not None
    async with (
        db.pool.connection() as connection,
        connection.cursor() as cursor,
        cursor.copy(_CSV, query.params()) as copy,
    ):
        async for chunk in copy:
            yield bytes(chunk)
