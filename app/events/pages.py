"""The counter: the console's scanning page for pharmacies, hospitals and warehouses, and its
twins of `POST /api/events` and `POST /api/verify` that take the console's session (cookie and
CSRF header) instead of a bearer token. The twins call the same service functions as the API and
are access-logged the same way; the page works offline (`static/counter.js`, the service worker
`static/counter-sw.js` served from here so that its scope covers the page)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import JSONBody
from litestar.response import Template

from app.access_log import service as access_log
from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import ORGANIZATION_ROLES, allow
from app.auth.middleware import PAGE_OPT, PUBLIC_OPT
from app.catalog import service as catalog
from app.dependencies import Access, Caller, Connection, Runtime, Session
from app.errors import ServiceError
from app.events import service
from app.events.labels import labelled
from app.events.routes import EventIn, event_request
from app.facilities import service as facilities
from app.packs import service as packs
from app.packs.routes import VerifyIn
from app.problems import PROBLEM_JSON, service_problem
from app.security.rate_limit import RATE_LIMIT_OPT
from app.web.i18n import language_of
from app.web.templating import STATIC, page
from models.events import Action
from models.translatable import Translate

COUNTER = "/console/counter"
# The counter's modes, in the order of its buttons ("verify" records nothing).
MODES = ["receive", "dispense", "verify", "ship", "return", "destroy", "pack"]
_NO_CACHE = {"Cache-Control": "no-cache"}


@get(
    COUNTER,
    guards=[allow(ORGANIZATION_ROLES)],
    opt={PAGE_OPT: True},
    include_in_schema=False,
)
async def counter_page(
    request: Request[Any, Any, Any], session: Session, principal: Caller
) -> Template:
    sites = await facilities.list_visible(session, principal)
    destinations = [site for site in sites if site.id != principal.facility_id]
    return page(
        request,
        "counter/counter.html",
        modes=MODES,
        destinations=destinations,
        allowed=[m for m in MODES if m == "verify" or principal.role in _roles(m)],
    )


def in_language(answer: Any, translate: Translate) -> Any:
    """`answer` with a `reason_text` beside each `reason` and a `detail_text` beside the
    `detail`, rendered by `translate`; every text a plain `str` (what the JSON encoder takes)."""
    if isinstance(answer, dict):
        said = {f"{key}_text": str(translate(answer[key])) for key in _SAID if answer.get(key)}
        return {key: in_language(value, translate) for key, value in answer.items()} | said
    if isinstance(answer, list):
        return [in_language(value, translate) for value in answer]
    return str(answer) if isinstance(answer, str) else answer


_SAID = ("reason", "detail")


# Scans a drain sends in one request: enough to make the round trips negligible, few enough
# that an answer comes back within a second or two.
MAX_QUEUED_SENT = 50


def _roles(mode: str) -> frozenset[Any]:
    action = Action.return_ if mode == "return" else Action(mode)
    return service.ALLOWED_ROLES[action]


@post(
    f"{COUNTER}/events",
    guards=[allow(ORGANIZATION_ROLES)],
    opt={PAGE_OPT: True, AUDIT_OPT: "events"},
    include_in_schema=False,
    status_code=200,
)
async def counter_event(
    request: Request[Any, Any, Any],
    connection: Connection,
    runtime: Runtime,
    principal: Caller,
    access: Access,
    data: JSONBody[EventIn],
) -> Response[dict[str, Any]]:
    """`POST /api/events` for the counter: the same request, rules and answer, each pack's
    result also naming its product, batch and expiry, and saying its reason in the page's
    language (`reason_text`, `detail_text`) beside the English."""
    event = event_request(data, runtime)
    answer = await service.record(connection, runtime.facilities, principal, event, access)
    body = in_language(await labelled(connection, answer.body), language_of(request).gettext)
    media_type = "application/json" if answer.status_code < 400 else PROBLEM_JSON
    return Response(body, status_code=answer.status_code, media_type=media_type)


class QueuedScans(msgspec.Struct):
    events: Annotated[list[EventIn], msgspec.Meta(min_length=1, max_length=MAX_QUEUED_SENT)]


@post(
    f"{COUNTER}/events/queued",
    guards=[allow(ORGANIZATION_ROLES)],
    opt={PAGE_OPT: True, AUDIT_OPT: "events"},
    include_in_schema=False,
    status_code=200,
)
async def counter_queued_events(
    request: Request[Any, Any, Any],
    connection: Connection,
    runtime: Runtime,
    principal: Caller,
    access: Access,
    data: JSONBody[QueuedScans],
) -> dict[str, Any]:
    """The scans queued during an outage, sent together when it ends: each recorded in order,
    in its own transaction with its own access-log row, exactly as `counter/events` records
    one (same rules, idempotency by `event_id`, answer); the answers in the same order. The
    request and its answer are one round trip instead of one per scan."""
    translate = language_of(request).gettext
    answers = []
    for item in data.events:
        entry = access and replace(access, object_id=str(item.event_id), logged_status=None)
        try:
            answer = await service.record(
                connection, runtime.facilities, principal, event_request(item, runtime), entry
            )
        except ServiceError as exc:
            refusal = service_problem(request, exc)
            status, body = exc.status_code, refusal.content
        else:
            status = answer.status_code
            body = in_language(await labelled(connection, answer.body), translate)
        if entry is not None and entry.logged_status is None:  # a replay, a refusal
            await access_log.write(connection, entry, status)
        answers.append({"status": status, "body": body})
    if access is not None:
        access.logged(200)  # every scan has its row: the request needs none of its own
    return {"answers": answers}


@post(
    f"{COUNTER}/verify",
    guards=[allow(ORGANIZATION_ROLES)],
    opt={PAGE_OPT: True, AUDIT_OPT: "packs", RATE_LIMIT_OPT: "verify"},
    include_in_schema=False,
    status_code=200,
)
async def counter_verify(
    connection: Connection,
    runtime: Runtime,
    principal: Caller,
    access: Access,
    data: JSONBody[VerifyIn],
) -> packs.PackView:
    return await packs.verify_code(
        connection, runtime.facilities, principal, data.code, runtime.settings.reader, access
    )


@get(
    f"{COUNTER}/products",
    guards=[allow(ORGANIZATION_ROLES)],
    opt={PAGE_OPT: True, AUDIT_OPT: "products"},
    include_in_schema=False,
)
async def counter_products(session: Session) -> dict[str, list[list[str]]]:
    """The product register's names, by GTIN, for rows scanned offline: [gtin, name, name_fa]."""
    products = await catalog.list_products(session)
    return {"products": [[p.gtin, p.name, p.name_fa] for p in products]}


@get(f"{COUNTER}/sw.js", opt={PUBLIC_OPT: True, PAGE_OPT: True}, include_in_schema=False)
async def service_worker() -> Response[bytes]:
    """Served under the counter's path: a worker's scope cannot reach above its own folder."""
    script = (STATIC / "counter-sw.js").read_bytes()
    return Response(
        script,
        media_type="text/javascript",
        headers={**_NO_CACHE, "Service-Worker-Allowed": COUNTER},
    )


@get(
    f"{COUNTER}/manifest.webmanifest",
    opt={PUBLIC_OPT: True, PAGE_OPT: True},
    include_in_schema=False,
)
async def manifest(request: Request[Any, Any, Any]) -> Response[bytes]:
    language = language_of(request)
    body = {
        "name": language.gettext("DaruTrace counter"),
        "short_name": language.gettext("Counter"),
        "start_url": COUNTER,
        "scope": COUNTER,
        "display": "standalone",
        "lang": language.code,
        "dir": language.direction,
        "background_color": "#ffffff",
        "theme_color": "#0b6e4f",
        "icons": [
            {"src": f"/static/counter/icon-{size}.png", "sizes": f"{size}x{size}",
             "type": "image/png", "purpose": "any maskable"}
            for size in (192, 512)
        ],
    }  # fmt: skip
    return Response(
        json.dumps(body, ensure_ascii=False).encode(),
        media_type="application/manifest+json",
        headers=_NO_CACHE,
    )


ROUTES = [
    counter_page,
    counter_event,
    counter_queued_events,
    counter_verify,
    counter_products,
    service_worker,
    manifest,
]
