"""The console's recall notices of a distributor, pharmacy or hospital, with the button that
acknowledges them: the services of `GET /api/recalls` and `POST /api/recalls/{id}/acknowledge`."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Template

from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import ORGANIZATION_ROLES, allow
from app.auth.middleware import PAGE_OPT
from app.dependencies import Caller, Connection
from app.recalls import service
from app.web.templating import page


@get(
    "/console/notices",
    guards=[allow(ORGANIZATION_ROLES)],
    opt={PAGE_OPT: True, AUDIT_OPT: "recalls"},
    include_in_schema=False,
)
async def notices_page(
    request: Request[Any, Any, Any], connection: Connection, principal: Caller
) -> Template:
    recalls = await service.notices_of(connection, principal)
    return page(request, "recalls/notices.html", recalls=recalls)


@post(
    "/console/notices/{recall_id:uuid}/acknowledge",
    guards=[allow(ORGANIZATION_ROLES)],
    opt={PAGE_OPT: True, AUDIT_OPT: "recalls"},
    include_in_schema=False,
    status_code=200,
)
async def acknowledge(
    request: Request[Any, Any, Any],
    connection: Connection,
    principal: Caller,
    recall_id: FromPath[uuid.UUID],
) -> Template:
    await service.acknowledge(connection, principal, recall_id)
    recall = next(
        r for r in await service.notices_of(connection, principal) if r["recall_id"] == recall_id
    )
    template = (
        "recalls/notice.html"
        if request.headers.get("hx-request") == "true"
        else ("recalls/notices.html")
    )
    return page(request, template, recall=recall, recalls=[recall])


ROUTES = [notices_page, acknowledge]
