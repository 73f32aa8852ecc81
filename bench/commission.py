"""Serialization: commission a million packs in one request (target ≤ 5 s end to end), and, for
comparison, the raw COPY of as many equivalent rows into a scratch table shaped like `packs`.

    uv run python bench/commission.py [COUNT]
"""

from __future__ import annotations

import sys
import time
import uuid
from datetime import UTC, datetime

import httpx
import psycopg
from harness import commission, demo_server, login, new_batch

from app.packs.serials import new_serials


def raw_copy_seconds(conninfo: str, gtin: str, count: int) -> float:
    """COPY `count` rows like the ones commissioning writes into a fresh table with the same
    columns, constraints and indexes as `packs`; returns the time of COPY plus commit."""
    now = datetime.now(UTC).isoformat()
    facility, event = uuid.uuid4(), uuid.uuid4()
    suffix = f"\tSCRATCH\tactive\t{facility}\t{facility}\t{now}\t{now}\t{event}\t{event}\n"
    rows = [f"{gtin}\t{serial}{suffix}" for serial in new_serials(count)]
    chunks = ["".join(rows[i : i + 50_000]) for i in range(0, count, 50_000)]
    with psycopg.connect(conninfo) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_packs_copy")
        connection.execute("CREATE TABLE bench_packs_copy (LIKE packs INCLUDING ALL)")
        connection.commit()
        started = time.perf_counter()
        with (
            connection.cursor() as cursor,
            cursor.copy(
                "COPY bench_packs_copy (gtin, serial, lot, status, holder_id, status_facility_id,"
                " status_at, commissioned_at, commission_event_id, last_event_id) FROM STDIN"
            ) as copy,
        ):
            for chunk in chunks:
                copy.write(chunk)
        connection.commit()
        elapsed = time.perf_counter() - started
        connection.execute("DROP TABLE bench_packs_copy")
        connection.commit()
    return elapsed


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with demo_server() as server, httpx.Client(base_url=server.url) as client:
        headers = login(client, "sina-darou")
        gtin = new_batch(client, headers, quantity=count)
        started = time.perf_counter()
        commission(client, headers, gtin, "LOT-1", count)
        http_seconds = time.perf_counter() - started
        copy_seconds = raw_copy_seconds(server.pg_conninfo(), gtin, count)
    print(f"commission {count:,} packs, one HTTP request: {http_seconds:.2f} s")
    print(f"raw COPY of {count:,} equivalent rows into a packs-shaped table: {copy_seconds:.2f} s")
    print(f"HTTP / raw COPY: {http_seconds / copy_seconds:.1f}x")


if __name__ == "__main__":
    main()
