"""The embedded server: first start (initdb), reuse, shared use by several processes, clean stop.
These tests run whatever user the suite runs as; in CI that is root, which PostgreSQL itself
refuses, so they also prove the user-namespace start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import sqlalchemy as sa

from app.db.embedded import EmbeddedPostgres

DARUTRACE = str(Path(sys.executable).parent / "darutrace")


def _query(url: str, sql: str) -> object:
    conninfo = sa.make_url(url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(sql).fetchone()
        assert row is not None
        return row[0]


def test_first_start_initialises_then_reuses_and_the_last_user_stops(tmp_path: Path) -> None:
    first = EmbeddedPostgres(tmp_path)
    url = first.start()
    assert str(_query(url, "SHOW server_version")).startswith("18.")
    assert _query(url, "SELECT current_database()") == "darutrace"
    assert (tmp_path / "pg18" / "PG_VERSION").read_text().strip() == "18"
    # Data files stay owned by whoever runs DaruTrace (root included); no system user is made.
    assert (tmp_path / "pg18").stat().st_uid == os.geteuid()
    assert (tmp_path / "pg-password").stat().st_mode & 0o077 == 0

    second = EmbeddedPostgres(tmp_path)
    assert second.start() == url  # the running server is shared, not started twice
    first.stop()
    assert _query(url, "SELECT 1") == 1  # still in use by `second`
    second.stop()
    assert EmbeddedPostgres(tmp_path)._running_port() is None

    third = EmbeddedPostgres(tmp_path)
    url = third.start()  # restart on the existing cluster, data kept
    assert _query(url, "SELECT current_database()") == "darutrace"
    third.stop()


def test_two_processes_starting_at_once_on_a_new_data_dir(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DARUTRACE_DATA_DIR"] = str(tmp_path)
    processes = [
        subprocess.Popen(
            [DARUTRACE, "db", "upgrade"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0].decode() for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    current = subprocess.run(
        [DARUTRACE, "db", "current"], env=env, capture_output=True, text=True, timeout=60
    )
    assert current.returncode == 0, current.stderr
    assert "up to date" in current.stdout
    assert EmbeddedPostgres(tmp_path)._running_port() is None  # stopped cleanly on exit
