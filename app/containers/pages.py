"""The case/pallet page of the console: what is in it (cases within pallets, and their packs),
where it is, and its history; scoped and access-logged as `GET /api/containers/{sscc}`."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import EVERY_ROLE, allow
from app.auth.middleware import PAGE_OPT
from app.containers import service
from app.dependencies import Caller, Connection
from app.web.templating import page


@get(
    "/console/cases/{sscc:str}",
    guards=[allow(EVERY_ROLE)],
    opt={PAGE_OPT: True, AUDIT_OPT: "containers"},
    include_in_schema=False,
)
async def case_page(
    request: Request[Any, Any, Any], connection: Connection, principal: Caller, sscc: FromPath[str]
) -> Template:
    view = await service.case_view(connection, principal, sscc)
    return page(request, "containers/case.html", view=view)


ROUTES = [case_page]
