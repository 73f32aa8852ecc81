"""`darutrace backup` and `darutrace restore`, run as an operator would: the test database (the
demo world plus new packs and events) backed up, restored into a new embedded server in an empty
data directory, backed up from there and restored into an empty database of the suite's server.
Every table's rows and every sequence survive both trips, the hash chains still verify, and a
restore refuses to go over existing data."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.audit import service as audit
from app.db.embedded import POSTGRES_BIN_PATH, EmbeddedPostgres
from tests.conftest import TEST_DATABASE, PgServer
from tests.helpers import facility_gln, login, pack_code, register_batch

DARUTRACE = str(Path(sys.executable).parent / "darutrace")
RESTORED = f"darutrace_restored_{os.getpid()}"


def _darutrace(
    *args: str, database_url: str | None = None, data_dir: Path
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DARUTRACE_DATA_DIR"] = str(data_dir)
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [DARUTRACE, *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )


def _conninfo(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(False)


def _snapshot(url: str) -> dict[str, Any]:
    """Every table's row count and a digest of its rows, and every sequence's position."""
    with psycopg.connect(_conninfo(url)) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        state: dict[str, Any] = {}
        for table in tables:
            state[table] = conn.execute(
                "SELECT count(*), md5(coalesce(string_agg(t::text, '|' "
                f'ORDER BY t::text COLLATE "C"), \'\')) FROM public."{table}" t'
            ).fetchone()
        for (sequence,) in conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall():
            state[f"sequence {sequence}"] = conn.execute(
                f'SELECT last_value, is_called FROM public."{sequence}"'
            ).fetchone()
    return state


async def _add_events(client: AsyncTestClient[Litestar]) -> None:
    """New packs, shipped to a pharmacy, received and partly dispensed (events, pack events,
    access log rows, hash chain links)."""
    maker = await login(client, "sina-darou")
    gtin, _, serials = await register_batch(client, maker, item="731", count=40)
    codes = [pack_code(gtin, serial) for serial in serials]
    pharmacy = await login(client, "razi-pharmacy")
    for action, headers, batch in (
        ("ship", maker, codes),
        ("receive", pharmacy, codes),
        ("dispense", pharmacy, codes[:15]),
    ):
        event: dict[str, Any] = {"event_id": str(uuid.uuid4()), "action": action, "codes": batch}
        if action == "ship":
            event["destination_gln"] = facility_gln("razi-pharmacy")
        answer = await client.post("/api/events", json=event, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["summary"]["ok"] == len(batch)


async def test_backup_restore_into_embedded_then_into_an_empty_database(
    client: AsyncTestClient[Litestar], pg_server: PgServer, test_database: str, tmp_path: Path
) -> None:
    await _add_events(client)
    with pg_server.connect(TEST_DATABASE) as connection:
        # Sealed now, so that the server's sealer changes nothing between snapshot and backup.
        audit.seal(connection)
    await asyncio.to_thread(_backup_and_restore_twice, pg_server, test_database, tmp_path)


def _backup_and_restore_twice(pg_server: PgServer, test_database: str, tmp_path: Path) -> None:
    assert (POSTGRES_BIN_PATH / "pg_dump").exists() and (POSTGRES_BIN_PATH / "pg_restore").exists()
    original = _snapshot(test_database)
    assert original["pack_events"][0] > 0 and original["access_log"][0] > 0

    # DATABASE_URL → file
    first = tmp_path / "darutrace.dump"
    done = _darutrace("backup", str(first), database_url=test_database, data_dir=tmp_path / "cli")
    assert done.returncode == 0, done.stderr
    assert "backup of" in done.stdout and first.stat().st_size > 0
    assert first.stat().st_mode & 0o077 == 0  # it holds password hashes
    assert not list(tmp_path.glob(".*.partial"))

    # file → a new embedded server in an empty data directory
    data_dir = tmp_path / "restored"
    done = _darutrace("restore", str(first), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    embedded = EmbeddedPostgres(data_dir)
    url = embedded.start()
    try:
        assert _snapshot(url) == original
    finally:
        embedded.stop()
    assert EmbeddedPostgres(data_dir).running_url() is None  # the restore left it stopped
    verified = _darutrace("audit", "verify", data_dir=data_dir)
    assert verified.returncode == 0, verified.stderr
    assert "all chains intact" in verified.stdout

    # the restored embedded server → file → an empty database on the suite's server
    second = tmp_path / "embedded.dump"
    done = _darutrace("backup", str(second), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    target = pg_server.create_database(RESTORED)
    try:
        done = _darutrace("restore", str(second), database_url=target, data_dir=tmp_path / "cli")
        assert done.returncode == 0, done.stderr
        assert _snapshot(target) == original
        verified = _darutrace("audit", "verify", database_url=target, data_dir=tmp_path / "cli")
        assert verified.returncode == 0, verified.stderr

        # never over existing data
        again = _darutrace("restore", str(second), database_url=target, data_dir=tmp_path / "x")
        assert again.returncode == 1
        assert "is not empty" in again.stderr and "restore never overwrites data" in again.stderr
    finally:
        pg_server.drop_database(RESTORED)
    again = _darutrace("restore", str(first), data_dir=data_dir)
    assert again.returncode == 1
    assert f"The data directory {data_dir} is not empty" in again.stderr
    assert _darutrace("audit", "verify", data_dir=data_dir).returncode == 0  # untouched


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk.dump"
    junk.write_bytes(b"not a dump")
    done = _darutrace("restore", str(junk), data_dir=tmp_path / "new")
    assert done.returncode == 1
    assert "pg_restore failed" in done.stderr
    assert not (tmp_path / "new").exists()  # nothing was created
    missing = _darutrace("restore", str(tmp_path / "nope.dump"), data_dir=tmp_path / "new")
    assert missing.returncode == 1 and "No backup at" in missing.stderr


def test_backup_of_a_data_directory_without_a_database(tmp_path: Path) -> None:
    done = _darutrace("backup", str(tmp_path / "x.dump"), data_dir=tmp_path / "empty")
    assert done.returncode == 1
    assert "No embedded database in" in done.stderr
    assert not (tmp_path / "x.dump").exists()
