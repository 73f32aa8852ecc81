"""The batch and recall pages of the console, through HTTP: every count on the batch page is the
API's, scoped as the API; the recall form validates on the server (in Persian, beside the field,
nothing saved), needs its CSRF token and an inspector; the progress fragment follows events."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.db.database import Database
from app.recalls import pages as recall_pages
from app.trace import pages as batch_pages
from tests.console import csrf_token, log_in, post_form
from tests.helpers import event, facility_gln, headers_for, pack_code
from tests.test_trace import HAFEZ, HOSPITAL, MASHHAD, PLANT, RAZI, spread

Client = AsyncTestClient[Litestar]
_PACKS = re.compile(r'data-(state|province|gln|category)="([^"]*)"(?: data-status="([^"]*)")?'
                    r' data-packs="(\d+)"')  # fmt: skip


def counts(html: str, kind: str) -> list[tuple[str, ...]]:
    """(key, [status,] packs) of every row of `kind` on the page, as its data- attributes say."""
    rows = []
    for found_kind, key, status, packs in _PACKS.findall(html):
        if found_kind == kind:
            rows.append((key, status, int(packs)) if status else (key, int(packs)))
    return rows


async def api(client: Client, username: str, path: str) -> Any:
    response = await client.get(path, headers=await headers_for(client, username))
    assert response.status_code == 200, response.text
    return response.json()


async def test_every_count_on_the_batch_page_is_the_apis(client: Client) -> None:
    gtin, lot, serials = await spread(client)
    body = await api(client, "fdo-inspector", f"/api/batches/{gtin}/{lot}/distribution")
    await log_in(client, "fdo-inspector", language="en")
    page = await client.get(f"/console/batches/{gtin}/{lot}")
    assert page.status_code == 200, page.text
    html = page.text

    assert f'data-packs="{body["packs"]}"' in html and 'id="batch-total"' in html
    states = dict(counts(html, "state"))  # type: ignore[arg-type]
    assert states.pop("total") == body["packs"] == 60
    assert sum(states.values()) == 60
    # Plant 10; hub 10 + Mashhad 5; Razi 18 + hospital 4 active; 10 to Hafez; 3 dispensed.
    assert states == {
        "at_owner": 10, "in_warehouse": 15, "in_dispenser_stock": 22, "in_transit": 10,
        "dispensed": 3,
    }  # fmt: skip
    assert states["dispensed"] == body["by_status"]["dispensed"]
    assert states["in_transit"] == body["in_transit"]

    provinces = counts(html, "province")
    assert provinces == [(p["province"], p["packs"]) for p in body["provinces"]] + [
        ("", body["in_transit"])
    ]
    holders = counts(html, "gln")
    expected = [
        (h["facility"]["gln"], status, packs)
        for h in body["holders"]
        for status, packs in h["by_status"].items()
    ] + [("", s, n) for t in body["transit"] for s, n in t["by_status"].items()]
    assert holders == expected
    assert sum(n for _, _, n in holders) == 60
    assert {PLANT, RAZI, MASHHAD, HOSPITAL} <= {g for g, _, _ in holders}
    assert "Tehran" in html and "Razavi Khorasan" in html
    # The map's data: packs per province by the map's feature names.
    data = re.search(r'<script type="application/json" id="batch-map-data">(.*?)</script>', html)
    assert data and '"name": "Tehran"' in data[1] and '"value": 40' in data[1]

    trace = await api(client, "fdo-inspector", f"/api/batches/{gtin}/{lot}/trace")
    fragment = await client.get(f"/console/batches/{gtin}/{lot}/trace")
    assert fragment.status_code == 200
    received = dict(re.findall(r'data-gln="(\d+)" data-received="(\d+)"', fragment.text))
    assert received == {f["facility"]["gln"]: str(f["received"]) for f in trace["facilities"]}
    dispensed = dict(re.findall(r'data-gln="(\d+)" data-dispensed="(\d+)"', fragment.text))
    assert dispensed == {d["facility"]["gln"]: str(d["dispensed"]) for d in trace["dispensers"]}
    assert 'id="batch-first-event"><time' in fragment.text

    # The packs list: 50 on the page, the next page after the 50th serial, 60 in all.
    listed = re.findall(r'<tr data-serial="([^"]+)"', html)
    assert listed == sorted(serials)[:50]
    more = re.search(r'hx-get="(/console/batches/[^"]+/packs\?after=[^"]+)"', html)
    assert more
    rest = await client.get(more[1].replace("&amp;", "&"))
    assert re.findall(r'<tr data-serial="([^"]+)"', rest.text) == sorted(serials)[50:]
    assert "packs-more" not in rest.text
    csv = await client.get(f"/console/batches/{gtin}/{lot}/packs.csv")
    assert csv.status_code == 200
    assert csv.text.splitlines()[0] == "gtin,serial,lot,status"
    assert len(csv.text.splitlines()) == 61
    assert 'id="recall-form"' in html  # an inspector may recall it


async def test_the_batch_page_is_scoped_as_the_api(client: Client) -> None:
    gtin, lot, _ = await spread(client)
    path = f"/console/batches/{gtin}/{lot}"
    await log_in(client, "razi-pharmacy")
    own = await client.get(path)
    assert own.status_code == 200, own.text
    assert counts(own.text, "gln") == [(RAZI, "active", 18), (RAZI, "dispensed", 2)]
    assert 'id="recall-form"' not in own.text
    assert "batch-csv" not in own.text
    assert (await client.get(f"{path}/packs.csv")).status_code == 403
    assert len(re.findall(r"<tr data-serial=", own.text)) == 20

    client.cookies.clear()
    await log_in(client, "hafez-pharmacy")
    assert dict(counts((await client.get(path)).text, "state"))["in_transit"] == 10  # type: ignore[arg-type]

    client.cookies.clear()
    await log_in(client, "sina-darou")
    owner = await client.get(path)
    assert counts(owner.text, "gln") == [(PLANT, "active", 10)]
    assert "batch-csv" in owner.text

    client.cookies.clear()
    await log_in(client, "ferdowsi-pharmacy", language="en")
    stranger = await client.get(path)
    assert stranger.status_code == 404
    assert f"No batch {lot} of GTIN {gtin}." in stranger.text
    assert (await client.get(f"{path}/packs")).status_code == 404
    assert (await client.get(f"{path}/trace")).status_code == 404

    inspector = await headers_for(client, "fdo-inspector")
    log = await client.get("/api/access-log", params={"resource": "trace"}, headers=inspector)
    seen = [(e["actor_name"], e["path"], e["outcome"]) for e in log.json()]
    assert ("ferdowsi-pharmacy", path, "not_found") in seen
    assert ("razi-pharmacy", path, "ok") in seen


def recall_form(gtin: str, lot: str, **changes: str) -> dict[str, str]:
    return {
        "kind": "recall", "gtin": gtin, "lots": lot, "recall_class": "I",
        "reason": "Particles found in capsules", "instructions": "Quarantine and return",
        "deadline": "2099-12-31",
    } | changes  # fmt: skip


async def recalls_count(database: Database) -> int:
    async with database.session() as session:
        from sqlalchemy import text

        return int((await session.exec(text("SELECT count(*) FROM recalls"))).one()[0])  # type: ignore[call-overload]


async def test_the_recall_form_validates_on_the_server_and_saves_nothing_half(
    client: Client, database: Database
) -> None:
    gtin, lot, _ = await spread(client)
    await log_in(client, "fdo-inspector")
    form = f"/console/recalls/new?gtin={gtin}&lot={lot}"
    prefilled = await client.get(form)
    assert f'name="gtin" value="{gtin}"' in prefilled.text
    assert f'name="lots" value="{lot}"' in prefilled.text

    cases = [
        ({"reason": ""}, "reason", "دلیل فراخوان را بنویسید"),
        ({"deadline": "not a date"}, "deadline", "مهلت را"),
        ({"deadline": "2020-01-01"}, "deadline", "مهلت را"),
        ({"recall_class": "IV"}, "recall_class", "رده را"),
        ({"lots": "NOPE"}, "lots", "بچ‌هایی"),
        ({"lots": lot, "whole_product": "1"}, "lots", "بچ‌هایی"),
        ({"gtin": "123"}, "gtin", "GTIN"),
    ]
    for changes, field, persian in cases:
        answer = await post_form(
            client, "/console/recalls/new", recall_form(gtin, lot) | changes, form
        )
        assert answer.status_code == 422, (changes, answer.status_code)
        problem = re.search(
            rf'<p class="field-error" role="alert" data-field="{field}">([^<]*)', answer.text
        )
        assert problem, (changes, answer.text)
        assert persian in problem[1], (changes, problem[1])
        assert "Quarantine and return" in answer.text  # what was typed stays
        assert await recalls_count(database) == 0

    refused = await client.post("/console/recalls/new", data=recall_form(gtin, lot))
    assert refused.status_code == 403
    assert await recalls_count(database) == 0

    issued = await post_form(client, "/console/recalls/new", recall_form(gtin, lot), form)
    assert issued.status_code == 303, issued.text
    assert re.fullmatch(r"/console/recalls/[0-9a-f-]{36}", issued.headers["location"])
    assert await recalls_count(database) == 1
    again = await post_form(client, "/console/recalls/new", recall_form(gtin, lot), form)
    assert again.status_code == 409
    assert "فراخوان شده است" in again.text
    assert await recalls_count(database) == 1

    listed = await client.get("/console/recalls")
    assert issued.headers["location"] in listed.text
    assert 'data-affected="60"' in listed.text


async def test_only_inspectors_issue_recalls(client: Client, database: Database) -> None:
    gtin, lot, _ = await spread(client)
    await log_in(client, "sina-darou", language="en")
    assert (await client.get("/console/recalls/new")).status_code == 403
    home = await client.get("/console")
    answer = await client.post(
        "/console/recalls/new",
        data=recall_form(gtin, lot) | {"_csrf_token": csrf_token(home.text)},
    )
    assert answer.status_code == 403
    assert "Forbidden" in answer.text
    assert await recalls_count(database) == 0


def _summary(html: str) -> tuple[int, int]:
    found = re.search(r'data-affected="(\d+)" data-unaccounted="(\d+)"', html)
    assert found, html
    return int(found[1]), int(found[2])


async def test_the_progress_fragment_follows_receipts_and_returns(client: Client) -> None:
    gtin, lot, serials = await spread(client)
    inspector = await headers_for(client, "fdo-inspector")
    issued = await client.post(
        "/api/recalls",
        json={"gtin": gtin, "lots": [lot], "recall_class": "I", "reason": "r",
              "instructions": "i", "deadline": "2099-12-31"},
        headers=inspector,
    )  # fmt: skip
    recall_id = issued.json()["id"]
    await log_in(client, "fdo-inspector", language="en")
    page = await client.get(f"/console/recalls/{recall_id}")
    assert page.status_code == 200
    assert f'hx-get="/console/recalls/{recall_id}/progress" hx-trigger="every 5s"' in page.text
    fragment_path = f"/console/recalls/{recall_id}/progress"
    before = (await client.get(fragment_path)).text
    api_progress = (await client.get(f"/api/recalls/{recall_id}", headers=inspector)).json()
    assert _summary(before) == (60, api_progress["progress"]["unaccounted_for"])
    for category in ("at_holder", "in_transit", "supplied_before_recall"):
        assert (
            f'data-category="{category}" data-packs="{api_progress["progress"][category]}"'
            in before
        )
    assert f'<tr data-gln="{HAFEZ}"' in before  # Hafez has not acknowledged

    # Hafez receives its 10 packs in transit, and returns them to the plant.
    hafez = await headers_for(client, "hafez-pharmacy")
    codes = [pack_code(gtin, s) for s in serials[20:30]]
    assert (await event(client, hafez, "receive", codes)).status_code == 200
    after_receipt = (await client.get(fragment_path)).text
    assert after_receipt != before
    assert 'data-category="in_transit" data-packs="0"' in after_receipt
    returned = await event(client, hafez, "return", codes, destination_gln=PLANT)
    assert returned.status_code == 200, returned.text
    after_return = (await client.get(fragment_path)).text
    assert 'data-category="returning" data-packs="10"' in after_return
    assert _summary(after_return)[1] == _summary(before)[1] - 10
    assert facility_gln("hafez-pharmacy") == HAFEZ

    client.cookies.clear()
    await log_in(client, "ferdowsi-pharmacy")
    assert (await client.get(fragment_path)).status_code == 404


async def test_long_tables_show_the_biggest_rows_and_the_rest_on_demand(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch spread over hundreds of sites: the holders table, the recall's sites and its
    notices show their first rows (most packs first) with totals of every row, and the rest
    on demand. The limits are lowered here so that the test's few sites exceed them."""
    monkeypatch.setattr(batch_pages, "HOLDER_ROWS", 3)
    monkeypatch.setattr(recall_pages, "SHOWN_ROWS", 2)
    gtin, lot, _ = await spread(client)
    body = await api(client, "fdo-inspector", f"/api/batches/{gtin}/{lot}/distribution")
    every = [
        (h["facility"]["gln"], status, packs)
        for h in body["holders"]
        for status, packs in h["by_status"].items()
    ] + [("", s, n) for t in body["transit"] for s, n in t["by_status"].items()]
    assert len(every) > 3
    await log_in(client, "fdo-inspector", language="en")
    path = f"/console/batches/{gtin}/{lot}"
    html = (await client.get(path)).text
    assert counts(html, "gln") == every[:3]
    assert f'<tr data-holders="total" data-packs="{body["packs"]}">' in html
    assert f"Show all {len(every)} rows" in html
    assert f'hx-get="{path}/holders"' in html
    rest = await client.get(f"{path}/holders")
    assert rest.status_code == 200
    assert counts(rest.text, "gln") == every
    assert "holders-more" not in rest.text

    inspector = await headers_for(client, "fdo-inspector")
    issued = await client.post(
        "/api/recalls",
        json={"gtin": gtin, "lots": [lot], "recall_class": "I", "reason": "r",
              "instructions": "i", "deadline": "2099-12-31"},
        headers=inspector,
    )  # fmt: skip
    recall_id = issued.json()["id"]
    recall = (await client.get(f"/api/recalls/{recall_id}", headers=inspector)).json()
    sites = sorted(recall["facilities"], key=lambda s: (-sum(s["packs"].values()), s["gln"] or ""))
    assert len(sites) > 2 and len(recall["notices"]) > 2
    page = (await client.get(f"/console/recalls/{recall_id}")).text
    shown = re.findall(
        r'<tr data-gln="([^"]*)" class="[^"]*">\s*<td>', _between(page, "recall-sites")
    )
    assert shown == [s["gln"] or "" for s in sites[:2]]
    for category, packs in recall["progress"].items():
        if category in ("affected", "unaccounted_for", "all_accounted_for"):
            continue
        if isinstance(packs, int):
            total = re.search(
                rf'<tfoot><tr data-gln="total">.*?data-category="{category}" data-packs="(\d+)"',
                page,
            )
            assert total and int(total[1]) == packs == sum(s["packs"][category] for s in sites)
    notices = re.findall(r"<tr data-gln=\"(\d+)\" data-acknowledged", page)
    assert notices == [n["gln"] for n in recall["notices"][:2]]
    assert f"{len(sites) - 2} more not shown" in page
    assert f'href="/console/recalls/{recall_id}?rows=all"' in page

    everything = (await client.get(f"/console/recalls/{recall_id}?rows=all")).text
    assert f'hx-get="/console/recalls/{recall_id}/progress?rows=all"' in everything
    assert "more not shown" not in everything
    all_notices = re.findall(r"<tr data-gln=\"(\d+)\" data-acknowledged", everything)
    assert all_notices == [n["gln"] for n in recall["notices"]]
    polled = (await client.get(f"/console/recalls/{recall_id}/progress?rows=all")).text
    all_sites = re.findall(
        r'<tr data-gln="([^"]*)" class="[^"]*">\s*<td>', _between(polled, "recall-sites")
    )
    assert all_sites == [s["gln"] or "" for s in sites]


def _between(html: str, table_id: str) -> str:
    """The body of the table with this id."""
    found = re.search(rf'<table id="{table_id}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert found, table_id
    return found[1]
