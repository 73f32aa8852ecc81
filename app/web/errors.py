"""Errors on the console's pages: the same problems the API answers, as a page a person reads in
their language. A missing login sends to the login page and back; an htmx fragment that fails
shows the error in its place."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.response import Redirect

from app.auth.middleware import PAGE_OPT
from app.web.templating import page

CONSOLE = "/console"
LOGIN = f"{CONSOLE}/login"


def is_page(request: Request[Any, Any, Any]) -> bool:
    """A console request answered with a page; not one of the console's scripts asking for
    JSON (the counter's twins of the API), which gets the API's problem document."""
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return False
    handler = request.scope.get("route_handler")
    if handler is not None and handler.opt.get(PAGE_OPT):
        return True
    path = request.url.path
    return path == CONSOLE or path.startswith(f"{CONSOLE}/")


def error_page(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    if status == 401 and request.url.path != LOGIN:
        return to_login(request)
    fragment = request.headers.get("hx-request") == "true"
    template = "errors/fragment.html" if fragment else "errors/page.html"
    response = page(
        request,
        template,
        status_code=status,
        status=status,
        title=HTTPStatus(status).phrase,
        detail=detail,
    )
    response.headers.update({k: v for k, v in (headers or {}).items() if k != "WWW-Authenticate"})
    return response


def to_login(request: Request[Any, Any, Any]) -> Response[Any]:
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = f"{LOGIN}?next={quote(back, safe='')}"
    if request.headers.get("hx-request") == "true":
        return Response(None, status_code=200, headers={"HX-Redirect": target})
    return Redirect(target)
