"""Administrators' page of users: the list, creating one in a role that fits its organisation,
and disabling or enabling one (inspectors read it)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import allow
from app.auth.middleware import PAGE_OPT
from app.dependencies import Caller, Runtime, Session
from app.errors import ServiceError
from app.facilities import service as facilities
from app.organizations import service as organizations
from app.users import service
from app.web import forms
from app.web.routes import FORM
from app.web.templating import page
from models.identity import Role

PATH = "/console/admin/users"
OPT = {PAGE_OPT: True, AUDIT_OPT: "users"}


TEMPLATE = "admin/users.html"


async def _listing(
    request: Request[Any, Any, Any], session: Session, principal: Caller
) -> dict[str, Any]:
    organization_id = forms.identifier(
        request.query_params.get("organization_id"), "organization_id"
    )
    known = await organizations.list_visible(session, principal)
    sites = await facilities.list_visible(session, principal)
    return {
        "users": await service.list_visible(session, principal, organization_id),
        "organizations": {r.organization.id: r.organization for r in known},
        "facilities": {x.id: x for x in sites},
        "roles": list(Role),
    }


@get(PATH, guards=[allow(forms.ADMIN_READERS)], opt=OPT, include_in_schema=False)
async def users(request: Request[Any, Any, Any], session: Session, principal: Caller) -> Template:
    listing = await _listing(request, session, principal)
    return page(request, TEMPLATE, typed={}, problems={}, **listing)


@post(PATH, guards=[allow(forms.ADMINS)], opt=OPT, include_in_schema=False, status_code=200)
async def create(
    request: Request[Any, Any, Any],
    session: Session,
    principal: Caller,
    data: Annotated[dict[str, str], FORM],
) -> Template | Redirect:
    try:
        new = service.NewUser(
            username=forms.required(data, "username"),
            password=data.get("password", ""),
            role=forms.required_choice(Role, data, "role"),
            organization_id=forms.required_id(data, "organization_id"),
            facility_id=forms.identifier(forms.text(data, "facility_id"), "facility_id"),
        )
        await service.create(session, new)
    except ServiceError as exc:
        await session.rollback()
        listing = await _listing(request, session, principal)
        return forms.refused(request, TEMPLATE, exc, data, **listing)
    return Redirect(PATH, status_code=303)


@post(
    f"{PATH}/{{user_id:uuid}}/active", guards=[allow(forms.ADMINS)], opt=OPT,
    include_in_schema=False, status_code=200,
)  # fmt: skip
async def set_active(
    session: Session,
    runtime: Runtime,
    user_id: FromPath[uuid.UUID],
    data: Annotated[dict[str, str], FORM],
) -> Redirect:
    await service.set_active(session, user_id, data.get("is_active") == "true")
    runtime.principals.clear()
    return Redirect(PATH, status_code=303)


ROUTES = [users, create, set_active]
