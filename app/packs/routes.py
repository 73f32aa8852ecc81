"""POST /api/verify and /api/packs/{gtin}/{serial}[/events]."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from app.auth.guards import EVERY_ROLE, allow
from app.dependencies import Access, Caller, Connection, Runtime, Session
from app.packs import service
from app.security.rate_limit import RATE_LIMIT_OPT, TOO_MANY_REQUESTS

Serial = Annotated[str, msgspec.Meta(min_length=1, max_length=20)]


class VerifyIn(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class VerifyController(Controller):
    path = "/api/verify"
    tags = ["packs"]  # noqa: RUF012
    opt = {"audit": "packs"}  # noqa: RUF012

    @post(
        "/",
        guards=[allow(EVERY_ROLE, devices=True)],
        opt={RATE_LIMIT_OPT: "verify"},
        responses=TOO_MANY_REQUESTS,
        status_code=200,
        summary="Verify a pack from its code as scanned",
    )
    async def verify(
        self,
        connection: Connection,
        runtime: Runtime,
        principal: Caller,
        access: Access,
        data: JSONBody[VerifyIn],
    ) -> service.PackView:
        return await service.verify_code(
            connection, runtime.facilities, principal, data.code, runtime.settings.reader, access
        )


class PackController(Controller):
    path = "/api/packs"
    tags = ["packs"]  # noqa: RUF012
    opt = {"audit": "packs"}  # noqa: RUF012

    @get("/{gtin:str}/{serial:str}", guards=[allow(EVERY_ROLE, devices=True)], summary="A pack")
    async def show(
        self,
        connection: Connection,
        principal: Caller,
        access: Access,
        gtin: FromPath[str],
        serial: FromPath[str],
    ) -> service.PackView:
        return await service.pack_view(connection, principal, gtin, serial, access)

    @get(
        "/{gtin:str}/{serial:str}/events",
        guards=[allow(EVERY_ROLE)],
        summary="The pack's chain of custody (the parts you may see)",
    )
    async def events(
        self, session: Session, principal: Caller, gtin: FromPath[str], serial: FromPath[str]
    ) -> list[service.HistoryEntry]:
        return await service.history(session, principal, gtin, serial)
