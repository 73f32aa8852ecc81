"""Every error leaves as an RFC 9457 problem document (`application/problem+json`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import msgspec.inspect
import psycopg
from litestar import Request, Response
from litestar.exceptions import ClientException, HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap
from psycopg import DataError as DriverDataError
from sqlalchemy.exc import DataError as StatementDataError
from sqlalchemy.exc import IntegrityError as StatementIntegrityError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.errors import InvalidInput, ServiceError
from app.integrity import refers_to_missing_facility, translated
from app.state import app_state
from app.web.errors import CONSOLE, error_page, is_page
from app.web.i18n import language_of

log = logging.getLogger("darutrace.errors")

PROBLEM_JSON = "application/problem+json"


def problem(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[Any]:
    if is_page(request):
        return error_page(request, status, detail, headers)
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    if request.url.path.startswith(f"{CONSOLE}/"):
        # The console's scripts show the reason to a person: in the page's language too.
        body["detail_text"] = str(language_of(request).gettext(detail))
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def service_problem(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, ServiceError)
    if exc.__cause__ is not None and refers_to_missing_facility(exc.__cause__):
        # The events' directory named a facility that is gone: the next request reads them again.
        app_state(request.app).facilities.clear()
    retry_after = exc.extra.get("retry_after")
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return problem(request, exc.status_code, exc.detail, exc.title, headers, **exc.extra)


def _http_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, HTTPException)
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        errors = [error for error in exc.extra if isinstance(error, dict)]
        if _WHOLE_BODY in [(error.get("key"), error.get("source")) for error in errors]:
            # The body was decoded (app/json_body.py) before the handler's arguments are checked,
            # so the only complaint left about the argument as a whole is that there was none.
            return problem(request, 400, "The request has no body; this endpoint takes JSON.")
        return _invalid_fields(request, errors)
    detail = exc.detail or HTTPStatus(exc.status_code).phrase
    return problem(request, exc.status_code, detail, headers=exc.headers)


def _invalid_fields(request: Request[Any, Any, Any], errors: list[dict[str, Any]]) -> Response[Any]:
    """A value that does not fit its field, in the body or a parameter: the 422 the services'
    `InvalidInput` answers too, with each field named as the client spells it."""
    described = [_describe(error, request) for error in errors]
    return problem(
        request,
        InvalidInput.status_code,
        "; ".join(error["detail"] for error in described),
        InvalidInput.title,
        field=described[0]["field"],
        errors=described,
    )


def _describe(error: dict[str, Any], request: Request[Any, Any, Any]) -> dict[str, Any]:
    field = str(error.get("key") or "") or None
    message = str(error.get("message", "invalid value"))
    if missing := _MISSING.match(message):
        field = f"{field}.{missing['name']}" if field else missing["name"]
        detail = f"{field} is required"
    else:
        detail = f"{field}: {plain_words(message)}" if field else plain_words(message)
        if message.startswith("Invalid enum value") and field:
            accepted = _choices(_declared_type(request, field, error.get("source")))
            detail += f" ({', '.join(accepted)})" if accepted else ""
    return {"field": field, "detail": detail, "source": error.get("source")}


def _declared_type(
    request: Request[Any, Any, Any], field: str, source: str | None
) -> msgspec.inspect.Type | None:
    """The type the route declares for a parameter or a top-level body field."""
    parameters = request.route_handler.parsed_fn_signature.parameters
    if source != "body":
        parameter = parameters.get(field)
        return msgspec.inspect.type_info(parameter.annotation) if parameter else None
    data = parameters.get("data")
    body = msgspec.inspect.type_info(data.annotation) if data else None
    if not isinstance(body, msgspec.inspect.StructType):
        return None
    return next((f.type for f in body.fields if f.encode_name == field), None)


def _choices(declared: msgspec.inspect.Type | None) -> list[str]:
    kinds = declared.types if isinstance(declared, msgspec.inspect.UnionType) else (declared,)
    for kind in kinds:
        if isinstance(kind, msgspec.inspect.EnumType):
            return [str(member.value) for member in kind.cls]
        if isinstance(kind, msgspec.inspect.LiteralType):
            return [str(value) for value in kind.values]
    return []


def invalid_body(message: str) -> HTTPException:
    """The exception for msgspec's complaint about a request body: a field's value (422, like
    a parameter's), or a body that is not the object the endpoint takes at all (400)."""
    text, _, path = message.partition(" - at `$")
    field = path.rstrip("`").lstrip(".") or None
    if field is None and not _MISSING.match(text):
        return ClientException(f"The body cannot be read: it {plain_words(text)}.")
    return ValidationException(extra=[{"key": field, "message": text, "source": "body"}])


_WHOLE_BODY = ("data", "body")  # how Litestar names the handler's `data` argument
_MISSING = re.compile(r"Object missing required field `(?P<name>[^`]+)`$")
_KINDS = {
    "int": "a whole number",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}
_BOUNDS = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}
_PLAIN: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"Expected `(\w+)`, got `(\w+)`"),
        lambda m: f"must be {_KINDS.get(m[1], m[1])}, not {_KINDS.get(m[2], m[2])}",
    ),
    (re.compile(r"Expected `(\w+)` of length (>=|<=) (\d+)"), lambda m: _length(*m.groups())),
    (
        re.compile(r"Expected `(?:int|float)` (>=|<=|>|<) (\S+)"),
        lambda m: f"must be {_BOUNDS[m[1]]} {m[2]}",
    ),
    (
        re.compile(r"Invalid RFC3339 encoded datetime"),
        lambda m: "not a date-time in ISO 8601 form (e.g. 2026-05-01T10:00:00Z)",
    ),
    (
        re.compile(r"Invalid RFC3339 encoded date"),
        lambda m: "not a date in ISO 8601 form (e.g. 2026-05-01)",
    ),
    (
        re.compile(r"Invalid UUID"),
        lambda m: "not a UUID (e.g. 3f2c8a5e-1b7d-4e8a-9c0f-6d2b1a7e4c93)",
    ),
    (re.compile(r"Invalid enum value (.+)"), lambda m: f"{m[1]} is not one of the accepted values"),
    (
        re.compile(r"Expected `str` matching regex (.+)"),
        lambda m: f"does not have the expected form (the pattern {m[1]})",
    ),
]


def _length(kind: str, bound: str, size: str) -> str:
    if (bound, size) == (">=", "1"):
        return "must not be empty"
    if kind == "str":
        return f"must be {_BOUNDS[bound]} {size} characters long"
    return f"must have {_BOUNDS[bound]} {size} {'items' if kind == 'array' else 'members'}"


def plain_words(message: str) -> str:
    """msgspec's wording of a validation failure, as a person reads it."""
    for pattern, words in _PLAIN:
        if found := pattern.fullmatch(message):
            return words(found)
    return message.replace("`", "")


# Deadlock and serialization failures: the transaction was rolled back whole; a retry succeeds.
_TRY_AGAIN = frozenset({"40P01", "40001"})


def _database_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
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


def _unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(request, 500, "An unexpected error occurred; it has been logged.")


def _data_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A value PostgreSQL cannot take (SQLSTATE class 22: a NUL character in a text, a number
    out of range, …) came from the request: a 400 saying which, never a 500."""
    log.warning("data error on %s %s: %s", request.method, request.url.path, exc)
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return problem(request, 400, f"A value in the request cannot be used: {reason}.")


def _integrity_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A row the database refused (app/integrity.py): 409 for one that exists, 422 for a
    missing reference or value."""
    refusal = translated(exc)
    if refusal is None:
        return _unexpected_error(request, exc)
    refusal.__cause__ = exc  # as the ORM's are (app/integrity.py, raise_translated)
    return service_problem(request, refusal)


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
    StatementIntegrityError: _integrity_error,
    psycopg.IntegrityError: _integrity_error,
    Exception: _unexpected_error,
}
