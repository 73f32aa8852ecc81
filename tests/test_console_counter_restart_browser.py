"""The counter in real Chromium while its server dies: 200 scans queued offline, the server
killed (SIGKILL, no goodbye) while the queue drains, then started again on the same port and
database. The page keeps retrying and, once the server is back, every scan is recorded exactly
once: a send cut off mid-flight is retried as the same event."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.browser import browser, log_in, screenshots
from tests.helpers import LOGINS
from tests.processes import free_port, wait_until_ready
from tests.scan_server import DARUTRACE
from tests.test_console_counter_browser import _api, _batch, _event, _status

__all__ = ["browser", "screenshots"]


class KillableServer:
    """`darutrace serve` on a fixed port and the suite's database, which a test may kill and start
    again (the same data folder: the same secrets, so the console's session survives)."""

    def __init__(self, test_database: str, data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "server.log"
        self.env = os.environ | {
            "DATABASE_URL": test_database,
            "DARUTRACE_DATA_DIR": str(data_dir),
            "DARUTRACE_PORT": str(self.port),
            "DARUTRACE_LOG_LEVEL": "WARNING",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [DARUTRACE, "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_until_ready(self.process, self.url, 90, output=lambda: self.log.read_text()[-3000:])

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


@pytest.fixture
def killable_server(database: object, test_database: str, tmp_path: Path) -> Iterator[Any]:
    server = KillableServer(test_database, tmp_path / "server")
    (tmp_path / "server").mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _dispenses(url: str, facility_gln: str, gtin: str) -> list[tuple[str, str]]:
    """(event id, serial) of every pack dispensed of `gtin` at the facility."""
    plain = re.sub(r"^postgresql\+\w+://", "postgresql://", url)
    with psycopg.connect(plain) as connection:
        rows = connection.execute(
            "SELECT e.event_id::text, pe.serial FROM events e"
            " JOIN facilities f ON f.id = e.facility_id"
            " JOIN pack_events pe USING (event_id)"
            " WHERE f.gln = %s AND e.action = 'dispense' AND pe.gtin = %s",
            (facility_gln, gtin),
        ).fetchall()
    return [(str(event_id), str(serial)) for event_id, serial in rows]


def _until(condition: Any, patience: float, what: str) -> None:
    deadline = time.monotonic() + patience
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


async def test_the_server_killed_mid_sync_of_200_scans_and_restarted_records_each_once(
    browser: Any, killable_server: KillableServer, test_database: str, screenshots: Path
) -> None:
    server = killable_server.url
    razi = LOGINS["razi-pharmacy"].facility_gln
    gtin, serials = _batch(server, "106", "MET12", 200)
    codes = [f"(01){gtin}(21){s}" for s in serials]
    _event(_api(server), "sina-darou", "ship", codes, destination_gln=razi)
    _event(_api(server), "razi-pharmacy", "receive", codes)

    context = await browser.new_context(locale="en")
    await context.add_cookies([{"name": "darutrace_lang", "value": "en", "url": server}])
    page = await context.new_page()
    await log_in(page, server, "razi-pharmacy")
    await page.goto(f"{server}/console/counter")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    await page.click("button.mode[data-mode=dispense]")
    await context.set_offline(True)
    # Whole codes then Enter (the wedge's timing is another test's): one scan each, however
    # busy the machine.
    for serial in serials:
        await page.fill("#scan-input", f"01{gtin}21{serial}")
        await page.press("#scan-input", "Enter")
    await page.wait_for_function(
        "() => document.querySelector('#queued-count').textContent === '200'", timeout=120_000
    )
    assert _dispenses(test_database, razi, gtin) == []

    await context.set_offline(False)
    _until(lambda: len(_dispenses(test_database, razi, gtin)) >= 20, 120, "the drain starting")
    killable_server.kill()
    recorded_at_kill = len(_dispenses(test_database, razi, gtin))
    assert 20 <= recorded_at_kill < 200, "the queue drained before the server was killed"
    queued_at_kill = int(await page.locator("#queued-count").inner_text())
    assert queued_at_kill > 0

    killable_server.start()
    await page.wait_for_function(
        "() => document.querySelector('#queued-count').textContent === '0'"
        " && document.querySelector('#net').dataset.state === 'online'",
        timeout=180_000,
    )
    dispensed = _dispenses(test_database, razi, gtin)
    assert len(dispensed) == 200
    assert sorted(serial for _, serial in dispensed) == sorted(serials)  # each pack once
    scanned = await page.locator("#scans li.scan").evaluate_all(
        "rows => rows.map(row => row.dataset.event)"
    )
    assert sorted(event_id for event_id, _ in dispensed) == sorted(scanned)  # each scan once
    for serial in serials:
        assert _status(server, gtin, serial) == "dispensed", serial
    outcomes = await page.locator("#scans li.scan").evaluate_all(
        "rows => rows.map(row => row.dataset.outcome)"
    )
    assert outcomes == ["ok"] * 200, [o for o in outcomes if o != "ok"]
    assert await page.locator("#attention").is_hidden()
    assert await page.locator("#refusals").is_hidden()
    # The page itself comes from the restarted server too.
    await page.reload()
    await page.wait_for_function("() => document.querySelector('#net')?.dataset.state === 'online'")
    assert await page.locator("#queued-count").inner_text() == "0"
    await page.screenshot(path=str(screenshots / "counter-restart-en.png"), full_page=True)
    await context.close()
