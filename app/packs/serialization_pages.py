"""Serializing a batch from the console, and its downloads (labels as PDF, serials as CSV).

A large count is made in steps: the page posts the count, the answer is a progress fragment
that posts the next step as soon as it is shown, and each step is one `commission` of up to
1/20 of the count (at least `MIN_STEP` packs), committed on its own. What the fragment shows is
read back from the batch after each step, so the bar moves only as packs are really made; a
step refused (the batch full, say) stops the run and says why, with what was made so far."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Stream, Template

from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import allow
from app.auth.middleware import PAGE_OPT
from app.catalog import downloads
from app.catalog import service as catalog
from app.catalog.registration_pages import READERS
from app.dependencies import Caller, Connection, Runtime, Session
from app.errors import ServiceError
from app.labels.layouts import MAX_LABELS
from app.packs import commissioning
from app.web import forms
from app.web.routes import FORM
from app.web.templating import page

BATCH = "/console/batches/{gtin:str}/{lot:str}"
MIN_STEP = 1000
STEPS = 20


@dataclass(frozen=True)
class Run:
    """A serialization run: `total` packs wanted, counted from `start` packs the batch had."""

    total: int
    start: int

    def made(self, commissioned: int) -> int:
        return max(0, min(self.total, commissioned - self.start))

    def step(self, commissioned: int) -> int:
        left = self.total - self.made(commissioned)
        return min(left, max(MIN_STEP, -(-self.total // STEPS)))


@get(
    f"{BATCH}/serialize",
    guards=[allow(catalog.OWNER_ROLES)],
    opt={PAGE_OPT: True, AUDIT_OPT: "batches"},
    include_in_schema=False,
)
async def serialize_page(
    request: Request[Any, Any, Any],
    session: Session,
    principal: Caller,
    gtin: FromPath[str],
    lot: FromPath[str],
) -> Template:
    batch = await catalog.get_batch(session, principal, gtin, lot)
    await catalog.owned_product(session, principal, batch.gtin)
    return page(
        request, "catalog/serialize.html", batch=batch, typed={}, problems={}, run=None, oob=False
    )


@post(
    f"{BATCH}/serialize",
    guards=[allow(catalog.OWNER_ROLES)],
    opt={PAGE_OPT: True, AUDIT_OPT: "batches"},
    include_in_schema=False,
    status_code=200,
)
async def start_serializing(
    request: Request[Any, Any, Any],
    session: Session,
    principal: Caller,
    gtin: FromPath[str],
    lot: FromPath[str],
    data: Annotated[dict[str, str], FORM],
) -> Template:
    batch = await catalog.get_batch(session, principal, gtin, lot)
    typed = {"count": data.get("count", "").strip()}
    try:
        count = forms.whole(typed, "count")
        batch = await commissioning.check(session, principal, batch.gtin, batch.lot, count)
    except ServiceError as exc:
        return forms.refused(
            request, "catalog/serialize.html", exc, typed, batch=batch, run=None, oob=False
        )
    run = Run(total=count, start=batch.commissioned)
    template = "catalog/progress.html" if _htmx(request) else "catalog/serialize.html"
    return page(
        request, template, batch=batch, typed=typed, problems={}, run=run, made=0,
        problem=None, oob=_htmx(request),
    )  # fmt: skip


@post(
    f"{BATCH}/serialize/step",
    guards=[allow(catalog.OWNER_ROLES)],
    opt={PAGE_OPT: True, AUDIT_OPT: "batches"},
    include_in_schema=False,
    status_code=200,
)
async def serialize_step(
    request: Request[Any, Any, Any],
    session: Session,
    runtime: Runtime,
    principal: Caller,
    gtin: FromPath[str],
    lot: FromPath[str],
    data: Annotated[dict[str, str], FORM],
) -> Template:
    batch = await catalog.get_batch(session, principal, gtin, lot)
    run = Run(total=forms.whole(data, "total"), start=forms.whole(data, "start"))
    problem = None
    step = run.step(batch.commissioned)
    if step > 0:
        try:
            await commissioning.commission(
                session, runtime.facilities, principal, batch.gtin, batch.lot, step
            )
        except ServiceError as exc:
            await session.rollback()
            problem = exc.detail
        session.expunge_all()
        batch = await catalog.get_batch(session, principal, gtin, lot)
    return page(
        request, "catalog/progress.html", batch=batch, run=run,
        made=run.made(batch.commissioned), problem=problem, oob=True,
    )  # fmt: skip


@get(
    f"{BATCH}/serials.csv",
    guards=[allow(READERS)],
    opt={PAGE_OPT: True, AUDIT_OPT: "batches"},
    include_in_schema=False,
)
async def serials_download(
    session: Session, principal: Caller, runtime: Runtime, gtin: FromPath[str], lot: FromPath[str]
) -> Stream:
    return await downloads.serials(session, principal, runtime, gtin, lot)


@get(
    f"{BATCH}/labels.pdf",
    guards=[allow(READERS)],
    opt={PAGE_OPT: True, AUDIT_OPT: "batches"},
    include_in_schema=False,
)
async def labels_download(
    session: Session,
    connection: Connection,
    principal: Caller,
    runtime: Runtime,
    gtin: FromPath[str],
    lot: FromPath[str],
    symbology: FromQuery[downloads.Symbology] = "datamatrix",
    layout: FromQuery[downloads.LayoutName] = "a4",
    offset: FromQuery[int] = 0,
    limit: FromQuery[int] = MAX_LABELS,
) -> Stream:
    return await downloads.labels(
        session, connection, principal, runtime, gtin, lot,
        symbology=symbology, layout=layout, offset=offset, limit=limit,
    )  # fmt: skip


def _htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


ROUTES = [serialize_page, start_serializing, serialize_step, serials_download, labels_download]
