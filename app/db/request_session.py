"""One database session per HTTP request, shared by authentication, the route handler and the
access log: one pooled connection per request instead of three. Opened on first use (so /health
touches no database) and closed when the response is done."""

from __future__ import annotations

import time
from typing import Any, cast

import psycopg
import structlog
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.database import Database
from app.state import app_state

_KEY = "darutrace_session"
CONNECTION_PARAMETER = "connection"
_STARTED = "darutrace_started"
log = structlog.get_logger("darutrace.http")


class RequestSession:
    """The request's ORM session and/or plain connection, each taken from its pool on first use."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._session: AsyncSession | None = None
        self._connection: psycopg.AsyncConnection[Any] | None = None

    async def get(self) -> AsyncSession:
        if self._session is None:
            self._session = self._db.new_session()
        return self._session

    async def connection(self) -> psycopg.AsyncConnection[Any]:
        if self._connection is None:
            assert self._db.pool is not None
            self._connection = await self._db.pool.getconn()
        return self._connection

    def taken_connection(self) -> psycopg.AsyncConnection[Any]:
        assert self._connection is not None, "taken by RequestSessionMiddleware"
        return self._connection

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._connection is not None:
            assert self._db.pool is not None
            await self._db.pool.putconn(self._connection)  # rolls back what is left open
            self._connection = None


def request_session(scope: Scope) -> RequestSession:
    holder = cast(dict[str, Any], scope).get(_KEY)
    assert isinstance(holder, RequestSession), "RequestSessionMiddleware is not installed"
    return holder


class RequestSessionMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        holder = RequestSession(app_state(scope["litestar_app"]).db)
        cast(dict[str, Any], scope)[_KEY] = holder
        cast(dict[str, Any], scope)[_STARTED] = time.perf_counter()
        try:
            if CONNECTION_PARAMETER in scope["route_handler"].parsed_fn_signature.parameters:
                # Taken here, so that handlers receive it from a synchronous provider.
                await holder.connection()
            await next_app(scope, receive, send)
        finally:
            await holder.close()


async def log_response(message: Message, scope: Scope) -> None:
    """One structured line per request (no headers, no bodies: they carry credentials)."""
    if message["type"] != "http.response.start":
        return
    started = cast(dict[str, Any], scope).get(_STARTED)
    duration = (time.perf_counter() - started) * 1000 if started else None
    log.info(
        "request",
        method=scope.get("method"),
        path=scope.get("path"),
        status=message["status"],
        duration_ms=round(duration, 2) if duration is not None else None,
    )
