"""Rules every service shares: organisation scoping (another organisation's object is reported
as missing, 404, so that its existence does not leak) and GS1 key validation errors."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from app.auth.principal import Principal
from app.errors import InvalidInput, NotFound
from models.gs1 import InvalidKey
from models.translatable import Translatable, reason

T = TypeVar("T")


def ensure_visible(principal: Principal, organization_id: uuid.UUID, what: str) -> None:
    if not principal.may_read_organization(organization_id):
        raise NotFound(f"No {what} with this id.")


async def get_or_404(session: AsyncSession, model: type[T], object_id: uuid.UUID, what: str) -> T:
    row = await session.get(model, object_id)
    if row is None:
        raise NotFound(f"No {what} with this id.")
    return row


def scoped(
    statement: SelectOfScalar[T],
    principal: Principal,
    organization_column: Any,
    organization_id: uuid.UUID | None = None,
) -> SelectOfScalar[T]:
    """Limit a listing to the caller's organisation (unless they read everything), and to
    `organization_id` when the caller asks for one."""
    if not principal.reads_everything:
        statement = statement.where(organization_column == principal.organization_id)
    if organization_id is not None:
        statement = statement.where(organization_column == organization_id)
    return statement


async def get_visible(
    session: AsyncSession, principal: Principal, model: type[T], object_id: uuid.UUID, what: str
) -> T:
    """An object of an organisation-owned kind (it has `organization_id`), or 404."""
    row = await get_or_404(session, model, object_id, what)
    ensure_visible(principal, row.organization_id, what)  # type: ignore[attr-defined]
    return row


def ensure_pack_handled(
    own: Collection[uuid.UUID] | None, sites: Iterable[uuid.UUID | None], gtin: str, serial: str
) -> None:
    """A pack the caller's organisation never handled is another organisation's: 404, worded
    as for a pack that does not exist. `own` is the caller's facilities (None: they read
    everything); `sites` every facility the pack was commissioned at, is held at or travels
    between, and where its events (not the refused ones) happened or sent it."""
    if own is None or any(site in own for site in sites if site is not None):
        return
    raise NotFound(f"No pack {serial} of GTIN {gtin}.")


def checked_key(validate: Callable[[str], str], value: str, field: str) -> str:
    """Run a GS1 key validator, reporting a failure as a 422 naming the field."""
    try:
        return validate(value)
    except InvalidKey as exc:
        raise InvalidInput(
            Translatable("%(field)s: %(problem)s", field=field, problem=reason(exc)), field=field
        ) from exc
