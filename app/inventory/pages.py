"""The console's stock page of a distributor, pharmacy or hospital: each of its facilities'
active packs by product, batch and expiry, those near expiry marked; the service of
`GET /api/facilities/{gln}/inventory`, scoped the same way (another organisation's facility is
a 404 page)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import EVERY_ROLE, allow
from app.auth.middleware import PAGE_OPT
from app.dependencies import Caller, Connection, Session
from app.errors import NotFound
from app.facilities import service as facilities
from app.inventory import service
from app.web.templating import page

# Stock expiring within this many days is marked, as a pharmacy plans its returns.
SOON_DAYS = 90


@get(
    "/console/inventory",
    guards=[allow(EVERY_ROLE)],
    opt={PAGE_OPT: True, AUDIT_OPT: "inventory"},
    include_in_schema=False,
)
async def inventory_start(
    request: Request[Any, Any, Any], connection: Connection, session: Session, principal: Caller
) -> Template:
    sites = await facilities.list_visible(session, principal)
    if not sites:
        raise NotFound("Your organisation has no facility.")
    own = next((site for site in sites if site.id == principal.facility_id), sites[0])
    return _page(request, sites, await service.inventory(connection, principal, own.gln))


@get(
    "/console/inventory/{gln:str}",
    guards=[allow(EVERY_ROLE)],
    opt={PAGE_OPT: True, AUDIT_OPT: "inventory"},
    include_in_schema=False,
)
async def inventory_page(
    request: Request[Any, Any, Any],
    connection: Connection,
    session: Session,
    principal: Caller,
    gln: FromPath[str],
) -> Template:
    stock = await service.inventory(connection, principal, gln)  # 404 before anything is listed
    sites = await facilities.list_visible(session, principal)
    return _page(request, sites, stock)


def _page(request: Request[Any, Any, Any], sites: Any, stock: service.Inventory) -> Template:
    return page(request, "inventory/inventory.html", sites=sites, stock=stock, soon_days=SOON_DAYS)


ROUTES = [inventory_start, inventory_page]
