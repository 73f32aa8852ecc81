"""Recently checked credentials, kept for a few seconds so that a scanner sending a scan a second
does not cost a database lookup (and a JWT decode) per scan.

Logging out, disabling a user and revoking a device clear the cache at once in this process; a
change made by another process (`darutrace devices revoke` from the CLI) takes effect within
`ttl` seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from app.auth.principal import Principal


class PrincipalCache:
    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, credential: str) -> Principal | None:
        entry = self._entries.get(credential)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del self._entries[credential]
            return None
        return entry[1]

    def put(self, credential: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        until = time.monotonic() + self.ttl
        if principal.token_expires_at is not None:
            remaining = (principal.token_expires_at - datetime.now(UTC)).total_seconds()
            until = min(until, time.monotonic() + remaining)
        self._entries[credential] = (until, principal)

    def clear(self) -> None:
        self._entries.clear()
