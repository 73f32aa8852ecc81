"""The manufacturer's and importer's pages through HTTP: their products and batches, the forms
that register them (the services' messages beside their fields, in Persian, nothing saved),
serializing in steps with real progress, and the labels and serials as real PDF and CSV."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.db.database import Database
from models.gs1 import with_check_digit
from tests.console import csrf_token, log_in, post_form
from tests.helpers import headers_for, register_batch
from tests.test_labels import _decoded_packs

Client = AsyncTestClient[Litestar]
GOOD_GTIN = with_check_digit("0626000999" + "321")
PRODUCT = {
    "gtin": GOOD_GTIN, "irc": "IRC-321", "name": "Cefixime 400 mg", "name_fa": "سفیکسیم ۴۰۰",
    "generic_name": "cefixime", "form": "capsule", "strength": "400 mg", "pack_size": "6",
    "atc": "J01DD08",
}  # fmt: skip


async def _count(database: Database, sql: str, *args: Any) -> int:
    async with database.pool.connection() as connection:  # type: ignore[union-attr]
        row = await (await connection.execute(sql, args)).fetchone()
    assert row is not None
    return int(row[0])


def _beside(html: str, field: str) -> str:
    found = re.search(rf'data-field="{field}"[^>]*>([^<]*)<', html)
    assert found, f"no problem shown beside {field}"
    return found[1]


async def test_a_product_with_a_wrong_check_digit_is_refused_beside_its_field_in_persian(
    client: Client, database: Database
) -> None:
    await log_in(client, "sina-darou", "fa")
    wrong = GOOD_GTIN[:-1] + str((int(GOOD_GTIN[-1]) + 1) % 10)
    answer = await post_form(
        client, "/console/products/new", {**PRODUCT, "gtin": wrong}, "/console/products/new"
    )
    assert answer.status_code == 422
    assert "رقم کنترل" in _beside(answer.text, "gtin")
    assert f'value="{wrong}"' in answer.text  # kept as typed
    assert 'value="Cefixime 400 mg"' in answer.text
    assert await _count(database, "SELECT count(*) FROM products WHERE gtin LIKE %s",
                        "%0626000999321%") == 0  # fmt: skip

    # The API says the same, in English.
    api = await client.post(
        "/api/products",
        json={**PRODUCT, "gtin": wrong, "pack_size": 6},
        headers=await headers_for(client, "sina-darou"),
    )
    assert api.status_code == 422
    assert "wrong check digit" in api.json()["detail"]


async def test_the_catalogue_rules_read_in_persian_beside_their_fields(client: Client) -> None:
    await log_in(client, "sina-darou", "fa")
    foreign = with_check_digit("0950600099" + "777")
    answer = await post_form(
        client, "/console/products/new", {**PRODUCT, "gtin": foreign}, "/console/products/new"
    )
    assert answer.status_code == 403
    assert "پیشوند شرکت" in _beside(answer.text, "gtin")

    empty = await post_form(
        client, "/console/products/new",
        {**PRODUCT, "name": "", "pack_size": "six", "irc": ""}, "/console/products/new",
    )  # fmt: skip
    assert empty.status_code == 422
    assert "خالی" in _beside(empty.text, "name")

    ok = await post_form(client, "/console/products/new", PRODUCT, "/console/products/new")
    assert ok.status_code in (302, 303), ok.text
    again = await post_form(client, "/console/products/new", PRODUCT, "/console/products/new")
    assert again.status_code == 409
    assert "پیش‌تر" in _beside(again.text, "gtin")

    batch = {"gtin": GOOD_GTIN, "lot": "B-1", "manufactured_on": "2026-03-01",
             "expiry": "2026-02-01", "quantity": "100", "origin": "produced"}  # fmt: skip
    dated = await post_form(client, "/console/batches/new", batch, "/console/batches/new")
    assert dated.status_code == 422
    assert "تاریخ ساخت" in _beside(dated.text, "expiry")
    lot = await post_form(
        client, "/console/batches/new", {**batch, "expiry": "2028-01-01", "lot": "بچ ۱"},
        "/console/batches/new",
    )  # fmt: skip
    assert lot.status_code == 422
    assert "۲۰" in _beside(lot.text, "lot")
    made = await post_form(
        client, "/console/batches/new", {**batch, "expiry": "۲۰۲۸-۰۱-۰۱", "quantity": "۱۰۰"},
        "/console/batches/new",
    )  # fmt: skip
    assert made.status_code in (302, 303), made.text
    assert made.headers["location"] == f"/console/batches/{GOOD_GTIN}/B-1/serialize"
    twice = await post_form(
        client, "/console/batches/new", {**batch, "expiry": "2028-01-01"}, "/console/batches/new"
    )
    assert twice.status_code == 409
    assert "B-1" in _beside(twice.text, "lot")

    listing = await client.get("/console/products")
    assert "Cefixime" in listing.text or "سفیکسیم" in listing.text
    assert f"/console/batches/{GOOD_GTIN}/B-1" in listing.text


async def test_a_form_without_its_csrf_token_saves_nothing(
    client: Client, database: Database
) -> None:
    await log_in(client, "sina-darou", "fa")
    refused = await client.post("/console/products/new", data=PRODUCT, follow_redirects=False)
    assert refused.status_code == 403
    assert await _count(database, "SELECT count(*) FROM products WHERE gtin = %s", GOOD_GTIN) == 0


async def test_products_are_scoped_and_pharmacies_may_not_register(
    client: Client, database: Database
) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, lot, _ = await register_batch(client, maker, item="654", lot="SCOPE1", count=3)
    await log_in(client, "pars-import", "en")
    own = await client.get("/console/products")
    assert own.status_code == 200
    assert gtin not in own.text
    assert (await client.get(f"/console/batches/{gtin}/{lot}/serials.csv")).status_code == 404
    assert (await client.get(f"/console/batches/{gtin}/{lot}/serialize")).status_code == 404

    await log_in(client, "fdo-inspector", "en")
    everything = await client.get("/console/products")
    assert gtin in everything.text
    assert "/console/products/new" not in everything.text
    assert await _count(database, "SELECT count(*) FROM access_log WHERE path = %s",
                        "/console/products") >= 2  # fmt: skip
    assert (await client.get("/console/products/new")).status_code == 403

    await log_in(client, "razi-pharmacy", "fa")
    forbidden = await client.get("/console/products")
    assert forbidden.status_code == 403
    assert 'dir="rtl"' in forbidden.text


async def test_serializing_runs_in_steps_and_the_downloads_carry_the_serials(
    client: Client, database: Database
) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, lot, _ = await register_batch(client, maker, item="655", lot="RUN1", quantity=10_000)
    await log_in(client, "sina-darou", "fa")
    path = f"/console/batches/{gtin}/{lot}"
    page = await client.get(f"{path}/serialize")
    token = csrf_token(page.text)
    htmx = {"hx-request": "true", "x-csrftoken": token}

    too_many = await client.post(f"{path}/serialize", data={"count": "10001"}, headers=htmx)
    assert too_many.status_code == 409
    assert "۱۰٬۰۰۰" in _beside(too_many.text, "count") or "10,000" in too_many.text

    started = await client.post(f"{path}/serialize", data={"count": "10000"}, headers=htmx)
    assert started.status_code == 200
    seen = [int(re.search(r'data-made="(\d+)"', started.text)[1])]  # type: ignore[index]
    fragment = started.text
    while 'data-done="false"' in fragment:
        total = re.search(r'"total": "(\d+)"', fragment)[1]  # type: ignore[index]
        start = re.search(r'"start": "(\d+)"', fragment)[1]  # type: ignore[index]
        step = await client.post(
            f"{path}/serialize/step", data={"total": total, "start": start}, headers=htmx
        )
        assert step.status_code == 200, step.text
        fragment = step.text
        seen.append(int(re.search(r'data-made="(\d+)"', fragment)[1]))  # type: ignore[index]
    assert seen == sorted(seen) and seen[0] == 0 and seen[-1] == 10_000
    assert len(seen) > 3  # it moved in steps, each one read back from the register
    assert "۱۰٬۰۰۰" in fragment
    assert await _count(database, "SELECT count(*) FROM packs WHERE gtin = %s AND lot = %s",
                        gtin, lot) == 10_000  # fmt: skip

    csv = await client.get(f"{path}/serials.csv")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == "gtin,serial,lot,status" and len(lines) == 10_001
    async with database.pool.connection() as connection:  # type: ignore[union-attr]
        rows = await (
            await connection.execute(
                "SELECT serial FROM packs WHERE gtin = %s AND lot = %s", (gtin, lot)
            )
        ).fetchall()
    assert {line.split(",")[1] for line in lines[1:]} == {serial for (serial,) in rows}

    pdf = await client.get(f"{path}/labels.pdf", params={"limit": "24"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert "attachment" in pdf.headers["content-disposition"]
    first_sheet = sorted(serial for (serial,) in rows)[:24]
    assert _decoded_packs(pdf.content) == {"]d2": {(serial, lot) for serial in first_sheet}}
