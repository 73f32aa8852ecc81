"""The issue's walkthrough: register, serialize, ship, receive, dispense, verify, refuse a second
dispense elsewhere, undo."""

from typing import Any

from litestar.testing import AsyncTestClient

from tests.helpers import event, facility_gln, headers_for, pack_code, register_batch


async def test_from_the_factory_to_the_patient_and_back(client: AsyncTestClient[Any]) -> None:
    maker = await headers_for(client, "sina-darou")
    warehouse = await headers_for(client, "darupakhsh")
    pharmacy = await headers_for(client, "razi-pharmacy")
    other_pharmacy = await headers_for(client, "hafez-pharmacy")

    gtin, lot, serials = await register_batch(client, maker, count=1000)
    assert len(serials) == len(set(serials)) == 1000
    codes = [pack_code(gtin, s, lot) for s in serials]

    shipped = await event(client, maker, "ship", codes, destination_gln=facility_gln("darupakhsh"))
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["summary"] == {"ok": 1000, "warning": 0, "refused": 0}
    in_transit = (await client.get(f"/api/packs/{gtin}/{serials[0]}", headers=warehouse)).json()
    assert in_transit["holder"]["in_transit"] is True
    assert in_transit["holder"]["to"]["gln"] == facility_gln("darupakhsh")

    received = await event(client, warehouse, "receive", codes)
    assert received.json()["summary"]["ok"] == 1000

    ten = codes[:10]
    to_pharmacy = await event(
        client, warehouse, "ship", ten, destination_gln=facility_gln("razi-pharmacy")
    )
    assert to_pharmacy.json()["summary"]["ok"] == 10
    assert (await event(client, pharmacy, "receive", ten)).json()["summary"]["ok"] == 10

    dispensed = await event(client, pharmacy, "dispense", [ten[0]])
    assert dispensed.status_code == 200
    assert dispensed.json()["results"][0] | {"code": None} == {
        "code": None,
        "gtin": gtin,
        "serial": serials[0],
        "outcome": "ok",
        "status": "dispensed",
        "reason": "",
    }

    verified = await client.post("/api/verify", json={"code": ten[0]}, headers=pharmacy)
    assert verified.status_code == 200
    assert verified.json()["status"] == "dispensed"
    assert verified.json()["lot"] == lot
    assert verified.json()["product"]["name_fa"] == "آموکسی‌سیلین ۵۰۰"

    again = await event(client, other_pharmacy, "dispense", [ten[0]])
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    refusal = again.json()["results"][0]
    assert refusal["outcome"] == "refused"
    # Custody is confidential between competitors: the other pharmacy is told what to do, not
    # where the pack went; the alert names it for the inspectors and those involved.
    assert "already dispensed elsewhere on" in refusal["reason"]
    assert "cloned" in refusal["reason"] and "Razi" not in refusal["reason"]

    undone = await event(client, pharmacy, "undo", [ten[0]])
    assert undone.status_code == 200
    assert undone.json()["results"][0]["status"] == "active"
    after = await client.post("/api/verify", json={"code": ten[0]}, headers=pharmacy)
    assert after.json()["status"] == "active"

    history = await client.get(f"/api/packs/{gtin}/{serials[0]}/events", headers=pharmacy)
    # The pharmacy sees the shipment to it and what it did, not the earlier steps.
    assert [h["action"] for h in history.json()] == ["ship", "receive", "dispense", "undo"]
    inspector = await headers_for(client, "fdo-inspector")
    full = await client.get(f"/api/packs/{gtin}/{serials[0]}/events", headers=inspector)
    # Refused attempts are part of the record (they feed the alerts), marked as refused.
    assert [(h["action"], h["outcome"]) for h in full.json()] == [
        ("commission", "ok"),
        ("ship", "ok"),
        ("receive", "ok"),
        ("ship", "ok"),
        ("receive", "ok"),
        ("dispense", "ok"),
        ("dispense", "refused"),
        ("undo", "ok"),
    ]
    assert full.json()[6]["facility"]["gln"] == facility_gln("hafez-pharmacy")
    assert full.json()[6]["status_before"] == full.json()[6]["status_after"] == "dispensed"
    assert full.json()[1]["destination"]["gln"] == facility_gln("darupakhsh")
    assert full.json()[0]["business_step"] == "commissioning"
