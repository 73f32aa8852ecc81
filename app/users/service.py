"""Users: admins create them (the first admin from the CLI); each works in one organisation,
in a role that fits its kind, optionally at a home facility."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.credentials import MIN_PASSWORD_LENGTH, hash_password
from app.auth.principal import Principal
from app.errors import Conflict, InvalidInput
from app.scoping import get_or_404, get_visible, scoped
from models.identity import Facility, Organization, Role, User
from models.roles import ROLES_BY_KIND
from models.translatable import Translatable


@dataclass(frozen=True)
class NewUser:
    username: str
    password: str
    role: Role
    organization_id: uuid.UUID
    facility_id: uuid.UUID | None = None


async def create(session: AsyncSession, data: NewUser) -> User:
    username = data.username.strip()
    if not username:
        raise InvalidInput("username: must not be empty.", field="username")
    if len(data.password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            Translatable(
                "password: must be at least %(length)s characters.", length=MIN_PASSWORD_LENGTH
            ),
            field="password",
        )
    organization = await session.get(Organization, data.organization_id)
    if organization is None:
        raise InvalidInput(
            "organization_id: no organisation with this id.", field="organization_id"
        )
    allowed = ROLES_BY_KIND[organization.kind]
    if data.role not in allowed:
        names = ", ".join(sorted(r.value for r in allowed))
        raise InvalidInput(
            Translatable(
                "role: a member of a %(kind)s organisation can be: %(roles)s.",
                kind=organization.kind.value,
                roles=names,
            ),
            field="role",
        )
    if data.facility_id is not None:
        facility = await session.get(Facility, data.facility_id)
        if facility is None or facility.organization_id != organization.id:
            raise InvalidInput(
                "facility_id: no facility with this id in the user's organisation.",
                field="facility_id",
            )
    if (await session.exec(select(User).where(User.username == username))).first():
        raise Conflict(
            Translatable("The username '%(username)s' is taken.", username=username),
            field="username",
        )
    user = User(
        username=username,
        password_hash=hash_password(data.password),
        role=data.role,
        organization_id=organization.id,
        facility_id=data.facility_id,
    )
    session.add(user)
    await session.commit()
    return user


async def list_visible(
    session: AsyncSession, principal: Principal, organization_id: uuid.UUID | None = None
) -> Sequence[User]:
    statement = select(User).order_by(col(User.username))
    statement = scoped(statement, principal, User.organization_id, organization_id)
    return (await session.exec(statement)).all()


async def get(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> User:
    return await get_visible(session, principal, User, user_id, "user")


async def set_active(session: AsyncSession, user_id: uuid.UUID, active: bool) -> User:
    user = await get_or_404(session, User, user_id, "user")
    user.is_active = active
    session.add(user)
    await session.commit()
    return user
