"""Each process listens on `darutrace_credentials`, where database triggers (migration 0016)
announce every change to users, devices, revoked tokens and the organisations and facilities
behind them, and drops the cached credentials that the change touches.

One connection a process, kept for listening only. When it drops (PostgreSQL restarted, the
connection was killed), the cache is emptied and not used until listening again, because the
notifications sent meanwhile are lost; reconnection is retried with a growing pause. The
connection doubles as the process's watch on the database: it drops as soon as PostgreSQL stops,
and when it is back `reconnected` runs (the pools' check for connections left dead), so that the
process's first requests after a restart do not meet them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import psycopg

from app.auth.cache import PrincipalCache

CHANNEL = "darutrace_credentials"
APPLICATION_NAME = "darutrace-credentials"  # how the listeners show in pg_stat_activity
# A connection that died without a word (a dropped network path) is noticed by the query sent
# after this many seconds of silence.
HEARTBEAT_SECONDS = 30.0
MAX_PAUSE_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 5
log = logging.getLogger(__name__)


class CredentialChanges:
    def __init__(
        self, conninfo: str, cache: PrincipalCache, reconnected: Callable[[], None]
    ) -> None:
        self._conninfo = conninfo
        self._cache = cache
        self._reconnected = reconnected
        self._task: asyncio.Task[None] | None = None
        self._first_attempt = asyncio.Event()

    async def start(self) -> None:
        """Listen in the background; returns after the first attempt to connect, so that a
        process that starts with the database up caches from its first request."""
        self._task = asyncio.get_running_loop().create_task(self._listen())
        await self._first_attempt.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._cache.listening(False)

    async def _listen(self) -> None:
        pause = 0.1
        dropped = False
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo,
                    autocommit=True,
                    connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    application_name=APPLICATION_NAME,
                ) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self._cache.listening(True)
                    self._first_attempt.set()
                    if dropped:
                        self._reconnected()
                    pause, dropped = 0.1, False
                    while True:
                        async for change in connection.notifies(timeout=HEARTBEAT_SECONDS):
                            self._cache.forget(change.payload)
                        await connection.execute("SELECT 1")
            except (psycopg.Error, OSError) as exc:
                dropped = True
                self._cache.listening(False)
                self._first_attempt.set()
                log.warning(
                    "not listening for credential changes (%s); the credential cache is off "
                    "until reconnected",
                    exc.__class__.__name__,
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_SECONDS)
