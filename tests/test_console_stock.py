"""The distributor's, pharmacy's and hospital's pages through HTTP: stock per facility by
product, batch and expiry (near expiry marked), only their own (another's facility is a 404
page), and their recall notices with the button that acknowledges them (CSRF required)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.db.database import Database
from tests.console import csrf_token, log_in
from tests.helpers import LOGINS, event, facility_gln, headers_for, pack_code, register_batch
from tests.test_recalls import recall_order, spread_batch

Client = AsyncTestClient[Litestar]


async def _access_logged(database: Database, path: str) -> int:
    async with database.pool.connection() as connection:  # type: ignore[union-attr]
        row = await (
            await connection.execute("SELECT count(*) FROM access_log WHERE path = %s", (path,))
        ).fetchone()
    assert row is not None
    return int(row[0])


async def test_a_pharmacy_sees_its_own_stock_by_batch_and_expiry(
    client: Client, database: Database
) -> None:
    gtin, lot, _ = await spread_batch(client)
    maker = await headers_for(client, "sina-darou")
    soon = (date.today() + timedelta(days=30)).isoformat()
    near_gtin, near_lot, serials = await register_batch(
        client, maker, item="002", lot="NEAR1", expiry=soon, count=3
    )
    codes = [pack_code(near_gtin, s) for s in serials]
    await event(client, maker, "ship", codes, destination_gln=facility_gln("razi-pharmacy"))
    await event(client, await headers_for(client, "razi-pharmacy"), "receive", codes)

    await log_in(client, "razi-pharmacy", "fa")
    page = await client.get("/console/inventory")
    assert page.status_code == 200, page.text
    assert f'data-gln="{facility_gln("razi-pharmacy")}"' in page.text
    api = await client.get(
        f"/api/facilities/{facility_gln('razi-pharmacy')}/inventory",
        headers=await headers_for(client, "razi-pharmacy"),
    )
    total = api.json()["packs"]
    persian = str(total).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert f'id="total-packs">{persian}<' in page.text  # the API's count, in Persian digits
    near = re.search(rf'<tr data-lot="{near_lot}"[^>]*>', page.text)
    assert near and 'class="expiring"' in near[0]
    far = re.search(rf'<tr data-lot="{lot}"[^>]*>', page.text)
    assert far and "class=" not in far[0]
    assert "به‌زودی" in page.text
    assert gtin in page.text

    own = await client.get(f"/console/inventory/{facility_gln('razi-pharmacy')}")
    assert own.status_code == 200
    other = await client.get(f"/console/inventory/{facility_gln('hafez-pharmacy')}")
    assert other.status_code == 404
    assert 'dir="rtl"' in other.text
    assert LOGINS["hafez-pharmacy"].organization not in other.text
    bad = await client.get("/console/inventory/123")
    assert bad.status_code == 422
    assert await _access_logged(database, "/console/inventory") >= 1

    await log_in(client, "fdo-inspector", "en")
    inspected = await client.get(f"/console/inventory/{facility_gln('hafez-pharmacy')}")
    assert inspected.status_code == 200


async def test_a_notice_is_acknowledged_with_its_button(client: Client) -> None:
    gtin, lot, _ = await spread_batch(client)
    inspector = await headers_for(client, "fdo-inspector")
    issued = await client.post("/api/recalls", json=recall_order(gtin, [lot]), headers=inspector)
    assert issued.status_code == 201, issued.text
    recall_id = issued.json()["id"]

    await log_in(client, "razi-pharmacy", "fa")
    page = await client.get("/console/notices")
    assert page.status_code == 200
    assert f'data-recall="{recall_id}" data-acknowledged="false"' in page.text
    assert "Out-of-specification" in page.text
    path = f"/console/notices/{recall_id}/acknowledge"

    refused = await client.post(path, headers={"hx-request": "true"})
    assert refused.status_code == 403
    still = await client.get(f"/api/recalls/{recall_id}", headers=inspector)
    waiting = {n["gln"] for n in still.json()["progress"]["awaiting_acknowledgement"]}
    assert facility_gln("razi-pharmacy") in waiting

    done = await client.post(
        path, headers={"hx-request": "true", "x-csrftoken": csrf_token(page.text)}
    )
    assert done.status_code == 200, done.text
    assert 'data-acknowledged="true"' in done.text
    assert "<html" not in done.text  # the fragment that replaces the notice
    after = await client.get(f"/api/recalls/{recall_id}", headers=inspector)
    waiting = {n["gln"] for n in after.json()["progress"]["awaiting_acknowledgement"]}
    assert facility_gln("razi-pharmacy") not in waiting
    again = await client.post(
        path, headers={"hx-request": "true", "x-csrftoken": csrf_token(page.text)}
    )
    assert again.status_code == 200  # acknowledging twice changes nothing

    await log_in(client, "ferdowsi-pharmacy", "fa")
    assert f'data-recall="{recall_id}"' not in (await client.get("/console/notices")).text
    outsider = await client.get("/console/notices")
    token = csrf_token(outsider.text)
    assert (await client.post(path, headers={"x-csrftoken": token})).status_code == 404

    await log_in(client, "fdo-inspector", "en")  # inspectors follow recalls on their own page
    assert (await client.get("/console/notices")).status_code == 403
