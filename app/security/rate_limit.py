"""Rate limits per client, answered with 429 and `Retry-After`.

A route opts in with `opt={RATE_LIMIT_OPT: "<rule>"}` (rules: login, resolver, verify, parse; see
`SecuritySettings`). The client is the authenticated user or device where there is one (so a
pharmacy's staff behind one address are not lumped together), else the client address.

Counting is a sliding-window counter (as the `limits` library's: this window's count plus the
previous window's, weighed by the share of it still inside the sliding window), kept in
PostgreSQL so that every worker process, and every machine, counts against one budget. One
statement a request, on the request's own connection: it reads the previous window's count and
increments this one's only if the request is allowed, atomically (the increment's condition is
checked on the locked row). bench/rate_limit.py measures its cost."""

from __future__ import annotations

import math
import time
from typing import Any

import psycopg
from limits import RateLimitItem
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

# Returns this window's count after the hit, NULL when refused, and the previous window's
# weighed count.
_HIT = """
WITH previous AS (
    SELECT coalesce(sum(hits), 0) * %(weight)s AS carried FROM rate_limit_counts
    WHERE rule = %(rule)s AND client = %(client)s AND "window" = %(window)s - 1
), counted AS (
    INSERT INTO rate_limit_counts AS c (rule, client, "window", hits, expires)
    SELECT %(rule)s, %(client)s, %(window)s, 1, %(expires)s FROM previous
    WHERE carried + 1 <= %(amount)s
    ON CONFLICT (rule, client, "window") DO UPDATE SET hits = c.hits + 1
    WHERE c.hits + 1 + (SELECT carried FROM previous) <= %(amount)s
    RETURNING c.hits
)
SELECT (SELECT hits FROM counted), (SELECT carried FROM previous)
"""
_COUNT = """
SELECT coalesce(sum(hits), 0) FROM rate_limit_counts
WHERE rule = %s AND client = %s AND "window" = %s
"""
_PURGE = "DELETE FROM rate_limit_counts WHERE expires < %s"


class RateLimits:
    def __init__(self, settings: SecuritySettings) -> None:
        self._items: dict[str, RateLimitItem | None] = {
            rule: rate_limit(text) for rule, text in settings.limits().items()
        }
        self._purged: dict[str, int] = {}

    async def check(self, connection: psycopg.AsyncConnection[Any], rule: str, client: str) -> None:
        """Count one request of `client` under `rule`; TooManyRequests when over the limit."""
        item = self._items[rule]
        if item is None:
            return
        period = item.get_expiry()
        position = time.time() / period
        window = math.floor(position)
        elapsed = position - window
        if self._purged.get(rule) != window:
            # The first request of each window of the rule (in this process) sweeps the rows
            # that no window needs any more.
            self._purged[rule] = window
            await connection.execute(_PURGE, (int(time.time()),))
        params = {
            "rule": rule,
            "client": client,
            "window": window,
            "weight": 1.0 - elapsed,
            "amount": item.amount,
            "expires": (window + 2) * period,
        }
        hits, carried = await _one(await connection.execute(_HIT, params))
        if hits is not None:
            return
        (current,) = await _one(await connection.execute(_COUNT, (rule, client, window)))
        # At most one period: a client that used its whole budget early in a window would
        # otherwise be told to wait up to two, longer than the limit says ("N per minute").
        # Retrying sooner than needed costs it only another 429 with a shorter wait.
        wait = min(period, _seconds_until_allowed(item.amount, period, elapsed, carried, current))
        retry_after = max(1, math.ceil(wait))
        raise TooManyRequests(
            f"Too many requests ({item.amount} per {period} s allowed for "
            f"{_describe(rule)}); retry in {retry_after} s.",
            retry_after=retry_after,
        )


async def _one(cursor: psycopg.AsyncCursor[Any]) -> Any:
    row = await cursor.fetchone()
    assert row is not None
    return row


def _seconds_until_allowed(
    amount: int, period: int, elapsed: float, carried: float, current: int
) -> float:
    """How long until one more request fits, if no other comes: a request fits when the
    previous window's weighed count plus this one's is at most `amount - 1`."""
    budget = amount - 1
    if current <= budget and carried > 0:
        # The previous window's share must fade: its weight falls from 1 - elapsed to 0.
        previous = carried / (1.0 - elapsed)
        return (1.0 - (budget - current) / previous - elapsed) * period
    # Wait for the next window, then for this window's count, carried into it, to fade enough.
    return ((1.0 - elapsed) + (1.0 - budget / max(current, 1))) * period


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
            # Imported here: app.db.request_session imports app.state, which imports this module.
            from app.db.request_session import request_session

            limits: RateLimits = scope["litestar_app"].state.darutrace.rate_limits
            try:
                connection = await request_session(scope).connection()
                await limits.check(connection, rule, client_of(scope))
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
