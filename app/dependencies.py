"""Values route handlers receive by name: `session` (one transaction's unit of work),
`principal` (the authenticated caller) and `access` (the request's access-log row, for a handler
that writes it in its own transaction)."""

from __future__ import annotations

from typing import Any

import psycopg
from litestar import Request
from litestar.di import NamedDependency, Provide
from sqlmodel.ext.asyncio.session import AsyncSession

from app.access_log.service import AccessEntry, access_entry
from app.auth.principal import Principal
from app.db.request_session import CONNECTION_PARAMETER, request_session
from app.state import AppState, app_state


async def provide_session(request: Request[Any, Any, Any]) -> AsyncSession:
    return await request_session(request.scope).get()


def provide_connection(request: Request[Any, Any, Any]) -> psycopg.AsyncConnection[Any]:
    return request_session(request.scope).taken_connection()


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal = request.user
    assert isinstance(principal, Principal), "route is public but asks for a principal"
    return principal


def provide_access(request: Request[Any, Any, Any]) -> AccessEntry | None:
    return access_entry(request.scope)


def provide_runtime(request: Request[Any, Any, Any]) -> AppState:
    return app_state(request.app)


DEPENDENCIES = {
    "session": Provide(provide_session),
    CONNECTION_PARAMETER: Provide(provide_connection, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
    "runtime": Provide(provide_runtime, sync_to_thread=False),
    "access": Provide(provide_access, sync_to_thread=False),
}

# Explicit markers for handler parameters (Litestar 3 drops inferred dependencies).
Session = NamedDependency[AsyncSession]
Connection = NamedDependency[psycopg.AsyncConnection[Any]]  # plain SQL, for the hot paths
Caller = NamedDependency[Principal]
Runtime = NamedDependency[AppState]
Access = NamedDependency[AccessEntry | None]  # None: the request is not audited
