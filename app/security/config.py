"""Security settings (`DARUTRACE_RATE_LIMIT_…`, `DARUTRACE_LOGIN_BACKOFF_…`, body size, CORS,
HSTS), read from the environment with the rest of the settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from limits import RateLimitItem

OFF = ("", "0", "off", "none")


def rate_limit(text: str) -> RateLimitItem | None:
    """`"30/minute"`, `"100 per second"`, … (the `limits` notation); `off` for no limit."""
    from limits import parse  # a tenth of a second to import: not for every command

    return None if text.strip().lower() in OFF else parse(text)


def _env(name: str, default: str) -> str:
    return os.environ.get(f"DARUTRACE_{name}", default)


@dataclass(frozen=True)
class SecuritySettings:
    # Requests per client: IP address for the public routes, user or device once authenticated.
    rate_limit_login: str = "30/minute"
    rate_limit_resolver: str = "60/minute"
    rate_limit_verify: str = "6000/minute"
    rate_limit_parse: str = "600/minute"
    # Failed logins: after this many for a username (or from one client address), refuse
    # logging in for `login_backoff_seconds`, doubled with each further failure, up to the max.
    login_backoff_after: int = 5
    login_backoff_after_ip: int = 20
    login_backoff_seconds: float = 1.0
    login_backoff_max_seconds: float = 900.0
    max_body_bytes: int = 16 * 1024 * 1024  # the largest event: 100,000 long codes
    cors_origins: tuple[str, ...] = ()
    hsts_seconds: int = 0
    # Console sessions end after this long without a request, and in any case after the maximum.
    session_idle_minutes: int = 30
    session_max_hours: int = 12

    def __post_init__(self) -> None:
        for text in self.limits().values():
            rate_limit(text)  # a typo fails at start-up, not at the first request

    def limits(self) -> dict[str, str]:
        return {
            "login": self.rate_limit_login,
            "resolver": self.rate_limit_resolver,
            "verify": self.rate_limit_verify,
            "parse": self.rate_limit_parse,
        }

    @classmethod
    def from_env(cls) -> SecuritySettings:
        d = cls()
        return cls(
            rate_limit_login=_env("RATE_LIMIT_LOGIN", d.rate_limit_login),
            rate_limit_resolver=_env("RATE_LIMIT_RESOLVER", d.rate_limit_resolver),
            rate_limit_verify=_env("RATE_LIMIT_VERIFY", d.rate_limit_verify),
            rate_limit_parse=_env("RATE_LIMIT_PARSE", d.rate_limit_parse),
            login_backoff_after=int(_env("LOGIN_BACKOFF_AFTER", str(d.login_backoff_after))),
            login_backoff_after_ip=int(
                _env("LOGIN_BACKOFF_AFTER_IP", str(d.login_backoff_after_ip))
            ),
            login_backoff_seconds=float(
                _env("LOGIN_BACKOFF_SECONDS", str(d.login_backoff_seconds))
            ),
            login_backoff_max_seconds=float(
                _env("LOGIN_BACKOFF_MAX_SECONDS", str(d.login_backoff_max_seconds))
            ),
            max_body_bytes=int(_env("MAX_BODY_BYTES", str(d.max_body_bytes))),
            cors_origins=tuple(_env("CORS_ORIGINS", "").replace(",", " ").split()),
            hsts_seconds=int(_env("HSTS_SECONDS", "0")),
            session_idle_minutes=int(_env("SESSION_IDLE_MINUTES", str(d.session_idle_minutes))),
            session_max_hours=int(_env("SESSION_MAX_HOURS", str(d.session_max_hours))),
        )
