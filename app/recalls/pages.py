"""The recall pages of the console: the list, the form an inspector issues a recall with, and
the progress page that follows every pack and every notice, refreshing itself while open. The
same services, guards and scoping as `/api/recalls`."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import allow
from app.auth.middleware import PAGE_OPT
from app.dependencies import Caller, Connection
from app.errors import ServiceError
from app.recalls import service
from app.recalls.routes import READERS, RecallIn, order_of
from app.web import forms
from app.web.routes import FORM
from app.web.templating import page
from app.web.vocabulary import N_

RECALLS = {PAGE_OPT: True, AUDIT_OPT: "recalls"}
REFRESH_SECONDS = 5
# Sites and notices shown before "show all" (`?rows=all`): a national recall reaches hundreds
# of sites, and rendering every one at each refresh took longer than counting the packs.
SHOWN_ROWS = 50
KINDS = {"recall": N_("Recall"), "withdrawal": N_("Withdrawal")}
CATEGORY_WORDS = {
    "at_holder": N_("Still in stock at holders (may be supplied)"),
    "in_transit": N_("In transit to holders"),
    "quarantined": N_("Quarantined at holders"),
    "returning": N_("On their way back"),
    "at_owner": N_("Back at the manufacturer or importer (or never shipped)"),
    "destroyed": N_("Destroyed"),
    "supplied_before_recall": N_("Dispensed or supplied before the recall"),
    "supplied_after_recall": N_("Dispensed or supplied after the recall"),
    "stolen": N_("Stolen: not located"),
}
CATEGORY_SHORT = {
    "at_holder": N_("In stock"),
    "in_transit": N_("In transit"),
    "quarantined": N_("Quarantined"),
    "returning": N_("Returning"),
    "at_owner": N_("Returned"),
    "destroyed": N_("Destroyed"),
    "supplied_before_recall": N_("Supplied before"),
    "supplied_after_recall": N_("Supplied after"),
    "stolen": N_("Stolen"),
}
# Beside each field, what to do about it: for the form's shape and for the service's refusals.
FIELD_PROBLEMS = {
    "kind": N_("Choose recall or withdrawal."),
    "gtin": N_("Give the 14-digit GTIN of a registered product that has batches."),
    "lots": N_(
        "Name batches of this product that exist (lot numbers separated by spaces or commas), "
        "or tick every batch of the product, not both."
    ),
    "recall_class": N_("Choose the class: I, II or III."),
    "reason": N_("Write the reason for the recall (up to 1,000 characters)."),
    "instructions": N_("Write what holders must do (up to 2,000 characters)."),
    "deadline": N_("Give the deadline as a date, today or later."),
}
FIELDS = ("kind", "gtin", "lots", "whole_product", "recall_class", "reason", "instructions",
          "deadline")  # fmt: skip


@get("/console/recalls", guards=[allow(READERS)], opt=RECALLS, include_in_schema=False)
async def recalls_page(
    request: Request[Any, Any, Any], connection: Connection, principal: Caller
) -> Template:
    listed = await service.list_recalls(connection, principal)
    recalls = [await service.recall_details(connection, principal, r["id"]) for r in listed]
    return page(
        request, "recalls/list.html", recalls=recalls, kinds=KINDS, today=date.today(),
        may_issue=principal.role in service.ISSUERS,
    )  # fmt: skip


@get("/console/recalls/new", guards=[allow(service.ISSUERS)], opt=RECALLS, include_in_schema=False)
async def new_recall_page(
    request: Request[Any, Any, Any],
    gtin: FromQuery[str] = "",
    lot: FromQuery[str] = "",
) -> Template:
    typed = dict.fromkeys(FIELDS, "") | {"kind": "recall", "gtin": gtin, "lots": lot}
    return page(request, "recalls/new.html", typed=typed, problems={})


@post(
    "/console/recalls/new",
    guards=[allow(service.ISSUERS)],
    opt=RECALLS,
    include_in_schema=False,
    status_code=200,
)
async def issue_recall(
    request: Request[Any, Any, Any],
    connection: Connection,
    principal: Caller,
    data: Annotated[dict[str, str], FORM],
) -> Template | Redirect:
    typed = {name: data.get(name, "").strip() for name in FIELDS}
    try:
        recall_id = await service.issue(connection, principal, _order(typed))
    except ServiceError as exc:
        return forms.refused(request, "recalls/new.html", exc, typed, FIELD_PROBLEMS)
    return Redirect(f"/console/recalls/{recall_id}", status_code=303)


@get(
    "/console/recalls/{recall_id:uuid}",
    guards=[allow(READERS)],
    opt=RECALLS,
    include_in_schema=False,
)
async def recall_page(
    request: Request[Any, Any, Any],
    connection: Connection,
    principal: Caller,
    recall_id: FromPath[uuid.UUID],
    rows: FromQuery[str] = "",
) -> Template:
    recall = await service.recall_details(connection, principal, recall_id)
    return page(
        request, "recalls/recall.html", **_progress(recall, rows == "all"),
        refresh_seconds=REFRESH_SECONDS,
    )  # fmt: skip


@get(
    "/console/recalls/{recall_id:uuid}/progress",
    guards=[allow(READERS)],
    opt=RECALLS,
    include_in_schema=False,
)
async def recall_progress_fragment(
    request: Request[Any, Any, Any],
    connection: Connection,
    principal: Caller,
    recall_id: FromPath[uuid.UUID],
    rows: FromQuery[str] = "",
) -> Template:
    """The progress part of the recall page, which the page fetches again while it is open."""
    recall = await service.recall_details(connection, principal, recall_id)
    return page(request, "recalls/progress.html", **_progress(recall, rows == "all"))


def _progress(recall: dict[str, Any], every_row: bool) -> dict[str, Any]:
    """What the progress part shows: the sites with most packs first and the notices, the first
    `SHOWN_ROWS` of each unless every row is asked for; the totals are of every site."""
    shown = None if every_row else SHOWN_ROWS
    sites = sorted(recall["facilities"], key=lambda s: (-sum(s["packs"].values()), s["gln"] or ""))
    awaiting = recall["progress"]["awaiting_acknowledgement"]
    return {
        "recall": recall,
        "sites": sites[:shown],
        "awaiting": awaiting[:shown],
        "notices": recall["notices"][:shown],
        "hidden": {
            "sites": len(sites) - len(sites[:shown]),
            "awaiting": len(awaiting) - len(awaiting[:shown]),
            "notices": len(recall["notices"]) - len(recall["notices"][:shown]),
        },
        "every_row": every_row,
        "kinds": KINDS,
        "categories": service.CATEGORIES,
        "unaccounted": service.UNACCOUNTED,
        "words": CATEGORY_WORDS,
        "short": CATEGORY_SHORT,
        "overdue": recall["deadline"] < date.today()
        and not recall["progress"]["all_accounted_for"],
    }


def _order(typed: dict[str, str]) -> service.RecallOrder:
    """The form read the way the API reads its JSON body (the same `RecallIn` rules)."""
    shape = {
        "gtin": typed["gtin"],
        "recall_class": typed["recall_class"],
        "reason": typed["reason"],
        "instructions": typed["instructions"],
        "deadline": typed["deadline"],
        "lots": forms.words(typed, "lots"),
        "whole_product": bool(typed["whole_product"]),
        "kind": typed["kind"] or "recall",
    }
    return order_of(forms.converted(shape, RecallIn, "reason"))


ROUTES = [recalls_page, new_recall_page, issue_recall, recall_page, recall_progress_fragment]
