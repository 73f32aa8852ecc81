"""Shared by the benchmarks: a `darutrace serve --demo` of its own (fresh data directory, free
port, embedded PostgreSQL) and the few API calls that set up products, batches and packs."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from app.demo import demo_password, logins
from models.gs1 import with_check_digit

DARUTRACE = str(Path(sys.executable).parent / "darutrace")
LONG = httpx.Timeout(600.0)  # a million packs in one request takes a while


@dataclass(frozen=True)
class Server:
    url: str
    data_dir: Path
    pid: int = 0  # of `darutrace serve` (not its embedded PostgreSQL)

    def peak_rss_mb(self) -> float:
        """The server process's peak resident memory so far (Linux: VmHWM)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time used so far (user + system) by the server's processes (its workers
        included) and by its PostgreSQL's, from /proc (Linux): processes that have ended are
        not counted, so read it around a run whose connections stay open."""
        postmaster = int((self.data_dir / "pg18" / "postmaster.pid").read_text().split()[0])
        return _tree_cpu_seconds(self.pid), _tree_cpu_seconds(postmaster)

    def pg_conninfo(self) -> str:
        """The embedded PostgreSQL the server runs (port: line 4 of postmaster.pid)."""
        password = (self.data_dir / "pg-password").read_text().strip()
        port = (self.data_dir / "pg18" / "postmaster.pid").read_text().splitlines()[3].strip()
        return f"host=127.0.0.1 port={port} user=postgres password={password} dbname=darutrace"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def demo_server(workers: int | None = None) -> Iterator[Server]:
    """Start `darutrace serve --demo` on an empty data directory; SIGTERM it on the way out.
    With DARUTRACE_BENCH_DATA_DIR set, that directory is used and kept (a second run reuses the
    data it holds, so a bench can be re-measured without building its data again). `workers`:
    that many worker processes, else the server's default (DARUTRACE_WORKERS)."""
    kept = os.environ.get("DARUTRACE_BENCH_DATA_DIR")
    with _data_directory(kept) as data_dir:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env |= {"DARUTRACE_DATA_DIR": str(data_dir), "DARUTRACE_PORT": str(port)}
        if workers is not None:
            env["DARUTRACE_WORKERS"] = str(workers)
        # The benchmarks measure the server, not the per-client limits: one token drives
        # thousands of verifications a second. Set these variables to measure with limits on.
        for rule in ("VERIFY", "PARSE", "RESOLVER"):
            env.setdefault(f"DARUTRACE_RATE_LIMIT_{rule}", "off")
        log_path = data_dir / "server.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen(  # noqa: S603
                [DARUTRACE, "serve", "--demo"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url, server, log_path)
            yield Server(url, data_dir, server.pid)
        except BaseException:
            tail = log_path.read_text(errors="replace")[-4000:]
            print(f"--- server log (tail) ---\n{tail}\n---", file=sys.stderr)
            raise
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)


@contextmanager
def _data_directory(kept: str | None) -> Iterator[Path]:
    if kept:
        Path(kept).mkdir(parents=True, exist_ok=True)
        yield Path(kept)
        return
    with tempfile.TemporaryDirectory(prefix="darutrace-bench-") as tmp:
        yield Path(tmp)


def wait_ready(url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 600  # a loaded machine seeds the demo slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"server exited before it was ready:\n{tail}")
        time.sleep(0.05)
    raise RuntimeError("server not ready after 600 s")


def _tree_cpu_seconds(root: int) -> float:
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # Fields after the command (in parentheses, which may hold spaces): state, ppid, …
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        pid = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(pid)
        ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total / os.sysconf("SC_CLK_TCK")


def checked(response: httpx.Response) -> Any:
    if response.is_error:
        request = response.request
        raise RuntimeError(
            f"{request.method} {request.url} -> {response.status_code}: {response.text[:2000]}"
        )
    return response.json()


def login(client: httpx.Client, username: str) -> dict[str, str]:
    """Authorization headers for a demo user (password `<username>-demo`)."""
    body = {"username": username, "password": demo_password(username)}
    token = checked(client.post("/api/auth/login", json=body))["access_token"]
    return {"Authorization": f"Bearer {token}"}


def facility_gln(username: str) -> str:
    """The demo user's home facility."""
    return next(login.facility_gln for login in logins() if login.username == username)


def new_batch(client: httpx.Client, headers: dict[str, str], quantity: int, n: int = 1) -> str:
    """Register product number `n` (GTIN 0626000998nnn + check digit: under Sina Darou's
    company prefix 62600099, so `headers` must be Sina Darou's, and apart from the demo world's
    0626000999…) and its batch LOT-n; returns the GTIN."""
    gtin = with_check_digit(f"0626000998{n:03d}")
    product = {
        "gtin": gtin,
        "name": f"Bench product {n}",
        "name_fa": f"محصول آزمایشی {n}",
        "generic_name": "Amoxicillin",
        "form": "capsule",
        "strength": "500 mg",
        "pack_size": 20,
        "atc": "J01CA04",
        "irc": f"BENCH{n:06d}",
    }
    checked(client.post("/api/products", json=product, headers=headers))
    batch = {
        "gtin": gtin,
        "lot": f"LOT-{n}",
        "expiry": date(date.today().year + 3, 1, 31).isoformat(),
        "manufactured_on": date.today().isoformat(),
        "quantity": quantity,
        "origin": "produced",
    }
    checked(client.post("/api/batches", json=batch, headers=headers))
    return gtin


def commission(
    client: httpx.Client, headers: dict[str, str], gtin: str, lot: str, count: int
) -> None:
    path = f"/api/batches/{gtin}/{lot}/packs"
    answer = checked(client.post(path, json={"count": count}, headers=headers, timeout=LONG))
    assert answer["commissioned"] == count, answer


def serial_lines(
    client: httpx.Client, headers: dict[str, str], gtin: str, lot: str
) -> Iterator[str]:
    """The batch's serials, streamed from the CSV export (gtin,serial,lot,status)."""
    path = f"/api/batches/{gtin}/{lot}/packs.csv"
    with client.stream("GET", path, headers=headers, timeout=LONG) as response:
        if response.is_error:
            response.read()
            checked(response)
        lines = response.iter_lines()
        next(lines)  # header
        for line in lines:
            if line:
                yield line.split(",")[1]


def code(gtin: str, serial: str) -> str:
    return f"(01){gtin}(21){serial}"


def record(
    client: httpx.Client,
    headers: dict[str, str],
    action: str,
    codes: Sequence[str],
    destination_gln: str | None = None,
) -> dict[str, Any]:
    """POST /api/events; fails unless every code came back `ok`."""
    event: dict[str, Any] = {"event_id": str(uuid.uuid4()), "action": action, "codes": codes}
    if destination_gln:
        event["destination_gln"] = destination_gln
    answer: dict[str, Any] = checked(
        client.post("/api/events", json=event, headers=headers, timeout=LONG)
    )
    if answer["summary"]["ok"] != len(codes):
        raise RuntimeError(f"{action}: not all ok: {answer['summary']} {answer['results'][:3]}")
    return answer


def percentile(sorted_values: Sequence[float], p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def console_session(client: httpx.Client, username: str) -> None:
    form = client.get("/console/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token, "no CSRF token on the login page"
    answer = client.post(
        "/console/login",
        data={
            "username": username,
            "password": demo_password(username),
            "_csrf_token": token[1],
            "next": "/console",
        },
    )
    assert answer.status_code in (302, 303), answer.text
