"""Authentication: `Authorization: Bearer <token>` for users, `X-API-Key` for scanner devices,
and on the console's pages (`opt={"page": True}`) the session cookie of a login there. Routes
marked `opt={"public": True}` need none. The API never takes the cookie: a cross-site request
cannot act on the API with a person's session."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from app.auth import service, sessions
from app.auth.principal import Principal
from app.db.request_session import request_session
from app.errors import Unauthorized
from app.state import app_state

PUBLIC_OPT = "public"
PAGE_OPT = "page"
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="darutrace"'}


class CredentialsMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        state = app_state(connection.app)
        authorization = connection.headers.get("authorization", "")
        api_key = connection.headers.get("x-api-key")
        credential = authorization or api_key
        if credential:
            cached = state.principals.get(credential)
            if cached is not None:
                return AuthenticationResult(user=cached, auth=credential)
        generation = state.principals.generation
        session = await request_session(connection.scope).get()
        try:
            if authorization:
                scheme, _, token = authorization.partition(" ")
                if scheme.lower() != "bearer" or not token.strip():
                    raise Unauthorized("Use the header `Authorization: Bearer <token>`.")
                principal = await service.principal_from_token(
                    session, token.strip(), state.jwt_secret
                )
                state.principals.put(authorization, principal, generation)
                return AuthenticationResult(user=principal, auth=token)
            if api_key:
                principal = await service.principal_from_api_key(session, api_key.strip())
                state.principals.put(api_key, principal, generation)
                return AuthenticationResult(user=principal, auth=api_key)
        except Unauthorized as exc:
            raise NotAuthorizedException(exc.detail, headers=BEARER_CHALLENGE) from exc
        if connection.route_handler.opt.get(PAGE_OPT):
            signed_in = await self._session_user(connection)
            if signed_in is not None:
                return AuthenticationResult(user=signed_in, auth=None)
        raise NotAuthorizedException(
            "Authentication required: log in at POST /api/auth/login and send "
            "`Authorization: Bearer <token>`, or send a device's `X-API-Key`.",
            headers=BEARER_CHALLENGE,
        )

    async def _session_user(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> Principal | None:
        token = connection.cookies.get(sessions.COOKIE)
        if not token:
            return None
        security = app_state(connection.app).settings.security
        database = await request_session(connection.scope).connection()
        return await sessions.principal_from_session(database, token, security)
