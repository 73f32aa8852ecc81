"""GET /api/packs/{gtin}/{serial}/epcis and /api/batches/{gtin}/{lot}/epcis: a pack's or a
batch's history as an EPCIS 2.0 document, streamed; scoped and access-logged as the chain of
custody (`packs`) and the batch trace (`trace`) are."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath
from litestar.response import Stream

from app.auth.guards import EVERY_ROLE, allow
from app.dependencies import Caller, Connection
from app.epcis import export


def _streamed(found: export.Export) -> Stream:
    return Stream(
        found.chunks,
        media_type=export.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )


class PackEpcisController(Controller):
    path = "/api/packs"
    tags = ["packs"]  # noqa: RUF012
    opt = {"audit": "packs"}  # noqa: RUF012

    @get(
        "/{gtin:str}/{serial:str}/epcis",
        guards=[allow(EVERY_ROLE)],
        summary="The pack's chain of custody as an EPCIS 2.0 document (the parts you may see)",
        media_type=export.MEDIA_TYPE,
    )
    async def pack(
        self, connection: Connection, principal: Caller, gtin: FromPath[str], serial: FromPath[str]
    ) -> Stream:
        return _streamed(await export.pack_export(connection, principal, gtin, serial))


class BatchEpcisController(Controller):
    path = "/api/batches"
    tags = ["trace"]  # noqa: RUF012
    opt = {"audit": "trace"}  # noqa: RUF012

    @get(
        "/{gtin:str}/{lot:str}/epcis",
        guards=[allow(EVERY_ROLE)],
        summary="The batch's history as an EPCIS 2.0 document, streamed (the parts you may see)",
        media_type=export.MEDIA_TYPE,
    )
    async def batch(
        self, connection: Connection, principal: Caller, gtin: FromPath[str], lot: FromPath[str]
    ) -> Stream:
        return _streamed(await export.batch_export(connection, principal, gtin, lot))


ROUTES = [PackEpcisController, BatchEpcisController]
