"""The console's pages of a manufacturer's or importer's register: their products and batches,
and the forms that register one more, on the services of `POST /api/products` and
`POST /api/batches` (the same rules, the same messages, translated beside their fields)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import allow
from app.auth.middleware import PAGE_OPT
from app.catalog import service
from app.dependencies import Caller, Session
from app.errors import InvalidInput, ServiceError
from app.web.routes import FORM
from app.web.templating import page
from models.catalog import BatchOrigin
from models.identity import Role
from models.translatable import Translatable

READERS = {Role.inspector, Role.admin} | service.OWNER_ROLES
PRODUCT_FIELDS = ("gtin", "name", "name_fa", "generic_name", "form", "strength", "pack_size",
                  "atc", "irc")  # fmt: skip
BATCH_FIELDS = ("gtin", "lot", "manufactured_on", "expiry", "quantity", "origin")
# Numbers typed on a Persian keyboard (Persian or Arabic-Indic digits) are numbers too.
_LOCAL_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


class FormProblems(Exception):
    """What is wrong with a form's fields, each by its field, before any service is asked."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__(problems)
        self.problems = problems


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
        required(typed, [n for n in PRODUCT_FIELDS if n != "irc"])
        new = service.NewProduct(**{**typed, "pack_size": whole(typed, "pack_size")})  # type: ignore[arg-type]
        product = await service.create_product(session, principal, new)
    except (ServiceError, FormProblems) as exc:
        return refused(request, "catalog/product_form.html", exc, typed)
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
        required(typed, BATCH_FIELDS)
        new = service.NewBatch(
            gtin=typed["gtin"],
            lot=typed["lot"],
            expiry=day(typed, "expiry"),
            manufactured_on=day(typed, "manufactured_on"),
            quantity=whole(typed, "quantity"),
            origin=origin(typed),
        )
        batch = await service.create_batch(session, principal, new)
    except (ServiceError, FormProblems) as exc:
        await session.rollback()
        products = await service.products_of(session, principal)
        return refused(
            request, "catalog/batch_form.html", exc, typed, products=products,
            origins=list(BatchOrigin),
        )  # fmt: skip
    return Redirect(f"/console/batches/{batch.gtin}/{batch.lot}/serialize")


def refused(
    request: Request[Any, Any, Any],
    template: str,
    exc: ServiceError | FormProblems,
    typed: dict[str, str],
    **context: Any,
) -> Template:
    """The form again, as it was typed, with each problem beside its field (or above the form
    when the service names none)."""
    if isinstance(exc, FormProblems):
        problems, status = exc.problems, InvalidInput.status_code
    else:
        problems = {str(exc.extra.get("field") or "form"): exc.detail}
        status = exc.status_code if exc.status_code != 400 else InvalidInput.status_code
    return page(request, template, status_code=status, typed=typed, problems=problems, **context)


def required(typed: dict[str, str], names: Any) -> None:
    missing = {name: Translatable("%(field)s: must not be empty", field=name) for name in names
               if not typed.get(name)}  # fmt: skip
    if missing:
        raise FormProblems(missing)


def whole(typed: dict[str, str], name: str) -> int:
    text = typed[name].translate(_LOCAL_DIGITS)
    if not (text.isascii() and text.lstrip("-").isdigit()):
        raise FormProblems({name: Translatable("%(field)s: must be a whole number", field=name)})
    return int(text)


def day(typed: dict[str, str], name: str) -> date:
    try:
        return date.fromisoformat(typed[name])
    except ValueError:
        raise FormProblems(
            {
                name: Translatable(
                    "%(field)s: not a date in ISO 8601 form (e.g. 2026-05-01)", field=name
                )
            }
        ) from None


def origin(typed: dict[str, str]) -> BatchOrigin:
    try:
        return BatchOrigin(typed["origin"])
    except ValueError:
        raise FormProblems(
            {
                "origin": Translatable(
                    "origin: %(value)s is not one of the accepted values", value=typed["origin"]
                )
            }
        ) from None


ROUTES = [products_page, product_form, register_product, batch_form, register_batch]
