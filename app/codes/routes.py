"""POST /api/codes/parse: what a scanned code says, and what had to be repaired."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, post
from litestar.params import JSONBody

from app.auth.guards import EVERY_ROLE, allow
from app.codes import service
from app.dependencies import Connection, Runtime
from app.security.rate_limit import RATE_LIMIT_OPT, TOO_MANY_REQUESTS

MAX_CODES = 1000


class ParseIn(msgspec.Struct):
    codes: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=500)]],
        msgspec.Meta(min_length=1, max_length=MAX_CODES),
    ]


class CodeController(Controller):
    path = "/api/codes"
    tags = ["codes"]  # noqa: RUF012

    @post(
        "/parse",
        guards=[allow(EVERY_ROLE, devices=True)],
        opt={RATE_LIMIT_OPT: "parse"},
        responses=TOO_MANY_REQUESTS,
        status_code=200,
        summary="Read codes as scanned; one result per code (as `darutrace code parse` prints)",
    )
    async def parse(
        self, connection: Connection, runtime: Runtime, data: JSONBody[ParseIn]
    ) -> list[dict[str, Any]]:
        config = runtime.settings.reader
        return [(await service.read(connection, code, config)).as_dict() for code in data.codes]
