"""What foreign keys cost on the write paths: the same requests on one server and one database
with none (the schema before migration 0015), with 0015's keys (checked once per registration,
event or case), and with those and the keys 0015 leaves out, on packs and pack_events (checked
once per pack: `PER_PACK`), in turn, three rounds each:

- commissioning 100,000 packs in one request;
- one ship event of 1,000 pack codes, and one of 10,000;
- single scans: dispensing one pack per request, sequentially on one keep-alive connection.

Between them, keys are dropped or added again; at the end 0015's are added and validated once
more, timed: what the migration costs on that many rows. Each measurement starts after a VACUUM
ANALYZE and a CHECKPOINT, so that neither lands in the middle of one.

    uv run python bench/keys.py [ROUNDS] [SCANS]
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from harness import (
    LONG,
    checked,
    code,
    commission,
    demo_server,
    facility_gln,
    login,
    new_batch,
    percentile,
    record,
    serial_lines,
)

COMMISSIONED = 100_000
SMALL_EVENT, LARGE_EVENT = 1_000, 10_000
MAKER, HUB, PHARMACY = "sina-darou", "darupakhsh", "razi-pharmacy"


def migration() -> Any:
    (path,) = (Path(__file__).parents[1] / "migrations/versions").glob("*_foreign_keys_*.py")
    spec = importlib.util.spec_from_file_location("foreign_keys", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def per_pack(key: Any) -> tuple[Any, ...]:
    """Every reference of packs and pack_events that a key could check (none of pack_events to
    packs, products or cases: unknown codes and refused packings are recorded too)."""
    facility, event = ("facilities", ("id",)), ("events", ("event_id",))
    return (
        key("packs", ("gtin", "lot"), "batches", ("gtin", "lot")),
        key("packs", ("holder_id",), *facility),
        key("packs", ("transit_from_id",), *facility),
        key("packs", ("transit_to_id",), *facility),
        key("packs", ("status_facility_id",), *facility),
        key("packs", ("commission_event_id",), *event),
        key("packs", ("last_event_id",), *event),
        # An event packing into a new case sets the packs' case before it makes the case's row.
        key("packs", ("container_sscc",), "containers", ("sscc",), deferred=True),
        key("pack_events", ("event_id",), *event),
        key("pack_events", ("facility_id",), *facility),
        key("pack_events", ("destination_id",), *facility),
    )


def schemas(keys: Any, key: Any) -> dict[str, Any]:
    return {"none": (), "0015": keys, "0015 + per pack": (*keys, *per_pack(key))}


def use_keys(conn: psycopg.Connection[Any], every: Any, wanted: Any) -> float:
    """Only the `wanted` keys of `every`; the seconds to add and validate those added, as the
    migration does."""
    present = {row[0] for row in conn.execute("SELECT conname FROM pg_constraint")}
    for key in every:
        if key.name in present and key not in wanted:
            conn.execute(f"ALTER TABLE {key.table} DROP CONSTRAINT {key.name}")
    added = [key for key in wanted if key.name not in present]
    started = time.perf_counter()
    for key in added:
        conn.execute(key.add())
    for key in added:
        conn.execute(f"ALTER TABLE {key.table} VALIDATE CONSTRAINT {key.name}")
    return time.perf_counter() - started


def settle(conn: psycopg.Connection[Any]) -> None:
    conn.execute("VACUUM ANALYZE packs, pack_events, events, batch_custody, indicator_stock")
    conn.execute("CHECKPOINT")


def timed(send: Any) -> float:
    started = time.perf_counter()
    send()
    return time.perf_counter() - started


def one_round(
    client: httpx.Client,
    conn: psycopg.Connection[Any],
    who: dict[str, dict[str, str]],
    n: int,
    scans: int,
) -> dict[str, Any]:
    maker = who[MAKER]
    gtin = new_batch(client, maker, quantity=COMMISSIONED, n=n)
    lot = f"LOT-{n}"
    settle(conn)
    figures: dict[str, Any] = {
        "commission": timed(lambda: commission(client, maker, gtin, lot, COMMISSIONED))
    }
    codes = [code(gtin, serial) for serial in serial_lines(client, maker, gtin, lot)]
    small, large = codes[:SMALL_EVENT], codes[SMALL_EVENT : SMALL_EVENT + LARGE_EVENT]
    single = codes[SMALL_EVENT + LARGE_EVENT : SMALL_EVENT + LARGE_EVENT + scans]
    hub = facility_gln(HUB)
    settle(conn)
    figures["ship_small"] = timed(lambda: record(client, maker, "ship", small, hub))
    settle(conn)
    figures["ship_large"] = timed(lambda: record(client, maker, "ship", large, hub))
    record(client, maker, "ship", single, facility_gln(PHARMACY))
    record(client, who[PHARMACY], "receive", single)
    settle(conn)
    latencies = []
    for one in single:
        event = {"event_id": str(uuid.uuid4()), "action": "dispense", "codes": [one]}
        started = time.perf_counter()
        answer = checked(client.post("/api/events", json=event, headers=who[PHARMACY]))
        latencies.append(time.perf_counter() - started)
        assert answer["summary"]["ok"] == 1, answer
    latencies.sort()
    figures["scan_p50"] = statistics.median(latencies)
    figures["scan_p90"] = percentile(latencies, 90)
    return figures


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    scans = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    keys = migration().KEYS
    options = schemas(keys, migration().Key)
    every = options["0015 + per pack"]
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in options}
    with (
        demo_server() as server,
        httpx.Client(base_url=server.url, timeout=LONG) as client,
        psycopg.connect(server.pg_conninfo(), autocommit=True) as conn,
    ):
        who = {name: login(client, name) for name in (MAKER, HUB, PHARMACY)}
        n = 60
        names = list(options)
        for round_ in range(rounds):
            # Each round starts with another schema, so that a drift of the machine favours none.
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                use_keys(conn, every, options[name])
                results[name].append(one_round(client, conn, who, n, scans))
                n += 1
                print(f"round {round_ + 1}, keys {name}: {results[name][-1]}", flush=True)
        # Last, the schema as the migrations make it, timing what the migration's validation
        # costs on this many rows.
        use_keys(conn, every, ())
        packs, pack_events = conn.execute(
            "SELECT (SELECT count(*) FROM packs), (SELECT count(*) FROM pack_events)"
        ).fetchone() or (0, 0)
        validation = use_keys(conn, keys, keys)
    report(results)
    print(
        f"adding and validating 0015's {len(keys)} keys with {packs:,} packs and "
        f"{pack_events:,} pack events: {validation:.1f} s"
    )


def report(results: dict[str, list[dict[str, Any]]]) -> None:
    rows = (
        ("commission", f"commission {COMMISSIONED:,} packs, one request", "s"),
        ("ship_small", f"ship, one event of {SMALL_EVENT:,} pack codes", "s"),
        ("ship_large", f"ship, one event of {LARGE_EVENT:,} pack codes", "s"),
        ("scan_p50", "dispense one pack per request, p50", "ms"),
        ("scan_p90", "dispense one pack per request, p90", "ms"),
    )
    names = list(results)
    print(f"\nwhat | {' | '.join(f'keys: {n} (each round)' for n in names)} | medians against none")
    for name, label, unit in rows:
        scale = 1000 if unit == "ms" else 1
        runs = {n: [r[name] * scale for r in results[n]] for n in names}
        base = statistics.median(runs["none"])
        ratios = ", ".join(f"{n} {statistics.median(runs[n]) / base:.2f}x" for n in names[1:])
        cells = " | ".join(", ".join(f"{v:.3g} {unit}" for v in runs[n]) for n in names)
        print(f"{label} | {cells} | {ratios}")


if __name__ == "__main__":
    main()
