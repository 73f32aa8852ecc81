"""Tamper evidence: the hash chains of events, pack events and the access log. Rows changed,
deleted or inserted directly in SQL (by someone able to switch the append-only triggers off) are
each caught by `darutrace audit verify`, which names the first broken link."""

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from app.audit import service
from app.cli import main
from tests.conftest import TEST_DATABASE, PgServer
from tests.helpers import event, facility_gln, headers_for, pack_code, register_batch

Connection = psycopg.Connection[tuple[Any, ...]]


@pytest.fixture
def sql(pg_server: PgServer, database: object) -> Iterator[Connection]:
    with pg_server.connect(TEST_DATABASE) as connection:
        yield connection


@pytest.fixture
def cli(pg_server: PgServer, test_database: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", test_database)
    monkeypatch.setenv("DARUTRACE_DATA_DIR", str(pg_server.data_dir))
    return CliRunner()


async def some_history(client: AsyncTestClient[Any], sql: Connection) -> None:
    """Events at two sites, pack events, and reads in the access log, all sealed."""
    maker = await headers_for(client, "sina-darou")
    razi = await headers_for(client, "razi-pharmacy")
    gtin, _, serials = await register_batch(client, maker, count=5)
    codes = [pack_code(gtin, s) for s in serials]
    await event(client, maker, "ship", codes, destination_gln=facility_gln("razi-pharmacy"))
    await event(client, razi, "receive", codes)
    await event(client, razi, "dispense", codes[:1])
    for code in codes:
        await client.post("/api/verify", json={"code": code}, headers=razi)
    service.seal(sql)


def tamper(sql: Connection, statement: str, *params: object) -> None:
    """As an intruder with superuser rights would: with every trigger switched off."""
    with sql.transaction():
        sql.execute("SET LOCAL session_replication_role = replica")
        sql.execute(statement, params)  # type: ignore[arg-type]


def problems(sql: Connection) -> list[str]:
    return [str(b) for b in service.verify(sql).breaks]


async def test_an_untouched_history_verifies(
    client: AsyncTestClient[Any], sql: Connection, cli: CliRunner
) -> None:
    await some_history(client, sql)
    report = service.verify(sql)
    assert report.ok, report.breaks
    assert report.rows["events"] > 0 and report.rows["pack_events"] > 0
    assert report.rows["access_log"] >= 5
    result = cli.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "all chains intact" in result.output


async def test_the_database_refuses_to_change_history(
    client: AsyncTestClient[Any], sql: Connection
) -> None:
    await some_history(client, sql)
    for statement in (
        "UPDATE events SET offline = NOT offline",
        "DELETE FROM pack_events",
        "UPDATE access_log SET status_code = 200",
        "DELETE FROM access_log",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            sql.execute(statement)


async def test_a_changed_event_is_caught(
    client: AsyncTestClient[Any], sql: Connection, cli: CliRunner
) -> None:
    await some_history(client, sql)
    row = sql.execute(
        "SELECT event_id, chain_seq FROM events WHERE action = 'dispense'"
        " ORDER BY recorded_at DESC LIMIT 1"
    ).fetchone()
    assert row is not None
    tamper(
        sql,
        "UPDATE events SET event_time = event_time - interval '1 day' WHERE event_id = %s",
        row[0],
    )
    assert problems(sql) == [
        f"events stream {service_stream(sql, row[0])} at #{row[1]} (row {row[0]}): the row's "
        "content or hash does not match the chain (changed or inserted)"
    ]
    result = cli.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN events stream" in result.output and str(row[0]) in result.output


def service_stream(sql: Connection, event_id: object) -> int:
    """The number of the event's stream (one of 64, by a hash of its id)."""
    found = sql.execute("SELECT audit_stream(%s::text)", (str(event_id),)).fetchone()
    assert found is not None
    return int(found[0].int)


async def test_a_deleted_pack_event_is_caught(
    client: AsyncTestClient[Any], sql: Connection
) -> None:
    await some_history(client, sql)
    stream = sql.execute(
        "SELECT audit_stream(event_id::text) FROM pack_events GROUP BY 1"
        " HAVING count(*) >= 3 ORDER BY 1 LIMIT 1"
    ).fetchone()
    assert stream is not None
    tamper(
        sql,
        "DELETE FROM pack_events WHERE audit_stream(event_id::text) = %s AND chain_seq = 2",
        stream[0],
    )
    (problem,) = problems(sql)
    assert problem.startswith(f"pack_events stream {stream[0].int} at #3")
    assert "rows #2–#2 are missing (deleted)" in problem


async def test_deleted_last_rows_are_caught(client: AsyncTestClient[Any], sql: Connection) -> None:
    await some_history(client, sql)
    tamper(sql, "DELETE FROM access_log WHERE id > (SELECT max(id) - 2 FROM access_log)")
    # The last two entries, each the end of its stream.
    found = problems(sql)
    assert 1 <= len(found) <= 2
    assert all(p.startswith("access_log stream") for p in found)
    assert all("missing (deleted)" in p for p in found), found


async def test_an_inserted_row_is_caught(client: AsyncTestClient[Any], sql: Connection) -> None:
    await some_history(client, sql)
    tamper(
        sql,
        "INSERT INTO access_log (at, actor_kind, actor_id, actor_name, role, organization_id,"
        " resource, object_id, method, path, status_code, outcome, chain_seq, row_hash)"
        " SELECT at, actor_kind, actor_id, 'nobody', role, organization_id, resource, object_id,"
        " method, path, status_code, outcome, chain_seq, row_hash"
        " FROM access_log ORDER BY id DESC LIMIT 1",
    )
    # The copy takes a new id, so it lands in that id's stream, where its link cannot fit.
    (problem,) = problems(sql)
    assert problem.startswith("access_log stream")
    assert "inserted" in problem


async def test_a_chain_rewritten_wholesale_is_caught_by_its_checkpoint(
    client: AsyncTestClient[Any], sql: Connection, cli: CliRunner
) -> None:
    await some_history(client, sql)
    result = cli.invoke(main, ["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    assert len(result.output.split()[-1]) == 64
    # The intruder changes an event and recomputes the whole chain and its head to match.
    with sql.transaction():
        sql.execute("SET LOCAL session_replication_role = replica")
        sql.execute("SET LOCAL TimeZone = 'UTC'")
        sql.execute("UPDATE events SET offline = true WHERE action = 'dispense'")
        sql.execute("DELETE FROM audit_heads WHERE chain = 'events'")
        sql.execute(
            """
            DO $$
            DECLARE r record; link record;
            BEGIN
                FOR r IN SELECT ctid AS rid, audit_stream(event_id::text) AS stream,
                                to_jsonb(e) - 'chain_seq' - 'row_hash' AS content
                         FROM events e ORDER BY 2, chain_seq
                LOOP
                    link := audit_link('events', r.stream, r.content);
                    UPDATE events SET chain_seq = link.seq, row_hash = link.hash
                    WHERE ctid = r.rid;
                END LOOP;
            END $$
            """
        )
    found = problems(sql)
    # One break per site that dispensed (the demo world's pharmacies and hospital, and Razi).
    assert len(found) >= 1
    assert all("the chain differs from its checkpoint (rewritten)" in p for p in found)
