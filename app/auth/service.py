"""Logging in and out, and turning a request's credentials into a Principal."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import credentials
from app.auth.principal import Principal
from app.errors import Unauthorized
from models.identity import (
    DEVICE_ROLE_BY_KIND,
    Device,
    Facility,
    Organization,
    RevokedToken,
    User,
)


async def login(
    session: AsyncSession, username: str, password: str, secret: str, ttl: timedelta
) -> credentials.AccessToken:
    user = (await session.exec(select(User).where(User.username == username))).first()
    valid = credentials.verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        raise Unauthorized("Invalid username or password.")
    return credentials.issue_token(user.id, secret, ttl)


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
