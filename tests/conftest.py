"""Tests run against a real PostgreSQL: the server named by DATABASE_URL, or an embedded one in
a temporary data directory. A test database is migrated and seeded with the demo world once; its
rows are kept in a `test_seed` schema, and before every test each table is emptied and refilled
from there, so tests never see each other's rows."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app import demo
from app.audit import service as audit
from app.db import migrate
from app.db.database import Database, normalize_url
from app.db.embedded import EmbeddedPostgres
from app.factory import create_app
from app.settings import Settings
from app.state import app_state
from models.tables import metadata

# The servers the tests start are single processes unless a test asks for more
# (`tests/test_workers.py` runs `serve --workers 2`): many tests start servers side by side, and
# each worker holds up to 41 connections of the test PostgreSQL's 100.
os.environ.setdefault("DARUTRACE_WORKERS", "1")

TEST_DATABASE = f"darutrace_test_{os.getpid()}"
# A throwaway cluster needs no crash safety.
FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@dataclasses.dataclass(frozen=True)
class PgServer:
    base_url: str  # SQLAlchemy URL of the server's maintenance database
    data_dir: Path

    def url(self, database: str) -> str:
        return sa.make_url(self.base_url).set(database=database).render_as_string(False)

    def connect(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        url = sa.make_url(self.url(database)).set(drivername="postgresql")
        return psycopg.connect(url.render_as_string(False), autocommit=True)

    def create_database(self, name: str) -> str:
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    data_dir = tmp_path_factory.mktemp("darutrace-data")
    embedded: EmbeddedPostgres | None = None
    if os.environ.get("DATABASE_URL"):
        base_url = normalize_url(os.environ["DATABASE_URL"])
    else:
        embedded = EmbeddedPostgres(data_dir / "server", database="postgres", server_settings=FAST)
        base_url = embedded.start()
    maintenance = sa.make_url(base_url).set(database="postgres").render_as_string(False)
    try:
        yield PgServer(base_url=maintenance, data_dir=data_dir)
    finally:
        if embedded is not None:
            embedded.stop()


def settings_for(server: PgServer, url: str) -> Settings:
    return Settings(
        database_url=url,
        data_dir=server.data_dir,
        host="127.0.0.1",
        port=0,
        token_ttl_minutes=60,
        log_level="WARNING",
        jwt_secret_override="test-secret-" + "x" * 40,
    )


def database_at(server: PgServer, url: str) -> Database:
    db = Database(settings_for(server, url))
    db.start(run_migrations=False)
    return db


TABLES = [table.name for table in metadata.sorted_tables]


@pytest.fixture(scope="session")
def test_database(pg_server: PgServer) -> Iterator[str]:
    url = pg_server.create_database(TEST_DATABASE)
    migrate.upgrade(url)
    asyncio.run(demo.seed_database(database_at(pg_server, url)))
    with pg_server.connect(TEST_DATABASE) as conn:
        audit.seal(conn)  # every test starts from a world sealed into its hash chains
        conn.execute("CREATE SCHEMA test_seed")
        for table in TABLES:
            conn.execute(f'CREATE TABLE test_seed."{table}" AS TABLE public."{table}"')
    try:
        yield url
    finally:
        pg_server.drop_database(TEST_DATABASE)


def _reset(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    names = ", ".join(f'public."{table}"' for table in TABLES)
    with conn.transaction():
        # Triggers off: the seed's rows come back as they were, hash chains included.
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        for table in TABLES:
            conn.execute(f'INSERT INTO public."{table}" SELECT * FROM test_seed."{table}"')


def fresh_database(pg_server: PgServer, test_database: str) -> Database:
    """The test database, holding exactly the demo world again."""
    with pg_server.connect(TEST_DATABASE) as conn:
        _reset(conn)
    return database_at(pg_server, test_database)


@pytest.fixture
def database(pg_server: PgServer, test_database: str) -> Database:
    return fresh_database(pg_server, test_database)


@pytest.fixture(scope="session")
def app(pg_server: PgServer, test_database: str) -> Litestar:
    """One application for the whole run (building it is the slow part)."""
    db = database_at(pg_server, test_database)
    return create_app(db.settings, db)


@asynccontextmanager
async def client_for(app: Litestar, database: Database) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A test's client of the shared app, started over `database`: starting, the app forgets
    what earlier tests made it remember (facilities, credentials, rate-limit counts)."""
    app_state(app).db = database
    async with AsyncTestClient(app) as test_client:
        yield test_client


@pytest.fixture
async def client(app: Litestar, database: Database) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with client_for(app, database) as test_client:
        yield test_client
