"""Console sessions: opened by logging in on the login page, kept alive by use, ended by logging
out, by `session_idle_minutes` without a request, or by `session_max_hours` after the login."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import psycopg
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.principal import Principal
from app.security.config import SecuritySettings
from models.base import utcnow
from models.identity import Role, User
from models.sessions import WebSession

COOKIE = "darutrace_session"
# A session seen within this long is not written again: one UPDATE a minute, not per page.
_TOUCH_EVERY = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(session: AsyncSession, user: User, client_address: str | None) -> str:
    """A new session for `user`; returns the token for the cookie (never stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            token_hash=_hash(token),
            user_id=user.id,
            started_at=now,
            last_seen_at=now,
            client_address=client_address,
        )
    )
    await session.commit()
    return token


async def principal_from_session(
    connection: psycopg.AsyncConnection[Any], token: str, security: SecuritySettings
) -> Principal | None:
    """The user of a live session, or None when the token is unknown, ended or expired. One
    statement: it keeps the session alive and reads its user."""
    idle = timedelta(minutes=security.session_idle_minutes)
    lifetime = timedelta(hours=security.session_max_hours)
    cursor = await connection.execute(
        """
        WITH live AS (
            SELECT token_hash, user_id, last_seen_at FROM web_sessions
            WHERE token_hash = %(hash)s AND ended_at IS NULL
              AND last_seen_at > now() - %(idle)s AND started_at > now() - %(lifetime)s
        ), touched AS (
            UPDATE web_sessions SET last_seen_at = now()
            FROM live WHERE web_sessions.token_hash = live.token_hash
              AND live.last_seen_at < now() - %(touch)s
        )
        SELECT users.id, users.username, users.role, users.organization_id, users.facility_id
        FROM live JOIN users ON users.id = live.user_id WHERE users.is_active
        """,
        {"hash": _hash(token), "idle": idle, "lifetime": lifetime, "touch": _TOUCH_EVERY},
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    user_id, username, role, organization_id, facility_id = row
    return Principal(
        kind="user",
        id=user_id,
        name=username,
        role=Role(role),
        organization_id=organization_id,
        facility_id=facility_id,
    )


async def end_session(connection: psycopg.AsyncConnection[Any], token: str) -> None:
    await connection.execute(
        "UPDATE web_sessions SET ended_at = now() WHERE token_hash = %s AND ended_at IS NULL",
        (_hash(token),),
    )
