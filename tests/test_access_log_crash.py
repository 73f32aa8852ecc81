"""The access log is committed before the answer leaves: a `darutrace serve` on an embedded
PostgreSQL of its own answers 200, its PostgreSQL is killed at once (`pg_ctl stop -m
immediate`: no shutdown checkpoint, recovery from the WAL on the next start), and once it is
back the request is in the access log. Then the rows the sealer had not linked when the
database died are sealed after it comes back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
import sqlalchemy as sa

from app.db.embedded import EmbeddedPostgres
from models.audit import SEALER_LOCK
from models.gs1 import with_check_digit
from tests.helpers import LOGINS
from tests.processes import free_port, wait_until_ready

DARUTRACE = str(Path(sys.executable).parent / "darutrace")
PHARMACY = "razi-pharmacy"
PATIENCE = 120.0


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path

    def conninfo(self) -> str:
        url = EmbeddedPostgres(self.data_dir).running_url()
        assert url is not None, "the embedded server is not running"
        return sa.make_url(url).set(drivername="postgresql").render_as_string(False)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`darutrace serve --demo` on an embedded server of its own, whatever DATABASE_URL says:
    killing it must not touch the suite's."""
    data_dir = tmp_path_factory.mktemp("access-log-crash")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"DARUTRACE_DATA_DIR": str(data_dir), "DARUTRACE_PORT": str(port)}
    env["DARUTRACE_LOG_LEVEL"] = "WARNING"
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [DARUTRACE, "serve", "--demo"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(process, url, PATIENCE, output=lambda: log_path.read_text()[-3000:])
        yield LiveServer(url, data_dir)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def _login(api: httpx.Client, username: str) -> dict[str, str]:
    answer = api.post(
        "/api/auth/login", json={"username": username, "password": LOGINS[username].password}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _logged(live: LiveServer, resource: str) -> int:
    with psycopg.connect(live.conninfo()) as connection:
        row = connection.execute(
            "SELECT count(*) FROM access_log WHERE resource = %s AND actor_name = %s",
            (resource, PHARMACY),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _crash_and_restart(live: LiveServer) -> None:
    embedded = EmbeddedPostgres(live.data_dir)
    embedded.halt("immediate")
    embedded.start()  # on the same port: the server's pool reconnects by itself
    embedded.stop()  # our use ends; the server still uses it, so it keeps running


def _until_answered(api: httpx.Client, path: str, body: object, headers: dict[str, str]) -> int:
    """Sent again while the server finds its pool broken by the crash (503s)."""
    deadline = time.monotonic() + PATIENCE
    while True:
        answer = api.post(path, json=body, headers=headers)
        if answer.status_code != 503 or time.monotonic() > deadline:
            assert answer.status_code == 200, answer.text
            return answer.status_code
        time.sleep(0.1)


def _packs_shipped_to_pharmacy(api: httpx.Client, count: int) -> list[str]:
    """`count` new packs shipped by the manufacturer to the pharmacy; their codes."""
    maker = _login(api, "sina-darou")
    gtin = with_check_digit("0626000996101")
    product = {
        "gtin": gtin, "name": "Paracetamol 500 mg", "name_fa": "استامینوفن",
        "generic_name": "paracetamol", "form": "tablet", "strength": "500 mg", "pack_size": 20,
        "atc": "N02BE01", "irc": "IRC-ALC1",
    }  # fmt: skip
    assert api.post("/api/products", json=product, headers=maker).status_code == 201
    batch = {
        "gtin": gtin, "lot": "AL1", "expiry": "2029-12-31", "manufactured_on": "2026-01-01",
        "quantity": count, "origin": "produced",
    }  # fmt: skip
    assert api.post("/api/batches", json=batch, headers=maker).status_code == 201
    made = api.post(f"/api/batches/{gtin}/AL1/packs", json={"count": count}, headers=maker)
    assert made.status_code == 201, made.text
    csv = api.get(f"/api/batches/{gtin}/AL1/packs.csv", headers=maker).text
    codes = [f"(01){gtin}(21){line.split(',')[1]}" for line in csv.splitlines()[1:]]
    shipped = api.post(
        "/api/events",
        json={"event_id": str(uuid.uuid4()), "action": "ship", "codes": codes,
              "destination_gln": LOGINS[PHARMACY].facility_gln},
        headers=maker,
    )  # fmt: skip
    assert shipped.status_code == 200, shipped.text
    return codes


def test_a_request_answered_200_is_in_the_access_log_after_a_crash_right_after(
    live: LiveServer,
) -> None:
    api = httpx.Client(base_url=live.url, timeout=60)
    codes = _packs_shipped_to_pharmacy(api, 3)
    pharmacy = _login(api, PHARMACY)
    for code in codes:
        # A verification (its row written by its lookup) and an event (in a transaction of its
        # own, then its row by the access log's middleware), each answered 200.
        for resource, path, body in (
            ("packs", "/api/verify", {"code": code}),
            ("events", "/api/events",
             {"event_id": str(uuid.uuid4()), "action": "receive", "codes": [code]}),
        ):  # fmt: skip
            before = _logged(live, resource)
            assert _until_answered(api, path, body, pharmacy) == 200
            _crash_and_restart(live)
            assert _logged(live, resource) == before + 1, (resource, path)


def test_rows_committed_but_not_sealed_when_the_database_dies_are_sealed_after(
    live: LiveServer,
) -> None:
    api = httpx.Client(base_url=live.url, timeout=60)
    pharmacy = _login(api, PHARMACY)
    with psycopg.connect(live.conninfo(), autocommit=True) as other_sealer:
        # Another sealer at work holds the lock: the server's seals nothing meanwhile.
        other_sealer.execute("SELECT pg_advisory_lock(%s)", (SEALER_LOCK,))
        for _ in range(20):
            body = {"code": "(01)06260009990014(21)NOSUCHPACK"}
            assert _until_answered(api, "/api/verify", body, pharmacy) == 200
        unsealed = other_sealer.execute(
            "SELECT count(*) FROM access_log WHERE chain_seq IS NULL"
        ).fetchone()
        assert unsealed is not None and unsealed[0] >= 20
        _crash_and_restart(live)  # and the other sealer's session with it
    deadline = time.monotonic() + PATIENCE
    while True:
        verified = subprocess.run(
            [DARUTRACE, "audit", "verify"],
            env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
            | {"DARUTRACE_DATA_DIR": str(live.data_dir)},
            capture_output=True,
            text=True,
            timeout=PATIENCE,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        if "unsealed" not in verified.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    # Sealed by the server's sealer once the database was back, not by this command.
    assert "unsealed" not in verified.stdout, verified.stdout
    assert "all chains intact" in verified.stdout
