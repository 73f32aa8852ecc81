"""Appends an access-log row for every authenticated request to a route that declares the
resource it exposes (`opt={"audit": "<resource>"}`), whatever the outcome, and commits it before
the answer leaves: the row is written when the answer's status is known (its
`http.response.start`) and the answer is passed on only once the row is in. If the row cannot be
written the caller gets a 503 (or 500) instead of an answer with no record of it. A handler may
have written the row itself, in its own transaction (app/access_log/service.py, AccessEntry)."""

from __future__ import annotations

import json
import logging

import psycopg
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.access_log import service
from app.auth.principal import Principal
from app.db.request_session import request_session
from app.state import app_state

AUDIT_OPT = "audit"
log = logging.getLogger(__name__)


class AccessLogMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        resource = scope["route_handler"].opt.get(AUDIT_OPT)
        principal = scope.get("user")
        if resource is None or not isinstance(principal, Principal):
            await next_app(scope, receive, send)
            return
        entry = service.new_entry(scope, principal, resource)
        started = withheld = False

        async def send_once_logged(message: Message) -> None:
            nonlocal started, withheld
            if withheld:
                return  # the rest of an answer that was replaced by the failure's
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                if entry.logged_status != status:
                    # Not written by the handler, or written with a status that an error after
                    # it changed: the answer that leaves has its row.
                    failure = await self._write(scope, entry, status)
                    if failure is not None:
                        withheld = True
                        await _send_failure(send, scope, failure)
                        return
            await send(message)

        try:
            await next_app(scope, receive, send_once_logged)
        except Exception as exc:
            # Refused by a middleware inside this one (CSRF, say): the exception is answered
            # further out, past `send_once_logged`, so its row is written here, before that.
            if not started and entry.logged_status is None:
                await self._write(scope, entry, _status_of(exc))
            raise
        finally:
            if not started and entry.logged_status is None:
                # No answer at all (the client went away): the attempt is recorded still.
                await self._write(scope, entry, 500)

    async def _write(self, scope: Scope, entry: service.AccessEntry, status: int) -> int | None:
        """None once written; else the status to answer instead."""
        try:
            await service.write(await request_session(scope).connection(), entry, status)
        except Exception as exc:
            log.exception("could not write the access log for %s", scope["path"])
            if isinstance(exc, psycopg.OperationalError):  # unreachable, or no connection in time
                app_state(scope["litestar_app"]).db.connection_lost()
                return 503
            return 500
        entry.logged(status)
        return None


def _status_of(exc: Exception) -> int:
    """The status the app answers for an exception (app/problems.py): its own, else 503 for
    the database out of reach, else 500."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status
    return 503 if isinstance(exc, psycopg.OperationalError) else 500


_DETAIL = {
    503: "The database is unavailable, so this request could not be recorded in the access "
    "log and its answer is withheld; retry shortly.",
    500: "This request could not be recorded in the access log, so its answer is withheld; "
    "the error has been logged.",
}


async def _send_failure(send: Send, scope: Scope, status: int) -> None:
    title = "Service Unavailable" if status == 503 else "Internal Server Error"
    body = json.dumps(
        {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": _DETAIL[status],
            "instance": scope["path"],
        }
    ).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 503:
        headers.append((b"retry-after", b"2"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
