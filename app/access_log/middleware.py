"""Appends an access-log row for every authenticated request to a route that declares the
resource it exposes (`opt={"audit": "<resource>"}`), whatever the outcome."""

from __future__ import annotations

import logging
from typing import Any

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.access_log import service
from app.auth.principal import Principal
from app.db.request_session import request_session

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

        status_code = 500

        async def capture(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await next_app(scope, receive, capture)
        finally:
            await self._record(scope, principal, resource, status_code)

    async def _record(
        self, scope: Scope, principal: Principal, resource: str, status_code: int
    ) -> None:
        path_params: dict[str, Any] = scope.get("path_params") or {}
        client = scope.get("client")
        try:
            await service.record(
                await request_session(scope).connection(),
                principal,
                resource=resource,
                object_id=next((str(v) for v in path_params.values()), None),
                method=str(scope.get("method", "")),
                path=scope["path"],
                client_address=client[0] if client else None,
                status_code=status_code,
            )
        except Exception:
            # The response has been sent; failing to log must be loud, not silent.
            log.exception("could not write the access log for %s", scope["path"])
