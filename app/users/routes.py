"""/api/users"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from app.auth.guards import EVERY_ROLE, allow
from app.dependencies import Caller, Runtime, Session
from app.users import service
from models.identity import Role, User


class UserIn(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    password: Annotated[str, msgspec.Meta(max_length=200)]
    role: Role
    organization_id: uuid.UUID
    facility_id: uuid.UUID | None = None


class UserPatch(msgspec.Struct):
    is_active: bool


class UserOut(msgspec.Struct):
    id: uuid.UUID
    username: str
    role: Role
    organization_id: uuid.UUID
    facility_id: uuid.UUID | None
    is_active: bool
    created_at: datetime


def user_out(user: User) -> UserOut:
    return msgspec.convert(user, UserOut, from_attributes=True)


class UserController(Controller):
    path = "/api/users"
    tags = ["identity"]  # noqa: RUF012
    opt = {"audit": "users"}  # noqa: RUF012

    @post("/", guards=[allow({Role.admin})], summary="Create a user (admin)")
    async def create(self, session: Session, data: JSONBody[UserIn]) -> UserOut:
        new = service.NewUser(
            data.username, data.password, data.role, data.organization_id, data.facility_id
        )
        return user_out(await service.create(session, new))

    @get("/", guards=[allow(EVERY_ROLE)], summary="Users the caller may see")
    async def index(
        self,
        session: Session,
        principal: Caller,
        organization_id: FromQuery[uuid.UUID | None] = None,
    ) -> list[UserOut]:
        return [
            user_out(u) for u in await service.list_visible(session, principal, organization_id)
        ]

    @get("/{user_id:uuid}", guards=[allow(EVERY_ROLE)], summary="One user")
    async def show(
        self, session: Session, principal: Caller, user_id: FromPath[uuid.UUID]
    ) -> UserOut:
        return user_out(await service.get(session, principal, user_id))

    @patch("/{user_id:uuid}", guards=[allow({Role.admin})], summary="Enable or disable (admin)")
    async def update(
        self,
        session: Session,
        runtime: Runtime,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[UserPatch],
    ) -> UserOut:
        user = await service.set_active(session, user_id, data.is_active)
        runtime.principals.clear()
        return user_out(user)
