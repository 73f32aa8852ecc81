"""/api/auth: log in (a JWT), log out (the token stops working), and who am I."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from app.auth import service
from app.auth.guards import EVERY_ROLE, allow
from app.auth.middleware import PUBLIC_OPT
from app.auth.throttle import LoginAttempt
from app.dependencies import Caller, Runtime, Session
from app.security.rate_limit import RATE_LIMIT_OPT, TOO_MANY_REQUESTS
from models.identity import Role


class LoginIn(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class TokenOut(msgspec.Struct):
    access_token: str
    token_type: Literal["bearer"]
    expires_at: datetime


class WhoAmI(msgspec.Struct):
    kind: Literal["user", "device"]
    id: uuid.UUID
    name: str
    role: Role
    organization_id: uuid.UUID
    facility_id: uuid.UUID | None


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]  # noqa: RUF012

    @post(
        "/login",
        opt={PUBLIC_OPT: True, RATE_LIMIT_OPT: "login"},
        responses=TOO_MANY_REQUESTS,
        status_code=200,
        summary="Log in; returns a JWT (429 after repeated failures, whatever the password)",
    )
    async def login(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        runtime: Runtime,
        data: JSONBody[LoginIn],
    ) -> TokenOut:
        address = request.client.host if request.client else "unknown"
        attempt = LoginAttempt(data.username, address)
        token = await service.login(session, attempt, data.password, runtime)
        return TokenOut(token.token, "bearer", token.expires_at)

    @post("/logout", guards=[allow(EVERY_ROLE)], status_code=204, summary="End this token")
    async def logout(self, session: Session, principal: Caller, runtime: Runtime) -> None:
        await service.logout(session, principal)
        runtime.principals.clear()

    @get("/me", guards=[allow(EVERY_ROLE, devices=True)], summary="The authenticated caller")
    async def me(self, principal: Caller) -> WhoAmI:
        return WhoAmI(
            kind=principal.kind,
            id=principal.id,
            name=principal.name,
            role=principal.role,
            organization_id=principal.organization_id,
            facility_id=principal.facility_id,
        )
