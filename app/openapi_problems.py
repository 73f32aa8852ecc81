"""The problem documents every route may answer, declared in the OpenAPI schema once for all
routes (app/problems.py makes them): what a client must be ready for, and what the API's fuzz
test holds every answer to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.routes import HTTPRoute

from app.problems import PROBLEM_JSON


@dataclass
class Problem:
    """An RFC 9457 problem document; some carry more members (`errors`, `field`, …)."""

    title: str
    status: int
    detail: str
    type: str = "about:blank"
    instance: str | None = None
    field: str | None = None
    errors: list[dict[str, Any]] | None = None


# Every route: a malformed request, something that does not exist, a request the rules refuse,
# the database out of reach.
EVERY_ROUTE = {
    400: "The request cannot be read: the body is not JSON in UTF-8 (or is nested too deeply, or "
    "is not the object the endpoint takes), or holds a value the database cannot store.",
    404: "No such object, or one the caller may not see (its existence does not leak).",
    422: "A value cannot be accepted: a body field or a parameter does not fit the schema, or "
    "the rules refuse it; `field` names it and the detail says why.",
    503: "The database is unavailable; retry after Retry-After seconds.",
}
# Routes that need credentials, and public ones that take them (logging in).
UNAUTHENTICATED = {401: "No valid credentials (a bearer token, a device's X-API-Key, a password)."}
FORBIDDEN = {403: "The caller's role may not do this."}
# Routes that change something.
WRITES = {
    409: "The current state forbids the change (the detail says what it conflicts with).",
    413: "The body is larger than the server accepts.",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def problem_response(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        media_type=PROBLEM_JSON,
        description=description,
        generate_examples=False,
    )


def document_problems(app: Litestar, public_opt: str) -> None:
    """Add the problem responses to every route handler's documented responses (a route's own
    `responses=` win); call before the schema is first served. `public_opt` marks the routes
    that need no credentials."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            _document(handler, public_opt)


def _document(handler: HTTPRouteHandler, public_opt: str) -> None:
    statuses = dict(EVERY_ROUTE)
    public = handler.opt.get(public_opt, False)
    writes = bool(WRITE_METHODS & set(handler.http_methods))
    if not public or writes:
        statuses |= UNAUTHENTICATED
    if not public:
        statuses |= FORBIDDEN
    if writes:
        statuses |= WRITES
    documented = {status: problem_response(text) for status, text in statuses.items()}
    handler.responses = documented | dict(handler.responses or {})
