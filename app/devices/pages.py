"""Administrators' page of scanner devices: the list, registering one (its API key is shown on
the answer to that request and never again: only its hash is kept), and revoking one."""

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
from app.devices import service
from app.errors import ServiceError
from app.facilities import service as facilities
from app.web import forms
from app.web.routes import FORM
from app.web.templating import page

PATH = "/console/admin/devices"
OPT = {PAGE_OPT: True, AUDIT_OPT: "devices"}


TEMPLATE = "admin/devices.html"


async def _listing(session: Session, principal: Caller) -> dict[str, Any]:
    sites = await facilities.list_visible(session, principal)
    return {
        "devices": await service.list_visible(session, principal),
        "facilities": {x.id: x for x in sites},
        "issued": None,
    }


@get(PATH, guards=[allow(forms.ADMIN_READERS)], opt=OPT, include_in_schema=False)
async def devices(request: Request[Any, Any, Any], session: Session, principal: Caller) -> Template:
    return page(request, TEMPLATE, typed={}, problems={}, **await _listing(session, principal))


@post(PATH, guards=[allow(forms.ADMINS)], opt=OPT, include_in_schema=False, status_code=201)
async def create(
    request: Request[Any, Any, Any],
    session: Session,
    principal: Caller,
    data: Annotated[dict[str, str], FORM],
) -> Template:
    """Answers with the page itself (no redirect): the key is in this answer only."""
    try:
        facility_id = forms.required_id(data, "facility_id")
        issued = await service.create(
            session,
            principal,
            facility_id,
            forms.required(data, "name"),
        )
    except ServiceError as exc:
        await session.rollback()
        return forms.refused(request, TEMPLATE, exc, data, **await _listing(session, principal))
    listing = {**await _listing(session, principal), "issued": issued}
    response = page(request, TEMPLATE, status_code=201, typed={}, problems={}, **listing)
    response.headers["Cache-Control"] = "no-store"
    return response


@post(
    f"{PATH}/{{device_id:uuid}}/revoke", guards=[allow(forms.ADMINS)], opt=OPT,
    include_in_schema=False, status_code=200,
)  # fmt: skip
async def revoke(
    session: Session, principal: Caller, runtime: Runtime, device_id: FromPath[uuid.UUID]
) -> Redirect:
    await service.revoke(session, principal, device_id)
    runtime.principals.clear()
    return Redirect(PATH, status_code=303)


ROUTES = [devices, create, revoke]
