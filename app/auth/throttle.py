"""Back-off after failed logins, per username and per client address.

After `login_backoff_after` failures for a username (`login_backoff_after_ip` from one address),
logging in is refused with 429 for `login_backoff_seconds`, doubled with every further failure
(up to `login_backoff_max_seconds`), whatever the password: a guesser learns nothing while
blocked, and the (slow) password check is not even run. A successful login clears its username;
failures are forgotten an hour after the last one.

Kept in PostgreSQL, not in process memory: the API may run several worker processes (and
several machines) and the count must be one, or an attacker would get `workers ×` the attempts;
it also survives a restart. Logging in costs an argon2 check (tens of milliseconds) already, so
one more statement per failure costs nothing that matters, and a success costs one indexed
read and one delete."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import TooManyRequests
from app.security.config import SecuritySettings

FORGET_AFTER = timedelta(hours=1)

_BLOCKED = text(
    "SELECT max(blocked_until) - now() FROM login_failures "
    "WHERE key IN (:user_key, :ip_key) AND blocked_until > now()"
)
# The count restarts when the last failure is older than FORGET_AFTER.
_FAILED = text("""
INSERT INTO login_failures AS f (key, failures, last_failure_at) VALUES (:key, 1, now())
ON CONFLICT (key) DO UPDATE SET
  failures = CASE WHEN f.last_failure_at < now() - :forget THEN 1 ELSE f.failures + 1 END,
  last_failure_at = now()
RETURNING failures
""")
_BLOCK = text(
    "UPDATE login_failures SET blocked_until = now() + make_interval(secs => :seconds) "
    "WHERE key = :key"
)
_FORGET = text("DELETE FROM login_failures WHERE last_failure_at < now() - :forget")
_SUCCEEDED = text("DELETE FROM login_failures WHERE key = :key")


@dataclass(frozen=True)
class LoginAttempt:
    username: str
    client_address: str

    @property
    def user_key(self) -> str:
        return f"user:{self.username.strip().lower()}"

    @property
    def ip_key(self) -> str:
        return f"ip:{self.client_address}"


async def refuse_if_blocked(session: AsyncSession, attempt: LoginAttempt) -> None:
    params = {"user_key": attempt.user_key, "ip_key": attempt.ip_key}
    wait: timedelta | None = (
        await (await session.connection()).execute(_BLOCKED, params)
    ).scalar_one()
    if wait is not None:
        seconds = max(1, math.ceil(wait.total_seconds()))
        raise TooManyRequests(
            "Too many failed logins for this account or from this address; logging in is "
            f"refused for {seconds} s more (each further failure doubles the wait).",
            retry_after=seconds,
        )


async def record_failure(
    session: AsyncSession, attempt: LoginAttempt, settings: SecuritySettings
) -> None:
    connection = await session.connection()
    await connection.execute(_FORGET, {"forget": FORGET_AFTER})
    for key, after in (
        (attempt.user_key, settings.login_backoff_after),
        (attempt.ip_key, settings.login_backoff_after_ip),
    ):
        params = {"key": key, "forget": FORGET_AFTER}
        failures: int = (await connection.execute(_FAILED, params)).scalar_one()
        if failures >= after:
            seconds = min(
                settings.login_backoff_max_seconds,
                # The exponent is capped: past 2**30 the cap has long won, and a float
                # multiplied by a huge power of two overflows.
                settings.login_backoff_seconds * 2 ** min(failures - after, 30),
            )
            await connection.execute(_BLOCK, {"key": key, "seconds": seconds})
    await session.commit()


async def record_success(session: AsyncSession, attempt: LoginAttempt) -> None:
    await (await session.connection()).execute(_SUCCEEDED, {"key": attempt.user_key})
    await session.commit()
