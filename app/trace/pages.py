"""The batch page of the console: where the batch's packs are (by state, on a map of the
provinces, by holder), its forward trace, its packs page by page, and for inspectors a form to
recall it. Scoped and access-logged as `GET /api/batches/{gtin}/{lot}/distribution` and
`/trace`: inspectors see every pack, an organisation the packs in its custody."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Stream, Template

from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import EVERY_ROLE, allow
from app.auth.middleware import PAGE_OPT
from app.catalog import service as catalog
from app.dependencies import Caller, Connection, Runtime, Session
from app.packs.export import serials_csv
from app.recalls.service import ISSUERS
from app.trace import service
from app.trace.places import Place
from app.web.i18n import language_of
from app.web.provinces import province
from app.web.templating import page
from app.web.vocabulary import N_
from models.identity import Role

PAGE_SIZE = 50
# Holder rows shown before "show all": a batch spread over hundreds of sites has as many rows,
# and rendering them all took longer than reading the counts.
HOLDER_ROWS = 50
TRACED = {PAGE_OPT: True, AUDIT_OPT: "trace"}
BATCH = "/console/batches/{gtin:str}/{lot:str}"
# The states of `service.batch_states`, in words.
STATE_WORDS = {
    "at_owner": N_("At the manufacturer or importer"),
    "in_warehouse": N_("In a distributor's warehouse"),
    "in_dispenser_stock": N_("In pharmacy or hospital stock"),
    "in_transit": N_("In transit"),
    "quarantined": N_("Quarantined (locked)"),
    "dispensed": N_("Dispensed to patients"),
    "exported": N_("Exported"),
    "sample": N_("Taken as samples"),
    "free_sample": N_("Given as free samples"),
    "checked_out": N_("Checked out"),
    "destroyed": N_("Destroyed"),
    "stolen": N_("Stolen"),
}


@get(BATCH, guards=[allow(EVERY_ROLE)], opt=TRACED, include_in_schema=False)
async def batch_page(
    request: Request[Any, Any, Any],
    connection: Connection,
    principal: Caller,
    gtin: FromPath[str],
    lot: FromPath[str],
) -> Template:
    found = await service.distribution(connection, principal, gtin, lot)
    standing = await service.batch_standing(connection, found.product.gtin, found.lot)
    packs = await service.batch_packs(connection, principal, gtin, lot, "", PAGE_SIZE + 1)
    rows = custody_rows(found)
    return page(
        request, "batches/batch.html",
        batch=found, rows=rows[:HOLDER_ROWS], hidden=max(0, len(rows) - HOLDER_ROWS),
        standing=standing, states=service.batch_states(found), words=STATE_WORDS,
        days_left=(found.expiry - date.today()).days,
        map_data=_map_data(request, found), packs=packs[:PAGE_SIZE], more=len(packs) > PAGE_SIZE,
        may_download=principal.role in {Role.inspector, Role.admin} | catalog.OWNER_ROLES
        and principal.may_read_organization(standing.owner_id),
        may_recall=principal.role in ISSUERS and standing.recall_id is None,
        today=date.today(),
    )  # fmt: skip


@get(f"{BATCH}/trace", guards=[allow(EVERY_ROLE)], opt=TRACED, include_in_schema=False)
async def batch_trace_fragment(
    request: Request[Any, Any, Any],
    connection: Connection,
    principal: Caller,
    gtin: FromPath[str],
    lot: FromPath[str],
) -> Template:
    """The forward trace, loaded into the page once it is shown (it reads the batch's events)."""
    trace = await service.batch_trace(connection, principal, gtin, lot)
    first = min((f.first_at for f in trace.facilities), default=None)
    last = max((f.last_at for f in trace.facilities), default=None)
    return page(request, "batches/trace.html", trace=trace, first=first, last=last)


@get(f"{BATCH}/holders", guards=[allow(EVERY_ROLE)], opt=TRACED, include_in_schema=False)
async def batch_holders_fragment(
    request: Request[Any, Any, Any],
    connection: Connection,
    principal: Caller,
    gtin: FromPath[str],
    lot: FromPath[str],
) -> Template:
    """Every row of the holders table, for its "show all" button."""
    found = await service.distribution(connection, principal, gtin, lot)
    return page(
        request, "batches/holders.html", rows=custody_rows(found), hidden=0,
        gtin=found.product.gtin, lot=found.lot,
    )  # fmt: skip


@get(f"{BATCH}/packs", guards=[allow(EVERY_ROLE)], opt=TRACED, include_in_schema=False)
async def batch_packs_fragment(
    request: Request[Any, Any, Any],
    connection: Connection,
    principal: Caller,
    gtin: FromPath[str],
    lot: FromPath[str],
    after: FromQuery[str] = "",
) -> Template:
    """The next page of the packs list: its rows and the button for the page after."""
    packs = await service.batch_packs(connection, principal, gtin, lot, after, PAGE_SIZE + 1)
    return page(
        request, "batches/packs.html", packs=packs[:PAGE_SIZE], more=len(packs) > PAGE_SIZE,
        gtin=catalog.gtin_of(gtin), lot=lot,
    )  # fmt: skip


@get(
    f"{BATCH}/packs.csv",
    guards=[allow({Role.inspector, Role.admin} | catalog.OWNER_ROLES)],
    opt={PAGE_OPT: True, AUDIT_OPT: "batches"},
    include_in_schema=False,
    media_type="text/csv",
)
async def batch_packs_csv(
    session: Session,
    principal: Caller,
    runtime: Runtime,
    gtin: FromPath[str],
    lot: FromPath[str],
) -> Stream:
    """The serial list, as `GET /api/batches/{gtin}/{lot}/packs.csv` gives it."""
    batch = await catalog.get_batch(session, principal, gtin, lot)
    return Stream(
        serials_csv(runtime.db, batch.gtin, batch.lot),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{batch.gtin}-{batch.lot}-serials.csv"'
        },
    )


@dataclass(frozen=True)
class CustodyRow:
    facility: Place | None  # the holder; None for packs in transit on `route`
    route: service.TransitCount | None
    status: str
    packs: int


def custody_rows(found: service.Distribution) -> list[CustodyRow]:
    """The holders table's rows: each holder and status (holders with most packs first), then
    each route in transit and status, as the API's distribution lists them."""
    held = [
        CustodyRow(holder.facility, None, status, packs)
        for holder in found.holders
        for status, packs in holder.by_status.items()
    ]
    moving = [
        CustodyRow(None, route, status, packs)
        for route in found.transit
        for status, packs in route.by_status.items()
    ]
    return held + moving


def _map_data(request: Request[Any, Any, Any], found: service.Distribution) -> list[Any]:
    """The packs per province for the map (the page writes them as JSON, `| tojson`, into a
    `<script type="application/json">` block): the map's feature name (English) and the name
    shown in the page's language."""
    persian = language_of(request).code == "fa"
    shown: dict[str, dict[str, Any]] = {}
    for counted in found.provinces:
        known = province(counted.province)
        name = known.name if known else counted.province
        label = (known.name_fa if persian else known.name) if known else counted.province
        entry = shown.setdefault(name, {"name": name, "label": label, "value": 0})
        entry["value"] += counted.packs
    return list(shown.values())


ROUTES = [
    batch_page,
    batch_trace_fragment,
    batch_holders_fragment,
    batch_packs_fragment,
    batch_packs_csv,
]
