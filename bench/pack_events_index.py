"""What the index on an event's lines (`ix_pack_events_event_id`, migration 0018) costs the
event path: one event's 100,000 lines COPYed into a copy of `pack_events` with its indexes,
with and without that index, alternately (ROUNDS each; medians).

    uv run python bench/pack_events_index.py
"""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import UTC, datetime

import psycopg
from harness import demo_server

LINES = 100_000
ROUNDS = 5
COLUMNS = (
    "gtin, serial, version, event_id, action, facility_id, event_time, recorded_at, offline, "
    "outcome, reason"
)
TYPES = [
    "text", "text", "int4", "uuid", "text", "uuid", "timestamptz", "timestamptz", "bool", "text",
    "text",
]  # fmt: skip


def copy_lines(connection: psycopg.Connection, table: str) -> float:
    event_id, facility, now = uuid.uuid4(), uuid.uuid4(), datetime.now(UTC)
    gtin = f"0626{uuid.uuid4().int % 10**10:010d}"
    started = time.perf_counter()
    statement = f"COPY {table} ({COLUMNS}) FROM STDIN (FORMAT BINARY)"
    with connection.transaction(), connection.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types(TYPES)
        for n in range(LINES):
            row = (gtin, f"S{n:011d}", 1, event_id, "ship", facility, now, now, False, "ok", "")
            copy.write_row(row)
    return time.perf_counter() - started


def main() -> None:
    with demo_server() as server, psycopg.connect(server.pg_conninfo(), autocommit=True) as db:
        for table in ("lines_without", "lines_with"):
            db.execute(f"CREATE TABLE {table} (LIKE pack_events INCLUDING ALL)")
        (index,) = db.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'lines_without' "
            "AND indexdef LIKE '%%(event_id)'"
        ).fetchone() or (None,)
        assert index is not None, "the copy has no index on event_id to drop"
        db.execute(f"DROP INDEX {index}")
        times: dict[str, list[float]] = {"lines_without": [], "lines_with": []}
        for _ in range(ROUNDS):
            for table in times:
                times[table].append(copy_lines(db, table))
    without, with_index = (statistics.median(times[t]) for t in ("lines_without", "lines_with"))
    print(
        f"COPY of one event's {LINES:,} lines (median of {ROUNDS}): {without:.2f} s without the "
        f"index on event_id, {with_index:.2f} s with it ({(with_index / without - 1) * 100:+.0f} %)"
    )


if __name__ == "__main__":
    main()
