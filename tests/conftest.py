"""Tests run against a real PostgreSQL: the server named by DATABASE_URL, or an embedded one in
a temporary data directory. The demo world is migrated and seeded once into a template
database; every test gets its own copy of it (CREATE DATABASE … TEMPLATE), so tests never see
each other's rows."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from app import demo
from app.db import migrate
from app.db.database import Database, normalize_url
from app.db.embedded import EmbeddedPostgres
from app.factory import create_app
from app.settings import Settings

TEMPLATE = f"darutrace_test_template_{os.getpid()}"
_counter = itertools.count()


@dataclasses.dataclass(frozen=True)
class TestServer:
    base_url: str  # SQLAlchemy URL of the server's maintenance database
    data_dir: Path

    def url(self, database: str) -> str:
        return sa.make_url(self.base_url).set(database=database).render_as_string(False)

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            sa.make_url(self.base_url).set(drivername="postgresql").render_as_string(False),
            autocommit=True,
        )


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServer]:
    data_dir = tmp_path_factory.mktemp("darutrace-data")
    embedded: EmbeddedPostgres | None = None
    if os.environ.get("DATABASE_URL"):
        base_url = normalize_url(os.environ["DATABASE_URL"])
    else:
        embedded = EmbeddedPostgres(data_dir / "server", database="postgres")
        base_url = embedded.start()
    maintenance = sa.make_url(base_url).set(database="postgres").render_as_string(False)
    server = TestServer(base_url=maintenance, data_dir=data_dir)
    with server.admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
        conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    template = _database(server, TEMPLATE)
    migrate.upgrade(template.url)
    asyncio.run(_seed(template))
    try:
        yield server
    finally:
        with server.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        if embedded is not None:
            embedded.stop()


def _settings(server: TestServer, url: str) -> Settings:
    return Settings(
        database_url=url,
        data_dir=server.data_dir,
        host="127.0.0.1",
        port=0,
        token_ttl_minutes=60,
        log_level="WARNING",
        jwt_secret_override="test-secret-" + "x" * 40,
    )


def _database(server: TestServer, name: str) -> Database:
    db = Database(_settings(server, server.url(name)))
    db.start(run_migrations=False)
    return db


async def _seed(db: Database) -> None:
    db.open_pool()
    try:
        async with db.session() as session:
            await demo.seed(session)
    finally:
        await db.close_pool()


@pytest.fixture
def database(pg_server: TestServer) -> Iterator[Database]:
    """A fresh copy of the migrated, demo-seeded database for one test."""
    name = f"darutrace_test_{os.getpid()}_{next(_counter)}"
    with pg_server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    try:
        yield _database(pg_server, name)
    finally:
        with pg_server.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def client(database: Database) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    app = create_app(database.settings, database)
    async with AsyncTestClient(app) as test_client:
        yield test_client
