"""Rate limits per client, answered with 429 and `Retry-After`.

A route opts in with `opt={RATE_LIMIT_OPT: "<rule>"}` (rules: login, resolver, verify, parse; see
`SecuritySettings`). The client is the authenticated user or device where there is one (so a
pharmacy's staff behind one address are not lumped together), else the client address.

Counting is the `limits` library's sliding-window counter (two counters a client: O(1) a
request), kept in this process's memory: with several worker processes each counts on its own, so
a client gets at most `workers ×` the limit. That is a bound on load and on guessing, not an
accounting; the failed-login back-off, which must hold across workers, is kept in PostgreSQL
(`app.auth.throttle`)."""

from __future__ import annotations

import math
import time
from typing import Any

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ASGIApp, Receive, Scope, Send

from app.auth.principal import Principal
from app.errors import TooManyRequests
from app.security.config import SecuritySettings, rate_limit

RATE_LIMIT_OPT = "rate_limit"
# For the OpenAPI document of the routes that are limited.
TOO_MANY_REQUESTS = {
    429: ResponseSpec(
        data_container=dict[str, Any],
        description="Too many requests from this client; retry after `Retry-After` seconds.",
        media_type="application/problem+json",
    )
}


class RateLimits:
    def __init__(self, settings: SecuritySettings) -> None:
        self._storage = MemoryStorage()
        self._limiter = SlidingWindowCounterRateLimiter(self._storage)
        self._items: dict[str, RateLimitItem | None] = {
            rule: rate_limit(text) for rule, text in settings.limits().items()
        }

    async def check(self, rule: str, client: str) -> None:
        """Count one request of `client` under `rule`; TooManyRequests when over the limit."""
        item = self._items[rule]
        if item is None or await self._limiter.hit(item, rule, client):
            return
        stats = await self._limiter.get_window_stats(item, rule, client)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(
            f"Too many requests ({item.amount} per {item.get_expiry()} s allowed for "
            f"{_describe(rule)}); retry in {retry_after} s.",
            retry_after=retry_after,
        )

    async def reset(self) -> None:
        await self._storage.reset()


def _describe(rule: str) -> str:
    return {
        "login": "logging in from one address",
        "resolver": "pack pages from one address",
        "verify": "verifications by one caller",
        "parse": "code reading by one caller",
    }.get(rule, rule)


def client_of(scope: Scope) -> str:
    principal = scope.get("user")
    if isinstance(principal, Principal):
        return f"{principal.kind}:{principal.id}"
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


class RateLimitMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        rule = scope["route_handler"].opt.get(RATE_LIMIT_OPT)
        if rule is not None:
            limits: RateLimits = scope["litestar_app"].state.darutrace.rate_limits
            try:
                await limits.check(rule, client_of(scope))
            except TooManyRequests as exc:
                # Answered here rather than raised, so that the access log (outside) sees 429.
                await _refuse(exc, scope, receive, send)
                return
        await next_app(scope, receive, send)


async def _refuse(exc: TooManyRequests, scope: Scope, receive: Receive, send: Send) -> None:
    # Imported here: app.problems imports app.state, which imports this module.
    from app.problems import service_problem

    request: Request[Any, Any, Any] = Request(scope, receive, send)
    response = service_problem(request, exc)
    await response.to_asgi_response(scope["litestar_app"], request)(scope, receive, send)
