"""The alerts inbox of the console and one alert's page with its triage: the same service, the
same scoping and the same rules (who may change what) as `/api/alerts`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.access_log.middleware import AUDIT_OPT
from app.alerts import service
from app.alerts.routes import READERS, TRIAGERS
from app.auth.guards import allow
from app.auth.middleware import PAGE_OPT
from app.catalog import service as catalog
from app.catalog.service import gtin_of
from app.dependencies import Caller, Connection, Session
from app.errors import Conflict, ServiceError
from app.web import forms
from app.web.i18n import language_of
from app.web.provinces import PROVINCES
from app.web.routes import FORM
from app.web.templating import page
from app.web.vocabulary import N_
from models.alerts import AlertCode, AlertStatus, RootCause, Severity

PAGE_SIZE = 50
OPT = {PAGE_OPT: True, AUDIT_OPT: "alerts"}
FILTERS = ("code", "severity", "status", "province", "gtin", "since", "until")
ROOT_CAUSES = {
    RootCause.user_error: N_("User error"),
    RootCause.software: N_("Software fault"),
    RootCause.data_upload: N_("Data upload error"),
    RootCause.falsified: N_("Confirmed falsified medicine"),
}
STALE = N_("The alert has changed meanwhile; reload the page and try again.")


def _advice(error: ServiceError) -> dict[str, str]:
    """A conflict here means another person changed the alert since the page was shown."""
    return {forms.FORM: STALE} if isinstance(error, Conflict) else {}


def _filter(query: dict[str, str], before: str) -> service.AlertFilter:
    """The inbox's filters as typed in the form (empty fields filter nothing)."""
    gtin = forms.text(query, "gtin")
    moment, _, last_id = before.partition("_")
    return service.AlertFilter(
        status=forms.choice(AlertStatus, forms.text(query, "status"), "status"),
        code=forms.choice(AlertCode, forms.text(query, "code"), "code"),
        severity=forms.choice(Severity, forms.text(query, "severity"), "severity"),
        gtin=gtin_of(gtin) if gtin else None,
        province=forms.text(query, "province"),
        since=forms.start_of(forms.day(forms.text(query, "since"), "since")),
        until=forms.start_of(forms.day(forms.text(query, "until"), "until"), following=True),
        before=forms.moment(moment, "before") if moment else None,
        before_id=forms.identifier(last_id, "before") if last_id else None,
        limit=PAGE_SIZE + 1,
    )


async def _inbox(
    request: Request[Any, Any, Any],
    connection: Connection,
    session: Session,
    principal: Caller,
    status_code: int = 200,
    problems: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Template:
    """The inbox filtered by the query string; only its results for htmx (`#alert-results`)."""
    query = {name: request.query_params.get(name, "") for name in FILTERS}
    found: list[dict[str, Any]] = []
    counts: dict[AlertStatus, int] = {}
    next_page = None
    try:
        wanted = _filter(query, request.query_params.get("before", ""))
    except ServiceError as exc:
        status_code, problems = 422, forms.problems_of(language_of(request), exc)
    else:
        found = await service.list_alerts(connection, principal, wanted)
        counts = await service.count_by_status(connection, principal, wanted)
        if len(found) > PAGE_SIZE:
            found = found[:PAGE_SIZE]
            last = found[-1]
            before = f"{last['raised_at'].isoformat()}_{last['id']}"
            next_page = urlencode({**{k: v for k, v in query.items() if v}, "before": before})
    fragment = request.headers.get("hx-target") == "alert-results"
    kept = {k: v for k, v in query.items() if v}
    return page(
        request, "alerts/results.html" if fragment else "alerts/inbox.html",
        status_code=status_code, query=query, filtered=urlencode(kept),
        alerts=found, counts=counts, next_page=next_page, problems=problems or {},
        typed=typed or {}, may_triage=principal.role in TRIAGERS,
        codes=list(AlertCode), severities=list(Severity), statuses=list(AlertStatus),
        provinces=PROVINCES, products=await catalog.list_products(session),
        root_causes=ROOT_CAUSES,
    )  # fmt: skip


@get("/console/alerts", guards=[allow(READERS)], opt=OPT, include_in_schema=False)
async def inbox(
    request: Request[Any, Any, Any], connection: Connection, session: Session, principal: Caller
) -> Template:
    return await _inbox(request, connection, session, principal)


@post(
    "/console/alerts/close", guards=[allow(TRIAGERS)], opt=OPT, include_in_schema=False,
    status_code=200,
)  # fmt: skip
async def close_selected(
    request: Request[Any, Any, Any],
    connection: Connection,
    session: Session,
    principal: Caller,
    data: Annotated[dict[str, Any], FORM],
) -> Template | Redirect:
    """Close the ticked alerts; the form posts to the inbox's own query, to come back to it."""
    chosen = data.get("alert_id") or []
    ids = [chosen] if isinstance(chosen, str) else list(chosen)
    typed = {k: str(data.get(k) or "") for k in ("root_cause_kind", "root_cause", "note")}
    try:
        alert_ids = [forms.identifier(i, "alert_ids") for i in ids]
        kind = forms.choice(RootCause, typed["root_cause_kind"], "root_cause_kind")
        await service.close_many(
            connection, principal, [i for i in alert_ids if i], kind,
            typed["root_cause"] or None, typed["note"],
        )  # fmt: skip
    except ServiceError as exc:
        problems = forms.problems_of(language_of(request), exc, _advice(exc))
        return await _inbox(
            request, connection, session, principal, forms.status_of(exc), problems, typed
        )
    query = request.url.query
    return Redirect(f"/console/alerts?{query}" if query else "/console/alerts", status_code=303)


@get("/console/alerts/{alert_id:uuid}", guards=[allow(READERS)], opt=OPT, include_in_schema=False)
async def alert_page(
    request: Request[Any, Any, Any],
    connection: Connection,
    principal: Caller,
    alert_id: FromPath[uuid.UUID],
) -> Template:
    alert = await service.get_alert(connection, principal, alert_id)
    return _alert_page(request, principal, alert)


def _alert_page(
    request: Request[Any, Any, Any],
    principal: Caller,
    alert: dict[str, Any],
    status_code: int = 200,
    problems: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Template:
    return page(
        request, "alerts/alert.html", status_code=status_code, alert=alert,
        next_statuses=sorted(service.NEXT[AlertStatus(alert["status"])]),
        may_triage=principal.role in TRIAGERS, root_causes=ROOT_CAUSES, problems=problems or {},
        typed=typed or {},
    )  # fmt: skip


@post(
    "/console/alerts/{alert_id:uuid}/status", guards=[allow(TRIAGERS)], opt=OPT,
    include_in_schema=False, status_code=200,
)  # fmt: skip
async def change_status(
    request: Request[Any, Any, Any],
    connection: Connection,
    principal: Caller,
    alert_id: FromPath[uuid.UUID],
    data: Annotated[dict[str, str], FORM],
) -> Template | Redirect:
    typed = {k: data.get(k, "") for k in ("status", "root_cause_kind", "root_cause", "note")}
    try:
        status = forms.required_choice(AlertStatus, typed, "status")
        kind = forms.choice(RootCause, typed["root_cause_kind"], "root_cause_kind")
        await service.change_status(
            connection, principal, alert_id, status, typed["root_cause"].strip() or None,
            typed["note"].strip(), kind,
        )  # fmt: skip
    except ServiceError as exc:
        alert = await service.get_alert(connection, principal, alert_id)  # 404 if not theirs
        problems = forms.problems_of(language_of(request), exc, _advice(exc))
        return _alert_page(request, principal, alert, forms.status_of(exc), problems, typed)
    return Redirect(f"/console/alerts/{alert_id}", status_code=303)


ROUTES = [inbox, close_selected, alert_page, change_status]
