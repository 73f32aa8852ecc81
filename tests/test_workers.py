"""`darutrace serve --workers 2`, for real: two worker processes behind one port, each with its
own credential cache, told of changes by PostgreSQL; and rate limits counted once for both.

Which worker answered a request is read from the server's log (every line names its process):
requests go out in parallel on new connections until both workers have answered some."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.auth.invalidation import APPLICATION_NAME
from models.gs1 import with_check_digit
from tests.conftest import TEST_DATABASE, PgServer
from tests.helpers import LOGINS
from tests.processes import free_port, wait_until_ready

DARUTRACE = str(Path(sys.executable).parent / "darutrace")
PARALLEL = 8
ROUNDS = 25  # of PARALLEL requests, at most, for both workers to be seen answering


@dataclass(frozen=True)
class Server:
    url: str
    log: Path
    env: dict[str, str]

    def workers(self) -> set[int]:
        return {int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", self._text())}

    def answered_by(self, path: str, status: int) -> set[int]:
        """The processes whose log has a request line for `path` answered `status`."""
        pids = set()
        for line in self._text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if (entry.get("event"), entry.get("path"), entry.get("status")) == (
                "request",
                path,
                status,
            ):
                pids.add(entry["pid"])
        return pids

    def _text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def serve_two(
    database: object, test_database: str, tmp_path: Path
) -> Iterator[Callable[..., Server]]:
    """Starts `darutrace serve --workers 2` over the test database (with these variables)."""
    started: list[subprocess.Popen[bytes]] = []

    def serve(**variables: str) -> Server:
        port = free_port()
        env = os.environ | {
            "DATABASE_URL": test_database,
            "DARUTRACE_DATA_DIR": str(tmp_path / "server"),
            "DARUTRACE_PORT": str(port),
            # Cached for an hour: a worker that missed a change would go on accepting.
            "DARUTRACE_AUTH_CACHE_SECONDS": "3600",
            **variables,
        }
        log = tmp_path / "server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [DARUTRACE, "serve", "--workers", "2"], env=env, stdout=out, stderr=out
            )
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(process, url, patience=120, output=lambda: log.read_text())
        server = Server(url, log, env)
        for _ in range(ROUNDS):  # /ready answers once the first worker is up
            if len(server.workers()) == 2:
                break
            _parallel(lambda: httpx.get(f"{url}/ready", timeout=30), PARALLEL)
        assert len(server.workers()) == 2, log.read_text()
        return server

    yield serve
    for process in started:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0


def _parallel(send: Callable[[], httpx.Response], count: int) -> list[httpx.Response]:
    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(lambda _: send(), range(count)))


def _on_both_workers(
    server: Server, path: str, send: Callable[[], httpx.Response], expected: int
) -> None:
    """Sends requests until both workers have answered `path` with `expected`; every answer
    must be `expected`."""
    for _ in range(ROUNDS):
        for response in _parallel(send, PARALLEL):
            assert response.status_code == expected, (response.status_code, response.text)
        if server.answered_by(path, expected) == server.workers():
            return
    pytest.fail(f"not answered by both workers {server.workers()}: {server.log.read_text()}")


def _login(url: str, username: str) -> dict[str, str]:
    body = {"username": username, "password": LOGINS[username].password}
    response = httpx.post(f"{url}/api/auth/login", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _new_device(url: str, admin: dict[str, str]) -> tuple[str, dict[str, str]]:
    me = httpx.get(f"{url}/api/auth/me", headers=_login(url, "razi-pharmacy"), timeout=30)
    device = httpx.post(
        f"{url}/api/devices",
        json={"facility_id": me.json()["facility_id"], "name": "Counter 2"},
        headers=admin,
        timeout=30,
    )
    assert device.status_code == 201, device.text
    return device.json()["id"], {"X-API-Key": device.json()["api_key"]}


def _cached_by_both(server: Server, credential: dict[str, str]) -> None:
    _on_both_workers(
        server,
        "/api/auth/me",
        lambda: httpx.get(f"{server.url}/api/auth/me", headers=credential, timeout=30),
        200,
    )


def _refused_by_both(server: Server, credential: dict[str, str]) -> None:
    """Another path than `_cached_by_both`'s, to tell the answers apart in the log."""
    _on_both_workers(
        server,
        "/api/products",
        lambda: httpx.get(f"{server.url}/api/products", headers=credential, timeout=30),
        401,
    )


def test_a_device_revoked_through_one_worker_is_refused_by_both_at_once(
    serve_two: Callable[..., Server],
) -> None:
    server = serve_two()
    admin = _login(server.url, "fdo-admin")
    device_id, key = _new_device(server.url, admin)
    _cached_by_both(server, key)

    revoked = httpx.post(f"{server.url}/api/devices/{device_id}/revoke", headers=admin, timeout=30)
    assert revoked.status_code == 200, revoked.text

    _refused_by_both(server, key)


def test_a_token_logged_out_through_one_worker_is_refused_by_both_at_once(
    serve_two: Callable[..., Server],
) -> None:
    server = serve_two()
    token = _login(server.url, "razi-pharmacy")
    _cached_by_both(server, token)

    logged_out = httpx.post(f"{server.url}/api/auth/logout", headers=token, timeout=30)
    assert logged_out.status_code == 204, logged_out.text

    _refused_by_both(server, token)


def test_a_device_revoked_from_the_command_line_is_refused_by_the_running_server_at_once(
    serve_two: Callable[..., Server],
) -> None:
    server = serve_two()
    device_id, key = _new_device(server.url, _login(server.url, "fdo-admin"))
    _cached_by_both(server, key)

    revoke = subprocess.run(
        [DARUTRACE, "devices", "revoke", device_id],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert revoke.returncode == 0, revoke.stderr

    _refused_by_both(server, key)


def test_a_rate_limit_is_counted_once_for_both_workers(
    serve_two: Callable[..., Server],
) -> None:
    # A day-long window: its end is unlikely to fall within the test, where it would weigh the
    # requests before it at a little less than one each.
    server = serve_two(DARUTRACE_RATE_LIMIT_RESOLVER="40/day")
    path = f"/01/{with_check_digit('0626000999001')}/21/NOSUCHPACK"

    answers = _parallel(lambda: httpx.get(f"{server.url}{path}", timeout=30), 80)

    statuses = [response.status_code for response in answers]
    assert statuses.count(200) == 40, statuses
    assert statuses.count(429) == 40, statuses
    # Both workers let some through: counting on its own, each would have let 40.
    assert server.answered_by(path, 200) == server.workers(), server.log.read_text()


def test_a_worker_that_lost_its_listening_connection_forgets_what_it_cached(
    serve_two: Callable[..., Server], pg_server: PgServer
) -> None:
    """Notifications sent while a worker is not listening are lost to it: it must not trust its
    cache after reconnecting."""
    server = serve_two()
    device_id, key = _new_device(server.url, _login(server.url, "fdo-admin"))
    _cached_by_both(server, key)
    with pg_server.connect(TEST_DATABASE) as database:
        # A change nobody hears (triggers off): the workers go on answering from their cache.
        with database.transaction():
            database.execute("SET LOCAL session_replication_role = replica")
            database.execute("UPDATE devices SET revoked_at = now() WHERE id = %s", (device_id,))
        _on_both_workers(
            server,
            "/api/products",
            lambda: httpx.get(f"{server.url}/api/products", headers=key, timeout=30),
            200,
        )
        ended = database.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) "
            "FROM pg_stat_activity WHERE application_name = %s AND datname = %s",
            (APPLICATION_NAME, TEST_DATABASE),
        ).fetchone()
        assert ended == (2,)

    _on_both_workers(
        server,
        "/api/auth/me",
        lambda: httpx.get(f"{server.url}/api/auth/me", headers=key, timeout=30),
        401,
    )
