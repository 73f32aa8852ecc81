"""The access log in the console, for administrators and inspectors: the filters of
`GET /api/access-log` (actor, resource, outcome, dates), newest first, paged."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Template

from app.access_log import service
from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import allow
from app.auth.middleware import PAGE_OPT
from app.dependencies import Caller, Session
from app.errors import ServiceError
from app.users import service as users
from app.web import forms
from app.web.i18n import language_of
from app.web.templating import page
from models.access import AccessOutcome

PAGE_SIZE = 100
FILTERS = ("actor_id", "resource", "outcome", "since", "until")


@get(
    "/console/admin/access-log",
    guards=[allow(forms.ADMIN_READERS)],
    opt={PAGE_OPT: True, AUDIT_OPT: "access-log"},
    include_in_schema=False,
)
async def access_log(
    request: Request[Any, Any, Any], session: Session, principal: Caller
) -> Template:
    typed = {name: request.query_params.get(name, "") for name in FILTERS}
    entries: list[Any] = []
    problems: dict[str, str] = {}
    status_code, next_page = 200, None
    try:
        before = request.query_params.get("before_id", "")
        query = service.AccessLogQuery(
            actor_id=forms.identifier(forms.text(typed, "actor_id"), "actor_id"),
            resource=forms.text(typed, "resource"),
            outcome=forms.choice(AccessOutcome, forms.text(typed, "outcome"), "outcome"),
            since=forms.start_of(forms.day(forms.text(typed, "since"), "since")),
            until=forms.start_of(forms.day(forms.text(typed, "until"), "until"), following=True),
            before_id=int(before) if before.isdigit() else None,
            limit=PAGE_SIZE,
        )
    except ServiceError as exc:
        status_code, problems = 422, forms.problems_of(language_of(request), exc)
    else:
        entries = list(await service.search(session, query))
        if len(entries) == PAGE_SIZE:
            kept = {k: v for k, v in typed.items() if v}
            next_page = urlencode({**kept, "before_id": entries[-1].id})
    return page(
        request, "admin/access_log.html", status_code=status_code, entries=entries,
        typed=typed, problems=problems, next_page=next_page, outcomes=list(AccessOutcome),
        actors=await users.list_visible(session, principal),
    )  # fmt: skip


ROUTES = [access_log]
