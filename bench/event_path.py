"""Single-pack verify and dispense against the bare floor, in one run (issue 14).

A DaruTrace demo server and the bare server (bench/bare.py) on the same PostgreSQL, measured with
wrk (32 connections) in rounds that alternate:

  (a) bare:     POST /bare/verify, one indexed SELECT + one INSERT;
  (b) chained:  POST /bare/verify-chained, the INSERT through access_log's hash-chain trigger;
  (c) verify:   DaruTrace POST /api/verify, one pack per request (the packs (a) and (b) read);
  (d) dispense: DaruTrace POST /api/events, one pack per request, each a different received pack.

Targets: verify ≥ 0.8× bare with p99 ≤ 4× p50; dispense ≥ 0.5× bare. The load average is noted
around each measurement: the machine may be shared.

    apt-get install -y wrk
    uv run python bench/event_path.py [--duration 10] [--rounds 3] [--connections 32]
        [--dispense-products 1]

With one product (the default) every dispense moves the same summary rows (the pharmacy's flows,
stock and custody counts of that batch); `--dispense-products 32` spreads them, as dispenses
across a country's pharmacies and products are.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from bare import CHAINED, PLAIN, SCHEMA, BareServer, bare_server
from harness import Server, demo_server, login
from http_load import DISPENSE_LUA, MANUFACTURER, PHARMACY, WrkResult, received_batch, wrk

# Each thread takes every n-th body of the file (n = number of threads) and cycles through them;
# an answer other than 200 with the pack active is counted.
CYCLE_LUA = """
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local nthreads, i = tonumber(args[2]), 0
  bodies = {}
  for line in io.lines(args[1]) do
    if i % nthreads == id then bodies[#bodies + 1] = line end
    i = i + 1
  end
  nxt, notok, path = 1, 0, args[4]
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = args[3]
end

function request()
  local body = bodies[nxt]
  nxt = nxt % #bodies + 1
  return wrk.format("POST", path, nil, body)
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"status":"active"', 1, true) then
    notok = notok + 1
  end
end

function done(summary, latency, requests)
  local notok = 0
  for _, t in ipairs(threads) do notok = notok + t:get("notok") end
  io.write(string.format("CYCLE notok=%d\\n", notok))
end
"""

KINDS = ("bare", "chained", "verify", "dispense")
TARGETS = {"verify": 0.8, "dispense": 0.5}  # × bare
MAX_P99_OVER_P50 = 4.0  # verify's
CODE = re.compile(r"\(01\)(\d{14})\(21\)(.+)")
Outcome = tuple[WrkResult, int, str]  # wrk's figures, answers not ok, a note


@dataclass(frozen=True)
class Measurement:
    round: int
    kind: str
    result: WrkResult
    load_before: float  # 1-minute load average
    load_after: float
    notok: int  # answers that were not 200 with the expected outcome
    server_cpu_ms: float  # per request: the measured server's process
    postgres_cpu_ms: float  # per request: every PostgreSQL process
    note: str = ""

    @property
    def cpu_ms(self) -> float:
        return self.server_cpu_ms + self.postgres_cpu_ms


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system time of the processes (Linux /proc): unlike the rates, CPU time per request
    hardly depends on what else the shared machine runs."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue  # exited meanwhile
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / CLOCK_TICKS


def postgres_pids(data_dir: Path) -> list[int]:
    """The postmaster (first line of postmaster.pid) and its children."""
    postmaster = int((data_dir / "pg18" / "postmaster.pid").read_text().split()[0])
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                children.append(int(stat.parent.name))
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return [postmaster, *children]


def requests_sent(result: WrkResult) -> int:
    match = re.search(r"^\s+(\d+) requests in", result.output, re.MULTILINE)
    assert match, result.output
    return int(match[1])


def load_average() -> float:
    return os.getloadavg()[0]


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()  # noqa: S607


def counters(output: str, tag: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", output.split(tag, 1)[1])}


class Runner:
    """The four measurements, given the servers and the prepared request files."""

    def __init__(
        self,
        args: argparse.Namespace,
        tmp: Path,
        darutrace: Server,
        bare: BareServer,
        authorization: str,
        verify_codes: Sequence[str],
    ) -> None:
        self.args, self.tmp, self.authorization = args, tmp, authorization
        self.darutrace, self.bare = darutrace.url, bare.url
        self.pids = {"darutrace": darutrace.pid, "bare": bare.pid}
        self.data_dir = darutrace.data_dir
        self.cycle_lua = tmp / "cycle.lua"
        self.cycle_lua.write_text(CYCLE_LUA)
        self.dispense_lua = tmp / "dispense.lua"
        self.dispense_lua.write_text(DISPENSE_LUA)
        pairs = [CODE.fullmatch(text).groups() for text in verify_codes]  # type: ignore[union-attr]
        self.bare_bodies = self._lines(
            "bare.jsonl", [json.dumps({"gtin": g, "serial": s}) for g, s in pairs]
        )
        self.verify_bodies = self._lines(
            "verify.jsonl", [json.dumps({"code": text}) for text in verify_codes]
        )

    def _lines(self, name: str, lines: Sequence[str]) -> Path:
        path = self.tmp / name
        path.write_text("\n".join(lines) + "\n")
        return path

    def cycle(self, args: argparse.Namespace, url: str, path: str, bodies: Path) -> Outcome:
        result = wrk(
            args,
            f"{url}{path}",
            self.cycle_lua,
            str(bodies),
            str(args.threads),
            self.authorization,
            path,
        )
        return result, counters(result.output, "CYCLE")["notok"], ""

    def dispense(self, args: argparse.Namespace, codes: Sequence[str], name: str) -> Outcome:
        codes_file = self._lines(name, codes)
        result = wrk(
            args,
            f"{self.darutrace}/api/events",
            self.dispense_lua,
            str(codes_file),
            str(args.threads),
            self.authorization,
        )
        count = counters(result.output, "DISPENSE")
        note = f"{count['used']} of {len(codes)} packs"
        if count["wrapped"]:
            note += "; RAN OUT of packs, some dispensed twice: raise --dispense-packs"
        return result, count["notok"], note

    def measure(
        self, args: argparse.Namespace, round_: int, dispense_codes: Sequence[str]
    ) -> list[Measurement]:
        runs: dict[str, Callable[[], Outcome]] = {
            "bare": lambda: self.cycle(args, self.bare, "/bare/verify", self.bare_bodies),
            "chained": lambda: self.cycle(
                args, self.bare, "/bare/verify-chained", self.bare_bodies
            ),
            "verify": lambda: self.cycle(args, self.darutrace, "/api/verify", self.verify_bodies),
            "dispense": lambda: self.dispense(args, dispense_codes, f"dispense-{round_}.txt"),
        }
        measurements = []
        for kind in KINDS:
            server = [self.pids["bare" if kind in ("bare", "chained") else "darutrace"]]
            postgres = postgres_pids(self.data_dir)
            load, server_cpu, postgres_cpu = (
                load_average(),
                cpu_seconds(server),
                cpu_seconds(postgres),
            )
            result, notok, note = runs[kind]()
            server_cpu = cpu_seconds(server) - server_cpu
            postgres_cpu = cpu_seconds(postgres) - postgres_cpu
            per_request = 1000 / max(requests_sent(result), 1)
            measurements.append(
                Measurement(
                    round_,
                    kind,
                    result,
                    load,
                    load_average(),
                    notok,
                    server_cpu * per_request,
                    postgres_cpu * per_request,
                    note,
                )
            )
        return measurements


def print_table(measurements: Sequence[Measurement]) -> None:
    print(
        f"{'round':>5}  {'path':<9} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'p99/p50':>7}"
        f" {'CPU ms/req: server + PostgreSQL':>31}  {'load before→after':<18} notes"
    )
    for m in measurements:
        r = m.result
        notes = [n for n in (m.note, r.errors, f"{m.notok} not ok" if m.notok else "") if n]
        cpu = f"{m.server_cpu_ms:.2f} + {m.postgres_cpu_ms:.2f} = {m.cpu_ms:.2f}"
        print(
            f"{m.round:>5}  {m.kind:<9} {r.requests_per_second:>7.0f} {r.p50_ms:>7.1f}"
            f" {r.p99_ms:>7.1f} {r.p99_ms / r.p50_ms:>7.1f} {cpu:>31}"
            f"  {m.load_before:>5.2f} → {m.load_after:<9.2f} {'; '.join(notes)}"
        )


def print_ratios(measurements: Sequence[Measurement]) -> None:
    rounds = sorted({m.round for m in measurements})
    by = {(m.round, m.kind): m for m in measurements}
    print(
        f"\nreq/s ratios{'':<17}CPU per request, bare's over ours (what the rate ratio would be"
        " if CPU alone bounded both)"
    )
    print(
        f"{'round':>5}  {'verify/bare':>11} {'verify/chained':>14} {'dispense/bare':>13}"
        f" {'dispense/chained':>16} {'verify p99/p50':>14} {'verify':>9} {'dispense':>9}"
    )
    ratios: dict[str, list[float]] = {"verify": [], "dispense": [], "spread": []}
    for n in rounds:
        rate = {kind: by[n, kind].result.requests_per_second for kind in KINDS}
        verify = by[n, "verify"].result
        ratios["verify"].append(rate["verify"] / rate["bare"])
        ratios["dispense"].append(rate["dispense"] / rate["bare"])
        ratios["spread"].append(verify.p99_ms / verify.p50_ms)
        bare_cpu = by[n, "bare"].cpu_ms
        print(
            f"{n:>5}  {ratios['verify'][-1]:>11.2f} {rate['verify'] / rate['chained']:>14.2f}"
            f" {ratios['dispense'][-1]:>13.2f} {rate['dispense'] / rate['chained']:>16.2f}"
            f" {ratios['spread'][-1]:>14.1f} {bare_cpu / by[n, 'verify'].cpu_ms:>9.2f}"
            f" {bare_cpu / by[n, 'dispense'].cpu_ms:>9.2f}"
        )
    verify, dispense = statistics.median(ratios["verify"]), statistics.median(ratios["dispense"])
    spread = statistics.median(ratios["spread"])
    print(
        f"\nmedian over {len(rounds)} rounds: verify {verify:.2f}× bare (target ≥"
        f" {TARGETS['verify']}×: {'met' if verify >= TARGETS['verify'] else 'NOT met'}),"
        f" p99 {spread:.1f}× p50 (target ≤ {MAX_P99_OVER_P50:.0f}×:"
        f" {'met' if spread <= MAX_P99_OVER_P50 else 'NOT met'});"
        f" dispense {dispense:.2f}× bare (target ≥ {TARGETS['dispense']}×:"
        f" {'met' if dispense >= TARGETS['dispense'] else 'NOT met'})"
    )


def check_bench_schema(conninfo: str) -> None:
    """The bare server wrote only into its own schema, and the chained rows were chained."""
    with psycopg.connect(conninfo) as connection:
        leaked = connection.execute(
            "SELECT count(*) FROM public.audit_heads WHERE chain IN (%s, %s)", (PLAIN, CHAINED)
        ).fetchone()
        plain = connection.execute(f"SELECT count(*) FROM {SCHEMA}.{PLAIN}").fetchone()  # noqa: S608
        chained = connection.execute(
            f"SELECT count(*), count(DISTINCT stream), sum(seq) FROM {SCHEMA}.audit_heads"  # noqa: S608
        ).fetchone()
    assert leaked is not None and plain is not None and chained is not None
    assert leaked[0] == 0, "the bare server's trigger wrote into the register's audit_heads"
    print(
        f"bench schema: {plain[0]:,} plain rows; {chained[2] or 0:,} chained rows"
        f" over {chained[1]} streams; the register's audit_heads untouched"
    )


def prepare(
    client: httpx.Client, args: argparse.Namespace, warmup_packs: int
) -> tuple[list[str], list[str]]:
    """The packs verified in turn, and those to dispense: of `--dispense-products` products,
    interleaved so that requests in flight together dispense different products."""
    dispensed = warmup_packs + args.rounds * args.dispense_packs
    per_product = -(-dispensed // args.dispense_products)
    total = args.verify_packs + per_product * args.dispense_products
    print(f"preparing {total:,} received packs …", flush=True)
    # Logged in once: logins are rate-limited.
    maker, pharmacy = login(client, MANUFACTURER), login(client, PHARMACY)
    first = received_batch(client, maker, pharmacy, args.verify_packs + per_product)
    products = [first[args.verify_packs :]]
    for n in range(2, args.dispense_products + 1):
        products.append(received_batch(client, maker, pharmacy, per_product, product=n))
    interleaved = [text for group in zip(*products, strict=True) for text in group]
    return first[: args.verify_packs], interleaved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3, help="seconds of each before round 1")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--verify-packs", type=int, default=1_000, help="packs verified in turn")
    parser.add_argument(
        "--dispense-packs", type=int, default=10_000, help="received packs per dispense run"
    )
    parser.add_argument(
        "--dispense-products",
        type=int,
        default=1,
        help="spread the dispensed packs over this many products (batches), in turn",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu), then run again.")
    warmup_args = argparse.Namespace(**(vars(args) | {"duration": args.warmup}))
    warmup_packs = args.dispense_packs * args.warmup // args.duration + 1

    print(f"before: {uptime()}", flush=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        demo_server() as server,
        httpx.Client(base_url=server.url) as client,
        bare_server(server.pg_conninfo()) as bare,
    ):
        verify_codes, dispensable = prepare(client, args, warmup_packs)
        warmup_codes, rest = dispensable[:warmup_packs], dispensable[warmup_packs:]
        authorization = login(client, PHARMACY)["Authorization"]
        runner = Runner(args, Path(tmp), server, bare, authorization, verify_codes)
        print(f"warming up ({args.warmup} s each) …  {uptime()}", flush=True)
        runner.measure(warmup_args, 0, warmup_codes)
        measurements: list[Measurement] = []
        for n in range(1, args.rounds + 1):
            batch = rest[(n - 1) * args.dispense_packs : n * args.dispense_packs]
            measurements += runner.measure(args, n, batch)
            print(f"round {n} done  {uptime()}", flush=True)
        check_bench_schema(server.pg_conninfo())

    print(
        f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s, {os.cpu_count()} CPUs;"
        f" bare and verify cycle through {args.verify_packs:,} received packs;"
        f" dispense takes packs of {args.dispense_products} product(s) in turn"
    )
    print_table(measurements)
    print_ratios(measurements)
    print(f"after: {uptime()}")


if __name__ == "__main__":
    main()
