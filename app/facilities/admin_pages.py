"""Administrators' page of facilities: each organisation's sites, and registering one
(inspectors read it)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import allow
from app.auth.middleware import PAGE_OPT
from app.dependencies import Caller, Session
from app.errors import ServiceError
from app.facilities import service
from app.organizations import service as organizations
from app.web import forms
from app.web.provinces import PROVINCES
from app.web.routes import FORM
from app.web.templating import page

PATH = "/console/admin/facilities"
OPT = {PAGE_OPT: True, AUDIT_OPT: "facilities"}


TEMPLATE = "admin/facilities.html"


async def _listing(session: Session, principal: Caller, chosen: str | None) -> dict[str, Any]:
    """The facilities of the `chosen` organisation (of all when none is)."""
    organization_id = forms.identifier(chosen, "organization_id")
    known = await organizations.list_visible(session, principal)
    return {
        "facilities": await service.list_visible(session, principal, organization_id),
        "organizations": {r.organization.id: r.organization for r in known},
        "chosen": str(organization_id or ""),
        "provinces": PROVINCES,
    }


@get(PATH, guards=[allow(forms.ADMIN_READERS)], opt=OPT, include_in_schema=False)
async def facilities(
    request: Request[Any, Any, Any], session: Session, principal: Caller
) -> Template:
    listing = await _listing(session, principal, request.query_params.get("organization_id"))
    typed = {"organization_id": listing["chosen"]}
    return page(request, TEMPLATE, typed=typed, problems={}, **listing)


@post(PATH, guards=[allow(forms.ADMINS)], opt=OPT, include_in_schema=False, status_code=200)
async def create(
    request: Request[Any, Any, Any],
    session: Session,
    principal: Caller,
    data: Annotated[dict[str, str], FORM],
) -> Template | Redirect:
    try:
        organization_id = forms.required_id(data, "organization_id")
        new = service.NewFacility(
            gln=forms.required(data, "gln"),
            organization_id=organization_id,
            name=forms.required(data, "name"),
            name_fa=forms.text(data, "name_fa") or "",
            address=forms.text(data, "address") or "",
            province=forms.required(data, "province"),
            city=forms.required(data, "city"),
        )
        await service.create(session, new)
    except ServiceError as exc:
        await session.rollback()
        chosen = request.query_params.get("organization_id") or data.get("organization_id")
        listing = await _listing(session, principal, chosen)
        return forms.refused(request, TEMPLATE, exc, data, **listing)
    return Redirect(f"{PATH}?organization_id={organization_id}", status_code=303)


ROUTES = [facilities, create]
