"""The product page of the console: the product (reference data, as `GET /api/products/{gtin}`)
and, for those who may see batches (`GET /api/batches?gtin=`: inspectors and the owner), its
batches with how many packs each has serialized, linked to their batch pages."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import EVERY_ROLE, allow
from app.auth.middleware import PAGE_OPT
from app.catalog import service
from app.dependencies import Caller, Connection, Session
from app.web.templating import page
from models.identity import Role

BATCH_READERS = {Role.inspector, Role.admin} | service.OWNER_ROLES


@get(
    "/console/products/{gtin:str}",
    guards=[allow(EVERY_ROLE)],
    opt={PAGE_OPT: True, AUDIT_OPT: "products"},
    include_in_schema=False,
)
async def product_page(
    request: Request[Any, Any, Any],
    session: Session,
    connection: Connection,
    principal: Caller,
    gtin: FromPath[str],
) -> Template:
    product = await service.get_product(session, gtin)
    batches = None
    counts: dict[str, int] = {}
    if principal.role in BATCH_READERS:
        batches = list(await service.list_batches(session, principal, product.gtin))
        counts = await service.serialized_counts(connection, product.gtin, [b.lot for b in batches])
    return page(request, "catalog/product.html", product=product, batches=batches, counts=counts)


ROUTES = [product_page]
