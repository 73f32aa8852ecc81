"""The SQL round trips of one verify and of one single-code dispense, listed per request.

A DaruTrace demo server provides the database and the packs; a second `darutrace serve` (same
data directory, DATABASE_URL) reaches that PostgreSQL through a proxy that reads the wire
protocol. A round trip is a burst of messages the client sends before it waits for the server;
each is listed with its statements (prepared ones by the text they were prepared with), the
server's command tags and the time until the server was ready again. Requests are sent one at a
time, and the proxy's record is read a moment after each answer, so that what is written after
the answer (the access log) counts with its request.

    uv run python bench/round_trips.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import re
import signal
import struct
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from harness import DARUTRACE, checked, demo_server, free_port, login, wait_ready
from http_load import PHARMACY, received_packs

SETTLE_SECONDS = 0.5  # after an answer, for what the server writes once it has answered


@dataclass
class Trip:
    connection: int
    started: float
    statements: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    ready_at: float | None = None  # the last ReadyForQuery of the burst

    @property
    def milliseconds(self) -> float:
        return ((self.ready_at or self.started) - self.started) * 1000


class WireRecorder:
    """Counts bursts per connection; one list for all connections, in the order they began."""

    def __init__(self) -> None:
        self.trips: list[Trip] = []
        self._lock = threading.Lock()
        self._connections = 0

    def take(self) -> list[Trip]:
        with self._lock:
            trips, self.trips = self.trips, []
        return trips

    async def serve(self, listen_port: int, upstream_port: int, ready: threading.Event) -> None:
        async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
            self._connections += 1
            state = _Connection(self, self._connections)
            await asyncio.gather(
                _pump(reader, up_writer, state.from_client, startup=True),
                _pump(up_reader, writer, state.from_server, startup=False),
                return_exceptions=True,
            )
            writer.close()
            up_writer.close()

        server = await asyncio.start_server(relay, "127.0.0.1", listen_port)
        ready.set()
        async with server:
            await server.serve_forever()


class _Connection:
    def __init__(self, recorder: WireRecorder, number: int) -> None:
        self.recorder, self.number = recorder, number
        self.prepared: dict[str, str] = {}  # statement name -> text
        self.trip: Trip | None = None
        self.server_spoke = True  # so that the first client message opens a trip

    def from_client(self, kind: bytes, body: bytes) -> None:
        if kind == b"X":
            return  # Terminate: nothing waits for an answer
        if self.server_spoke or self.trip is None:
            self.trip = Trip(self.number, time.perf_counter())
            with self.recorder._lock:
                self.recorder.trips.append(self.trip)
            self.server_spoke = False
        if kind == b"Q":
            self.trip.statements.append(_text(body.rstrip(b"\0")))
        elif kind == b"P":
            name, rest = body.split(b"\0", 1)
            text = _text(rest.split(b"\0", 1)[0])
            self.prepared[name.decode()] = text
            self.trip.statements.append(text if not name else f"PREPARE {name.decode()}: {text}")
        elif kind == b"B":
            statement = body.split(b"\0", 2)[1].decode()
            # An unnamed statement, or one prepared in this burst, is listed by its Parse.
            just_prepared = self.trip.statements[-1:] and self.trip.statements[-1].startswith(
                f"PREPARE {statement}:"
            )
            if statement and not just_prepared:
                self.trip.statements.append(f"EXECUTE {statement}: {self.prepared[statement]}")
        elif kind == b"d" and self.trip.statements[-1:] != ["COPY data"]:
            self.trip.statements.append("COPY data")

    def from_server(self, kind: bytes, body: bytes) -> None:
        self.server_spoke = True
        if self.trip is None:
            return
        if kind == b"C":
            self.trip.tags.append(body.rstrip(b"\0").decode())
        elif kind == b"E":
            self.trip.tags.append("ERROR")
        elif kind == b"Z":
            self.trip.ready_at = time.perf_counter()


def _text(raw: bytes) -> str:
    return re.sub(r"\s+", " ", raw.decode(errors="replace")).strip()


async def _pump(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    seen: Callable[[bytes, bytes], None],
    *,
    startup: bool,
) -> None:
    """Forwards bytes as they come and hands each whole message to `seen`. The client's first
    message (startup) has no type byte; SSL and GSS encryption are disabled in the URL."""
    buffer = b""
    untyped = startup
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
        buffer += data
        while True:
            if untyped:
                if len(buffer) < 4:
                    break
                (length,) = struct.unpack("!I", buffer[:4])
                if len(buffer) < length:
                    break
                buffer, untyped = buffer[length:], False
                continue
            if len(buffer) < 5:
                break
            (length,) = struct.unpack("!I", buffer[1:5])
            if len(buffer) < 1 + length:
                break
            seen(buffer[:1], buffer[5 : 1 + length])
            buffer = buffer[1 + length :]


@contextmanager
def wire_proxy(upstream_port: int) -> Iterator[tuple[int, WireRecorder]]:
    recorder, port, ready = WireRecorder(), free_port(), threading.Event()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=loop.run_until_complete,
        args=(recorder.serve(port, upstream_port, ready),),
        daemon=True,  # the proxy dies with the bench
    )
    thread.start()
    ready.wait(10)
    yield port, recorder


@contextmanager
def proxied_server(data_dir: Path, proxy_port: int) -> Iterator[str]:
    """`darutrace serve` on the demo server's data directory, its database through the proxy."""
    password = (data_dir / "pg-password").read_text().strip()
    port = free_port()
    env = os.environ | {
        "DARUTRACE_DATA_DIR": str(data_dir),
        "DARUTRACE_PORT": str(port),
        "DATABASE_URL": f"postgresql://postgres:{password}@127.0.0.1:{proxy_port}/darutrace"
        "?sslmode=disable&gssencmode=disable",
    }
    for rule in ("VERIFY", "PARSE", "RESOLVER"):
        env.setdefault(f"DARUTRACE_RATE_LIMIT_{rule}", "off")
    log_path = data_dir / "proxied-server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603
            [DARUTRACE, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, server, log_path)
        yield url
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def trips_of(recorder: WireRecorder, send: Callable[[], None]) -> tuple[list[Trip], float]:
    recorder.take()
    started = time.perf_counter()
    send()
    elapsed = (time.perf_counter() - started) * 1000
    time.sleep(SETTLE_SECONDS)
    return recorder.take(), elapsed


def print_trips(label: str, trips: list[Trip], elapsed_ms: float) -> None:
    connections = sorted({trip.connection for trip in trips})
    in_database = sum(trip.milliseconds for trip in trips)
    print(
        f"\n{label}: {len(trips)} round trips on {len(connections)} connection(s),"
        f" {in_database:.1f} ms waiting on PostgreSQL, answered in {elapsed_ms:.1f} ms"
    )
    for n, trip in enumerate(trips, 1):
        statements = " | ".join(s[:150] for s in trip.statements) or "(no statement)"
        tags = ",".join(trip.tags)
        print(
            f"  {n:>2}. conn {trip.connection:<3} {trip.milliseconds:6.2f} ms"
            f"  [{tags}]  {statements}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="requests of each kind, in turn")
    args = parser.parse_args()

    with demo_server() as demo, httpx.Client(base_url=demo.url) as client:
        codes = received_packs(client, args.repeat + 1)
        verified, dispensed = codes[0], codes[1 : args.repeat + 1]
        upstream = int(re.search(r"port=(\d+)", demo.pg_conninfo())[1])  # type: ignore[index]
        with (
            wire_proxy(upstream) as (proxy_port, recorder),
            proxied_server(demo.data_dir, proxy_port) as url,
            httpx.Client(base_url=url) as proxied,
        ):
            headers = login(proxied, PHARMACY)

            def verify() -> None:
                answer = checked(
                    proxied.post("/api/verify", json={"code": verified}, headers=headers)
                )
                assert answer["status"] == "active", answer

            def dispense(pack: str) -> None:
                event = {"event_id": str(uuid.uuid4()), "action": "dispense", "codes": [pack]}
                answer = checked(proxied.post("/api/events", json=event, headers=headers))
                assert answer["results"][0]["outcome"] == "ok", answer

            for n in range(1, args.repeat + 1):
                trips, elapsed = trips_of(recorder, verify)
                print_trips(f"verify #{n}", trips, elapsed)
            for n, pack in enumerate(dispensed, 1):
                trips, elapsed = trips_of(recorder, functools.partial(dispense, pack))
                print_trips(f"dispense #{n}", trips, elapsed)


if __name__ == "__main__":
    main()
