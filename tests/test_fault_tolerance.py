"""The database restarting under load, for real: a `darutrace serve` subprocess on its own
embedded PostgreSQL, a client recording receive and dispense events one pack at a time, and the
PostgreSQL server stopped (`pg_ctl stop -m fast`, then `-m immediate`) and started again mid-run.
While it is down the API answers 503 problems (never a 500, never a hang); once it is back the
same API process records events again; every acknowledged event is in the database exactly once
and nothing else is. Then a client that retries: after a timeout, and racing its own request."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa

from app.db.embedded import EmbeddedPostgres
from models.gs1 import with_check_digit
from tests.helpers import LOGINS
from tests.processes import free_port, wait_until_ready

DARUTRACE = str(Path(sys.executable).parent / "darutrace")
PHARMACY = "razi-pharmacy"
# A request during the outage waits at most POOL_TIMEOUT (3 s) for a connection; an answer that
# takes longer than this is a hang, whatever the machine's load.
CLIENT_TIMEOUT = 60.0
# How long the test waits for something that should happen within seconds before failing.
PATIENCE = 120.0


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]

    def conninfo(self) -> str:
        url = EmbeddedPostgres(self.data_dir).running_url()
        assert url is not None, "the embedded server is not running"
        return sa.make_url(url).set(drivername="postgresql").render_as_string(False)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`darutrace serve --demo` on an embedded server of its own (stopping it must not touch the
    suite's server), whatever DATABASE_URL says."""
    data_dir = tmp_path_factory.mktemp("fault-tolerance")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"DARUTRACE_DATA_DIR": str(data_dir), "DARUTRACE_PORT": str(port)}
    env["DARUTRACE_LOG_LEVEL"] = "WARNING"
    env["DARUTRACE_AUTH_CACHE_SECONDS"] = "0.5"  # credentials are read from the database too
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [DARUTRACE, "serve", "--demo"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(process, url, PATIENCE, output=lambda: log_path.read_text()[-3000:])
        yield LiveServer(url, data_dir, process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        assert EmbeddedPostgres(data_dir).running_url() is None  # stopped on the way out


def _login(api: httpx.Client, username: str) -> dict[str, str]:
    answer = api.post(
        "/api/auth/login", json={"username": username, "password": LOGINS[username].password}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _packs_shipped_to_pharmacy(api: httpx.Client, item: str, count: int) -> tuple[str, list[str]]:
    """`count` new packs of a new product, shipped by the manufacturer to the pharmacy."""
    maker = _login(api, "sina-darou")
    gtin = with_check_digit(f"0626000997{item}")
    product = {
        "gtin": gtin, "name": f"Paracetamol 500 mg ({item})", "name_fa": "استامینوفن",
        "generic_name": "paracetamol", "form": "tablet", "strength": "500 mg", "pack_size": 20,
        "atc": "N02BE01", "irc": f"IRC-FT{item}",
    }  # fmt: skip
    assert api.post("/api/products", json=product, headers=maker).status_code == 201
    batch = {
        "gtin": gtin, "lot": "FT1", "expiry": "2029-12-31", "manufactured_on": "2026-01-01",
        "quantity": count, "origin": "produced",
    }  # fmt: skip
    assert api.post("/api/batches", json=batch, headers=maker).status_code == 201
    made = api.post(f"/api/batches/{gtin}/FT1/packs", json={"count": count}, headers=maker)
    assert made.status_code == 201, made.text
    csv = api.get(f"/api/batches/{gtin}/FT1/packs.csv", headers=maker).text
    serials = [line.split(",")[1] for line in csv.splitlines()[1:]]
    shipped = api.post(
        "/api/events",
        json={"event_id": str(uuid.uuid4()), "action": "ship",
              "codes": [_code(gtin, s) for s in serials],
              "destination_gln": LOGINS[PHARMACY].facility_gln},
        headers=maker,
    )  # fmt: skip
    assert shipped.status_code == 200 and shipped.json()["summary"]["ok"] == count, shipped.text
    return gtin, serials


def _code(gtin: str, serial: str) -> str:
    return f"(01){gtin}(21){serial}"


@dataclass
class Attempt:
    event_id: str
    action: str
    serial: str
    sent_in: str  # the phase when the request was sent and when its answer came
    answered_in: str
    status: int | None  # None: no answer (transport error or client timeout)
    body: Any
    seconds: float  # reported, not asserted


@dataclass
class Load:
    """One client recording receive-then-dispense for each pack, one event per request, each
    with its own event_id, retrying a failed event with the same event_id until it is
    acknowledged. It stops between events, so every event it sent is acknowledged in the end."""

    api: httpx.Client
    headers: dict[str, str]
    gtin: str
    serials: list[str]
    phase: str = "before"
    attempts: list[Attempt] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def run(self) -> None:
        for serial in self.serials:
            for action in ("receive", "dispense"):
                if self.stop.is_set():
                    return
                self._until_acknowledged(serial, action, str(uuid.uuid4()))

    def _until_acknowledged(self, serial: str, action: str, event_id: str) -> None:
        event = {"event_id": event_id, "action": action, "codes": [_code(self.gtin, serial)]}
        while True:
            sent_in, started = self.phase, time.monotonic()
            try:
                response = self.api.post("/api/events", json=event, headers=self.headers)
                status, body = response.status_code, _json(response)
            except httpx.TransportError as exc:
                status, body = None, repr(exc)
            with self.changed:
                took = time.monotonic() - started
                attempt = Attempt(event_id, action, serial, sent_in, self.phase, status, body, took)
                self.attempts.append(attempt)
                self.changed.notify_all()
            if status is not None and 200 <= status < 300:
                return
            if status not in (None, 503):
                return  # unexpected: reported by the test, no point going on with this pack
            time.sleep(0.05)

    def wait_for(self, what: str, condition: Callable[[list[Attempt]], bool]) -> None:
        def done() -> bool:
            return condition(self.attempts) or any(
                a.status not in (200, 503) for a in self.attempts
            )

        with self.changed:
            self.changed.wait_for(done, timeout=PATIENCE)
            if not condition(self.attempts):
                raise AssertionError(f"waited in vain for {what}; last: {self.attempts[-3:]}")

    def acknowledged(self) -> list[Attempt]:
        return [a for a in self.attempts if a.status is not None and 200 <= a.status < 300]


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _count(phase: str, *, status: int | None) -> Callable[[list[Attempt]], bool]:
    def enough(attempts: list[Attempt]) -> bool:
        return (
            sum(a.sent_in == a.answered_in == phase and a.status == status for a in attempts) >= 3
        )

    return enough


def _acknowledged_in(phase: str, n: int) -> Callable[[list[Attempt]], bool]:
    def enough(attempts: list[Attempt]) -> bool:
        ok = [a for a in attempts if a.sent_in == phase and a.status == 200]
        return len(ok) >= n

    return enough


def test_database_restarts_under_load_503_then_recovery_and_nothing_lost(
    live: LiveServer,
) -> None:
    api = httpx.Client(base_url=live.url, timeout=CLIENT_TIMEOUT)
    gtin, serials = _packs_shipped_to_pharmacy(api, "101", 400)
    load = Load(api, _login(api, PHARMACY), gtin, serials)
    embedded = EmbeddedPostgres(live.data_dir)
    pid_before = live.process.pid
    client = threading.Thread(target=load.run)
    client.start()
    try:
        load.wait_for("events before the outage", _acknowledged_in("before", 20))
        for mode in ("fast", "immediate"):
            load.phase = f"stopping-{mode}"
            embedded.halt(mode)  # returns once the server is down
            load.phase = f"down-{mode}"
            load.wait_for(f"503s while down ({mode})", _count(f"down-{mode}", status=503))
            load.phase = f"restarting-{mode}"
            embedded.start()  # any darutrace process brings it back, on the same port
            embedded.stop()  # our use ends; the API still uses it, so it keeps running
            load.phase = f"up-{mode}"
            load.wait_for(f"events after restart ({mode})", _acknowledged_in(f"up-{mode}", 20))
    finally:
        load.stop.set()
        client.join(timeout=PATIENCE)
    assert not client.is_alive()
    assert live.process.poll() is None and live.process.pid == pid_before  # never restarted

    attempts = load.attempts
    # Every answer is a success or a 503 problem; no 500, no other error, no hang or drop.
    assert {a.status for a in attempts} <= {200, 503}, [a for a in attempts if a.status != 200]
    unavailable = [a for a in attempts if a.status == 503]
    for attempt in unavailable:
        assert attempt.body["status"] == 503 and attempt.body["title"] == "Service Unavailable"
        assert "retry" in attempt.body["detail"]
    # While the server was down (sent and answered within the outage), nothing but 503s.
    for mode in ("fast", "immediate"):
        during = [a for a in attempts if a.sent_in == a.answered_in == f"down-{mode}"]
        assert during and {a.status for a in during} == {503}
    # Each event the client sent was retried with its event_id until acknowledged, and the
    # database holds each acknowledged event exactly once, with its pack effect once.
    acknowledged = load.acknowledged()
    sent_ids = {a.event_id for a in attempts}
    assert sent_ids == {a.event_id for a in acknowledged}
    assert len(acknowledged) == len(sent_ids)  # one acknowledgement per event
    retried = {a.event_id for a in unavailable}
    assert retried and retried <= sent_ids
    _assert_recorded_exactly_once(live, gtin, acknowledged)
    _report(attempts)


def _report(attempts: list[Attempt]) -> None:
    """Figures for people (`pytest -s`): how the outages looked to the client."""
    for mode in ("fast", "immediate"):
        down = [a for a in attempts if a.status == 503 and mode in a.sent_in]
        slowest = max((a.seconds for a in down), default=0.0)
        print(
            f"\noutage ({mode}): {len(down)} answers 503, slowest {slowest:.2f} s; "
            f"{sum(a.status == 200 and a.sent_in == f'up-{mode}' for a in attempts)} events "
            "acknowledged after the restart"
        )
    print(f"{len(attempts)} requests, slowest answer {max(a.seconds for a in attempts):.2f} s")


def _assert_recorded_exactly_once(live: LiveServer, gtin: str, acknowledged: list[Attempt]) -> None:
    with psycopg.connect(live.conninfo()) as conn:
        events = conn.execute(
            "SELECT e.event_id::text, e.action, count(pe.*) FROM events e "
            "JOIN pack_events pe USING (event_id) WHERE pe.gtin = %s AND e.action <> 'ship' "
            "GROUP BY e.event_id, e.action",
            (gtin,),
        ).fetchall()
        packs: dict[str, str] = dict(
            conn.execute("SELECT serial, status FROM packs WHERE gtin = %s", (gtin,)).fetchall()
        )
        per_pack = conn.execute(
            "SELECT serial, action, count(*) FROM pack_events WHERE gtin = %s "
            "AND action <> 'ship' GROUP BY serial, action HAVING count(*) > 1",
            (gtin,),
        ).fetchall()
    expected = {(a.event_id, a.action) for a in acknowledged}
    assert {(event_id, action) for event_id, action, _ in events} == expected
    assert all(rows == 1 for _, _, rows in events)  # one pack each, once
    assert per_pack == []  # no pack received or dispensed twice
    dispensed = {a.serial for a in acknowledged if a.action == "dispense"}
    received = {a.serial for a in acknowledged if a.action == "receive"}
    assert {s for s, status in packs.items() if status == "dispensed"} == dispensed
    assert dispensed <= received


def _dispense(api: httpx.Client, headers: dict[str, str], event: dict[str, Any]) -> httpx.Response:
    return api.post("/api/events", json=event, headers=headers)


def test_a_retry_after_a_timeout_or_racing_the_original_has_one_effect(live: LiveServer) -> None:
    api = httpx.Client(base_url=live.url, timeout=CLIENT_TIMEOUT)
    gtin, serials = _packs_shipped_to_pharmacy(api, "102", 6)
    pharmacy = _login(api, PHARMACY)
    received = api.post(
        "/api/events",
        json={"event_id": str(uuid.uuid4()), "action": "receive",
              "codes": [_code(gtin, s) for s in serials]},
        headers=pharmacy,
    )  # fmt: skip
    assert received.status_code == 200 and received.json()["summary"]["ok"] == 6

    # The client gives up before the answer comes (the server goes on with the request), then
    # sends the same event again: one dispense, and the retry gets the first answer.
    timed_out = {"event_id": str(uuid.uuid4()), "action": "dispense",
                 "codes": [_code(gtin, serials[0])]}  # fmt: skip
    with pytest.raises(httpx.TimeoutException):
        api.post("/api/events", json=timed_out, headers=pharmacy, timeout=0.001)
    retry = _dispense(api, pharmacy, timed_out)
    assert retry.status_code == 200, retry.text
    assert retry.json()["results"][0]["outcome"] == "ok"
    again = _dispense(api, pharmacy, timed_out)
    assert again.json() == retry.json()

    # The same event sent eight times at once (a retry racing the original): one effect, and
    # every sender gets the same answer.
    racing = {"event_id": str(uuid.uuid4()), "action": "dispense",
              "codes": [_code(gtin, s) for s in serials[1:4]]}  # fmt: skip
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: _dispense(api, pharmacy, racing), range(8)))
    assert {a.status_code for a in answers} == {200}
    assert all(a.json() == answers[0].json() for a in answers)
    assert answers[0].json()["summary"]["ok"] == 3

    # Different events for the same pack at once (a double scan at the counter): one dispenses
    # it, the others are told it already was (a warning; the status changes once).
    rivals = [
        {"event_id": str(uuid.uuid4()), "action": "dispense", "codes": [_code(gtin, serials[4])]}
        for _ in range(8)
    ]
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda event: _dispense(api, pharmacy, event), rivals))
    assert {o.status_code for o in outcomes} == {200}
    results = sorted(o.json()["results"][0]["outcome"] for o in outcomes)
    assert results == ["ok"] + ["warning"] * 7

    with psycopg.connect(live.conninfo()) as conn:
        rows = conn.execute(
            "SELECT serial, count(*) FROM pack_events WHERE gtin = %s AND action = 'dispense' "
            "AND outcome = 'ok' GROUP BY serial",
            (gtin,),
        ).fetchall()
        stored = conn.execute(
            "SELECT count(*) FROM events WHERE event_id::text = ANY(%s)",
            ([timed_out["event_id"], racing["event_id"]],),
        ).fetchone()
    assert dict(rows) == {serial: 1 for serial in serials[:5]}
    assert stored == (2,)


def test_the_console_says_the_database_is_down_in_a_page_not_a_trace(live: LiveServer) -> None:
    browser = httpx.Client(base_url=live.url, timeout=CLIENT_TIMEOUT, follow_redirects=True)
    form = browser.get("/console/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token, form.text
    signed_in = browser.post(
        "/console/login",
        data={
            "username": "fdo-inspector",
            "password": "fdo-inspector-demo",
            "_csrf_token": token[1],
        },
    )
    assert signed_in.status_code == 200, signed_in.text
    embedded = EmbeddedPostgres(live.data_dir)
    embedded.halt("fast")
    try:
        down = browser.get("/console")
        for _ in range(20):  # the first request may be the one that finds the pool broken
            if down.status_code == 503:
                break
            time.sleep(0.2)
            down = browser.get("/console")
        assert down.status_code == 503, down.text
        assert down.headers["content-type"].startswith("text/html")
        assert 'dir="rtl"' in down.text
        assert "پایگاه داده هم‌اکنون در دسترس نیست" in down.text
        assert "Traceback" not in down.text
    finally:
        embedded.start()
        embedded.stop()
    for _ in range(50):
        if browser.get("/console").status_code == 200:
            break
        time.sleep(0.2)
    assert browser.get("/console").status_code == 200
