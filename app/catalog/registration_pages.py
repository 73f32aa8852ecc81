"""The console's pages of a manufacturer's or importer's register: their products and batches,
and the forms that register one more, on the services of `POST /api/products` and
`POST /api/batches` (the same rules, the same messages, translated beside their fields)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import allow
from app.auth.middleware import PAGE_OPT
from app.catalog import service
from app.dependencies import Caller, Session
from app.errors import ServiceError
from app.web import forms
from app.web.routes import FORM
from app.web.templating import page
from models.catalog import BatchOrigin
from models.identity import Role

READERS = {Role.inspector, Role.admin} | service.OWNER_ROLES
PRODUCT_FIELDS = ("gtin", "name", "name_fa", "generic_name", "form", "strength", "pack_size",
                  "atc", "irc")  # fmt: skip
BATCH_FIELDS = ("gtin", "lot", "manufactured_on", "expiry", "quantity", "origin")


@get(
    "/console/products",
    guards=[allow(READERS)],
    opt={PAGE_OPT: True, AUDIT_OPT: "products"},
    include_in_schema=False,
)
async def products_page(
    request: Request[Any, Any, Any], session: Session, principal: Caller
) -> Template:
    products = await service.products_of(session, principal)
    batches = await service.list_batches(session, principal, None)
    by_product: dict[str, list[Any]] = {}
    for batch in batches:
        by_product.setdefault(batch.gtin, []).append(batch)
    return page(
        request, "catalog/products.html", products=products, batches=by_product,
        registers=principal.role in service.OWNER_ROLES,
    )  # fmt: skip


@get(
    "/console/products/new",
    guards=[allow(service.OWNER_ROLES)],
    opt={PAGE_OPT: True},
    include_in_schema=False,
)
async def product_form(request: Request[Any, Any, Any], principal: Caller) -> Template:
    return page(request, "catalog/product_form.html", typed={}, problems={})


@post(
    "/console/products/new",
    guards=[allow(service.OWNER_ROLES)],
    opt={PAGE_OPT: True, AUDIT_OPT: "products"},
    include_in_schema=False,
)
async def register_product(
    request: Request[Any, Any, Any],
    session: Session,
    principal: Caller,
    data: Annotated[dict[str, str], FORM],
) -> Response[Any]:
    typed = {name: data.get(name, "").strip() for name in PRODUCT_FIELDS}
    try:
        forms.all_required(typed, PRODUCT_FIELDS[:-1])  # all but the IRC
        new = service.NewProduct(**{**typed, "pack_size": forms.whole(typed, "pack_size")})  # type: ignore[arg-type]
        product = await service.create_product(session, principal, new)
    except ServiceError as exc:
        return forms.refused(request, "catalog/product_form.html", exc, typed)
    return Redirect(f"/console/products?registered={product.gtin}")


@get(
    "/console/batches/new",
    guards=[allow(service.OWNER_ROLES)],
    opt={PAGE_OPT: True},
    include_in_schema=False,
)
async def batch_form(
    request: Request[Any, Any, Any],
    session: Session,
    principal: Caller,
    gtin: FromQuery[str | None] = None,
) -> Template:
    products = await service.products_of(session, principal)
    return page(
        request, "catalog/batch_form.html", typed={"gtin": gtin or ""}, problems={},
        products=products, origins=list(BatchOrigin),
    )  # fmt: skip


@post(
    "/console/batches/new",
    guards=[allow(service.OWNER_ROLES)],
    opt={PAGE_OPT: True, AUDIT_OPT: "batches"},
    include_in_schema=False,
)
async def register_batch(
    request: Request[Any, Any, Any],
    session: Session,
    principal: Caller,
    data: Annotated[dict[str, str], FORM],
) -> Response[Any]:
    typed = {name: data.get(name, "").strip() for name in BATCH_FIELDS}
    try:
        forms.all_required(typed, BATCH_FIELDS)
        new = service.NewBatch(
            gtin=typed["gtin"],
            lot=typed["lot"],
            expiry=forms.required_day(typed, "expiry"),
            manufactured_on=forms.required_day(typed, "manufactured_on"),
            quantity=forms.whole(typed, "quantity"),
            origin=forms.required_choice(BatchOrigin, typed, "origin"),
        )
        batch = await service.create_batch(session, principal, new)
    except ServiceError as exc:
        await session.rollback()
        products = await service.products_of(session, principal)
        return forms.refused(
            request, "catalog/batch_form.html", exc, typed, products=products,
            origins=list(BatchOrigin),
        )  # fmt: skip
    return Redirect(f"/console/batches/{batch.gtin}/{batch.lot}/serialize")


ROUTES = [products_page, product_form, register_product, batch_form, register_batch]
