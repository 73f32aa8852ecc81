"""Security headers on every response (errors, static files and the API schema included), and a
Content-Security-Policy that fits what each response is:

- JSON and other data: nothing may load (`default-src 'none'`);
- HTML pages (the console, the resolver's patient page): the console's own scripts and styles
  only, never inline;
- Swagger UI at /schema: its own scripts and styles, plus the one inline script that starts it,
  allowed by its hash (computed as the page is made), never `'unsafe-inline'` script.

Dynamic answers are `Cache-Control: no-store` (tokens, pack data, a pack's current status), unless
the handler set its own. HSTS only when configured (`DARUTRACE_HSTS_SECONDS`): it belongs to a
deployment served over TLS, and browsers ignore it over plain HTTP anyway."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any, cast

from litestar import Request
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.types import Message, Scope

from app.state import app_state

_CSP_KEY = "darutrace_csp"
_RESTRICTIVE = "frame-ancestors 'none'; base-uri 'none'"
API_CSP = f"default-src 'none'; {_RESTRICTIVE}; form-action 'none'"
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; "
    f"form-action 'self'; {_RESTRICTIVE}"
)
# The counter decodes its camera's frames with ZXing compiled to WebAssembly: compiling it needs
# `'wasm-unsafe-eval'` (which allows WebAssembly only, not JavaScript's eval), on the counter's
# pages alone; and the camera itself, which every other page keeps switched off.
COUNTER_CSP = CONSOLE_CSP.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")
_COUNTER_CAMERA = (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()")
SCHEMA_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    f"{_RESTRICTIVE}; form-action 'self'"
)
_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
_ALWAYS_ON_COUNTER = [
    _COUNTER_CAMERA if name == b"permissions-policy" else (name, value) for name, value in _ALWAYS
]
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL)


def script_hashes(page: bytes) -> list[str]:
    """CSP sources (`'sha256-…'`) for the inline scripts of an HTML page."""
    return [
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(page)
    ]


class SwaggerPage(SwaggerRenderPlugin):
    """Swagger UI whose inline start-up script is allowed by hash in the page's CSP."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        page = super().render(request, openapi_schema)
        scripts = " ".join(["'self'", *script_hashes(page)])
        cast(dict[str, Any], request.scope)[_CSP_KEY] = f"{SCHEMA_CSP}; script-src {scripts}"
        return page


async def security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers: list[tuple[bytes, bytes]] = list(message.get("headers") or [])
    present = {name.lower() for name, _ in headers}
    always = _ALWAYS_ON_COUNTER if _is_counter(scope) else _ALWAYS
    added = [(name, value) for name, value in always if name not in present]
    if b"content-security-policy" not in present:
        added.append((b"content-security-policy", _csp(scope, headers).encode()))
    path: str = scope.get("path", "")
    if b"cache-control" not in present and not path.startswith("/schema"):
        added.append((b"cache-control", b"no-store"))
    hsts = app_state(scope["litestar_app"]).settings.security.hsts_seconds
    if hsts > 0:
        added.append((b"strict-transport-security", f"max-age={hsts}; includeSubDomains".encode()))
    message["headers"] = headers + added


def _csp(scope: Scope, headers: list[tuple[bytes, bytes]]) -> str:
    if scope.get("path", "").startswith("/schema"):
        csp: str = cast(dict[str, Any], scope).get(_CSP_KEY, SCHEMA_CSP)
        return csp
    if _is_counter(scope):
        return COUNTER_CSP
    if scope.get("path", "").startswith("/console"):
        return CONSOLE_CSP
    content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
    return CONSOLE_CSP if content_type.startswith(b"text/html") else API_CSP


def _is_counter(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    return path == "/console/counter" or path.startswith("/console/counter/")
