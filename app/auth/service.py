"""Logging in and out, and turning a request's credentials into a Principal."""

from __future__ import annotations

from sqlalchemy import exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import credentials, throttle
from app.auth.principal import Principal
from app.errors import Unauthorized
from app.state import AppState
from models.identity import Device, Facility, Organization, RevokedToken, User
from models.roles import DEVICE_ROLE_BY_KIND


async def login(
    session: AsyncSession,
    attempt: throttle.LoginAttempt,
    password: str,
    runtime: AppState,
) -> credentials.AccessToken:
    """A token for the user (see `authenticate`)."""
    user = await authenticate(session, attempt, password, runtime)
    return credentials.issue_token(user.id, runtime.jwt_secret, runtime.token_ttl)


async def authenticate(
    session: AsyncSession,
    attempt: throttle.LoginAttempt,
    password: str,
    runtime: AppState,
) -> User:
    """The user whose password this is, unless logging in is blocked for the username or the
    client address after failures (429, whatever the password; see `app.auth.throttle`)."""
    await throttle.refuse_if_blocked(session, attempt)
    username = attempt.username
    user = (await session.exec(select(User).where(User.username == username))).first()
    valid = credentials.verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        await throttle.record_failure(session, attempt, runtime.settings.security)
        raise Unauthorized("Invalid username or password.")
    await throttle.record_success(session, attempt)
    return user


async def logout(session: AsyncSession, principal: Principal) -> None:
    if principal.token_id is None or principal.token_expires_at is None:
        return
    if await session.get(RevokedToken, principal.token_id) is None:
        session.add(RevokedToken(jti=principal.token_id, expires_at=principal.token_expires_at))
        await session.commit()


async def principal_from_token(session: AsyncSession, token: str, secret: str) -> Principal:
    claims = credentials.decode_token(token, secret)
    if claims is None:
        raise Unauthorized("The access token is invalid or has expired; log in again.")
    revoked = exists().where(col(RevokedToken.jti) == claims.jti)
    row = (await session.exec(select(User, revoked).where(User.id == claims.user_id))).first()
    if row is not None and row[1]:
        raise Unauthorized("This access token was ended by logging out; log in again.")
    user = row[0] if row is not None else None
    if user is None or not user.is_active:
        raise Unauthorized("This account no longer exists or is disabled.")
    return Principal.of_user(user, claims.jti, claims.expires_at)


async def principal_from_api_key(session: AsyncSession, key: str) -> Principal:
    row = (
        await session.exec(
            select(Device, Facility, Organization)
            .join(Facility, Facility.id == Device.facility_id)  # type: ignore[arg-type]
            .join(Organization, Organization.id == Facility.organization_id)  # type: ignore[arg-type]
            .where(Device.key_hash == credentials.api_key_hash(key))
        )
    ).first()
    if row is None:
        raise Unauthorized("Unknown API key.")
    device, facility, organization = row
    if device.revoked_at is not None:
        raise Unauthorized("This device's API key has been revoked.")
    return Principal(
        kind="device",
        id=device.id,
        name=device.name,
        role=DEVICE_ROLE_BY_KIND[organization.kind],
        organization_id=organization.id,
        facility_id=facility.id,
    )
