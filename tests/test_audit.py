"""Tamper evidence: the hash chains of events, pack events and the access log. Rows are sealed
into the chains after they commit (by the server's sealer, or `darutrace audit seal`); rows
changed, deleted or inserted directly in SQL once sealed (by someone able to switch the
append-only triggers off) are each caught by `darutrace audit verify`, which names the first
broken link and reports the rows not sealed yet."""

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from app.audit import service
from app.cli import main
from app.db.database import Database
from models.audit import SEALER_LOCK
from tests.conftest import TEST_DATABASE, PgServer, client_for
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
        *(f"TRUNCATE {table} CASCADE" for table in APPEND_ONLY),  # past the keys, to the trigger
        "TRUNCATE events, packs CASCADE",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            sql.execute(statement)


APPEND_ONLY = ("events", "pack_events", "access_log", "container_events", "alert_changes")
LOG_ROW = (
    "INSERT INTO access_log (at, actor_kind, actor_id, actor_name, role, organization_id,"
    " resource, method, path, status_code, outcome) VALUES (now(), 'user', gen_random_uuid(),"
    " 'someone', 'admin', gen_random_uuid(), 'packs', 'GET', '/api/packs', 200, 'ok')"
    " RETURNING id"
)


def test_only_the_sealers_link_of_an_unsealed_row_is_let_through(sql: Connection) -> None:
    row = sql.execute(LOG_ROW).fetchone()
    assert row is not None
    where = f" WHERE id = {row[0]}"
    for refused in (
        "UPDATE access_log SET chain_seq = 1, row_hash = '\\x00', path = '/elsewhere'",
        "UPDATE access_log SET chain_seq = 1",
        "UPDATE access_log SET row_hash = '\\x00'",
        "DELETE FROM access_log",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            sql.execute(refused + where)
    assert service.seal(sql)["access_log"] == 1
    sealed = sql.execute("SELECT chain_seq, row_hash FROM access_log" + where).fetchone()
    assert sealed is not None and sealed[0] >= 1 and len(sealed[1]) == 32
    # Once sealed, its link is as fixed as the rest of it.
    for refused in (
        "UPDATE access_log SET chain_seq = chain_seq + 1",
        "UPDATE access_log SET chain_seq = NULL, row_hash = NULL",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            sql.execute(refused + where)
    assert service.verify(sql).ok


async def test_the_server_seals_what_it_writes(
    client: AsyncTestClient[Any], sql: Connection
) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, _, serials = await register_batch(client, maker, count=3)
    await event(client, maker, "ship", [pack_code(gtin, s) for s in serials],
                destination_gln=facility_gln("razi-pharmacy"))  # fmt: skip
    for _ in range(600):  # the sealer's tick is 0.1 s; the patience is the loaded machine's
        report = service.verify(sql)
        if not any(tail.rows for tail in report.unsealed.values()):
            break
        await asyncio.sleep(0.1)
    assert report.ok, report.breaks
    assert report.unsealed == {
        table: service.Tail(0, None) for table in ("events", "pack_events", "access_log")
    }
    unsealed = sql.execute(
        "SELECT count(*) FROM pack_events WHERE gtin = %s AND chain_seq IS NULL", (gtin,)
    ).fetchone()
    assert unsealed == (0,)


async def test_rows_wait_unsealed_while_another_sealer_works_and_the_command_seals_them(
    app: Any, database: Database, sql: Connection, cli: CliRunner, pg_server: PgServer
) -> None:
    with pg_server.connect(TEST_DATABASE) as other_sealer, other_sealer.transaction():
        # Another process's sealer at work: the server's finds the lock taken and waits.
        other_sealer.execute("SELECT pg_advisory_xact_lock(%s)", (SEALER_LOCK,))
        async with client_for(app, database) as client:
            await some_history_unsealed(client)
            await asyncio.sleep(0.5)  # ticks of the server's sealer, which must not seal
        result = cli.invoke(main, ["audit", "verify"])
        assert result.exit_code == 0, result.output
        tails = {
            table: int(rows.replace(",", ""))
            for table, rows in re.findall(r"unsealed (\w+): ([\d,]+) row", result.output)
        }
        assert tails.keys() == {"events", "pack_events", "access_log"}, result.output
        assert tails["pack_events"] >= 11 and tails["access_log"] >= 5
        assert re.search(r"the oldest written [\d.]+ s ago", result.output)
        assert "all chains intact" in result.output
    # The other sealer is gone (its transaction ended) and so is the server: nothing sealed
    # them until an operator does.
    result = cli.invoke(main, ["audit", "seal"])
    assert result.exit_code == 0, result.output
    sealed = dict(
        (table, int(rows.replace(",", "")))
        for rows, table in re.findall(r"sealed ([\d,]+) (\w+)", result.output)
    )
    assert sealed == tails
    result = cli.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0 and "unsealed" not in result.output, result.output
    assert cli.invoke(main, ["audit", "seal"]).output.split() == [
        "sealed", "0", "events", "sealed", "0", "pack_events", "sealed", "0", "access_log"
    ]  # fmt: skip


async def some_history_unsealed(client: AsyncTestClient[Any]) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, _, serials = await register_batch(client, maker, count=5)
    codes = [pack_code(gtin, s) for s in serials]
    await event(client, maker, "ship", codes, destination_gln=facility_gln("razi-pharmacy"))
    razi = await headers_for(client, "razi-pharmacy")
    await event(client, razi, "receive", codes)
    await event(client, razi, "dispense", codes[:1])
    for code in codes:
        await client.post("/api/verify", json={"code": code}, headers=razi)


def test_a_hash_given_to_an_unsealed_row_is_reported(sql: Connection) -> None:
    row = sql.execute(LOG_ROW).fetchone()
    assert row is not None
    tamper(sql, "UPDATE access_log SET row_hash = '\\x00' WHERE id = %s", row[0])
    assert problems(sql) == [
        "access_log: 1 row(s) have a hash but no place in the chain (changed; the sealer "
        "cannot link them)"
    ]
    # The sealer links the rows after it all the same.
    second = sql.execute(LOG_ROW).fetchone()
    assert service.seal(sql)["access_log"] == 1 and second is not None
    assert sql.execute(
        "SELECT chain_seq IS NOT NULL FROM access_log WHERE id = %s", (second[0],)
    ).fetchone() == (True,)


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


async def test_reordered_rows_are_caught(client: AsyncTestClient[Any], sql: Connection) -> None:
    await some_history(client, sql)
    # Two pack events of the last dispense's stream, one after the other, trade places.
    pair = sql.execute(
        "SELECT a.ctid::text, b.ctid::text, a.chain_seq FROM pack_events a JOIN pack_events b"
        " ON audit_stream(a.event_id::text) = audit_stream(b.event_id::text)"
        " AND b.chain_seq = a.chain_seq + 1"
        " ORDER BY a.recorded_at DESC LIMIT 1"
    ).fetchone()
    assert pair is not None
    first, second, seq = pair
    tamper(
        sql,
        "UPDATE pack_events SET chain_seq = CASE ctid WHEN %s::tid THEN %s ELSE %s END"
        " WHERE ctid IN (%s::tid, %s::tid)",
        first, seq + 1, seq, first, second,
    )  # fmt: skip
    (problem,) = problems(sql)
    assert problem.startswith("pack_events stream") and f"at #{seq} " in problem
    assert "does not match the chain" in problem
