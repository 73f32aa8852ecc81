"""Recently checked credentials, kept for a few seconds so that a scanner sending a scan a second
does not cost a database lookup (and a JWT decode) per scan.

Every worker process has its own cache, and each is told of changes by PostgreSQL
(`app.auth.invalidation`): logging out, disabling a user, revoking a device, changing a role,
from any worker or from the CLI, drop the credential from every cache as soon as the change
commits. The cache is used only while that notification channel is listening: without it a
change could go unseen for `ttl` seconds."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from app.auth.principal import Principal


class PrincipalCache:
    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._listening = False
        # Bumped by every invalidation: a lookup that began before one may have read the old
        # rows, and must not put its (stale) answer in the cache after the invalidation.
        self.generation = 0

    def get(self, credential: str) -> Principal | None:
        entry = self._entries.get(credential)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del self._entries[credential]
            return None
        return entry[1]

    def put(self, credential: str, principal: Principal, generation: int) -> None:
        """Keep `principal`, looked up from the database after reading `generation`."""
        if self.ttl <= 0 or not self._listening or generation != self.generation:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        until = time.monotonic() + self.ttl
        if principal.token_expires_at is not None:
            remaining = (principal.token_expires_at - datetime.now(UTC)).total_seconds()
            until = min(until, time.monotonic() + remaining)
        self._entries[credential] = (until, principal)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    def listening(self, listening: bool) -> None:
        """Whether changes are being heard. Either way the cache starts empty: while nobody
        listened, changes may have been missed."""
        self._listening = listening
        self.clear()

    def forget(self, change: str) -> None:
        """Drop the credentials a change touches: `user:<id>`, `device:<id>`, `token:<jti>`;
        anything else drops them all."""
        kind, _, key = change.partition(":")
        if kind == "token":
            self._drop(lambda p: p.token_id == key)
        elif kind in ("user", "device"):
            try:
                principal_id = uuid.UUID(key)
            except ValueError:
                self.clear()
                return
            self._drop(lambda p: p.kind == kind and p.id == principal_id)
        else:
            self.clear()

    def _drop(self, touched: Callable[[Principal], bool]) -> None:
        self.generation += 1
        # A scan of at most `max_entries`, for a change that happens a few times a day.
        for credential in [c for c, (_, p) in self._entries.items() if touched(p)]:
            del self._entries[credential]
