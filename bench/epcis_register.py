"""The register's events as EPCIS: one pack's events (MATCH_epc, its lists narrowed, as
`/epcis/epcs/{epc}/events` asks them) where its commissioning event names PACKS packs and its
packing and shipping events 10,000, against a pack of a batch of 1,000 (the time must not grow
with the events' size), the plans of those reads, and the batch's whole history exported as one
EPCIS document (streamed: the server's peak memory before and after).

    uv run python bench/epcis_register.py [PACKS]   (default 1,000,000)
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import sys
import time
import uuid

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

from app.epcis import register_events
from app.epcis.filters import EpcMatch, EventQuery

QUERIES = 300
IN_CASE = 10_000
CASE = "(00)062600099000000624"


async def pack_queries(conninfo: str, gtin: str, serial: str) -> list[float]:
    query = EventQuery(match_epc=(EpcMatch(register_events.sgtin(gtin, serial)),))
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as connection:
        found = await register_events.find(connection, query, narrow=True)
        assert found and all(len(f.document.get("epcList", [1])) == 1 for f in found), found
        times = []
        for _ in range(QUERIES):
            started = time.perf_counter()
            await register_events.find(connection, query, narrow=True)
            times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def explain(conninfo: str, gtin: str, serial: str, event_id: str) -> None:
    """The plans of the narrowed reads: by the pack's key, never the batch's other packs."""
    with psycopg.connect(conninfo) as connection:
        for statement, params in (
            (
                "SELECT p.commission_event_id, 'commission' FROM packs p WHERE (p.gtin, p.serial) "
                "IN (SELECT * FROM unnest(%s::char(14)[], %s::text[]))",
                ([gtin], [serial]),
            ),
            (
                "SELECT p.gtin, p.serial FROM packs p WHERE ((p.gtin, p.serial) IN "
                "(SELECT * FROM unnest(%s::char(14)[], %s::text[]))) "
                "AND p.commission_event_id = %s",
                ([gtin], [serial], event_id),
            ),
            (
                "SELECT pe.event_id, pe.action, pe.gtin, pe.serial FROM pack_events pe "
                "WHERE pe.event_id = ANY(ARRAY(SELECT event_id FROM pack_events "
                "WHERE gtin = %s AND serial = %s)) AND pe.outcome <> 'refused' "
                "AND ((pe.gtin, pe.serial) IN (SELECT * FROM unnest(%s::char(14)[], %s::text[])))",
                (gtin, serial, [gtin], [serial]),
            ),
        ):
            rows = connection.execute(
                "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + statement, params
            ).fetchall()
            print("   ", "\n    ".join(row[0] for row in rows))


def pack(client: httpx.Client, headers: dict[str, str], codes: list[str]) -> None:
    event = {"event_id": str(uuid.uuid4()), "action": "pack", "codes": codes, "container": CASE}
    answer = checked(client.post("/api/events", json=event, headers=headers, timeout=LONG))
    assert answer["summary"]["ok"] == len(codes), answer["summary"]


def export(client: httpx.Client, headers: dict[str, str], gtin: str, lot: str) -> tuple[float, int]:
    started = time.perf_counter()
    size = 0
    path = f"/api/batches/{gtin}/{lot}/epcis"
    with client.stream("GET", path, headers=headers, timeout=LONG) as response:
        assert response.status_code == 200, response.read()
        for chunk in response.iter_raw():
            size += len(chunk)
    return time.perf_counter() - started, size


def main() -> None:
    packs = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with demo_server() as server, httpx.Client(base_url=server.url) as client:
        maker = login(client, "sina-darou")
        small = new_batch(client, maker, 1_000, n=61)
        commission(client, maker, small, "LOT-61", 1_000)
        big = new_batch(client, maker, packs, n=62)
        commission(client, maker, big, "LOT-62", packs)
        small_serial = next(serial_lines(client, maker, small, "LOT-61"))
        packed = list(itertools.islice(serial_lines(client, maker, big, "LOT-62"), IN_CASE))
        big_serial = packed[0]
        pack(client, maker, [code(big, serial) for serial in packed])
        record(client, maker, "ship", [CASE], destination_gln=facility_gln("darupakhsh"))
        conninfo = server.pg_conninfo()
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute("ANALYZE packs")
            connection.execute("ANALYZE events")
            row = connection.execute(
                "SELECT commission_event_id FROM packs WHERE gtin = %s AND serial = %s",
                (big, big_serial),
            ).fetchone()
            assert row is not None
        for label, gtin, serial in (
            ("batch of 1,000", small, small_serial),
            (f"batch of {packs:,}", big, big_serial),
        ):
            times = asyncio.run(pack_queries(conninfo, gtin, serial))
            print(
                f"one pack's events (MATCH_epc, narrowed), commissioned in a {label}: "
                f"median {statistics.median(times):.2f} ms, p95 {percentile(times, 95):.2f} ms "
                f"({QUERIES} queries, in-process find())"
            )
        print("plans of the narrowed reads (the big batch's pack):")
        explain(conninfo, big, big_serial, str(row[0]))
        before = server.peak_rss_mb()
        seconds, size = export(client, maker, big, "LOT-62")
        after = server.peak_rss_mb()
    print(
        f"GET /api/batches/…/epcis of {packs:,} packs: {seconds:.2f} s, {size / 1e6:.1f} MB; "
        f"server peak RSS {before:.0f} MB before, {after:.0f} MB after"
    )


if __name__ == "__main__":
    main()
