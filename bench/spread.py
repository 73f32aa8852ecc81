"""`trace.spread_batch`'s data written with SQL: the same batch, spread over the same facilities
the same way, in the rows those 1,310 `POST /api/events` calls would write (events with their
stored responses, pack_events, the packs' custody, status and last event), in seconds instead of
the most of an hour the API takes for 1,000,000 packs on two cores.

The facilities, their devices and the commissioning still go through the API (`setup_facilities`,
`commission`). Triggers are off while the moves are written, so the hash chains are not computed
(chain_seq is a plain count, row_hash a placeholder: the chains are not what is measured) and the
foreign keys are not checked (the rows refer only to facilities and events that exist: the
comparison below names them by what they refer to). The indicator summaries are then rebuilt by
the indicators migration's own backfill, as `bench/indicators.py` does, and the tables vacuumed
and analysed, as autovacuum would have done during the API's hour. Checked against the API's
rows: `uv run python bench/spread.py` builds the same small batch both ways and compares them.
"""

from __future__ import annotations

import sys
import time
import uuid
from trace import setup_facilities, spread_batch
from typing import Any

import httpx
import psycopg
from harness import LONG, code, commission, demo_server, facility_gln, login, new_batch
from indicators import SUMMARIES, backfill_statements

# Facility n (0-based) gets serials n * per .. (n + 1) * per - 1 in serial order (the CSV
# export's order); every tenth keeps them in transit; pharmacies and hospitals dispense the
# first tenth of theirs. Event n's steps are a second apart, in the order the API records them.
_MOVES = """
CREATE TEMP TABLE bench_moves ON COMMIT DROP AS
SELECT m.n::int - 1 AS n, m.site, m.gln, m.device, m.kind,
       gen_random_uuid() AS ship_id, gen_random_uuid() AS receive_id,
       gen_random_uuid() AS dispense_id,
       %(t0)s::timestamptz + make_interval(secs => 3 * m.n) AS ship_at,
       %(t0)s::timestamptz + make_interval(secs => 3 * m.n + 1) AS receive_at,
       %(t0)s::timestamptz + make_interval(secs => 3 * m.n + 2) AS dispense_at,
       m.n %% 10 <> 0 AS received,
       m.n %% 10 <> 0 AND m.kind IN ('pharmacy', 'hospital') AND %(per)s / 10 > 0 AS dispensing
FROM unnest(%(sites)s::uuid[], %(glns)s::text[], %(devices)s::uuid[], %(kinds)s::text[])
     WITH ORDINALITY AS m(site, gln, device, kind, n)
"""
_CHUNKS = """
CREATE TEMP TABLE bench_chunks ON COMMIT DROP AS
SELECT serial, (k - 1) / %(per)s AS n, (k - 1) %% %(per)s AS i
FROM (SELECT serial, row_number() OVER (ORDER BY serial) AS k FROM packs
      WHERE gtin = %(gtin)s AND lot = %(lot)s) numbered
WHERE (k - 1) / %(per)s < %(facilities)s
"""
# (move, its packs, action, event id, time, facility, destination, actor, status after)
_STEPS = """
CREATE TEMP TABLE bench_steps ON COMMIT DROP AS
SELECT c.serial, c.n, c.i, s.*
FROM bench_chunks c JOIN bench_moves m ON m.n = c.n
CROSS JOIN LATERAL (
    VALUES ('ship', 'shipping', m.ship_id, m.ship_at, %(plant)s::uuid, m.site, 'user',
            %(maker)s::uuid, 'active', true),
           ('receive', 'receiving', m.receive_id, m.receive_at, m.site, NULL::uuid, 'device',
            m.device, 'active', m.received),
           ('dispense', 'dispensing', m.dispense_id, m.dispense_at, m.site, NULL::uuid,
            'device', m.device, 'dispensed', m.dispensing AND c.i < %(per)s / 10)
) AS s(action, business_step, event_id, at, facility_id, destination_id, actor_kind,
       actor_id, status_after, happens)
WHERE s.happens
"""
_EVENTS = """
INSERT INTO events (event_id, action, business_step, facility_id, destination_id, actor_kind,
                    actor_id, event_time, recorded_at, offline, payload_hash, response,
                    chain_seq, row_hash)
SELECT s.event_id, s.action, s.business_step, s.facility_id, s.destination_id, s.actor_kind,
       s.actor_id, s.at, s.at, false, encode(sha256(s.event_id::text::bytea), 'hex'),
       jsonb_build_object('status_code', 200, 'body', jsonb_build_object(
           'action', s.action, 'offline', false, 'event_id', s.event_id, 'event_time', s.at,
           'facility_gln', f.gln, 'destination_gln', d.gln,
           'summary', jsonb_build_object('ok', count(*), 'refused', 0, 'warning', 0),
           'results', jsonb_agg(jsonb_build_object(
               'code', '(01)' || %(gtin)s::text || '(21)' || s.serial, 'gtin', %(gtin)s::text,
               'serial', s.serial, 'reason', '', 'status', s.status_after, 'outcome', 'ok')
             || CASE WHEN s.action = 'receive' THEN jsonb_build_object('received_from',
                  jsonb_build_object('gln', %(plant_gln)s::text, 'name', %(plant_name)s::text))
                ELSE '{}' END
             ORDER BY s.serial))),
       0, '\\x00'
FROM bench_steps s
JOIN facilities f ON f.id = s.facility_id
LEFT JOIN facilities d ON d.id = s.destination_id
GROUP BY s.event_id, s.action, s.business_step, s.facility_id, s.destination_id, s.actor_kind,
         s.actor_id, s.at, f.gln, d.gln
"""
_PACK_EVENTS = """
INSERT INTO pack_events (gtin, serial, version, event_id, action, facility_id, destination_id,
                         event_time, recorded_at, offline, outcome, status_before, status_after,
                         reason, chain_seq, row_hash)
SELECT %(gtin)s::char(14), serial, row_number() OVER (PARTITION BY serial ORDER BY at), event_id,
       action, facility_id, destination_id, at, at, false, 'ok', 'active', status_after, '', 0,
       '\\x00'
FROM bench_steps
"""
# Each pack's state after its last step.
_PACKS = """
UPDATE packs p
SET holder_id = CASE WHEN m.received THEN m.site END,
    transit_from_id = CASE WHEN NOT m.received THEN %(plant)s::uuid END,
    transit_to_id = CASE WHEN NOT m.received THEN m.site END,
    status = CASE WHEN dispensed THEN 'dispensed' ELSE p.status END,
    status_at = CASE WHEN dispensed THEN m.dispense_at ELSE p.status_at END,
    status_facility_id = CASE WHEN dispensed THEN m.site ELSE p.status_facility_id END,
    last_event_id = CASE WHEN dispensed THEN m.dispense_id
                         WHEN m.received THEN m.receive_id ELSE m.ship_id END,
    version = 1 + m.received::int + dispensed::int
FROM bench_chunks c
JOIN bench_moves m ON m.n = c.n
CROSS JOIN LATERAL (SELECT m.dispensing AND c.i < %(per)s / 10 AS dispensed) d
WHERE p.gtin = %(gtin)s AND p.serial = c.serial
"""


def spread_batch_by_sql(
    client: httpx.Client,
    conn: psycopg.Connection[Any],
    maker: dict[str, str],
    facilities: list[dict[str, Any]],
    packs: int,
) -> tuple[str, list[dict[str, Any]], list[str]]:
    """As `trace.spread_batch` (same arguments and answer), the moves written by SQL."""
    gtin = new_batch(client, maker, quantity=packs)
    started = time.perf_counter()
    commission(client, maker, gtin, "LOT-1", packs)
    print(f"commission {packs:,} packs: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    plant = conn.execute(
        "SELECT id, name FROM facilities WHERE gln = %s", (facility_gln("sina-darou"),)
    ).fetchone()
    user = conn.execute("SELECT id FROM users WHERE username = 'sina-darou'").fetchone()
    assert plant and user
    devices = dict(conn.execute("SELECT facility_id, id FROM devices").fetchall())
    params = {
        "gtin": gtin,
        "lot": "LOT-1",
        "per": packs // len(facilities),
        "facilities": len(facilities),
        "plant": plant[0],
        "plant_gln": facility_gln("sina-darou"),
        "plant_name": plant[1],
        "maker": user[0],
        "t0": conn.execute("SELECT now()").fetchone()[0],  # type: ignore[index]
        "sites": [f["id"] for f in facilities],
        "glns": [f["gln"] for f in facilities],
        "devices": [devices[uuid_of(f["id"])] for f in facilities],
        "kinds": [f["kind"] for f in facilities],
    }
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        for statement in (_MOVES, _CHUNKS, _STEPS, _EVENTS, _PACK_EVENTS, _PACKS):
            conn.execute(statement, params)
        conn.execute(f"TRUNCATE {', '.join(SUMMARIES)}")
        for statement in backfill_statements():
            conn.execute(statement)
    conn.execute("VACUUM ANALYZE")
    print(
        f"spread over {len(facilities)} facilities by SQL (the rows of "
        f"{_event_count(conn, gtin):,} events): {time.perf_counter() - started:.1f} s"
    )
    codes = [
        code(gtin, serial)
        for (serial,) in conn.execute(
            "SELECT serial FROM packs WHERE gtin = %s AND lot = 'LOT-1' ORDER BY serial", (gtin,)
        )
    ]
    return gtin, facilities, codes


def uuid_of(text: str) -> uuid.UUID:
    return uuid.UUID(text)


def _event_count(conn: psycopg.Connection[Any], gtin: str) -> int:
    row = conn.execute(
        "SELECT count(DISTINCT event_id) FROM pack_events WHERE gtin = %s", (gtin,)
    ).fetchone()
    return int(row[0]) if row else 0


# The rows both ways, by what they mean: serials and ids are random, so packs are named by their
# place in serial order, facilities by GLN, events by action and facility.
_COMPARED = {
    "packs": """
        SELECT row_number() OVER (ORDER BY p.serial), p.status, h.gln, tf.gln, tt.gln, sf.gln,
               p.in_return, p.status_at = p.commissioned_at, p.container_sscc, le.action, p.version
        FROM packs p
        LEFT JOIN facilities h ON h.id = p.holder_id
        LEFT JOIN facilities tf ON tf.id = p.transit_from_id
        LEFT JOIN facilities tt ON tt.id = p.transit_to_id
        LEFT JOIN facilities sf ON sf.id = p.status_facility_id
        LEFT JOIN events le ON le.event_id = p.last_event_id
        WHERE p.gtin = %(gtin)s ORDER BY 1""",
    "pack_events": """
        SELECT k.k, e.action, f.gln, d.gln, e.offline, e.outcome, e.status_before,
               e.status_after, e.reason, e.container_sscc, e.event_time = e.recorded_at,
               e.version
        FROM pack_events e
        JOIN (SELECT serial, row_number() OVER (ORDER BY serial) AS k FROM packs
              WHERE gtin = %(gtin)s) k ON k.serial = e.serial
        JOIN facilities f ON f.id = e.facility_id
        LEFT JOIN facilities d ON d.id = e.destination_id
        WHERE e.gtin = %(gtin)s ORDER BY 1, 2""",
    "events": """
        SELECT e.action, e.business_step, f.gln, d.gln, e.actor_kind, e.offline,
               e.event_time = e.recorded_at, length(e.payload_hash),
               e.response - 'body', (e.response -> 'body') - 'event_id' - 'event_time'
                 - 'results', jsonb_array_length(e.response -> 'body' -> 'results'),
               (e.response -> 'body' -> 'results' -> 0) - 'code' - 'serial'
        FROM events e JOIN facilities f ON f.id = e.facility_id
        LEFT JOIN facilities d ON d.id = e.destination_id
        WHERE e.event_id IN (SELECT event_id FROM pack_events WHERE gtin = %(gtin)s)
        ORDER BY 1, 3, 4""",
    "indicator_stock": """
        SELECT f.gln, s.packs FROM indicator_stock s JOIN facilities f ON f.id = s.facility_id
        WHERE s.gtin = %(gtin)s AND s.packs <> 0 ORDER BY 1""",
    "indicator_flows": """
        SELECT s.day, f.gln, s.action, s.packs, s.scans FROM indicator_flows s
        JOIN facilities f ON f.id = s.facility_id WHERE s.gtin = %(gtin)s ORDER BY 1, 2, 3""",
}


def built(by_sql: bool, packs: int, facility_count: int) -> dict[str, list[Any]]:
    with (
        demo_server() as server,
        httpx.Client(base_url=server.url, timeout=LONG) as client,
        psycopg.connect(server.pg_conninfo(), autocommit=True) as conn,
    ):
        admin, maker = login(client, "fdo-admin"), login(client, "sina-darou")
        facilities = setup_facilities(client, admin, facility_count)
        if by_sql:
            gtin, _, _ = spread_batch_by_sql(client, conn, maker, facilities, packs)
        else:
            gtin, _, _ = spread_batch(client, maker, facilities, packs)
        return {
            table: conn.execute(query, {"gtin": gtin}).fetchall()
            for table, query in _COMPARED.items()
        }


def main() -> None:
    packs = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    facility_count = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    by_api, by_sql = built(False, packs, facility_count), built(True, packs, facility_count)
    for table, rows in by_api.items():
        same = rows == by_sql[table]
        print(
            f"{table}: {len(rows):,} rows by the API, {len(by_sql[table]):,} by SQL, "
            f"{'the same' if same else 'DIFFERENT'}"
        )
        if not same:
            for api_row, sql_row in zip(rows, by_sql[table], strict=False):
                if api_row != sql_row:
                    print(f"  first difference:\n  API {api_row}\n  SQL {sql_row}")
                    break
    if any(rows != by_sql[table] for table, rows in by_api.items()):
        sys.exit(1)


if __name__ == "__main__":
    main()
