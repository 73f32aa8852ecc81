"""The pack page of the console: what the pack is, where it is, everything that happened to it,
and its alerts; scoped and access-logged as `GET /api/packs/{gtin}/{serial}`."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from app.access_log.middleware import AUDIT_OPT
from app.alerts import service as alerts
from app.auth.guards import EVERY_ROLE, allow
from app.auth.middleware import PAGE_OPT
from app.dependencies import Caller, Connection, Session
from app.packs import service
from app.web.templating import page


@get(
    "/console/packs/{gtin:str}/{serial:str}",
    guards=[allow(EVERY_ROLE)],
    opt={PAGE_OPT: True, AUDIT_OPT: "packs"},
    include_in_schema=False,
)
async def pack_page(
    request: Request[Any, Any, Any],
    connection: Connection,
    session: Session,
    principal: Caller,
    gtin: FromPath[str],
    serial: FromPath[str],
) -> Template:
    view = await service.pack_view(connection, principal, gtin, serial)
    history = []
    if view.status != "unknown":
        history = await service.history(session, principal, view.gtin, serial)
    found = alerts.AlertFilter(gtin=view.gtin, serial=serial, limit=50)
    pack_alerts = await alerts.list_alerts(connection, principal, found)
    return page(
        request, "packs/pack.html", view=view, history=history, alerts=pack_alerts,
        tone=tone_of(view),
    )  # fmt: skip


def tone_of(view: service.PackView) -> str:
    """The banner's colour: green only for a pack that may be supplied."""
    if view.status == "unknown" or view.overlays or view.status in ("stolen", "destroyed"):
        return "danger"
    if view.status != "active" or view.reason:
        return "warning"
    return "ok"


ROUTES = [pack_page]
