"""The database a process uses: `DATABASE_URL`, or the embedded server in the data directory."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from psycopg_pool import AsyncConnectionPool
from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import migrate
from app.db.embedded import EmbeddedPostgres
from app.integrity import raise_translated
from app.settings import Settings

log = logging.getLogger(__name__)

POOL_TIMEOUT = 3.0  # seconds a request waits for a pooled connection before a 503
RECONNECT_TIMEOUT = 2.0  # seconds one reconnection attempt (with backoff) goes on before restarting


def normalize_url(url: str) -> str:
    """Accept the usual `postgres://` / `postgresql://` forms and select the psycopg 3 driver."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)


class Database:
    """Owns the server (when embedded) and the connection pool of one process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._embedded: EmbeddedPostgres | None = None
        self.url = ""
        self.engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self.pool: AsyncConnectionPool | None = None
        self._checking: asyncio.Task[None] | None = None

    def start(self, *, run_migrations: bool = True) -> None:
        self.start_server()
        if run_migrations:
            self.migrate()

    def start_server(self) -> None:
        """The embedded server started (or joined), or DATABASE_URL taken as it is."""
        if self.settings.database_url:
            self.url = normalize_url(self.settings.database_url)
        else:
            self._embedded = EmbeddedPostgres(self.settings.data_dir)
            self.url = self._embedded.start()
            log.info("embedded PostgreSQL ready in %s", self.settings.data_dir)

    def migrate(self) -> None:
        migrate.upgrade(self.url)

    @property
    def conninfo(self) -> str:
        """The URL for plain psycopg (libpq) connections."""
        return make_url(self.url).set(drivername="postgresql").render_as_string(False)

    async def open_pool(self) -> None:
        """Two pools: SQLAlchemy sessions for most work, and plain psycopg connections for the
        hot paths (verifying a pack, writing the access log), where the ORM's overhead would
        be most of the cost."""
        # Pre-ping: a connection left from before a database restart is replaced, not used.
        self.engine = create_async_engine(
            self.url, pool_size=10, max_overflow=10, pool_pre_ping=True
        )
        # A unique or foreign-key violation leaves a session as the problem it means (409, 422).
        event.listen(self.engine.sync_engine, "handle_error", raise_translated)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        conninfo = self.conninfo
        # Autocommit: each hot-path statement is its own transaction, with no BEGIN/COMMIT trips.
        # Not checked on checkout (a round trip on every verify); `connection_lost` purges the
        # stale connections instead. While the database is down a request waits at most
        # POOL_TIMEOUT for a connection (then 503), and reconnection attempts give up and start
        # over every RECONNECT_TIMEOUT, so the pool is back within seconds of the database.
        self.pool = AsyncConnectionPool(
            conninfo,
            min_size=2,
            max_size=20,
            kwargs={"autocommit": True},
            timeout=POOL_TIMEOUT,
            reconnect_timeout=RECONNECT_TIMEOUT,
            open=False,
        )
        await self.pool.open()

    def connection_lost(self) -> None:
        """A request met a dead connection: the server restarted or is down. Test the idle
        connections now and replace the dead ones, rather than failing one more request for
        each of them."""
        if self.pool is None or (self._checking is not None and not self._checking.done()):
            return
        self._checking = asyncio.get_running_loop().create_task(self.pool.check())

    async def close_pool(self) -> None:
        if self._checking is not None:
            self._checking.cancel()
            await asyncio.gather(self._checking, return_exceptions=True)
            self._checking = None
        if self.pool is not None:
            await self.pool.close()
            self.pool = None
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    def stop(self) -> None:
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None

    def new_session(self) -> AsyncSession:
        assert self._sessions is not None, "open_pool() first"
        return self._sessions()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        assert self._sessions is not None, "open_pool() first"
        async with self._sessions() as session:
            yield session
