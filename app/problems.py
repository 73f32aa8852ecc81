"""Every error leaves as an RFC 9457 problem document (`application/problem+json`)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import psycopg
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap
from psycopg import DataError as DriverDataError
from sqlalchemy.exc import DataError as StatementDataError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.errors import ServiceError
from app.state import app_state

log = logging.getLogger("darutrace.errors")

PROBLEM_JSON = "application/problem+json"


def problem(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def service_problem(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    assert isinstance(exc, ServiceError)
    retry_after = exc.extra.get("retry_after")
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return problem(request, exc.status_code, exc.detail, exc.title, headers, **exc.extra)


def _http_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    assert isinstance(exc, HTTPException)
    errors = exc.extra if isinstance(exc, ValidationException) and exc.extra else None
    detail = exc.detail or HTTPStatus(exc.status_code).phrase
    if isinstance(exc, ValidationException) and errors:
        detail = "; ".join(_describe(error) for error in errors if isinstance(error, dict))
    return problem(request, exc.status_code, detail, headers=exc.headers, errors=errors)


def _describe(error: dict[str, Any]) -> str:
    key = error.get("key")
    message = str(error.get("message", "invalid value"))
    return f"{key}: {message}" if key else message


# Deadlock and serialization failures: the transaction was rolled back whole; a retry succeeds.
_TRY_AGAIN = frozenset({"40P01", "40001"})


def _database_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """503 when the database cannot be reached (connection failures, no pooled connection in
    time, SQLSTATE classes 08 and 57P, too many connections) or rolled the request back to break
    a deadlock; any other database error is ours (500), and retrying would not help. Raised by
    SQLAlchemy (the driver's error in `orig`) or by psycopg and its pool directly (the hot
    paths)."""
    sqlstate = getattr(getattr(exc, "orig", exc), "sqlstate", None)
    invalidated = getattr(exc, "connection_invalidated", False)
    if sqlstate in _TRY_AGAIN:
        return problem(
            request,
            503,
            "Another request changed the same records at the same moment; nothing was recorded. "
            "Send it again (the same event_id is recorded at most once).",
            headers={"Retry-After": "1"},
        )
    if not (invalidated or sqlstate is None or sqlstate.startswith(("08", "57P", "53300"))):
        return _unexpected_error(request, exc)
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    app_state(request.app).db.connection_lost()
    return problem(
        request,
        503,
        "The database is unavailable; retry shortly. An event sent again with the same event_id "
        "is recorded at most once.",
        headers={"Retry-After": "2"},
    )


def _unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(request, 500, "An unexpected error occurred; it has been logged.")


def _data_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """A value PostgreSQL cannot take (SQLSTATE class 22: a NUL character in a text, a number
    out of range, …) came from the request: a 400 saying which, never a 500."""
    log.warning("data error on %s %s: %s", request.method, request.url.path, exc)
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return problem(request, 400, f"A value in the request cannot be used: {reason}.")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ServiceError: service_problem,
    HTTPException: _http_error,
    OperationalError: _database_error,
    InterfaceError: _database_error,
    PoolTimeout: _database_error,
    psycopg.OperationalError: _database_error,  # psycopg_pool.PoolTimeout is one too
    psycopg.InterfaceError: _database_error,
    StatementDataError: _data_error,
    DriverDataError: _data_error,
    Exception: _unexpected_error,
}
