"""What counting a rate limit in PostgreSQL costs a request (one statement on the request's own
connection, `app.security.rate_limit`):

1. one connection, one call after another: the limit's statement beside `SELECT 1` (the bare
   round trip), in microseconds a call;
2. 32 connections at once, every call for one client (one row: the calls queue for its lock,
   as when one scanner or one token sends everything) and each connection for a client of its
   own;
3. with `--http`: POST /api/verify under wrk (bench/http_load.py, 32 connections, one token),
   the verify limit off and on (set too high to refuse), alternately, `--runs` times each.

    uv run python bench/rate_limit.py [--calls 5000] [--http] [--runs 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg
from harness import demo_server

from app.security.config import SecuritySettings
from app.security.rate_limit import RateLimits

CONNECTIONS = 32
NEVER_REFUSED = "1000000000/minute"
HTTP_LOAD = Path(__file__).with_name("http_load.py")


async def per_call_us(calls: int, call: Callable[[], Awaitable[Any]]) -> float:
    for _ in range(100):  # warm-up: the statement is prepared after a few executions
        await call()
    started = time.perf_counter()
    for _ in range(calls):
        await call()
    return (time.perf_counter() - started) / calls * 1e6


async def sequential(conninfo: str, calls: int) -> None:
    limits = RateLimits(SecuritySettings(rate_limit_verify=NEVER_REFUSED))
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as connection:
        bare = await per_call_us(calls, lambda: connection.execute("SELECT 1"))
        limited = await per_call_us(
            calls, lambda: limits.check(connection, "verify", "bench:sequential")
        )
    print(
        f"one connection: SELECT 1 {bare:.0f} us, the limit's statement {limited:.0f} us a call "
        f"({limited - bare:.0f} us more than the bare round trip; {calls:,} calls each)"
    )


async def concurrent(conninfo: str, calls: int, one_client: bool) -> None:
    limits = RateLimits(SecuritySettings(rate_limit_verify=NEVER_REFUSED))
    connections = [
        await psycopg.AsyncConnection.connect(conninfo, autocommit=True) for _ in range(CONNECTIONS)
    ]
    each = calls // CONNECTIONS

    async def hammer(index: int, connection: psycopg.AsyncConnection[Any]) -> None:
        client = "bench:one" if one_client else f"bench:{index}"
        for _ in range(each):
            await limits.check(connection, "verify", client)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(hammer(i, c) for i, c in enumerate(connections)))
        elapsed = time.perf_counter() - started
    finally:
        for connection in connections:
            await connection.close()
    whose = "one client" if one_client else "a client each"
    print(
        f"{CONNECTIONS} connections, {whose}: {each * CONNECTIONS / elapsed:,.0f} calls/s "
        f"({each * CONNECTIONS:,} calls)"
    )


def http(runs: int) -> None:
    for run in range(1, runs + 1):
        for limit in ("off", NEVER_REFUSED):
            env = os.environ | {"DARUTRACE_RATE_LIMIT_VERIFY": limit}
            output = subprocess.run(  # noqa: S603
                [sys.executable, str(HTTP_LOAD), "--packs", "3000"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            verify = re.search(r"^verify: .*$", output, re.M)
            print(f"run {run}, verify limit {limit}: {verify[0] if verify else output}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--http", action="store_true", help="also verify under wrk, off vs on")
    parser.add_argument("--runs", type=int, default=2, help="of each, with --http")
    args = parser.parse_args()
    with demo_server() as server:
        conninfo = server.pg_conninfo()
        asyncio.run(sequential(conninfo, args.calls))
        asyncio.run(concurrent(conninfo, args.calls * 4, one_client=True))
        asyncio.run(concurrent(conninfo, args.calls * 4, one_client=False))
    if args.http:
        http(args.runs)


if __name__ == "__main__":
    main()
