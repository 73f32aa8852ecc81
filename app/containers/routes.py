"""GET /api/containers/{sscc}: a case or pallet, what is in it, where it is, its history."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from litestar import Controller, get
from litestar.params import FromPath

from app.auth.guards import EVERY_ROLE, allow
from app.containers import service
from app.dependencies import Caller, Connection


def case_out(view: service.CaseView) -> dict[str, Any]:
    out = asdict(view)
    out["contents"] = view.contents.as_dict()
    return out


class ContainerController(Controller):
    path = "/api/containers"
    tags = ["events"]  # noqa: RUF012
    opt = {"audit": "containers"}  # noqa: RUF012

    @get(
        "/{sscc:str}",
        guards=[allow(EVERY_ROLE, devices=True)],
        summary="A case or pallet (SSCC): contents, where it is, history",
    )
    async def show(
        self, connection: Connection, principal: Caller, sscc: FromPath[str]
    ) -> dict[str, Any]:
        return case_out(await service.case_view(connection, principal, sscc))
