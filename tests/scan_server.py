"""The real server in a subprocess and the `darutrace scan` command run against it, for the
scanner's end-to-end tests."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from models.gs1 import with_check_digit
from tests.helpers import LOGINS
from tests.processes import free_port, wait_until_ready

DARUTRACE = str(Path(sys.executable).parent / "darutrace")


@pytest.fixture
def live_server(database: object, test_database: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": test_database,
        "DARUTRACE_DATA_DIR": str(tmp_path / "server"),
        "DARUTRACE_PORT": str(port),
    }
    server = subprocess.Popen(
        [DARUTRACE, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_ready(server, url, patience=60)
    try:
        yield url
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def scan(
    args: list[str], outbox: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DARUTRACE_SCANNER_OUTBOX": str(outbox)}
    return subprocess.run(
        [DARUTRACE, "scan", *args],
        env=env, input=stdin, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def login(api: httpx.Client, username: str) -> dict[str, str]:
    token = api.post(
        "/api/auth/login", json={"username": username, "password": f"{username}-demo"}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def batch_at_hub(server: str, item: str) -> tuple[httpx.Client, dict[str, str], str, list[str]]:
    """50 new packs shipped by the manufacturer to the Tehran hub, in transit there."""
    api = httpx.Client(base_url=server, timeout=30)
    maker = login(api, "sina-darou")
    gtin = with_check_digit(f"0626000999{item}")
    api.post(
        "/api/products",
        json={"gtin": gtin, "name": "Cetirizine 10 mg", "name_fa": "ستیریزین", "generic_name":
              "cetirizine", "form": "tablet", "strength": "10 mg", "pack_size": 10,
              "atc": "R06AE07", "irc": "IRC-CTZ"},
        headers=maker,
    ).raise_for_status()  # fmt: skip
    api.post(
        "/api/batches",
        json={"gtin": gtin, "lot": "CTZ9", "expiry": "2028-12-31", "manufactured_on":
              "2026-01-01", "quantity": 50, "origin": "produced"},
        headers=maker,
    ).raise_for_status()  # fmt: skip
    api.post(f"/api/batches/{gtin}/CTZ9/packs", json={"count": 50}, headers=maker)
    csv = api.get(f"/api/batches/{gtin}/CTZ9/packs.csv", headers=maker).text
    serials = [line.split(",")[1] for line in csv.splitlines()[1:]]
    codes = [f"(01){gtin}(21){s}" for s in serials]
    shipped = api.post(
        "/api/events",
        json={"event_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "action": "ship",
              "codes": codes, "destination_gln": LOGINS["darupakhsh"].facility_gln},
        headers=maker,
    )  # fmt: skip
    assert shipped.json()["summary"]["ok"] == 50
    return api, maker, gtin, serials
