"""GET /api/packs/{gtin}/{serial}/trace, /api/batches/{gtin}/{lot}/distribution and
/api/batches/{gtin}/{lot}/trace."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath

from app.auth.guards import EVERY_ROLE, allow
from app.dependencies import Caller, Connection
from app.trace import service


class TraceController(Controller):
    path = "/api"
    tags = ["trace"]  # noqa: RUF012
    opt = {"audit": "trace"}  # noqa: RUF012

    @get(
        "/packs/{gtin:str}/{serial:str}/trace",
        guards=[allow(EVERY_ROLE)],
        summary="Backward trace: the pack's origin, every step since, and where it is now",
    )
    async def pack(
        self, connection: Connection, principal: Caller, gtin: FromPath[str], serial: FromPath[str]
    ) -> service.PackTrace:
        return await service.pack_trace(connection, principal, gtin, serial)

    @get(
        "/batches/{gtin:str}/{lot:str}/distribution",
        guards=[allow(EVERY_ROLE)],
        summary="Where the batch's packs are now: per holder, province, status; in transit",
    )
    async def distribution(
        self, connection: Connection, principal: Caller, gtin: FromPath[str], lot: FromPath[str]
    ) -> service.Distribution:
        return await service.distribution(connection, principal, gtin, lot)

    @get(
        "/batches/{gtin:str}/{lot:str}/trace",
        guards=[allow(EVERY_ROLE)],
        summary="Forward trace: every facility the batch reached and every dispenser",
    )
    async def batch(
        self, connection: Connection, principal: Caller, gtin: FromPath[str], lot: FromPath[str]
    ) -> service.BatchTrace:
        return await service.batch_trace(connection, principal, gtin, lot)
