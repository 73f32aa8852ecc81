"""Sealing delay under the verify load: how long an access-log row waits between its commit and
its link into the hash chain (the server's sealer, every 0.1 s), p50 and p99 over the whole run
and minute by minute (target: p99 ≤ 1 s, no growth over 5 minutes), while wrk verifies one pack
over 32 connections.

A sampler polls the server's PostgreSQL every 50 ms: a row seen sealed for the first time at
a poll has waited at most (the poll's clock − the row's `at`, written with clock_timestamp() as
the row was inserted, just before its commit); figures are upper bounds to within a poll.

    uv run python bench/sealing.py [--duration 300] [--connections 32]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import psycopg
from harness import code, commission, demo_server, login, new_batch, percentile, serial_lines
from http_load import VERIFY_LUA, parse_wrk

POLL = 0.05
# Rows may commit out of the order of their ids (concurrent requests): each poll looks this many
# ids behind the highest it has seen.
LATE_IDS = 500


@dataclass
class Sampler:
    conninfo: str
    delays: list[tuple[float, float]] = field(default_factory=list)  # (seconds into run, delay)
    backlog: list[int] = field(default_factory=list)  # unsealed rows at each poll
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            first = connection.execute("SELECT coalesce(max(id), 0) FROM access_log").fetchone()
            assert first is not None
            highest, pending, done = int(first[0]), {}, set()
            started = time.monotonic()
            while not self.stop.is_set():
                rows = connection.execute(
                    "SELECT id, at, chain_seq IS NOT NULL FROM access_log WHERE id > %s",
                    (highest - LATE_IDS,),
                ).fetchall()
                now = connection.execute("SELECT clock_timestamp()").fetchone()
                assert now is not None
                unsealed = 0
                for row_id, at, sealed in rows:
                    if row_id in done or row_id <= highest - LATE_IDS:
                        continue
                    if sealed:
                        self._sealed(now[0], pending.pop(row_id, at), started)
                        done.add(row_id)
                    else:
                        pending[row_id] = at
                        unsealed += 1
                    highest = max(highest, row_id)
                self.backlog.append(unsealed)
                done = {i for i in done if i > highest - LATE_IDS}
                time.sleep(POLL)

    def _sealed(self, now: datetime, at: datetime, started: float) -> None:
        self.delays.append((time.monotonic() - started, (now - at).total_seconds()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=300, help="seconds of load")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu), then run again.")

    with (
        tempfile.TemporaryDirectory() as tmp,
        demo_server() as server,
        httpx.Client(base_url=server.url) as client,
    ):
        maker = login(client, "sina-darou")
        gtin = new_batch(client, maker, quantity=10)
        commission(client, maker, gtin, "LOT-1", 10)
        verified = code(gtin, next(serial_lines(client, maker, gtin, "LOT-1")))
        authorization = login(client, "razi-pharmacy")["Authorization"]
        script = Path(tmp, "verify.lua")
        script.write_text(VERIFY_LUA % (verified, authorization))
        sampler = Sampler(server.pg_conninfo())
        sampling = threading.Thread(target=sampler.run)
        sampling.start()
        time.sleep(1)  # the sampler has read where the log ends
        command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s"]
        command += ["--latency", "--timeout", "10s", "-s", str(script), f"{server.url}/api/verify"]
        run = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
        time.sleep(2)  # the last rows' seals
        sampler.stop.set()
        sampling.join()
        with psycopg.connect(server.pg_conninfo()) as connection:
            left = connection.execute(
                "SELECT count(*) FROM access_log WHERE chain_seq IS NULL"
            ).fetchone()
    load = parse_wrk(run.stdout)
    errors = f" ({load.errors})" if load.errors else ""
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {os.cpu_count()} CPUs")
    print(
        f"verify: {load.requests_per_second:.0f} req/s, p50 {load.p50_ms:.1f} ms, "
        f"p99 {load.p99_ms:.1f} ms{errors}"
    )
    delays = sorted(d for _, d in sampler.delays)
    print(
        f"sealing delay over {len(delays):,} access-log rows: p50 {percentile(delays, 50):.3f} s,"
        f" p99 {percentile(delays, 99):.3f} s, max {delays[-1]:.3f} s (target p99 ≤ 1 s)"
    )
    for minute in range(0, args.duration + 59, 60):
        window = sorted(d for t, d in sampler.delays if minute <= t - 1 < minute + 60)
        if window:
            print(
                f"  minute {minute // 60 + 1}: {len(window):,} rows, p50 "
                f"{percentile(window, 50):.3f} s, p99 {percentile(window, 99):.3f} s"
            )
    backlog = sorted(sampler.backlog)
    print(
        f"unsealed rows at a poll: p50 {percentile(backlog, 50)}, max {backlog[-1]}; "
        f"left unsealed at the end: {left[0] if left else '?'}"
    )


if __name__ == "__main__":
    main()
