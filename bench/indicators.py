"""National indicators at two history sizes: the indicators of the last 30 days (and filtered by
province, by ATC group, as CSV) must cost the same with 1,000,000 packs as with 10,000,000
(target ≤ 500 ms), because they read the summaries kept with the events, not the history.

    uv run python bench/indicators.py [SMALL_PACKS] [LARGE_PACKS]

The history is generated with SQL (generate_series) straight into the tables of a fresh
`serve --demo` — through the API it would take hours: 500 sites in 31 provinces, 200 products,
batches of 10,000 packs, one batch commissioned per day going back in time (so a bigger history
is a longer one, at the same daily rate), each pack shipped to a site and received there, seven
in ten dispensed, five alerts per batch. Triggers are off while it is written (the hash chains
are not what is measured), so the foreign keys are not checked either: the history's rows refer
only to rows it writes (events included) or the demo world's. Then the summaries are built by
the indicators migration's own backfill, as an upgrade of a deployment with that history
would, and an inspector's requests are timed, and the console's indicators page
(`/console/indicators`, the whole page and the results htmx fetches for a filter) with an
inspector's console session. For comparison it times what the summaries spare: counting the
period's dispensing from pack_events and the stock near expiry from packs.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from trace import PROVINCES, report, timed
from typing import Any

import httpx
import psycopg
from harness import LONG, checked, console_session, demo_server, login

from models.gs1 import with_check_digit

PACKS_PER_BATCH = 10_000
SITES = 500
PRODUCTS = 200
ATC = ("J01CA04", "N02BE01", "C09AA05", "A10BA02", "R06AE07")
GTINS = [with_check_digit(f"0626997{n:06d}") for n in range(PRODUCTS)]
SUMMARIES = (
    "indicator_flows",
    "indicator_flows_monthly",
    "indicator_alerts",
    "indicator_open_alerts",
    "indicator_stock",
    "batch_custody",
)

_SETUP = [
    """
    INSERT INTO organizations (id, gln, name, name_fa, kind, created_at)
    SELECT md5('bench-org' || n)::uuid, '6269' || lpad(n::text, 9, '0'), 'Bench pharmacy ' || n,
           'داروخانه ' || n, 'pharmacy', now()
    FROM generate_series(1, %(sites)s / 10) n
    """,
    """
    INSERT INTO facilities (id, gln, organization_id, name, name_fa, address, province, city,
                            created_at)
    SELECT md5('bench-site' || n)::uuid, '6268' || lpad(n::text, 9, '0'),
           md5('bench-org' || (1 + (n - 1) / 10))::uuid, 'Bench site ' || n, '', '',
           (%(provinces)s::text[])[1 + n %% 31], (%(provinces)s::text[])[1 + n %% 31], now()
    FROM generate_series(1, %(sites)s) n
    """,
    """
    INSERT INTO products (gtin, organization_id, irc, name, name_fa, generic_name, form,
                          strength, pack_size, atc, created_at)
    SELECT (%(gtins)s::text[])[1 + n], o.id, 'BENCHIND' || n, 'Bench product ' || n,
           'محصول ' || n, 'generic', 'tablet', '1 mg', 10, (%(atc)s::text[])[1 + n %% 5], now()
    FROM generate_series(0, %(products)s - 1) n,
         (SELECT organization_id AS id FROM products ORDER BY gtin LIMIT 1) o
    """,
]
# Batch k (0 = the newest) is commissioned k + 10 days ago at the maker's plant.
_BATCHES = """
INSERT INTO batches (gtin, lot, organization_id, expiry, manufactured_on, quantity, origin,
                     commissioned, created_at)
SELECT (%(gtins)s::text[])[1 + k %% %(products)s], 'B' || k, pr.organization_id,
       current_date + ((k * 37) %% 1000) - 100, current_date - k - 10, %(per_batch)s,
       'produced', %(per_batch)s, now() - make_interval(days => k + 10)
FROM generate_series(%(first)s::int, %(last)s::int) k
JOIN products pr ON pr.gtin = (%(gtins)s::text[])[1 + k %% %(products)s]
"""
_COMMISSION_EVENTS = """
INSERT INTO events (event_id, action, business_step, facility_id, actor_kind, actor_id,
                    event_time, recorded_at, offline, payload_hash, response, chain_seq,
                    row_hash)
SELECT md5('commission' || k)::uuid, 'commission', 'commissioning', %(plant)s, 'user',
       %(plant)s, now() - make_interval(days => k + 10), now() - make_interval(days => k + 10),
       false, repeat('0', 64), '{}', 0, '\\x00'
FROM generate_series(%(first)s::int, %(last)s::int) k
"""
# The moves of batch k's packs to site j (0-49 of its 50 sites), as events: one ship, one
# receipt, one dispensing each (the pack events below name them, and a pack its last).
_MOVE_EVENTS = """
INSERT INTO events (event_id, action, business_step, facility_id, destination_id, actor_kind,
                    actor_id, event_time, recorded_at, offline, payload_hash, response,
                    chain_seq, row_hash)
SELECT md5(a.action || k || '-' || j)::uuid, a.action, a.step, a.facility_id,
       a.destination_id, 'user', %(plant)s, a.at, a.at, false, repeat('0', 64), '{}', 0, '\\x00'
FROM generate_series(%(first)s::int, %(last)s::int) k
CROSS JOIN generate_series(0, 49) j
CROSS JOIN LATERAL (SELECT md5('bench-site' || (1 + (k * 13 + j) %% %(sites)s))::uuid AS site) s
CROSS JOIN LATERAL (
    VALUES ('ship', 'shipping', %(plant)s::uuid, s.site, now() - make_interval(days => k + 9)),
           ('receive', 'receiving', s.site, NULL::uuid, now() - make_interval(days => k + 8)),
           ('dispense', 'dispensing', s.site, NULL::uuid, now() - make_interval(days => k + 3))
) AS a(action, step, facility_id, destination_id, at)
"""
# Pack i of batch k goes to one of 50 sites; seven in ten are dispensed there.
_PACKS = """
INSERT INTO packs (gtin, serial, lot, status, holder_id, status_facility_id, in_return,
                   status_at, commissioned_at, commission_event_id, last_event_id)
SELECT (%(gtins)s::text[])[1 + k %% %(products)s], k || 'S' || lpad(i::text, 5, '0'),
       'B' || k, CASE WHEN i %% 10 < 7 THEN 'dispensed' ELSE 'active' END, s.site, s.site, false,
       now() - make_interval(days => k + 3), now() - make_interval(days => k + 10),
       md5('commission' || k)::uuid,
       md5(CASE WHEN i %% 10 < 7 THEN 'dispense' ELSE 'receive' END || k || '-' || (i %% 50))::uuid
FROM generate_series(%(first)s::int, %(last)s::int) k
CROSS JOIN generate_series(1, %(per_batch)s::int) i
CROSS JOIN LATERAL (SELECT md5('bench-site' || (1 + (k * 13 + i %% 50) %% %(sites)s))::uuid
                    AS site) s
"""
_PACK_EVENTS = """
INSERT INTO pack_events (gtin, serial, event_id, action, facility_id, destination_id,
                         event_time, recorded_at, offline, outcome, status_before, status_after,
                         reason, chain_seq, row_hash)
SELECT p.gtin, p.serial, md5(a.action || k || '-' || (i %% 50))::uuid, a.action, a.facility_id,
       a.destination_id, a.at, a.at, false, 'ok', 'active', a.status_after, '', 0, '\\x00'
FROM generate_series(%(first)s::int, %(last)s::int) k
CROSS JOIN generate_series(1, %(per_batch)s::int) i
CROSS JOIN LATERAL (SELECT (%(gtins)s::text[])[1 + k %% %(products)s] AS gtin,
                           k || 'S' || lpad(i::text, 5, '0') AS serial,
                           md5('bench-site' || (1 + (k * 13 + i %% 50) %% %(sites)s))::uuid
                             AS site) p
CROSS JOIN LATERAL (
    VALUES ('ship', %(plant)s::uuid, p.site, now() - make_interval(days => k + 9), 'active'),
           ('receive', p.site, NULL::uuid, now() - make_interval(days => k + 8), 'active'),
           ('dispense', p.site, NULL::uuid,
            now() - make_interval(days => k + 8) + make_interval(hours => i %% 120),
            'dispensed')
) AS a(action, facility_id, destination_id, at, status_after)
WHERE a.action <> 'dispense' OR i %% 10 < 7
"""
_ALERTS = """
INSERT INTO alerts (id, code, severity, status, message, gtin, serial, lot, facility_id,
                    organization_ids, raised_at, updated_at)
SELECT md5('alert' || k || '-' || j)::uuid, c.code, 'high',
       CASE WHEN j %% 2 = 0 THEN 'closed' ELSE 'new' END, 'bench',
       (%(gtins)s::text[])[1 + k %% %(products)s], 'X' || j, 'B' || k,
       md5('bench-site' || (1 + (k * 13 + j) %% %(sites)s))::uuid, '{}',
       now() - make_interval(days => k + 8), now() - make_interval(days => k + 8)
FROM generate_series(%(first)s::int, %(last)s::int) k
CROSS JOIN generate_series(1, 5) j
CROSS JOIN LATERAL (SELECT (ARRAY['unknown_serial', 'cloned_code', 'not_held_here',
                                  'expired_pack', 'receipt_discrepancy'])[j] AS code) c
"""
# What the summaries spare: the same figures read from the history.
_DISPENSED_FROM_HISTORY = """
SELECT f.province, count(*) FROM pack_events pe JOIN facilities f ON f.id = pe.facility_id
WHERE pe.action = 'dispense' AND pe.outcome <> 'refused' AND pe.status_after IS NOT NULL
  AND (pe.event_time AT TIME ZONE 'Asia/Tehran')::date >= current_date - 29
GROUP BY 1
"""
_NEAR_EXPIRY_FROM_PACKS = """
SELECT f.province, count(*) FROM batches b
JOIN packs p ON p.gtin = b.gtin AND p.lot = b.lot
JOIN facilities f ON f.id = p.holder_id
WHERE p.status IN ('active', 'locked') AND b.expiry BETWEEN current_date AND current_date + 90
GROUP BY 1
"""


def backfill_statements() -> tuple[str, ...]:
    """The backfills of every kept summary (`SUMMARIES`), from their migrations."""
    statements: tuple[str, ...] = ()
    for name in ("indicator_summaries", "batch_custody", "indicator_months"):
        (path,) = (Path(__file__).parents[1] / "migrations/versions").glob(f"*_{name}.py")
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        statements += migration.BACKFILL
    return statements


def grow(conn: psycopg.Connection[Any], plant: Any, have: int, total: int) -> None:
    """Batches number have / 10,000 up to total / 10,000, written 20 batches per transaction."""
    first, last = have // PACKS_PER_BATCH, total // PACKS_PER_BATCH - 1
    for start in range(first, last + 1, 20):
        params = {
            "first": start,
            "last": min(start + 19, last),
            "per_batch": PACKS_PER_BATCH,
            "products": PRODUCTS,
            "sites": SITES,
            "plant": plant,
            "gtins": GTINS,
        }
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
            statements = (_BATCHES, _COMMISSION_EVENTS, _MOVE_EVENTS, _PACKS, _PACK_EVENTS, _ALERTS)
            for statement in statements:
                conn.execute(statement, params)


def summarise(conn: psycopg.Connection[Any]) -> float:
    started = time.perf_counter()
    with conn.transaction():
        conn.execute(f"TRUNCATE {', '.join(SUMMARIES)}")
        for statement in backfill_statements():
            conn.execute(statement)
    conn.execute("ANALYZE")
    return time.perf_counter() - started


def sql_seconds(conn: psycopg.Connection[Any], query: str) -> float:
    started = time.perf_counter()
    conn.execute(query).fetchall()
    return time.perf_counter() - started


def measure(
    client: httpx.Client,
    inspector: dict[str, str],
    conn: psycopg.Connection[Any],
    console: httpx.Client,
) -> None:
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM packs), (SELECT count(*) FROM pack_events),"
        " (SELECT count(*) FROM alerts), (SELECT count(*) FROM indicator_flows),"
        " (SELECT count(*) FROM indicator_stock)"
    ).fetchone()
    assert counts is not None
    print(
        f"history: {counts[0]:,} packs, {counts[1]:,} pack events, {counts[2]:,} alerts; "
        f"summaries: {counts[3]:,} flow rows, {counts[4]:,} stock rows"
    )
    for what, query in (
        ("indicators, last 30 days", {}),
        ("indicators, last 30 days, province Tehran", {"province": "Tehran"}),
        ("indicators, last 30 days, ATC J01", {"atc": "J01"}),
        ("indicators, last 365 days", {"from": _days_ago(conn, 364)}),
    ):
        seconds, body = timed(
            lambda q=query: client.get("/api/indicators", params=q, headers=inspector), 11
        )
        report(what, seconds)
        if not query:
            totals = body["totals"]
            print(
                f"  {totals['dispensed']:,} dispensed, {totals['scans']:,} scans, "
                f"{len(body['recall_reach'])} recall(s), "
                f"{sum(r['packs'] for r in body['near_expiry']['by_province']):,} packs near expiry"
            )
    work = conn.execute(
        "SELECT count(*), count(DISTINCT day) FROM indicator_flows"
        " WHERE day > (now() AT TIME ZONE 'Asia/Tehran')::date - 30"
    ).fetchone()
    assert work is not None
    print(f"  the last 30 days are {work[0]:,} flow rows over {work[1]} days, at any size")
    seconds, _ = _timed_csv(client, inspector)
    report("by_province.csv, last 30 days", seconds)
    measure_page(console, _days_ago(conn, 364))
    print(
        f"  without summaries: dispensing of 30 days from pack_events "
        f"{sql_seconds(conn, _DISPENSED_FROM_HISTORY) * 1000:.0f} ms, stock near expiry from "
        f"packs {sql_seconds(conn, _NEAR_EXPIRY_FROM_PACKS) * 1000:.0f} ms"
    )


def measure_page(console: httpx.Client, year_ago: str) -> None:
    """The console's page: rendered HTML with its tables and the charts' figures."""
    htmx = {"HX-Request": "true", "HX-Target": "indicator-results"}
    for what, query, headers in (
        ("indicators page, last 30 days", {}, {}),
        ("indicators page, last 365 days", {"from": year_ago}, {}),
        ("indicators page's htmx results, province Tehran", {"province": "Tehran"}, htmx),
    ):
        seconds = []
        for _ in range(11):
            started = time.perf_counter()
            _page(console.get("/console/indicators", params=query, headers=headers))
            seconds.append(time.perf_counter() - started)
        report(what, seconds)


def _page(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text[:500]
    assert 'id="indicator-charts"' in response.text


def _timed_csv(client: httpx.Client, inspector: dict[str, str]) -> tuple[list[float], None]:
    seconds = []
    for _ in range(6):
        started = time.perf_counter()
        response = client.get("/api/indicators/by_province.csv", headers=inspector)
        assert response.status_code == 200, response.text
        seconds.append(time.perf_counter() - started)
    return seconds, None


def _days_ago(conn: psycopg.Connection[Any], days: int) -> str:
    row = conn.execute(
        "SELECT ((now() AT TIME ZONE 'Asia/Tehran')::date - %s)::text", (days,)
    ).fetchone()
    assert row is not None
    return str(row[0])


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1_000_000, 10_000_000]
    with (
        demo_server() as server,
        httpx.Client(base_url=server.url, timeout=LONG) as client,
        httpx.Client(base_url=server.url, timeout=LONG) as console,
        psycopg.connect(server.pg_conninfo(), autocommit=True) as conn,
    ):
        inspector = login(client, "fdo-inspector")
        console_session(console, "fdo-inspector")
        plant = conn.execute(
            "SELECT f.id FROM facilities f JOIN products pr ON pr.organization_id ="
            " f.organization_id ORDER BY pr.gtin, f.gln LIMIT 1"
        ).fetchone()
        assert plant is not None
        params = {"sites": SITES, "provinces": list(PROVINCES), "atc": list(ATC)}
        params |= {"products": PRODUCTS, "gtins": GTINS}
        with conn.transaction():
            for statement in _SETUP:
                conn.execute(statement, params)
        have = 0
        for size in sizes:
            started = time.perf_counter()
            grow(conn, plant[0], have, size)
            have = size
            print(f"\n== {size:,} packs: history written in {time.perf_counter() - started:.0f} s")
            print(f"summaries backfilled (the migration's backfill) in {summarise(conn):.1f} s")
            if size == sizes[0]:
                recall = {
                    "gtin": GTINS[1],
                    "lots": ["B1"],
                    "recall_class": "II",
                    "reason": "benchmark",
                    "instructions": "return",
                    "deadline": "2099-12-31",
                }
                checked(client.post("/api/recalls", json=recall, headers=inspector))
            measure(client, inspector, conn, console)


if __name__ == "__main__":
    main()
