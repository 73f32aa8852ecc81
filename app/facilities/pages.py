"""The site page of the console: a facility by its GLN (name, organisation, province and city),
scoped as `GET /api/facilities/{id}`: your organisation's sites, or any for inspectors."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import EVERY_ROLE, allow
from app.auth.middleware import PAGE_OPT
from app.dependencies import Caller, Session
from app.facilities import service
from app.organizations import service as organizations
from app.web.templating import page


@get(
    "/console/facilities/{gln:str}",
    guards=[allow(EVERY_ROLE)],
    opt={PAGE_OPT: True, AUDIT_OPT: "facilities"},
    include_in_schema=False,
)
async def facility_page(
    request: Request[Any, Any, Any], session: Session, principal: Caller, gln: FromPath[str]
) -> Template:
    facility = await service.get_by_gln(session, principal, gln)
    organization = await organizations.get(session, principal, facility.organization_id)
    return page(request, "facilities/facility.html", facility=facility, organization=organization)


ROUTES = [facility_page]
