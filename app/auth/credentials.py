"""Passwords (argon2), access tokens (JWT, HS256) and device API keys."""

from __future__ import annotations

import functools
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so that a wrong username takes as long as
    a wrong password and does not reveal which usernames exist."""
    return _hasher.hash(secrets.token_urlsafe(16))


API_KEY_PREFIX = "dtk_"
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        verified = _hasher.verify(password_hash or _dummy_hash(), password)
        return verified and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class AccessToken:
    token: str
    jti: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    jti: str
    expires_at: datetime


def issue_token(user_id: uuid.UUID, secret: str, ttl: timedelta) -> AccessToken:
    now = datetime.now(UTC)
    jti = secrets.token_hex(16)
    expires_at = now + ttl
    token = jwt.encode(
        {"sub": str(user_id), "jti": jti, "iat": now, "exp": expires_at, "iss": "darutrace"},
        secret,
        algorithm="HS256",
    )
    return AccessToken(token=token, jti=jti, expires_at=expires_at)


def decode_token(token: str, secret: str) -> TokenClaims | None:
    """The token's claims, or None when it is forged, malformed or expired."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            issuer="darutrace",
            options={"require": ["sub", "jti", "exp", "iat"]},
        )
        return TokenClaims(
            user_id=uuid.UUID(claims["sub"]),
            jti=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except (jwt.PyJWTError, ValueError):
        return None


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
