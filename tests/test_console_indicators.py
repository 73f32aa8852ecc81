"""The national indicators page, through HTTP: every figure on it is the one `/api/indicators`
gives, for the demo world and after new events; the filters and htmx results; the CSV twins equal
the API's CSV; inspectors and admins only, every read in the access log."""

from __future__ import annotations

from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.indicators.service import CSV_TABLES, DAILY_CHART_DAYS, today
from tests.console import log_in
from tests.helpers import event, facility_gln, headers_for, pack_code, register_batch

Client = AsyncTestClient[Litestar]
FLOWS = ("commissioned", "shipped", "received", "dispensed")
HTMX = {"HX-Request": "true", "HX-Target": "indicator-results"}


class Figures(HTMLParser):
    """The page's figures as their raw values: `totals` {column: value}, and for every table
    (by its id) {row key: {column: value}}."""

    def __init__(self) -> None:
        super().__init__()
        self.totals: dict[str, str] = {}
        self.tables: dict[str, dict[str, dict[str, str]]] = {}
        self._table: str | None = None
        self._row: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "table":
            self._table = found.get("id")
            self.tables.setdefault(self._table or "", {})
        elif tag == "tr" and self._table and "data-key" in found:
            self._row = self.tables[self._table].setdefault(found["data-key"], {})
        elif tag == "dd" and "data-col" in found:
            self.totals[found["data-col"]] = found["data-value"]
        elif tag == "td" and self._row is not None and "data-col" in found:
            self._row[found["data-col"]] = found["data-value"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "tr":
            self._row = None


def figures(html: str) -> Figures:
    parsed = Figures()
    parsed.feed(html)
    return parsed


def shown(value: Any) -> str:
    return "" if value is None else str(value)


def assert_page_equals_api(html: str, answer: dict[str, Any]) -> None:
    page = figures(html)
    totals = answer["totals"]
    columns = (*FLOWS, "scans", "alerts", "alerts_per_10000_scans")
    assert page.totals == {col: shown(totals[col]) for col in columns}
    keyed = {
        "by_province": ("province", columns),
        "by_product": ("gtin", FLOWS),
        "by_atc": ("atc_group", FLOWS),
        "open_alerts": ("code", ("open",)),
        "counterfeit_suspects": ("gtin", ("unknown_serial", "cloned_code", "alerts")),
        "recall_reach": ("recall_id", ("accounted_for", "affected", "reach")),
    }
    for table, (key, cols) in keyed.items():
        expected = {
            shown(row[key]).strip(): {col: shown(row[col]) for col in cols} for row in answer[table]
        }
        assert page.tables[table] == expected, table
    assert page.tables["near_expiry"] == {
        row["province"]: {"packs": str(row["packs"]), "batches": str(row["batches"])}
        for row in answer["near_expiry"]["by_province"]
    }
    # Over a long period the page charts the dispensing per Jalali month, else per day.
    period = answer["period"]
    days = (date.fromisoformat(period["to"]) - date.fromisoformat(period["from"])).days
    series, key = ("dispensing_per_month", "month")
    if days < DAILY_CHART_DAYS:
        series, key = ("dispensing_per_day", "day")
    per_point: dict[str, dict[str, str]] = {}
    for row in answer[series]:
        per_point.setdefault(row[key], {})[row["province"]] = str(row["packs"])
    assert page.tables["dispensing_per_day"] == per_point


async def api(client: Client, headers: dict[str, str], **query: Any) -> dict[str, Any]:
    response = await client.get("/api/indicators", params=query, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_every_figure_on_the_page_is_the_apis_before_and_after_new_events(
    client: Client,
) -> None:
    inspector = await headers_for(client, "fdo-inspector")
    await log_in(client, "fdo-inspector")
    default = await client.get("/console/indicators")
    assert default.status_code == 200, default.text
    assert_page_equals_api(default.text, await api(client, inspector))
    assert default.text.count('<script type="application/json" id="indicator-charts">') == 1

    end = today()
    period = {"from": str(end - timedelta(days=700)), "to": str(end)}
    before_page = await client.get("/console/indicators", params=period)
    before = await api(client, inspector, **period)
    assert_page_equals_api(before_page.text, before)
    assert before["totals"]["dispensed"] > 0 and before["by_province"]  # the demo history
    assert "۱۴۰" in before_page.text  # the period in Jalali, in Persian digits
    assert f'data-from="{period["from"]}"' in before_page.text

    for province in ("Tehran", "Fars"):
        query = period | {"province": province}
        filtered = await client.get("/console/indicators", params=query, headers=HTMX)
        assert filtered.status_code == 200 and "<html" not in filtered.text
        assert_page_equals_api(filtered.text, await api(client, inspector, **query))
    j01 = period | {"atc": "J01"}
    by_group = await client.get("/console/indicators", params=j01)
    assert_page_equals_api(by_group.text, await api(client, inspector, **j01))

    # Packs commissioned, shipped, received, and three dispensed at a Tehran pharmacy.
    maker = await headers_for(client, "sina-darou")
    pharmacy = await headers_for(client, "razi-pharmacy")
    gtin, _, serials = await register_batch(
        client, maker, item="081", lot="INDP1", expiry=str(end + timedelta(days=40)), count=10
    )
    codes = [pack_code(gtin, s) for s in serials]
    assert (
        await event(client, maker, "ship", codes[:6], destination_gln=facility_gln("razi-pharmacy"))
    ).status_code == 200
    assert (await event(client, pharmacy, "receive", codes[:6])).status_code == 200
    assert (await event(client, pharmacy, "dispense", codes[:3])).status_code == 200

    after_page = await client.get("/console/indicators", params=period)
    after = await api(client, inspector, **period)
    assert_page_equals_api(after_page.text, after)
    page_totals = figures(after_page.text).totals
    assert int(page_totals["dispensed"]) == before["totals"]["dispensed"] + 3
    assert figures(after_page.text).tables["by_product"][gtin] == {
        "commissioned": "10",
        "shipped": "6",
        "received": "6",
        "dispensed": "3",
    }


async def test_the_csv_twins_are_the_apis_csv(client: Client) -> None:
    inspector = await headers_for(client, "fdo-inspector")
    await log_in(client, "fdo-inspector")
    query = {"from": str(today() - timedelta(days=90)), "province": "Tehran"}
    page = await client.get("/console/indicators", params=query)
    for table in CSV_TABLES:
        assert f'href="/console/indicators/{table}.csv?' in page.text, table
        twin = await client.get(f"/console/indicators/{table}.csv", params=query)
        original = await client.get(f"/api/indicators/{table}.csv", params=query, headers=inspector)
        assert twin.status_code == original.status_code == 200, twin.text
        assert twin.text == original.text, table
        assert twin.headers["content-type"].startswith("text/csv")
        assert twin.headers["content-disposition"] == original.headers["content-disposition"]
    assert len((await client.get("/console/indicators/by_province.csv")).text.splitlines()) > 1
    missing = await client.get("/console/indicators/nothing.csv")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")


async def test_bad_filters_are_shown_beside_their_field(client: Client) -> None:
    await log_in(client, "fdo-inspector")
    backwards = await client.get(
        "/console/indicators", params={"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert backwards.status_code == 422
    assert 'data-field="from"' in backwards.text
    assert "period starts after" not in backwards.text  # in Persian
    assert 'id="indicator-charts"' not in backwards.text
    for query, field in (
        ({"to": "tomorrow"}, "to"),
        ({"atc": "J0"}, "atc"),
        ({"expiring_within_days": "soon"}, "expiring_within_days"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "from"),
    ):
        response = await client.get("/console/indicators", params=query, headers=HTMX)
        assert response.status_code == 422, query
        assert f'data-field="{field}"' in response.text and "<html" not in response.text

    client.cookies.clear()
    await log_in(client, "fdo-admin", language="en")
    english = await client.get("/console/indicators", params={"atc": "J0"})
    assert english.status_code == 422
    assert "atc: an ATC group of 3 characters" in english.text
    assert '<html lang="en"' in english.text


async def test_only_inspectors_and_admins_and_every_read_is_logged(client: Client) -> None:
    await log_in(client, "razi-pharmacy")
    refused = await client.get("/console/indicators")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert (await client.get("/console/indicators/by_province.csv")).status_code == 403

    client.cookies.clear()
    await log_in(client, "fdo-admin", language="en")
    admin = await client.get("/console/indicators")
    assert admin.status_code == 200
    assert "Packs over the period" in admin.text and '<html lang="en" dir="ltr"' in admin.text

    client.cookies.clear()
    anonymous = await client.get("/console/indicators", follow_redirects=False)
    assert anonymous.status_code in (302, 303)
    assert "/console/login" in anonymous.headers["location"]

    inspector = await headers_for(client, "fdo-inspector")
    log = await client.get("/api/access-log", params={"resource": "indicators"}, headers=inspector)
    seen = [(e["actor_name"], e["path"], e["outcome"]) for e in log.json()]
    assert ("razi-pharmacy", "/console/indicators", "forbidden") in seen
    assert ("razi-pharmacy", "/console/indicators/by_province.csv", "forbidden") in seen
    assert ("fdo-admin", "/console/indicators", "ok") in seen
