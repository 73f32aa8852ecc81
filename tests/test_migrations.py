import asyncio
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app import demo
from app.audit import service as audit
from app.db import migrate
from app.state import app_state
from models.tables import metadata
from tests.conftest import PgServer, database_at


def test_models_and_migrations_agree(pg_server: PgServer) -> None:
    url = pg_server.create_database("darutrace_test_migrations")
    try:
        migrate.upgrade(url)
        engine = sa.create_engine(url, poolclass=sa.NullPool)
        with engine.connect() as connection:
            diff = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}), metadata
            )
            assert migrate.current_revision(connection) == migrate.head_revision()
            assert MigrationContext.configure(connection).get_current_revision() == (
                migrate.head_revision()
            )
        engine.dispose()
        assert diff == []
        # Upgrading again is a no-op, and the migrations also downgrade cleanly.
        migrate.upgrade(url)
        command.downgrade(migrate.alembic_config(url), "base")
        migrate.upgrade(url)
    finally:
        pg_server.drop_database("darutrace_test_migrations")


def test_the_head_read_from_the_files_is_alembics() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(""))
    assert migrate.head_revision() == script.get_current_head()


async def test_ready_is_503_until_the_schema_is_current(pg_server: PgServer, app: Litestar) -> None:
    url = pg_server.create_database("darutrace_test_unmigrated")
    original = app_state(app).db
    try:
        app_state(app).db = database_at(pg_server, url)
        async with AsyncTestClient(app) as client:
            response = await client.get("/ready")
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/problem+json"
            assert "darutrace db upgrade" in response.json()["detail"]
            assert (await client.get("/health")).status_code == 200
    finally:
        app_state(app).db = original
        pg_server.drop_database("darutrace_test_unmigrated")


async def test_ready_is_503_when_the_database_is_unreachable(
    pg_server: PgServer, app: Litestar
) -> None:
    original = app_state(app).db
    unreachable = sa.make_url(pg_server.url("postgres")).set(port=1).render_as_string(False)
    try:
        app_state(app).db = database_at(pg_server, unreachable)
        async with AsyncTestClient(app) as client:
            response: Any = await client.get("/ready")
            assert response.status_code == 503
            assert "not reachable" in response.json()["detail"]
    finally:
        app_state(app).db = original


def test_history_written_before_the_hash_chains_is_chained_on_upgrade(
    pg_server: PgServer,
) -> None:
    url = pg_server.create_database("darutrace_test_chains")
    try:
        migrate.upgrade(url)
        asyncio.run(demo.seed_database(database_at(pg_server, url)))
        config = migrate.alembic_config(url)
        command.downgrade(config, "0003")  # the chains' columns and triggers are gone
        migrate.upgrade(url)
        with pg_server.connect("darutrace_test_chains") as connection:
            report = audit.verify(connection)
            assert report.ok, report.breaks
            assert report.rows["events"] > 0 and report.rows["pack_events"] > 0
            # And new rows continue the chains, once sealed.
            connection.execute(
                "INSERT INTO access_log (at, actor_kind, actor_id, actor_name, role,"
                " organization_id, resource, method, path, status_code, outcome)"
                " VALUES (now(), 'user', gen_random_uuid(), 'x', 'admin', gen_random_uuid(),"
                " 'packs', 'GET', '/', 200, 'ok')"
            )
            before = audit.verify(connection)
            assert before.ok and before.unsealed["access_log"].rows == 1
            assert audit.seal(connection)["access_log"] == 1
            after = audit.verify(connection)
            assert after.ok and after.unsealed["access_log"].rows == 0
            assert after.rows["access_log"] == before.rows["access_log"] + 1
    finally:
        pg_server.drop_database("darutrace_test_chains")


def test_rows_chained_by_the_old_trigger_stay_valid_and_new_rows_continue_their_streams(
    pg_server: PgServer,
) -> None:
    url = pg_server.create_database("darutrace_test_sealing")
    try:
        config = migrate.alembic_config(url)
        command.upgrade(config, "0013")  # rows chained by a trigger as they are written
        # Today's code seeds the demo; the summaries it keeps include the monthly flows, which
        # 0020 adds (and backfills from the daily ones): a stand-in table until then.
        with pg_server.connect("darutrace_test_sealing") as connection:
            connection.execute(
                "CREATE TABLE indicator_flows_monthly (month date, facility_id uuid, gtin"
                " char(14), action varchar(12), packs bigint, scans bigint,"
                " PRIMARY KEY (month, facility_id, gtin, action))"
            )
        asyncio.run(demo.seed_database(database_at(pg_server, url)))
        with pg_server.connect("darutrace_test_sealing") as connection:
            heads = connection.execute("SELECT sum(seq) FROM audit_heads").fetchone()
            connection.execute("DROP TABLE indicator_flows_monthly")
        migrate.upgrade(url)
        with pg_server.connect("darutrace_test_sealing") as connection:
            report = audit.verify(connection)
            assert report.ok, report.breaks
            assert heads is not None and sum(report.rows.values()) == heads[0]
            assert all(tail.rows == 0 for tail in report.unsealed.values())
            for _ in range(100):  # over 64 streams, so that most continue theirs
                connection.execute(
                    "INSERT INTO access_log (at, actor_kind, actor_id, actor_name, role,"
                    " organization_id, resource, method, path, status_code, outcome)"
                    " VALUES (now(), 'user', gen_random_uuid(), 'x', 'admin', gen_random_uuid(),"
                    " 'packs', 'GET', '/', 200, 'ok')"
                )
            assert audit.seal(connection)["access_log"] == 100
            assert audit.verify(connection).ok
            # Downgrading seals what is pending and puts the trigger back.
            connection.execute(
                "INSERT INTO access_log (at, actor_kind, actor_id, actor_name, role,"
                " organization_id, resource, method, path, status_code, outcome)"
                " VALUES (now(), 'user', gen_random_uuid(), 'x', 'admin', gen_random_uuid(),"
                " 'packs', 'GET', '/', 200, 'ok')"
            )
        command.downgrade(config, "0013")
        with pg_server.connect("darutrace_test_sealing") as connection:
            report = audit.verify(connection)
            assert report.ok, report.breaks
            assert report.rows["access_log"] == sum(
                1 for _ in connection.execute("SELECT 1 FROM access_log")
            )
    finally:
        pg_server.drop_database("darutrace_test_sealing")
