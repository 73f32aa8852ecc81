"""GET /api/facilities/{gln}/inventory and …/inventory.csv."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath, FromQuery
from litestar.response import Stream

from app.auth.guards import EVERY_ROLE, allow
from app.dependencies import Caller, Connection, Runtime
from app.inventory import service


class InventoryController(Controller):
    path = "/api/facilities"
    tags = ["inventory"]  # noqa: RUF012
    opt = {"audit": "inventory"}  # noqa: RUF012

    @get(
        "/{gln:str}/inventory",
        guards=[allow(EVERY_ROLE, devices=True)],
        summary="The facility's stock of active packs by product, batch and expiry",
    )
    async def show(
        self,
        connection: Connection,
        principal: Caller,
        gln: FromPath[str],
        expiring_within_days: FromQuery[int | None] = None,
    ) -> service.Inventory:
        return await service.inventory(connection, principal, gln, expiring_within_days)

    @get(
        "/{gln:str}/inventory.csv",
        guards=[allow(EVERY_ROLE, devices=True)],
        summary="The same stock as CSV (streamed)",
        media_type="text/csv",
    )
    async def csv(
        self,
        connection: Connection,
        runtime: Runtime,
        principal: Caller,
        gln: FromPath[str],
        expiring_within_days: FromQuery[int | None] = None,
    ) -> Stream:
        query = await service.stock_query(connection, principal, gln, expiring_within_days)
        filename = f"{query.gln}-inventory.csv"
        return Stream(
            service.inventory_csv(runtime.db, query),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
