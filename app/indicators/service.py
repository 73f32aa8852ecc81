"""The national indicators (directive Article 14.1) for inspectors: over a period of Asia/Tehran
days, by province and by product or ATC group. They read the summaries kept with the events
(models/indicators.py), never the history itself, so that their cost follows the period and the
number of sites and products, not the years of events behind them. Recall reach is each
recall's own progress (app/recalls), which reads the recalled batches' packs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from app.errors import InvalidInput
from app.indicators import months
from app.recalls import service as recalls
from models.indicators import DAY_ZONE

Connection = psycopg.AsyncConnection[Any]

FLOWS = ("commission", "ship", "receive", "dispense")
FLOW_NAMES = {
    "commission": "commissioned",
    "ship": "shipped",
    "receive": "received",
    "dispense": "dispensed",
}
COUNTERFEIT_SUSPECTS = ("unknown_serial", "cloned_code")
MAX_DAYS = 731
DEFAULT_DAYS = 30
DEFAULT_EXPIRY_DAYS = 90
TOP_SUSPECTS = 10
MAX_RECALLS = 50
_ATC = re.compile(r"[A-Z][0-9]{2}([A-Z]{2})?")

# Every filter, on the site (f) and the product (pr) of a summary row.
_WHERE = """
  AND (%(province)s::text IS NULL OR f.province = %(province)s::text)
  AND (%(atc)s::text IS NULL OR starts_with(pr.atc, %(atc)s::text))
"""
# The period's flows: its whole Jalali months from the monthly rows, the days around them from
# the daily ones (app/indicators/months.py; no whole month: every day from the daily rows).
_FLOW_ROWS = """
SELECT {month_head} facility_id, gtin, action, packs, scans FROM indicator_flows
WHERE day >= %(from)s AND day < %(months_from)s {action}
UNION ALL
SELECT {month} facility_id, gtin, action, packs, scans FROM indicator_flows_monthly
WHERE month >= %(months_from)s AND month < %(months_to)s {action}
UNION ALL
SELECT {month_tail} facility_id, gtin, action, packs, scans FROM indicator_flows
WHERE day >= %(months_to)s AND day <= %(to)s {action}
"""
# The period's days summed per site and product first: a site sells much the same products every
# day, so the joins and the grouping sets see a row per site and product, not per day.
_FLOWS = f"""
SELECT f.province, s.gtin, pr.name, pr.atc, substr(pr.atc, 1, 3) AS atc_group, s.action,
       sum(s.packs)::bigint AS packs, sum(s.scans)::bigint AS scans,
       GROUPING(f.province) AS no_province, GROUPING(s.gtin) AS no_product,
       GROUPING(substr(pr.atc, 1, 3)) AS no_group
FROM (SELECT facility_id, gtin, action, sum(packs) AS packs, sum(scans) AS scans
      FROM ({_FLOW_ROWS.format(month_head="", month="", month_tail="", action="")}) u
      GROUP BY facility_id, gtin, action) s
JOIN facilities f ON f.id = s.facility_id
LEFT JOIN products pr ON pr.gtin = s.gtin
WHERE true {_WHERE}
GROUP BY GROUPING SETS ((s.action), (f.province, s.action), (s.gtin, pr.name, pr.atc, s.action),
                        (substr(pr.atc, 1, 3), s.action))
"""  # noqa: S608 (constants only, like the queries below)
_DISPENSING_PER_DAY = f"""
SELECT s.day, f.province, sum(s.packs)::bigint AS packs
FROM indicator_flows s
JOIN facilities f ON f.id = s.facility_id
LEFT JOIN products pr ON pr.gtin = s.gtin
WHERE s.action = 'dispense' AND s.day BETWEEN %(from)s AND %(to)s {_WHERE}
GROUP BY s.day, f.province
HAVING sum(s.packs) > 0
ORDER BY s.day, f.province
"""  # noqa: S608
# Per Jalali month and province: a long period's dispensing (a year: 12 points, not 365). The
# days before the first whole month are of the month they fall in; those after the last, of
# the month starting at `months_to`.
_DISPENSING_PER_MONTH = f"""
SELECT u.month, f.province, sum(u.packs)::bigint AS packs
FROM ({
    _FLOW_ROWS.format(
        month_head="%(head_month)s::date AS month,",
        month="month,",
        month_tail="%(months_to)s::date AS month,",
        action="AND action = 'dispense'",
    )
}) u
JOIN facilities f ON f.id = u.facility_id
LEFT JOIN products pr ON pr.gtin = u.gtin
WHERE true {_WHERE}
GROUP BY u.month, f.province
HAVING sum(u.packs) > 0
ORDER BY u.month, f.province
"""  # noqa: S608
_ALERTS = f"""
SELECT f.province, coalesce(sum(s.raised), 0)::bigint AS alerts,
       GROUPING(f.province) AS no_province
FROM indicator_alerts s
JOIN facilities f ON f.id = s.facility_id
LEFT JOIN products pr ON pr.gtin = s.gtin
WHERE s.day BETWEEN %(from)s AND %(to)s {_WHERE}
GROUP BY GROUPING SETS ((), (f.province))
"""  # noqa: S608
_OPEN_ALERTS = f"""
SELECT s.code, sum(s.open)::bigint AS open
FROM indicator_open_alerts s
JOIN facilities f ON f.id = s.facility_id
LEFT JOIN products pr ON pr.gtin = s.gtin
WHERE s.open > 0 {_WHERE}
GROUP BY s.code
ORDER BY open DESC, s.code
"""  # noqa: S608
_SUSPECTS = f"""
SELECT s.gtin, pr.name, pr.atc,
       sum(s.raised) FILTER (WHERE s.code = 'unknown_serial')::bigint AS unknown_serial,
       sum(s.raised) FILTER (WHERE s.code = 'cloned_code')::bigint AS cloned_code,
       sum(s.raised)::bigint AS alerts
FROM indicator_alerts s
JOIN facilities f ON f.id = s.facility_id
LEFT JOIN products pr ON pr.gtin = s.gtin
WHERE s.day BETWEEN %(from)s AND %(to)s AND s.code = ANY(%(suspect_codes)s) {_WHERE}
GROUP BY s.gtin, pr.name, pr.atc
ORDER BY alerts DESC, s.gtin
LIMIT %(top)s
"""  # noqa: S608
# Batches expiring within the window (a small set, read first), then their stock per site.
_NEAR_EXPIRY = f"""
SELECT f.province, sum(s.packs)::bigint AS packs, count(DISTINCT (s.gtin, s.lot)) AS batches
FROM batches b
JOIN indicator_stock s ON s.gtin = b.gtin AND s.lot = b.lot
JOIN facilities f ON f.id = s.facility_id
JOIN products pr ON pr.gtin = b.gtin
WHERE b.expiry BETWEEN %(today)s AND %(until)s AND s.packs > 0 {_WHERE}
GROUP BY f.province
ORDER BY f.province
"""  # noqa: S608
_RECALLS = """
SELECT r.id, r.kind, r.recall_class, r.gtin, pr.name AS product, r.issued_at,
       (SELECT array_agg(lot ORDER BY lot) FROM recall_batches WHERE recall_id = r.id) AS lots
FROM recalls r
JOIN products pr ON pr.gtin = r.gtin
WHERE (r.issued_at AT TIME ZONE %(zone)s)::date BETWEEN %(from)s AND %(to)s
  AND (%(atc)s::text IS NULL OR starts_with(pr.atc, %(atc)s::text))
ORDER BY r.issued_at DESC
LIMIT %(recalls)s
"""


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    province: str | None = None
    atc: str | None = None  # an ATC group: 3 characters (J01) or 5 (J01CA)
    expiring_within_days: int = DEFAULT_EXPIRY_DAYS


def today() -> date:
    return datetime.now(ZoneInfo(DAY_ZONE)).date()


def period(
    start: date | None,
    end: date | None,
    province: str | None,
    atc: str | None,
    expiring_within_days: int | None,
) -> Period:
    """The period asked for, checked; by default the last 30 days up to today (Tehran)."""
    end = end or today()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InvalidInput("from: the period starts after it ends.", field="from")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"from: a period of at most {MAX_DAYS} days.", field="from")
    if atc is not None:
        atc = atc.strip().upper()
        if not _ATC.fullmatch(atc):
            raise InvalidInput(
                "atc: an ATC group of 3 characters (e.g. J01) or 5 (e.g. J01CA).", field="atc"
            )
    days = DEFAULT_EXPIRY_DAYS if expiring_within_days is None else expiring_within_days
    if not 0 <= days <= 3660:
        raise InvalidInput(
            "expiring_within_days: between 0 and 3660.", field="expiring_within_days"
        )
    return Period(start, end, province or None, atc, days)


# Periods longer than this are charted per month (the daily series stays in the API and CSV).
DAILY_CHART_DAYS = 92


def charted_daily(wanted: Period) -> bool:
    return (wanted.end - wanted.start).days < DAILY_CHART_DAYS or not (
        months.split(wanted.start, wanted.end).whole_months
    )


async def indicators(
    connection: Connection, wanted: Period, *, daily: bool = True
) -> dict[str, Any]:
    """`daily`: with the dispensing per day (else only per month, which needs whole months)."""
    parts = months.split(wanted.start, wanted.end)
    params = {
        "from": wanted.start,
        "to": wanted.end,
        "months_from": parts.months_from,
        "months_to": parts.months_to,
        "head_month": months.month_of(wanted.start),
        "province": wanted.province,
        "atc": wanted.atc,
        "zone": DAY_ZONE,
        "suspect_codes": list(COUNTERFEIT_SUSPECTS),
        "top": TOP_SUSPECTS,
        "recalls": MAX_RECALLS,
    }
    as_of = today()
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(_FLOWS, params)
        flows = await cursor.fetchall()
        await cursor.execute(_ALERTS, params)
        alerts = await cursor.fetchall()
        per_day: list[dict[str, Any]] | None = None
        if daily or not parts.whole_months:
            await cursor.execute(_DISPENSING_PER_DAY, params)
            per_day = await cursor.fetchall()
        if parts.whole_months:
            await cursor.execute(_DISPENSING_PER_MONTH, params)
            per_month = await cursor.fetchall()
        else:
            per_month = _months_of(per_day or [])
        await cursor.execute(_OPEN_ALERTS, params)
        open_alerts = await cursor.fetchall()
        await cursor.execute(_SUSPECTS, params)
        suspects = await cursor.fetchall()
        until = as_of + timedelta(days=wanted.expiring_within_days)
        await cursor.execute(_NEAR_EXPIRY, params | {"today": as_of, "until": until})
        near_expiry = await cursor.fetchall()
        await cursor.execute(_RECALLS, params)
        recent_recalls = await cursor.fetchall()
    totals, by_province, by_product, by_atc = _flow_tables(flows, alerts)
    return {
        "period": {"from": wanted.start, "to": wanted.end, "time_zone": DAY_ZONE},
        "province": wanted.province,
        "atc": wanted.atc,
        "totals": totals,
        "by_province": by_province,
        "by_product": by_product,
        "by_atc": by_atc,
        "dispensing_per_day": per_day,
        "dispensing_per_month": per_month,
        "open_alerts": open_alerts,
        "near_expiry": {
            "as_of": as_of,
            "expiring_within_days": wanted.expiring_within_days,
            "by_province": near_expiry,
        },
        "counterfeit_suspects": suspects,
        "recall_reach": [
            await _reach(connection, recall, wanted.province) for recall in recent_recalls
        ],
    }


def _flow_tables(
    flows: list[dict[str, Any]], alerts: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The grouping sets of _FLOWS as four tables; scans and alerts per 10,000 scans for the
    whole and per province."""
    totals = _counts()
    provinces: dict[str, dict[str, Any]] = {}
    products: dict[str, dict[str, Any]] = {}
    groups: dict[str | None, dict[str, Any]] = {}
    for row in flows:
        if not row["no_province"]:
            line = provinces.setdefault(row["province"], {"province": row["province"]} | _counts())
        elif not row["no_product"]:
            line = products.setdefault(
                row["gtin"],
                {"gtin": row["gtin"], "name": row["name"], "atc": row["atc"]} | _counts(),
            )
        elif not row["no_group"]:
            line = groups.setdefault(row["atc_group"], {"atc_group": row["atc_group"]} | _counts())
        else:
            line = totals
        name = FLOW_NAMES.get(row["action"])
        if name is not None:
            line[name] += row["packs"]
        if "scans" in line:
            line["scans"] += row["scans"]
    for row in alerts:
        if row["no_province"]:
            totals["alerts"] = row["alerts"]
        else:
            provinces.setdefault(row["province"], {"province": row["province"]} | _counts())
            provinces[row["province"]]["alerts"] = row["alerts"]
    for line in [totals, *provinces.values()]:
        line["alerts_per_10000_scans"] = (
            round(line["alerts"] * 10_000 / line["scans"], 2) if line["scans"] else None
        )
    for line in [*products.values(), *groups.values()]:
        del line["scans"], line["alerts"]
    return (
        totals,
        sorted(provinces.values(), key=lambda line: line["province"]),
        sorted(products.values(), key=lambda line: (-line["dispensed"], line["gtin"])),
        sorted(groups.values(), key=lambda line: line["atc_group"] or ""),
    )


def _months_of(per_day: list[dict[str, Any]]) -> list[dict[str, Any]]:
    summed: dict[tuple[date, str], int] = {}
    for row in per_day:
        key = (months.month_of(row["day"]), row["province"])
        summed[key] = summed.get(key, 0) + row["packs"]
    return [{"month": m, "province": p, "packs": n} for (m, p), n in sorted(summed.items())]


def _counts() -> dict[str, Any]:
    return dict.fromkeys(FLOW_NAMES.values(), 0) | {"scans": 0, "alerts": 0}


async def _reach(
    connection: Connection, recall: dict[str, Any], province: str | None
) -> dict[str, Any]:
    accounted, affected = await recalls.reach(connection, recall["id"], province)
    return {
        "recall_id": recall["id"],
        "kind": recall["kind"],
        "recall_class": recall["recall_class"],
        "gtin": recall["gtin"],
        "product": recall["product"],
        "lots": recall["lots"],
        "issued_at": recall["issued_at"],
        "affected": affected,
        "accounted_for": accounted,
        "reach": round(accounted / affected, 4) if affected else None,
    }


# The tables a CSV download offers, with their columns (the keys of their rows).
_COUNTED = ("commissioned", "shipped", "received", "dispensed")
CSV_TABLES: dict[str, tuple[str, ...]] = {
    "by_province": ("province", *_COUNTED, "scans", "alerts", "alerts_per_10000_scans"),
    "by_product": ("gtin", "name", "atc", *_COUNTED),
    "by_atc": ("atc_group", *_COUNTED),
    "dispensing_per_day": ("day", "province", "packs"),
    "dispensing_per_month": ("month", "province", "packs"),
    "open_alerts": ("code", "open"),
    "near_expiry": ("province", "packs", "batches"),
    "counterfeit_suspects": ("gtin", "name", "atc", "unknown_serial", "cloned_code", "alerts"),
    "recall_reach": (
        "recall_id",
        "kind",
        "recall_class",
        "gtin",
        "product",
        "lots",
        "issued_at",
        "affected",
        "accounted_for",
        "reach",
    ),
}


def table_rows(answer: dict[str, Any], table: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        answer["near_expiry"]["by_province"] if table == "near_expiry" else answer[table]
    )
    return rows
