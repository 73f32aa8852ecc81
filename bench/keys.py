"""What foreign keys cost on the write paths: the same requests on one server and one database
with none (the schema before migration 0015), with 0015's keys (checked once per registration,
event or case), and with those and the keys 0015 leaves out, on packs and pack_events (checked
once per pack: `per_pack`), in turn, each round starting with another:

- commissioning 100,000 packs in one request (three rounds);
- one ship event of 1,000 pack codes, and one of 10,000 (three rounds);
- single scans: dispensing one pack per request, sequentially on one keep-alive connection, in
  blocks of 50 (300 scans per schema).

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


def timed(send: Any, *args: Any) -> float:
    started = time.perf_counter()
    send(*args)
    return time.perf_counter() - started


class Pool:
    """Codes of commissioned packs at the maker's, each used once."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.used = 0

    def take(self, count: int) -> list[str]:
        assert self.used + count <= len(self.codes), "not enough packs commissioned"
        self.used += count
        return self.codes[self.used - count : self.used]


def dispense_latencies(
    client: httpx.Client, headers: dict[str, str], codes: list[str]
) -> list[float]:
    latencies = []
    for one in codes:
        event = {"event_id": str(uuid.uuid4()), "action": "dispense", "codes": [one]}
        started = time.perf_counter()
        answer = checked(client.post("/api/events", json=event, headers=headers))
        latencies.append(time.perf_counter() - started)
        assert answer["summary"]["ok"] == 1, answer
    return latencies


# The per-pack statements of commissioning and of a ship event, on real rows, for the
# database's own account of them (EXPLAIN ANALYZE times each key's trigger): rolled back.
_ACCOUNTED = {
    f"insert {COMMISSIONED:,} packs (commissioning)": """
        INSERT INTO packs (gtin, serial, lot, status, holder_id, status_facility_id, status_at,
                           commissioned_at, commission_event_id, last_event_id)
        SELECT b.gtin, 'ACCOUNT' || i, b.lot, 'active', %(plant)s, %(plant)s, now(), now(),
               %(event)s, %(event)s
        FROM (SELECT gtin, lot FROM batches WHERE gtin = %(gtin)s LIMIT 1) b,
             generate_series(1, %(commissioned)s) i""",
    f"update {LARGE_EVENT:,} packs (a ship event)": """
        UPDATE packs SET holder_id = NULL, transit_from_id = %(plant)s, transit_to_id = %(hub)s,
                         last_event_id = %(event)s
        WHERE (gtin, serial) IN (SELECT gtin, serial FROM packs WHERE gtin = %(gtin)s
                                 AND holder_id = %(plant)s LIMIT %(large)s)""",
    f"insert {LARGE_EVENT:,} pack events (a ship event)": """
        INSERT INTO pack_events (gtin, serial, event_id, action, facility_id, destination_id,
                                 event_time, recorded_at, offline, outcome, status_before,
                                 status_after, reason)
        SELECT gtin, serial, %(event)s, 'ship', %(plant)s, %(hub)s, now(), now(), false, 'ok',
               'active', 'active', ''
        FROM packs WHERE gtin = %(gtin)s AND holder_id = %(plant)s LIMIT %(large)s""",
    "insert one event (0015's keys: its facility and destination)": """
        INSERT INTO events (event_id, action, business_step, facility_id, destination_id,
                            actor_kind, actor_id, event_time, recorded_at, offline,
                            payload_hash, response)
        VALUES (gen_random_uuid(), 'ship', 'shipping', %(plant)s, %(hub)s, 'user', %(plant)s,
                now(), now(), false, repeat('0', 64), '{}')""",
}


class _RolledBack(Exception):
    pass


def accounted(conn: psycopg.Connection[Any], statement: str, params: dict[str, Any]) -> Any:
    """(the statement's milliseconds, those of its foreign-key checks), rolled back."""
    try:
        with conn.transaction():
            row = conn.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", params).fetchone()
            raise _RolledBack(row)
    except _RolledBack as done:
        plan = done.args[0][0][0]
    checks = sum(t["Time"] for t in plan.get("Triggers", []) if t.get("Constraint Name"))
    return plan["Execution Time"], checks


def ms(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.2f} ms"


def database_account(conn: psycopg.Connection[Any], gtin: str, repeat: int = 3) -> list[str]:
    """With every key on: what the per-pack statements cost and how much of it is the keys
    (`gtin`: a batch still all at the maker's)."""
    plant, hub = (
        conn.execute("SELECT id FROM facilities WHERE gln = %s", (facility_gln(name),)).fetchone()
        for name in (MAKER, HUB)
    )
    event = conn.execute("SELECT event_id FROM events LIMIT 1").fetchone()
    assert plant and hub and event
    params = {"plant": plant[0], "hub": hub[0], "event": event[0], "gtin": gtin,
              "commissioned": COMMISSIONED, "large": LARGE_EVENT}  # fmt: skip
    lines = [f"the database's account, every key on (median of {repeat}, rolled back):"]
    for label, statement in _ACCOUNTED.items():
        runs = [accounted(conn, statement, params) for _ in range(repeat)]
        total = statistics.median(r[0] for r in runs)
        checks = statistics.median(r[1] for r in runs)
        lines.append(f"  {label}: {ms(total)}, of which the key checks {ms(checks)}")
    return lines


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    scans = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    keys = migration().KEYS
    options = schemas(keys, migration().Key)
    every = options["0015 + per pack"]
    names = list(options)
    figures: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    with (
        demo_server() as server,
        httpx.Client(base_url=server.url, timeout=LONG) as client,
        psycopg.connect(server.pg_conninfo(), autocommit=True) as conn,
    ):
        who = {name: login(client, name) for name in (MAKER, HUB, PHARMACY)}
        maker = who[MAKER]

        def in_turn(round_: int) -> list[str]:
            # Each round starts with another schema, so that a drift of the machine favours none.
            return names[round_ % len(names) :] + names[: round_ % len(names)]

        def measure(name: str, what: str, seconds: float) -> None:
            figures[name].setdefault(what, []).append(seconds)
            print(f"keys {name}: {what} {seconds:.3f} s", flush=True)

        def use(name: str) -> None:
            use_keys(conn, every, options[name])
            settle(conn)

        # Commissioning, a new batch each time; its packs serve the events that follow.
        pool, n = Pool(), 60
        wanted = rounds * len(names) * (SMALL_EVENT + LARGE_EVENT) + scans * len(names)
        for round_ in range(rounds):
            for name in in_turn(round_):
                gtin = new_batch(client, maker, quantity=COMMISSIONED, n=n)
                use(name)
                lot = f"LOT-{n}"
                seconds = timed(commission, client, maker, gtin, lot, COMMISSIONED)
                measure(name, "commission", seconds)
                if len(pool.codes) < wanted:
                    pool.codes += [code(gtin, s) for s in serial_lines(client, maker, gtin, lot)]
                n += 1
        hub = facility_gln(HUB)
        for round_ in range(rounds):
            for name in in_turn(round_):
                for what, size in (("ship_small", SMALL_EVENT), ("ship_large", LARGE_EVENT)):
                    codes = pool.take(size)
                    use(name)
                    measure(name, what, timed(record, client, maker, "ship", codes, hub))
        # Single scans in blocks of 50, each block under the schemas in turn.
        single = pool.take(scans * len(names))
        for start in range(0, len(single), LARGE_EVENT):
            chunk = single[start : start + LARGE_EVENT]
            record(client, maker, "ship", chunk, facility_gln(PHARMACY))
            record(client, who[PHARMACY], "receive", chunk)
        at_pharmacy, latencies = Pool(), {name: [] for name in names}
        at_pharmacy.codes = single
        for block in range(0, scans, 50):
            for name in in_turn(block // 50):
                use(name)
                codes = at_pharmacy.take(min(50, scans - block))
                latencies[name] += dispense_latencies(client, who[PHARMACY], codes)
        use_keys(conn, every, every)
        account = database_account(conn, gtin)  # the last batch: none of its packs moved
        # Last, the schema as the migrations make it, timing what the migration's validation
        # costs on this many rows.
        use_keys(conn, every, ())
        packs, pack_events = conn.execute(
            "SELECT (SELECT count(*) FROM packs), (SELECT count(*) FROM pack_events)"
        ).fetchone() or (0, 0)
        validation = use_keys(conn, keys, keys)
    report(figures, latencies)
    print("\n".join(account))
    print(
        f"adding and validating 0015's {len(keys)} keys with {packs:,} packs and "
        f"{pack_events:,} pack events: {validation:.1f} s"
    )


def report(figures: dict[str, dict[str, list[float]]], latencies: dict[str, list[float]]) -> None:
    names = list(figures)
    print(f"\nwhat | {' | '.join(f'keys: {n}' for n in names)} | medians against none")
    for what, label in (
        ("commission", f"commission {COMMISSIONED:,} packs, one request"),
        ("ship_small", f"ship, one event of {SMALL_EVENT:,} pack codes"),
        ("ship_large", f"ship, one event of {LARGE_EVENT:,} pack codes"),
    ):
        runs = {n: figures[n][what] for n in names}
        base = statistics.median(runs["none"])
        ratios = ", ".join(f"{n} {statistics.median(runs[n]) / base:.2f}x" for n in names[1:])
        cells = " | ".join(", ".join(f"{v:.2f} s" for v in runs[n]) for n in names)
        print(f"{label} (each round) | {cells} | {ratios}")
    for p, label in ((50, "p50"), (90, "p90")):
        values = {n: percentile(sorted(latencies[n]), p) * 1000 for n in names}
        ratios = ", ".join(f"{n} {values[n] / values['none']:.2f}x" for n in names[1:])
        cells = " | ".join(f"{values[n]:.1f} ms" for n in names)
        count = len(latencies["none"])
        print(f"dispense one pack per request, {label} of {count} | {cells} | {ratios}")


if __name__ == "__main__":
    main()
