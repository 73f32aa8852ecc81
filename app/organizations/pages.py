"""Administrators' page of organisations: the list with their GS1 company prefixes, and
registering one (inspectors read it)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import allow
from app.auth.middleware import PAGE_OPT
from app.dependencies import Caller, Session
from app.errors import ServiceError
from app.organizations import service
from app.web import forms
from app.web.routes import FORM
from app.web.templating import page
from app.web.vocabulary import N_
from models.identity import OrganizationKind

PATH = "/console/admin/organizations"
KIND_WORDS = {
    OrganizationKind.manufacturer: N_("Manufacturer"),
    OrganizationKind.importer: N_("Importer"),
    OrganizationKind.distributor: N_("Distributor"),
    OrganizationKind.pharmacy: N_("Pharmacy"),
    OrganizationKind.hospital: N_("Hospital"),
    OrganizationKind.regulator: N_("Regulator"),
}
OPT = {PAGE_OPT: True, AUDIT_OPT: "organizations"}


TEMPLATE = "admin/organizations.html"


async def _listing(session: Session, principal: Caller) -> dict[str, Any]:
    return {
        "organizations": await service.list_visible(session, principal),
        "kinds": list(OrganizationKind),
        "kind_words": {k.value: v for k, v in KIND_WORDS.items()},
    }


@get(PATH, guards=[allow(forms.ADMIN_READERS)], opt=OPT, include_in_schema=False)
async def organizations(
    request: Request[Any, Any, Any], session: Session, principal: Caller
) -> Template:
    return page(request, TEMPLATE, typed={}, problems={}, **await _listing(session, principal))


@post(PATH, guards=[allow(forms.ADMINS)], opt=OPT, include_in_schema=False, status_code=200)
async def create(
    request: Request[Any, Any, Any],
    session: Session,
    principal: Caller,
    data: Annotated[dict[str, str], FORM],
) -> Template | Redirect:
    try:
        new = service.NewOrganization(
            gln=forms.required(data, "gln"),
            name=forms.required(data, "name"),
            name_fa=forms.required(data, "name_fa"),
            kind=forms.required_choice(OrganizationKind, data, "kind"),
            company_prefixes=forms.words(data, "company_prefixes"),
        )  # fmt: skip
        await service.create(session, new)
    except ServiceError as exc:
        await session.rollback()
        return forms.refused(request, TEMPLATE, exc, data, **await _listing(session, principal))
    return Redirect(PATH, status_code=303)


ROUTES = [organizations, create]
