"""Administrators' page of scanner devices: the list, registering one (its API key is shown on
the answer to that request and never again: only its hash is kept), and revoking one."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app import console_forms as forms
from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import allow
from app.auth.middleware import PAGE_OPT
from app.dependencies import Caller, Runtime, Session
from app.devices import service
from app.errors import ServiceError
from app.facilities import service as facilities
from app.web.i18n import language_of
from app.web.routes import FORM
from app.web.templating import page

PATH = "/console/admin/devices"
OPT = {PAGE_OPT: True, AUDIT_OPT: "devices"}


async def _page(
    request: Request[Any, Any, Any], session: Session, principal: Caller, status_code: int = 200,
    errors: dict[str, str] | None = None, typed: dict[str, str] | None = None,
    issued: service.IssuedDevice | None = None,
) -> Template:  # fmt: skip
    sites = await facilities.list_visible(session, principal)
    return page(
        request, "admin/devices.html", status_code=status_code,
        devices=await service.list_visible(session, principal),
        facilities={x.id: x for x in sites}, errors=errors or {}, typed=typed or {},
        issued=issued,
    )  # fmt: skip


@get(PATH, guards=[allow(forms.ADMIN_READERS)], opt=OPT, include_in_schema=False)
async def devices(request: Request[Any, Any, Any], session: Session, principal: Caller) -> Template:
    return await _page(request, session, principal)


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
        errors = forms.field_errors(language_of(request), exc)
        if not exc.extra.get("field") and "facility_id" in exc.detail:
            errors = {"facility_id": errors.pop("")}
        return await _page(request, session, principal, forms.failed(exc), errors, data)
    response = await _page(request, session, principal, 201, issued=issued)
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
