"""Throughput and latency under load, with wrk (32 connections):

- GET /health, the baseline: no database, no authentication;
- POST /api/verify of one pack (target ≥ 3,000 req/s, p99 ≤ 25 ms);
- POST /api/events dispensing one pack per request, each a different pack that the pharmacy has
  received (target ≥ 1,000 req/s, p99 ≤ 50 ms).

    apt-get install -y wrk
    uv run python bench/http_load.py [--duration 10] [--connections 32] [--packs 40000]
                                     [--workers N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
from harness import (
    Server,
    code,
    commission,
    demo_server,
    facility_gln,
    login,
    new_batch,
    record,
    serial_lines,
)

MANUFACTURER, PHARMACY = "sina-darou", "razi-pharmacy"
# Packs are set up in events of the API's maximum size.
EVENT_CODES = 10_000

VERIFY_LUA = """
wrk.method = "POST"
wrk.body = '{"code": "%s"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "%s"
"""

# Each thread takes every n-th code of the file (n = number of threads), so that no pack is
# dispensed twice; a thread that runs out starts again from its first code and counts it.
DISPENSE_LUA = """
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local nthreads, i = tonumber(args[2]), 0
  codes = {}
  for line in io.lines(args[1]) do
    if i % nthreads == id then codes[#codes + 1] = line end
    i = i + 1
  end
  nxt, used, wrapped, notok = 1, 0, 0, 0
  math.randomseed(os.time() * 64 + id)
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = args[3]
end

local function uuid4()
  return (string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function(c)
    return string.format("%x", c == "x" and math.random(0, 15) or math.random(8, 11))
  end))
end

function request()
  if nxt > #codes then nxt, wrapped = 1, wrapped + 1 end
  local body = '{"event_id": "' .. uuid4() .. '", "action": "dispense", "codes": ["'
    .. codes[nxt] .. '"]}'
  nxt, used = nxt + 1, used + 1
  return wrk.format("POST", "/api/events", nil, body)
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"outcome":"ok"', 1, true) then
    notok = notok + 1
  end
end

function done(summary, latency, requests)
  local used, wrapped, notok = 0, 0, 0
  for _, t in ipairs(threads) do
    used, wrapped, notok = used + t:get("used"), wrapped + t:get("wrapped"), notok + t:get("notok")
  end
  io.write(string.format("DISPENSE used=%d wrapped=%d notok=%d\\n", used, wrapped, notok))
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: str  # non-2xx responses and socket errors, as wrk reports them
    output: str
    # CPU milliseconds a request, of the server's processes and of PostgreSQL's: unlike the
    # rate, hardly changed by what else runs on the machine.
    cpu_ms: tuple[float, float] = (0.0, 0.0)


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(output: str) -> WrkResult:
    def latency(percent: str) -> float:
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
        assert match, output
        return float(match[1]) * UNITS_MS[match[2]]

    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    assert rate, output
    errors = re.findall(r"^\s+(Non-2xx or 3xx responses: \d+|Socket errors: .*)$", output, re.M)
    return WrkResult(float(rate[1]), latency("50"), latency("99"), "; ".join(errors), output)


def wrk(
    args: argparse.Namespace, server: Server, path: str, script: Path | None, *script_args: str
) -> WrkResult:
    url = f"{server.url}{path}"
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s"]
    command += ["--latency", "--timeout", "10s"]
    if script is not None:
        command += ["-s", str(script)]
    command += [url, *(["--", *script_args] if script_args else [])]
    before = server.cpu_seconds()
    run = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    after = server.cpu_seconds()
    result = parse_wrk(run.stdout)
    requests = result.requests_per_second * args.duration
    cpu_ms = tuple((a - b) * 1000 / requests for a, b in zip(after, before, strict=True))
    return replace(result, cpu_ms=(cpu_ms[0], cpu_ms[1]))


def report(label: str, result: WrkResult) -> None:
    errors = f" ({result.errors})" if result.errors else ""
    server, postgres = result.cpu_ms
    print(
        f"{label}: {result.requests_per_second:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms{errors}; CPU a request: server {server:.2f} ms, "
        f"PostgreSQL {postgres:.2f} ms"
    )


def received_packs(client: httpx.Client, count: int) -> list[str]:
    """`count` packs commissioned by the manufacturer, shipped to the pharmacy and received
    there (events of EVENT_CODES codes); returns their codes."""
    maker, pharmacy = login(client, MANUFACTURER), login(client, PHARMACY)
    return received_batch(client, maker, pharmacy, count)


def received_batch(
    client: httpx.Client,
    maker: dict[str, str],
    pharmacy: dict[str, str],
    count: int,
    product: int = 1,
) -> list[str]:
    """`received_packs` with the logins given, of a new batch of bench product number `product`
    (see `new_batch`)."""
    gtin, lot = new_batch(client, maker, quantity=count, n=product), f"LOT-{product}"
    commission(client, maker, gtin, lot, count)
    codes = [code(gtin, serial) for serial in serial_lines(client, maker, gtin, lot)]
    for start in range(0, count, EVENT_CODES):
        chunk = codes[start : start + EVENT_CODES]
        record(client, maker, "ship", chunk, destination_gln=facility_gln(PHARMACY))
        record(client, pharmacy, "receive", chunk)
    return codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--packs", type=int, default=40_000, help="packs ready to dispense")
    parser.add_argument("--workers", type=int, default=None, help="server worker processes")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu), then run again.")

    with (
        tempfile.TemporaryDirectory() as tmp,
        demo_server(args.workers) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        codes = received_packs(client, args.packs + 1)
        verified, dispensable = codes[0], codes[1:]
        authorization = login(client, PHARMACY)["Authorization"]
        verify_lua, dispense_lua = Path(tmp, "verify.lua"), Path(tmp, "dispense.lua")
        verify_lua.write_text(VERIFY_LUA % (verified, authorization))
        dispense_lua.write_text(DISPENSE_LUA)
        codes_file = Path(tmp, "codes.txt")
        codes_file.write_text("\n".join(dispensable) + "\n")

        health = wrk(args, server, "/health", None)
        verify = wrk(args, server, "/api/verify", verify_lua)
        dispense = wrk(
            args,
            server,
            "/api/events",
            dispense_lua,
            str(codes_file),
            str(args.threads),
            authorization,
        )
        answer = client.post(
            "/api/verify", json={"code": verified}, headers={"Authorization": authorization}
        )
        verified_status = answer.json()["status"]

    workers = args.workers or os.environ.get("DARUTRACE_WORKERS", "default")
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {os.cpu_count()} CPUs, "
        f"workers {workers}"
    )
    report("health", health)
    report("verify", verify)
    print(f"  (the verified pack answers status {verified_status!r})")
    report("dispense", dispense)
    counts = dict(re.findall(r"(\w+)=(\d+)", dispense.output.split("DISPENSE", 1)[1]))
    print(
        f"  ({counts['used']} dispense requests sent over {len(dispensable):,} received packs; "
        f"{counts['notok']} answers not 200 with outcome ok)"
    )
    if int(counts["wrapped"]):
        print("  WARNING: ran out of packs (some were dispensed twice): raise --packs", flush=True)


if __name__ == "__main__":
    main()
