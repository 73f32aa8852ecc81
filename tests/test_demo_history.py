"""The demo world's 90 days of history (what `serve --demo` adds): spread over the days and the
provinces, with alerts and a recall in progress, recorded once."""

from datetime import date, datetime, timedelta
from typing import Any

from litestar import Litestar

from app import demo_history
from app.db.database import Database
from app.demo_history import TEHRAN_TIME
from tests.conftest import TEST_DATABASE, PgServer, client_for
from tests.helpers import headers_for

_LOTS = [(demo_history.demo_gtin(lot.item), lot.lot) for lot in demo_history.LOTS]

# Where each of the history's packs is, or was last decommissioned.
_PROVINCES = """
SELECT DISTINCT f.province
FROM packs p JOIN facilities f ON f.id = coalesce(p.holder_id, p.status_facility_id)
JOIN unnest(%s::text[], %s::text[]) AS lots(gtin, lot) ON p.gtin = lots.gtin AND p.lot = lots.lot
"""
_EVENT_DAYS = """
SELECT DISTINCT (event_time AT TIME ZONE 'Asia/Tehran')::date FROM events
WHERE event_time >= now() - interval '90 days'
"""
_SERIALIZED = """
SELECT min(e.event_time) FROM events e JOIN packs p ON p.commission_event_id = e.event_id
JOIN unnest(%s::text[], %s::text[]) AS lots(gtin, lot) ON p.gtin = lots.gtin AND p.lot = lots.lot
"""
# The provinces where packs were dispensed, each day.
_DISPENSING = """
SELECT (pe.event_time AT TIME ZONE 'Asia/Tehran')::date, count(DISTINCT f.province)
FROM pack_events pe JOIN facilities f ON f.id = pe.facility_id
WHERE pe.action = 'dispense' AND pe.outcome = 'ok'
GROUP BY 1
"""
_SIZES = [
    "SELECT count(*) FROM packs",
    "SELECT count(*) FROM events",
    "SELECT count(*) FROM pack_events",
    "SELECT count(*) FROM alerts",
    "SELECT count(*) FROM recalls",
]


def _rows(pg_server: PgServer, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with pg_server.connect(TEST_DATABASE) as conn:
        return conn.execute(query, params or None).fetchall()


def _sizes(pg_server: PgServer) -> list[int]:
    return [_rows(pg_server, query)[0][0] for query in _SIZES]


async def _alerts_by_code(app: Litestar, database: Database) -> dict[str, int]:
    async with client_for(app, database) as client:
        inspector = await headers_for(client, "fdo-inspector")
        alerts = (await client.get("/api/alerts", headers=inspector)).json()
    counts: dict[str, int] = {}
    for alert in alerts:
        counts[alert["code"]] = counts.get(alert["code"], 0) + 1
    return counts


async def test_the_history_spreads_over_ninety_days_and_four_provinces(
    app: Litestar, database: Database, pg_server: PgServer
) -> None:
    alerts_before = await _alerts_by_code(app, database)
    await demo_history.record_database(database)

    gtins, lots = [gtin for gtin, _ in _LOTS], [lot for _, lot in _LOTS]
    provinces = {row[0] for row in _rows(pg_server, _PROVINCES, gtins, lots)}
    assert {"Tehran", "Isfahan", "Fars", "Razavi Khorasan"} <= provinces

    assert len(_rows(pg_server, _EVENT_DAYS)) >= 60
    (serialized,) = _rows(pg_server, _SERIALIZED, gtins, lots)
    assert serialized[0] < datetime.now(TEHRAN_TIME) - timedelta(days=80)  # in the past, as told

    today = datetime.now(TEHRAN_TIME).date()
    dispensing: dict[date, int] = dict(_rows(pg_server, _DISPENSING))  # type: ignore[arg-type]
    last_80_days = [today - timedelta(days=n) for n in range(1, 81)]
    assert all(dispensing.get(day, 0) >= 2 for day in last_80_days), dispensing
    assert sum(dispensing.get(day, 0) >= 3 for day in last_80_days) >= 60

    alerts = await _alerts_by_code(app, database)
    assert alerts.get("unknown_serial", 0) - alerts_before.get("unknown_serial", 0) == 2
    assert alerts.get("cloned_code", 0) - alerts_before.get("cloned_code", 0) == 1


async def test_the_history_leaves_a_recall_partly_carried_out(
    app: Litestar, database: Database
) -> None:
    await demo_history.record_database(database)
    async with client_for(app, database) as client:
        inspector = await headers_for(client, "fdo-inspector")
        (recall,) = (await client.get("/api/recalls", headers=inspector)).json()
        details = (await client.get(f"/api/recalls/{recall['id']}", headers=inspector)).json()
    progress = details["progress"]
    assert progress["quarantined"] > 0 and progress["returning"] > 0  # some carried out
    assert progress["supplied_before_recall"] > 0
    assert 0 < progress["unaccounted_for"] < progress["affected"]
    assert not progress["all_accounted_for"]
    acknowledged = [n for n in details["notices"] if n["acknowledged_at"] is not None]
    assert acknowledged and progress["awaiting_acknowledgement"]


async def test_recording_the_history_again_adds_nothing(
    database: Database, pg_server: PgServer
) -> None:
    await demo_history.record_database(database)
    recorded = _sizes(pg_server)
    await demo_history.record_database(database)
    assert _sizes(pg_server) == recorded
