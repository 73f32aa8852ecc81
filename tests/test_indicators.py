"""The national indicators: every number equals a direct count over packs, pack_events and
alerts, for the demo world and after new events recorded through the API; the summaries equal
what the migration's backfill makes of the same history."""

from __future__ import annotations

import csv
import importlib.util
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jdatetime
from litestar.testing import AsyncTestClient

from app.indicators.service import today
from tests.conftest import TEST_DATABASE, PgServer
from tests.helpers import event, facility_gln, headers_for, pack_code, register_batch

DAY = "(({col}) AT TIME ZONE 'Asia/Tehran')::date"
SUMMARIES = (
    "indicator_flows",
    "indicator_flows_monthly",
    "indicator_alerts",
    "indicator_open_alerts",
    "indicator_stock",
)
NEAR_EXPIRY_DAYS = 90


def _sql(pg_server: PgServer, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with pg_server.connect(TEST_DATABASE) as conn:
        return conn.execute(query, params).fetchall()


def direct(
    pg_server: PgServer, start: date, end: date, province: str | None = None
) -> dict[str, Any]:
    """The indicators counted straight from the history."""
    params = {"start": start, "end": end, "province": province}
    where_site = "(%(province)s::text IS NULL OR f.province = %(province)s::text)"
    flows = dict(
        _sql(
            pg_server,
            f"""SELECT pe.action, count(*) FILTER (WHERE pe.outcome <> 'refused'
                                                   AND pe.status_after IS NOT NULL)
                FROM pack_events pe JOIN facilities f ON f.id = pe.facility_id
                WHERE {DAY.format(col="pe.event_time")} BETWEEN %(start)s AND %(end)s
                  AND {where_site}
                GROUP BY pe.action""",
            params,
        )
    )
    scans = _sql(
        pg_server,
        f"""SELECT count(*) FROM pack_events pe JOIN facilities f ON f.id = pe.facility_id
            WHERE {DAY.format(col="pe.event_time")} BETWEEN %(start)s AND %(end)s
              AND {where_site}""",
        params,
    )[0][0]
    commissioned = _sql(
        pg_server,
        f"""SELECT count(*) FROM packs p JOIN events e ON e.event_id = p.commission_event_id
            JOIN facilities f ON f.id = e.facility_id
            WHERE {DAY.format(col="p.commissioned_at")} BETWEEN %(start)s AND %(end)s
              AND {where_site}""",
        params,
    )[0][0]
    alerts = _sql(
        pg_server,
        f"""SELECT count(*) FROM alerts a JOIN facilities f ON f.id = a.facility_id
            WHERE {DAY.format(col="a.raised_at")} BETWEEN %(start)s AND %(end)s
              AND {where_site}""",
        params,
    )[0][0]
    open_alerts = _sql(
        pg_server,
        f"""SELECT a.code, count(*) FROM alerts a JOIN facilities f ON f.id = a.facility_id
            WHERE a.status <> 'closed' AND {where_site}
            GROUP BY a.code ORDER BY count(*) DESC, a.code""",
        params,
    )
    per_day = _sql(
        pg_server,
        f"""SELECT {DAY.format(col="pe.event_time")}, f.province, count(*)
            FROM pack_events pe JOIN facilities f ON f.id = pe.facility_id
            WHERE pe.action = 'dispense' AND pe.outcome <> 'refused'
              AND pe.status_after IS NOT NULL
              AND {DAY.format(col="pe.event_time")} BETWEEN %(start)s AND %(end)s
              AND {where_site}
            GROUP BY 1, 2 ORDER BY 1, 2""",
        params,
    )
    as_of = today()
    near_expiry = _sql(
        pg_server,
        f"""SELECT f.province, count(*), count(DISTINCT (p.gtin, p.lot))
            FROM packs p JOIN batches b ON b.gtin = p.gtin AND b.lot = p.lot
            JOIN facilities f ON f.id = p.holder_id
            WHERE p.status IN ('active', 'locked')
              AND b.expiry BETWEEN %(today)s AND %(until)s AND {where_site}
            GROUP BY 1 ORDER BY 1""",
        params | {"today": as_of, "until": as_of + timedelta(days=NEAR_EXPIRY_DAYS)},
    )
    suspects = _sql(
        pg_server,
        f"""SELECT a.gtin, count(*) FROM alerts a JOIN facilities f ON f.id = a.facility_id
            WHERE a.code IN ('unknown_serial', 'cloned_code')
              AND {DAY.format(col="a.raised_at")} BETWEEN %(start)s AND %(end)s
              AND {where_site}
            GROUP BY 1 ORDER BY 2 DESC, 1""",
        params,
    )
    return {
        "totals": {
            "commissioned": commissioned,
            "shipped": flows.get("ship", 0),
            "received": flows.get("receive", 0),
            "dispensed": flows.get("dispense", 0),
            "scans": scans,
            "alerts": alerts,
        },
        "open_alerts": [{"code": code, "open": n} for code, n in open_alerts],
        "dispensing_per_day": [
            {"day": day.isoformat(), "province": p, "packs": n} for day, p, n in per_day
        ],
        "near_expiry": [{"province": p, "packs": n, "batches": b} for p, n, b in near_expiry],
        "suspects": [(gtin.strip(), n) for gtin, n in suspects],
    }


async def indicators(
    client: AsyncTestClient[Any], headers: dict[str, str], **query: Any
) -> dict[str, Any]:
    response = await client.get("/api/indicators", params=query, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_agrees(answer: dict[str, Any], counted: dict[str, Any]) -> None:
    totals = answer["totals"]
    assert {k: totals[k] for k in counted["totals"]} == counted["totals"]
    scans, alerts = counted["totals"]["scans"], counted["totals"]["alerts"]
    expected_rate = round(alerts * 10_000 / scans, 2) if scans else None
    assert totals["alerts_per_10000_scans"] == expected_rate
    assert answer["open_alerts"] == counted["open_alerts"]
    assert answer["dispensing_per_day"] == counted["dispensing_per_day"]
    assert answer["dispensing_per_month"] == by_jalali_month(counted["dispensing_per_day"])
    assert answer["near_expiry"]["by_province"] == counted["near_expiry"]
    assert [(s["gtin"], s["alerts"]) for s in answer["counterfeit_suspects"]] == counted["suspects"]
    # The tables by province and by product add up to the totals.
    for name in ("commissioned", "shipped", "received", "dispensed"):
        assert sum(line[name] for line in answer["by_province"]) == totals[name]
        assert sum(line[name] for line in answer["by_product"]) == totals[name]
        assert sum(line[name] for line in answer["by_atc"]) == totals[name]
    assert sum(line["scans"] for line in answer["by_province"]) == totals["scans"]
    assert sum(line["alerts"] for line in answer["by_province"]) == totals["alerts"]


def jalali_month(day: date) -> date:
    first: date = jdatetime.date.fromgregorian(date=day).replace(day=1).togregorian()
    return first


def by_jalali_month(per_day: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The dispensing per day summed per Jalali month (a month is named by its first day)."""
    summed: dict[tuple[str, str], int] = {}
    for row in per_day:
        key = (jalali_month(date.fromisoformat(row["day"])).isoformat(), row["province"])
        summed[key] = summed.get(key, 0) + row["packs"]
    return [{"month": m, "province": p, "packs": n} for (m, p), n in sorted(summed.items())]


def summaries(pg_server: PgServer) -> dict[str, list[tuple[Any, ...]]]:
    with pg_server.connect(TEST_DATABASE) as conn:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4").fetchall()
            for table in SUMMARIES
        }


def backfilled(pg_server: PgServer) -> dict[str, list[tuple[Any, ...]]]:
    """The summaries as their migration's backfill makes them from the history (rolled back)."""
    statements = []
    for name in ("indicator_summaries", "indicator_months"):  # the months from the days
        (path,) = (Path(__file__).parents[1] / "migrations/versions").glob(f"*_{name}.py")
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        statements += migration.BACKFILL
    with pg_server.connect(TEST_DATABASE) as conn, conn.transaction(force_rollback=True):
        for table in SUMMARIES:
            conn.execute(f"DELETE FROM {table}")
        for statement in statements:
            conn.execute(statement)
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4").fetchall()
            for table in SUMMARIES
        }


def nonzero(tables: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """Rows whose counts are not all zero (stock that left a site stays as a 0 row)."""
    return {t: [r for r in rows if any(v for v in r[4 if t != "indicator_stock" else 3 :])]
            for t, rows in tables.items()}  # fmt: skip


async def test_indicators_equal_direct_counts_before_and_after_new_events(
    client: AsyncTestClient[Any], pg_server: PgServer
) -> None:
    inspector = await headers_for(client, "fdo-inspector")
    end = today()
    start = end - timedelta(days=700)
    period = {"from": start.isoformat(), "to": end.isoformat()}
    before = await indicators(client, inspector, **period)
    assert_agrees(before, direct(pg_server, start, end))
    assert before["totals"]["commissioned"] > 0  # the demo world has a history

    # New history through the API: a batch near expiry, commissioned, shipped to a pharmacy,
    # received and partly dispensed there; an unknown serial scanned at the counter.
    maker = await headers_for(client, "sina-darou")
    pharmacy = await headers_for(client, "razi-pharmacy")
    expiry = (end + timedelta(days=30)).isoformat()
    gtin, lot, serials = await register_batch(
        client, maker, item="071", lot="IND1", expiry=expiry, count=12
    )
    codes = [pack_code(gtin, s) for s in serials]
    razi = facility_gln("razi-pharmacy")
    shipped = await event(client, maker, "ship", codes[:8], destination_gln=razi)
    assert shipped.status_code == 200, shipped.text
    received = await event(client, pharmacy, "receive", codes[:8])
    assert received.status_code == 200, received.text
    dispensed = await event(client, pharmacy, "dispense", codes[:3])
    assert dispensed.status_code == 200, dispensed.text
    unknown = await event(client, pharmacy, "dispense", [pack_code(gtin, "NOSUCHSERIAL7")])
    assert unknown.status_code == 422, unknown.text

    after = await indicators(client, inspector, **period)
    assert_agrees(after, direct(pg_server, start, end))
    grew = {k: after["totals"][k] - before["totals"][k] for k in ("commissioned", "shipped")}
    assert grew == {"commissioned": 12, "shipped": 8}
    assert after["totals"]["dispensed"] - before["totals"]["dispensed"] == 3
    mine = next(line for line in after["by_product"] if line["gtin"] == gtin)
    assert mine | {"name": None} == {
        "gtin": gtin,
        "name": None,
        "atc": "J01CA04",
        "commissioned": 12,
        "shipped": 8,
        "received": 8,
        "dispensed": 3,
    }
    assert (gtin, 1) in [(s["gtin"], s["unknown_serial"]) for s in after["counterfeit_suspects"]]

    # Closing the unknown serial's alert takes it out of the open alerts.
    alerts = await client.get(
        "/api/alerts", params={"gtin": gtin, "code": "unknown_serial"}, headers=inspector
    )
    (alert,) = alerts.json()
    closed = await client.post(
        f"/api/alerts/{alert['id']}/status",
        json={"status": "closed", "root_cause": "a mistyped serial"},
        headers=inspector,
    )
    assert closed.status_code == 200, closed.text
    assert_agrees(await indicators(client, inspector, **period), direct(pg_server, start, end))
    reopened = await client.post(
        f"/api/alerts/{alert['id']}/status", json={"status": "investigating"}, headers=inspector
    )
    assert reopened.status_code == 200, reopened.text
    assert_agrees(await indicators(client, inspector, **period), direct(pg_server, start, end))

    # A recall's reach is its progress: packs accounted for out of those affected.
    recall = await client.post(
        "/api/recalls",
        json={
            "gtin": gtin,
            "lots": [lot],
            "recall_class": "II",
            "reason": "test",
            "instructions": "return",
            "deadline": (end + timedelta(days=10)).isoformat(),
        },
        headers=inspector,
    )
    assert recall.status_code == 201, recall.text
    progress = recall.json()["progress"]
    reach = await indicators(client, inspector, **period)
    (line,) = [r for r in reach["recall_reach"] if r["recall_id"] == recall.json()["id"]]
    assert line["affected"] == progress["affected"] == 12
    assert line["accounted_for"] == progress["affected"] - progress["unaccounted_for"]
    assert line["reach"] == round(line["accounted_for"] / 12, 4)

    # What was kept with the events is what the history gives when summed afresh.
    assert nonzero(summaries(pg_server)) == nonzero(backfilled(pg_server))


async def test_periods_cut_across_jalali_months_agree_with_the_history(
    client: AsyncTestClient[Any], pg_server: PgServer
) -> None:
    """A period reads its whole months from the monthly rows and the days around them from the
    daily ones: every way of cutting it gives what the history gives."""
    inspector = await headers_for(client, "fdo-inspector")
    end = today()
    this_month = jalali_month(end)
    last_month = jalali_month(this_month - timedelta(days=1))
    before_that = jalali_month(last_month - timedelta(days=1))
    for start, stop in (
        (last_month, this_month - timedelta(days=1)),  # exactly one whole month
        (before_that + timedelta(days=3), end),  # a part, a whole month, a part
        (before_that, end),  # whole months, then this month's days
        (before_that + timedelta(days=1), this_month - timedelta(days=1)),  # a part, a month
        (end - timedelta(days=120), end - timedelta(days=100)),  # days only
    ):
        answer = await indicators(client, inspector, **{"from": str(start), "to": str(stop)})
        assert_agrees(answer, direct(pg_server, start, stop))


async def test_the_period_and_province_filters(
    client: AsyncTestClient[Any], pg_server: PgServer
) -> None:
    inspector = await headers_for(client, "fdo-inspector")
    maker = await headers_for(client, "sina-darou")
    gtin, _, serials = await register_batch(client, maker, item="072", lot="IND2", count=5)
    codes = [pack_code(gtin, s) for s in serials]
    ten_days_ago = datetime.now(UTC) - timedelta(days=10)
    shipped = await event(
        client,
        maker,
        "ship",
        codes,
        destination_gln=facility_gln("razi-pharmacy"),
        event_time=ten_days_ago.isoformat(),
    )
    assert shipped.status_code == 200, shipped.text
    end = today()
    then = (ten_days_ago + timedelta(hours=3, minutes=30)).date()  # the Tehran day
    for start, stop in ((then, then), (end - timedelta(days=3), end), (then, end)):
        answer = await indicators(client, inspector, **{"from": str(start), "to": str(stop)})
        assert_agrees(answer, direct(pg_server, start, stop))
    only_then = await indicators(client, inspector, **{"from": str(then), "to": str(then)})
    assert only_then["totals"]["shipped"] >= 5
    recent = await indicators(client, inspector, **{"from": str(then + timedelta(days=1))})
    assert gtin not in [line["gtin"] for line in recent["by_product"] if line["shipped"]]

    start = end - timedelta(days=700)
    for province in ("Tehran", "Isfahan", "Nowhere"):
        query = {"from": str(start), "to": str(end), "province": province}
        answer = await indicators(client, inspector, **query)
        assert_agrees(answer, direct(pg_server, start, end, province))
        assert {line["province"] for line in answer["by_province"]} <= {province}
    j01 = await indicators(client, inspector, **{"from": str(start), "atc": "j01"})
    assert j01["atc"] == "J01"
    assert all(line["atc"].startswith("J01") for line in j01["by_product"])
    assert gtin in [line["gtin"] for line in j01["by_product"]]


async def test_csv_tables(client: AsyncTestClient[Any]) -> None:
    inspector = await headers_for(client, "fdo-inspector")
    start = str(today() - timedelta(days=700))
    answer = await indicators(client, inspector, **{"from": start})
    response = await client.get(
        "/api/indicators/by_province.csv", params={"from": start}, headers=inspector
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["province"] for r in rows] == [line["province"] for line in answer["by_province"]]
    assert [int(r["dispensed"]) for r in rows] == [
        line["dispensed"] for line in answer["by_province"]
    ]
    for table in ("by_product", "by_atc", "dispensing_per_day", "open_alerts", "near_expiry"):
        got = await client.get(f"/api/indicators/{table}.csv", headers=inspector)
        assert got.status_code == 200, got.text
        assert got.text.splitlines()[0].count(",") >= 1
    missing = await client.get("/api/indicators/nothing.csv", headers=inspector)
    assert missing.status_code == 404
    assert "by_province.csv" in missing.json()["detail"]


async def test_only_inspectors_and_admins_and_bad_periods(
    client: AsyncTestClient[Any], pg_server: PgServer
) -> None:
    for username in ("razi-pharmacy", "sina-darou"):
        headers = await headers_for(client, username)
        assert (await client.get("/api/indicators", headers=headers)).status_code == 403
        csv_response = await client.get("/api/indicators/by_province.csv", headers=headers)
        assert csv_response.status_code == 403
    admin = await headers_for(client, "fdo-admin")
    assert (await client.get("/api/indicators", headers=admin)).status_code == 200
    inspector = await headers_for(client, "fdo-inspector")
    for query, field in (
        ({"from": "2026-02-01", "to": "2026-01-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "from"),
        ({"atc": "J0"}, "atc"),
        ({"expiring_within_days": "-1"}, "expiring_within_days"),
    ):
        response = await client.get("/api/indicators", params=query, headers=inspector)
        assert response.status_code in (400, 422), response.text
        assert field in response.json()["detail"], response.text
    logged = _sql(
        pg_server,
        "SELECT role, outcome FROM access_log WHERE resource = 'indicators' ORDER BY id",
        {},
    )
    assert ("pharmacy", "forbidden") in logged, logged
    assert ("admin", "ok") in logged, logged
    assert ("inspector", "invalid") in logged, logged
