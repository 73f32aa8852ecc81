"""A facility's stock by product, batch and expiry, derived from events; expiring soon; CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from app.demo_supply import MASHHAD_HUB
from tests.helpers import (
    device_headers,
    event,
    facility_gln,
    headers_for,
    pack_code,
    register_batch,
)

RAZI = facility_gln("razi-pharmacy")
HAFEZ = facility_gln("hafez-pharmacy")
TODAY = date.today()


async def commission(
    client: AsyncTestClient[Any], maker: dict[str, str], gtin: str, lot: str, expiry: date, n: int
) -> list[str]:
    """A further batch of an already registered product, with `n` packs."""
    batch = {
        "gtin": gtin,
        "lot": lot,
        "expiry": expiry.isoformat(),
        "manufactured_on": "2025-06-01",
        "quantity": 1000,
        "origin": "produced",
    }
    assert (await client.post("/api/batches", json=batch, headers=maker)).status_code == 201
    done = await client.post(f"/api/batches/{gtin}/{lot}/packs", json={"count": n}, headers=maker)
    assert done.status_code == 201, done.text
    listing = await client.get(f"/api/batches/{gtin}/{lot}/packs.csv", headers=maker)
    return [pack_code(gtin, line.split(",")[1]) for line in listing.text.splitlines()[1:]]


async def stock_razi(client: AsyncTestClient[Any]) -> tuple[str, str, list[str]]:
    """Razi Pharmacy receives, from Sina Darou: product A, lot SOON (expires in 20 days, 10
    packs) and lot GONE (expired 10 days ago, 3 packs); product B, lot LATER (in 400 days, 5
    packs, of which 2 dispensed). 4 more packs of SOON are on their way, not yet received (their
    codes are returned with the two GTINs)."""
    maker = await headers_for(client, "sina-darou")
    razi = await headers_for(client, "razi-pharmacy")
    product_a, _, _ = await register_batch(
        client, maker, item="401", lot="FIRST", expiry=(TODAY + timedelta(days=900)).isoformat()
    )
    product_b, _, _ = await register_batch(
        client, maker, item="402", lot="FIRST", expiry=(TODAY + timedelta(days=900)).isoformat()
    )
    soon = await commission(client, maker, product_a, "SOON", TODAY + timedelta(days=20), 14)
    gone = await commission(client, maker, product_a, "GONE", TODAY - timedelta(days=10), 3)
    later = await commission(client, maker, product_b, "LATER", TODAY + timedelta(days=400), 5)
    received = soon[:10] + gone + later
    shipped = await event(client, maker, "ship", received, destination_gln=RAZI)
    assert shipped.status_code == 200, shipped.text
    assert (await event(client, razi, "receive", received)).json()["summary"]["refused"] == 0
    assert (await event(client, razi, "dispense", later[:2])).json()["summary"]["ok"] == 2
    on_the_way = await event(client, maker, "ship", soon[10:], destination_gln=RAZI)
    assert on_the_way.json()["summary"]["ok"] == 4
    return product_a, product_b, soon[10:]


def mine(lines: list[dict[str, Any]], *gtins: str) -> list[tuple[str, str, int]]:
    return [(line["gtin"], line["lot"], line["packs"]) for line in lines if line["gtin"] in gtins]


async def test_inventory_counts_active_packs_held_by_batch_and_expiry(
    client: AsyncTestClient[Any],
) -> None:
    a, b, on_the_way = await stock_razi(client)
    razi = await headers_for(client, "razi-pharmacy")
    response = await client.get(f"/api/facilities/{RAZI}/inventory", headers=razi)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["facility"]["gln"] == RAZI
    assert body["facility"]["organization"]["name_fa"] == "داروخانه دکتر رازی"
    assert body["as_of"] == TODAY.isoformat()
    assert body["expiring_within_days"] is None
    # Soonest expiry first; in-transit and dispensed packs are not stock.
    assert mine(body["batches"], a, b) == [(a, "GONE", 3), (a, "SOON", 10), (b, "LATER", 3)]
    gone = next(line for line in body["batches"] if line["lot"] == "GONE")
    assert (gone["expired"], gone["days_to_expiry"]) == (True, -10)
    soon = next(line for line in body["batches"] if line["lot"] == "SOON")
    assert soon == {
        "gtin": a,
        "name": "Amoxicillin 500 mg (401)",
        "name_fa": "آموکسی‌سیلین ۵۰۰",
        "lot": "SOON",
        "expiry": (TODAY + timedelta(days=20)).isoformat(),
        "days_to_expiry": 20,
        "expired": False,
        "packs": 10,
        "overlay": None,
    }
    products = {p["gtin"]: (p["packs"], p["batches"]) for p in body["products"]}
    assert (products[a], products[b]) == ((13, 2), (3, 1))
    assert body["packs"] == sum(line["packs"] for line in body["batches"])
    assert body["packs"] == sum(p["packs"] for p in body["products"])

    # Receiving the packs on the way makes them stock at once (the projection follows events).
    assert (await event(client, razi, "receive", on_the_way)).json()["summary"]["ok"] == 4
    again = (await client.get(f"/api/facilities/{RAZI}/inventory", headers=razi)).json()
    assert mine(again["batches"], a) == [(a, "GONE", 3), (a, "SOON", 14)]


async def test_expiring_within_days_includes_what_has_already_expired(
    client: AsyncTestClient[Any],
) -> None:
    a, b, _ = await stock_razi(client)
    razi = await headers_for(client, "razi-pharmacy")
    path = f"/api/facilities/{RAZI}/inventory"
    within_30 = (await client.get(path, params={"expiring_within_days": 30}, headers=razi)).json()
    assert within_30["expiring_within_days"] == 30
    assert mine(within_30["batches"], a, b) == [(a, "GONE", 3), (a, "SOON", 10)]
    assert all(
        date.fromisoformat(line["expiry"]) <= TODAY + timedelta(days=30)
        for line in within_30["batches"]
    )
    within_0 = (await client.get(path, params={"expiring_within_days": 0}, headers=razi)).json()
    assert mine(within_0["batches"], a, b) == [(a, "GONE", 3)]
    bad = await client.get(path, params={"expiring_within_days": -1}, headers=razi)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert "expiring_within_days" in bad.json()["detail"]


async def test_inventory_csv_is_streamed_with_the_same_lines(
    client: AsyncTestClient[Any],
) -> None:
    a, b, _ = await stock_razi(client)
    razi = await headers_for(client, "razi-pharmacy")
    response = await client.get(
        f"/api/facilities/{RAZI}/inventory.csv",
        params={"expiring_within_days": 500},
        headers=razi,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="{RAZI}-inventory.csv"'
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        "gtin", "product", "product_fa", "lot", "expiry", "days_to_expiry", "packs", "overlay"
    ]  # fmt: skip
    assert [row for row in rows[1:] if row[0] in (a, b)] == [
        [a, "Amoxicillin 500 mg (401)", "آموکسی‌سیلین ۵۰۰", "GONE",
         (TODAY - timedelta(days=10)).isoformat(), "-10", "3", ""],
        [a, "Amoxicillin 500 mg (401)", "آموکسی‌سیلین ۵۰۰", "SOON",
         (TODAY + timedelta(days=20)).isoformat(), "20", "10", ""],
        [b, "Amoxicillin 500 mg (402)", "آموکسی‌سیلین ۵۰۰", "LATER",
         (TODAY + timedelta(days=400)).isoformat(), "400", "3", ""],
    ]  # fmt: skip
    # The JSON answer has exactly the CSV's lines.
    body = (
        await client.get(
            f"/api/facilities/{RAZI}/inventory",
            params={"expiring_within_days": 500},
            headers=razi,
        )
    ).json()
    assert [[line["gtin"], line["lot"], str(line["packs"])] for line in body["batches"]] == [
        [row[0], row[3], row[6]] for row in rows[1:]
    ]


async def test_recalled_stock_stays_on_the_shelf_flagged(client: AsyncTestClient[Any]) -> None:
    a, b, _ = await stock_razi(client)
    inspector = await headers_for(client, "fdo-inspector")
    recall = await client.post(
        "/api/recalls",
        json={
            "gtin": a,
            "lots": ["SOON"],
            "recall_class": "II",
            "reason": "out-of-specification dissolution",
            "instructions": "quarantine and return",
            "deadline": (TODAY + timedelta(days=14)).isoformat(),
        },
        headers=inspector,
    )
    assert recall.status_code == 201, recall.text
    razi = await headers_for(client, "razi-pharmacy")
    body = (await client.get(f"/api/facilities/{RAZI}/inventory", headers=razi)).json()
    overlays = {line["lot"]: line["overlay"] for line in body["batches"] if line["gtin"] in (a, b)}
    assert overlays == {"GONE": None, "SOON": "recalled", "LATER": None}
    listing = await client.get(f"/api/facilities/{RAZI}/inventory.csv", headers=razi)
    assert f"{a},Amoxicillin 500 mg (401)," in listing.text
    assert [row[-1] for row in csv.reader(io.StringIO(listing.text)) if row[3] == "SOON"] == [
        "recalled"
    ]


async def test_who_may_see_a_facilitys_inventory(client: AsyncTestClient[Any]) -> None:
    await stock_razi(client)
    path = f"/api/facilities/{RAZI}/inventory"
    for username, expected in (
        ("razi-pharmacy", 200),
        ("fdo-inspector", 200),
        ("fdo-admin", 200),
        ("hafez-pharmacy", 404),
        ("sina-darou", 404),  # the manufacturer does not see the pharmacy's shelves
    ):
        response = await client.get(path, headers=await headers_for(client, username))
        assert response.status_code == expected, (username, response.text)
    assert (await client.get(path, headers=device_headers(RAZI))).status_code == 200
    other = await client.get(path, headers=device_headers(HAFEZ))
    assert other.status_code == 404
    assert other.json()["detail"] == f"No facility with GLN {RAZI}."
    csv_other = await client.get(path + ".csv", headers=device_headers(HAFEZ))
    assert csv_other.status_code == 404
    assert csv_other.headers["content-type"] == "application/problem+json"
    # An organisation's second facility is its own too.
    distributor = await headers_for(client, "darupakhsh")
    second = await client.get(f"/api/facilities/{MASHHAD_HUB}/inventory", headers=distributor)
    assert second.status_code == 200
    inspector = await headers_for(client, "fdo-inspector")
    unknown = await client.get("/api/facilities/6260009999994/inventory", headers=inspector)
    assert unknown.status_code == 404
    malformed = await client.get("/api/facilities/6260009999995/inventory", headers=inspector)
    assert malformed.status_code == 422
    assert malformed.json()["field"] == "gln"


async def test_inventory_reads_are_in_the_access_log(client: AsyncTestClient[Any]) -> None:
    razi = await headers_for(client, "razi-pharmacy")
    hafez = await headers_for(client, "hafez-pharmacy")
    assert (await client.get(f"/api/facilities/{RAZI}/inventory", headers=razi)).is_success
    assert (await client.get(f"/api/facilities/{RAZI}/inventory.csv", headers=razi)).is_success
    assert (await client.get(f"/api/facilities/{RAZI}/inventory", headers=hafez)).status_code == 404
    inspector = await headers_for(client, "fdo-inspector")
    log = await client.get("/api/access-log", params={"resource": "inventory"}, headers=inspector)
    entries = [(e["actor_name"], e["path"], e["object_id"], e["outcome"]) for e in log.json()]
    assert entries[::-1] == [
        ("razi-pharmacy", f"/api/facilities/{RAZI}/inventory", RAZI, "ok"),
        ("razi-pharmacy", f"/api/facilities/{RAZI}/inventory.csv", RAZI, "ok"),
        ("hafez-pharmacy", f"/api/facilities/{RAZI}/inventory", RAZI, "not_found"),
    ]
