"""Route guards: every endpoint declares who may call it with `allow(...)`."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from app.auth.principal import Principal
from models.identity import Role

EVERY_ROLE = frozenset(Role)
ORGANIZATION_ROLES = frozenset(
    {Role.manufacturer, Role.importer, Role.distributor, Role.pharmacy, Role.hospital}
)


def allow(roles: frozenset[Role] | set[Role], *, devices: bool = False) -> Guard:
    """Let callers with one of `roles` through; scanner devices only where `devices` is set."""
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = connection.user
        if not isinstance(principal, Principal):
            raise PermissionDeniedException("Not authenticated.")
        if principal.kind == "device" and not devices:
            raise PermissionDeniedException("Scanner devices may not use this endpoint.")
        if principal.role not in allowed:
            names = ", ".join(sorted(role.value for role in allowed))
            raise PermissionDeniedException(
                f"Your role ({principal.role.value}) may not do this; allowed: {names}."
            )

    guard.allowed_roles = allowed  # type: ignore[attr-defined]
    return guard
