"""The `darutrace` command, run as a user would."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from app.cli import main
from app.db.embedded import EmbeddedPostgres
from models.gs1 import with_check_digit
from tests.conftest import PgServer

DARUTRACE = str(Path(sys.executable).parent / "darutrace")


@pytest.fixture
def cli_env(
    pg_server: PgServer, database: object, test_database: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    """The CLI pointed at the test database (freshly reset to the demo world)."""
    monkeypatch.setenv("DATABASE_URL", test_database)
    monkeypatch.setenv("DARUTRACE_DATA_DIR", str(pg_server.data_dir))
    yield CliRunner()


def _json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_demo_logins_are_json_lines() -> None:
    result = CliRunner().invoke(main, ["demo", "logins"])
    assert result.exit_code == 0
    logins = _json_lines(result.output)
    assert len(logins) == 12
    assert set(logins[0]) == {"username", "password", "role", "organization", "facility_gln"}
    assert {login["role"] for login in logins} >= {"admin", "inspector", "pharmacy", "hospital"}


def test_bootstrap_first_admin_then_devices(cli_env: CliRunner) -> None:
    runner = cli_env
    gln = with_check_digit("626000555500")
    result = runner.invoke(
        main,
        [
            "organizations",
            "create",
            "--gln",
            gln,
            "--name",
            "Provincial FDO",
            "--name-fa",
            "معاونت غذا و دارو",
            "--kind",
            "regulator",
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        main,
        ["users", "create", "--username", "first-admin", "--role", "admin", "--org", gln],
        input="s3cret-enough\ns3cret-enough\n",
    )
    assert result.exit_code == 0, result.output
    assert _json_lines(result.output)[0]["role"] == "admin"

    result = runner.invoke(
        main,
        [
            "users",
            "create",
            "--username",
            "x",
            "--role",
            "pharmacy",
            "--org",
            gln,
            "--password",
            "long-enough-1",
        ],
    )
    assert result.exit_code != 0
    assert "regulator organisation can be" in result.output

    facility_gln = with_check_digit("626000999961")  # Dr. Razi Pharmacy in the demo world
    result = runner.invoke(
        main, ["devices", "create", "--facility", facility_gln, "--name", "Counter 3"]
    )
    assert result.exit_code == 0, result.output
    device = _json_lines(result.output)[0]
    assert str(device["api_key"]).startswith("dtk_")
    result = runner.invoke(main, ["devices", "revoke", str(device["id"])])
    assert result.exit_code == 0, result.output
    assert _json_lines(result.output)[0]["revoked_at"]
    result = runner.invoke(main, ["devices", "revoke", str(device["id"])])
    assert result.exit_code != 0
    assert "already revoked" in result.output

    result = runner.invoke(
        main, ["devices", "create", "--facility", "1234567890128", "--name", "x"]
    )
    assert result.exit_code != 0
    assert "No facility with GLN 1234567890128" in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_demo_from_nothing_to_a_working_login(tmp_path: Path) -> None:
    """The README's main command on an empty data directory: initdb, migrate, seed, serve; the
    printed login works; SIGTERM shuts down cleanly and stops the database."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"DARUTRACE_DATA_DIR": str(tmp_path), "DARUTRACE_PORT": str(port)}
    server = subprocess.Popen(
        [DARUTRACE, "serve", "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.communicate()[0]
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server never became ready"
            time.sleep(0.2)
        login = httpx.post(
            f"{base}/api/auth/login",
            json={"username": "fdo-inspector", "password": "fdo-inspector-demo"},
        )
        assert login.status_code == 200
        token = login.json()["access_token"]
        organizations = httpx.get(
            f"{base}/api/organizations", headers={"Authorization": f"Bearer {token}"}
        )
        assert organizations.status_code == 200
        assert len(organizations.json()) == 11
        assert httpx.get(f"{base}/schema/").status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert server.returncode == 0, output
    assert f"DaruTrace at http://127.0.0.1:{port}" in output
    assert re.search(r"fdo-inspector\s+fdo-inspector-demo\s+inspector", output)
    assert EmbeddedPostgres(tmp_path)._running_port() is None
