"""POST /api/events: validation, the pack state machine, idempotency, offline capture and
concurrency."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from litestar.testing import AsyncTestClient

from app.demo_supply import demo_gln
from app.events.routes import EventOut, Sender
from app.events.service import MAX_CODES
from models.gs1 import with_check_digit
from tests.helpers import (
    LOGINS,
    device_headers,
    event,
    facility_gln,
    headers_for,
    pack_code,
    register_batch,
)
from tests.test_aggregation import case_code, sscc


async def _stock_at(
    client: AsyncTestClient[Any], username: str, count: int, **batch: Any
) -> tuple[str, str, list[str]]:
    """`count` active packs held by `username`'s facility, shipped there and received."""
    maker = await headers_for(client, "sina-darou")
    gtin, lot, serials = await register_batch(client, maker, count=count, **batch)
    codes = [pack_code(gtin, s) for s in serials]
    shipped = await event(client, maker, "ship", codes, destination_gln=facility_gln(username))
    assert shipped.status_code == 200, shipped.text
    received = await event(client, await headers_for(client, username), "receive", codes)
    assert received.status_code == 200, received.text
    return gtin, lot, serials


async def _status(client: AsyncTestClient[Any], gtin: str, serial: str) -> str:
    inspector = await headers_for(client, "fdo-inspector")
    body = (await client.get(f"/api/packs/{gtin}/{serial}", headers=inspector)).json()
    status: str = body["status"]
    return status


async def _event_count(client: AsyncTestClient[Any]) -> int:
    runtime = client.app.state.darutrace
    async with runtime.db.session() as session:
        from sqlalchemy import text

        return int((await session.exec(text("SELECT count(*) FROM pack_events"))).one()[0])  # type: ignore[call-overload]


async def test_malformed_requests_are_4xx_and_store_nothing(client: AsyncTestClient[Any]) -> None:
    pharmacy = await headers_for(client, "razi-pharmacy")
    gtin, _, serials = await _stock_at(client, "razi-pharmacy", 2)
    code = pack_code(gtin, serials[0])
    before = await _event_count(client)
    bad = [
        ({"event_id": "not-a-uuid", "action": "dispense", "codes": [code]}, 422),
        ({"event_id": str(uuid.uuid4()), "action": "teleport", "codes": [code]}, 422),
        ({"event_id": str(uuid.uuid4()), "action": "dispense", "codes": []}, 422),
        ({"event_id": str(uuid.uuid4()), "action": "dispense"}, 422),
        ({"event_id": str(uuid.uuid4()), "action": "ship", "codes": [code]}, 422),
        (
            {
                "event_id": str(uuid.uuid4()),
                "action": "ship",
                "codes": [code],
                "destination_gln": facility_gln("razi-pharmacy"),
            },
            422,
        ),
        (
            {
                "event_id": str(uuid.uuid4()),
                "action": "ship",
                "codes": [code],
                "destination_gln": "1234567890123",
            },
            422,
        ),
        (
            {
                "event_id": str(uuid.uuid4()),
                "action": "dispense",
                "codes": [code],
                "event_time": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            },
            422,
        ),
        (
            {
                "event_id": str(uuid.uuid4()),
                "action": "dispense",
                "codes": [code],
                "facility_gln": facility_gln("hafez-pharmacy"),
            },
            422,
        ),
        ({"event_id": str(uuid.uuid4()), "action": "export", "codes": [code]}, 403),
        ({"event_id": str(uuid.uuid4()), "action": "commission", "codes": [code]}, 422),
    ]
    for body, status in bad:
        response = await client.post("/api/events", json=body, headers=pharmacy)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]
    assert await _event_count(client) == before
    assert await _status(client, gtin, serials[0]) == "active"


async def test_one_result_per_code_and_refused_codes_change_nothing(
    client: AsyncTestClient[Any],
) -> None:
    pharmacy = await headers_for(client, "razi-pharmacy")
    gtin, lot, serials = await _stock_at(client, "razi-pharmacy", 2)
    unknown_gtin = with_check_digit("0626000999555")
    codes = [
        pack_code(gtin, serials[0], lot),
        "garbage",
        pack_code(gtin, "NOSUCHSERIAL"),
        pack_code(unknown_gtin, "ABC"),
        f"01{gtin}",
        pack_code(gtin, serials[1], "WRONGLOT"),
        pack_code(gtin, serials[0], lot),
    ]
    response = await event(client, pharmacy, "dispense", codes)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == [
        "ok",
        "refused",
        "refused",
        "refused",
        "refused",
        "refused",
        "warning",
    ]
    assert results[1]["reason"].startswith("cannot read the code")
    assert results[2]["reason"].startswith("unknown serial")
    assert results[2]["status"] == "unknown"
    assert results[3]["reason"].startswith(f"unknown product: GTIN {unknown_gtin}")
    assert "no serial number" in results[4]["reason"]
    assert "batch mismatch" in results[5]["reason"]
    assert "twice" in results[6]["reason"]
    assert response.json()["summary"] == {"ok": 1, "warning": 1, "refused": 5}
    assert await _status(client, gtin, serials[0]) == "dispensed"
    assert await _status(client, gtin, serials[1]) == "active"


async def test_all_refused_is_409_for_state_and_422_for_unknown(
    client: AsyncTestClient[Any],
) -> None:
    pharmacy = await headers_for(client, "razi-pharmacy")
    gtin, _, serials = await _stock_at(client, "razi-pharmacy", 1)
    response = await event(client, pharmacy, "dispense", [pack_code(gtin, "UNKNOWN1")])
    assert response.status_code == 422
    assert "unknown serial" in response.json()["detail"]
    response = await event(client, pharmacy, "undo", [pack_code(gtin, serials[0])])
    assert response.status_code == 200  # already active: a warning, not a refusal
    assert response.json()["results"][0]["outcome"] == "warning"
    await event(client, pharmacy, "stolen", [pack_code(gtin, serials[0])])
    response = await event(client, pharmacy, "undo", [pack_code(gtin, serials[0])])
    assert response.status_code == 409
    assert "final" in response.json()["results"][0]["reason"]


async def test_same_event_id_replays_and_a_different_payload_is_422(
    client: AsyncTestClient[Any],
) -> None:
    pharmacy = await headers_for(client, "razi-pharmacy")
    gtin, _, serials = await _stock_at(client, "razi-pharmacy", 2)
    body = {
        "event_id": str(uuid.uuid4()),
        "action": "dispense",
        "codes": [pack_code(gtin, serials[0])],
    }
    first = await client.post("/api/events", json=body, headers=pharmacy)
    before = await _event_count(client)
    again = await client.post("/api/events", json=body, headers=pharmacy)
    assert again.status_code == first.status_code == 200
    assert again.json() == first.json()
    assert again.json()["results"][0]["outcome"] == "ok"  # not "already dispensed here"
    assert await _event_count(client) == before
    changed = body | {"codes": [pack_code(gtin, serials[1])]}
    response = await client.post("/api/events", json=changed, headers=pharmacy)
    assert response.status_code == 422
    assert "already used for a different event" in response.json()["detail"]
    assert await _status(client, gtin, serials[1]) == "active"


async def test_twenty_pharmacies_dispense_the_same_pack_at_once(
    client: AsyncTestClient[Any],
) -> None:
    admin = await headers_for(client, "fdo-admin")
    razi = await headers_for(client, "razi-pharmacy")
    org_id = (await client.get("/api/auth/me", headers=razi)).json()["organization_id"]
    branches = [facility_gln("razi-pharmacy")]
    for n in range(19):
        gln = with_check_digit(f"6260009998{n:02d}")
        created = await client.post(
            "/api/facilities",
            json={
                "gln": gln,
                "organization_id": org_id,
                "name": f"Razi branch {n}",
                "province": "Tehran",
                "city": "Tehran",
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
        branches.append(gln)
    gtin, _, serials = await _stock_at(client, "razi-pharmacy", 1)
    code = pack_code(gtin, serials[0])
    responses = await asyncio.gather(
        *(event(client, razi, "dispense", [code], facility_gln=gln) for gln in branches)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 19
    winners = [r for r in responses if r.status_code == 200]
    assert winners[0].json()["results"][0]["outcome"] in ("ok", "warning")
    assert await _status(client, gtin, serials[0]) == "dispensed"


async def test_offline_dispense_elsewhere_is_recorded_with_a_warning(
    client: AsyncTestClient[Any],
) -> None:
    gtin, _, serials = await _stock_at(client, "razi-pharmacy", 1)
    code = pack_code(gtin, serials[0])
    online = await event(client, await headers_for(client, "razi-pharmacy"), "dispense", [code])
    assert online.status_code == 200
    scanner = device_headers(facility_gln("hafez-pharmacy"))
    earlier = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    offline = await event(client, scanner, "dispense", [code], offline=True, event_time=earlier)
    assert offline.status_code == 200, offline.text
    result = offline.json()["results"][0]
    assert result["outcome"] == "warning"
    assert "recorded offline despite a conflict" in result["reason"]
    assert "already dispensed elsewhere" in result["reason"] and "Razi" not in result["reason"]
    inspector = await headers_for(client, "fdo-inspector")
    history = (await client.get(f"/api/packs/{gtin}/{serials[0]}/events", headers=inspector)).json()
    assert history[-1]["offline"] is True
    assert history[-1]["facility"]["gln"] == facility_gln("hafez-pharmacy")
    assert history[-1]["event_time"].startswith(earlier[:16])


async def test_offline_dispense_of_an_unknown_pack_is_kept_as_a_warning(
    client: AsyncTestClient[Any],
) -> None:
    gtin, _, _ = await _stock_at(client, "razi-pharmacy", 1)
    scanner = device_headers(facility_gln("razi-pharmacy"))
    response = await event(client, scanner, "dispense", [pack_code(gtin, "FAKE0001")], offline=True)
    assert response.status_code == 200
    assert response.json()["results"][0]["outcome"] == "warning"
    assert "suspected falsified" in response.json()["results"][0]["reason"]


async def test_undo_rules(client: AsyncTestClient[Any]) -> None:
    razi = await headers_for(client, "razi-pharmacy")
    gtin, _, serials = await _stock_at(client, "razi-pharmacy", 4)
    a, b, c, d = (pack_code(gtin, s) for s in serials)
    await event(client, razi, "dispense", [a])
    elsewhere = await event(client, await headers_for(client, "hafez-pharmacy"), "undo", [a])
    assert elsewhere.status_code == 409
    assert "only the facility that did it can undo it" in elsewhere.json()["results"][0]["reason"]

    eleven_days_ago = (datetime.now(UTC) - timedelta(days=11)).isoformat()
    await event(client, razi, "dispense", [b], event_time=eleven_days_ago)
    late = await event(client, razi, "undo", [b])
    assert late.status_code == 409
    assert "more than 10 days ago" in late.json()["results"][0]["reason"]

    await event(client, razi, "lock", [c], event_time=eleven_days_ago)
    assert (await event(client, razi, "dispense", [c])).status_code == 409
    unlocked = await event(client, razi, "unlock", [c])
    assert unlocked.json()["results"][0]["status"] == "active"

    await event(client, razi, "destroy", [d])
    final = await event(client, razi, "unlock", [d])
    assert final.status_code == 409
    assert await _status(client, gtin, serials[3]) == "destroyed"


async def test_expired_packs_are_not_dispensed(client: AsyncTestClient[Any]) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, _, serials = await register_batch(client, maker, expiry="2026-01-31", count=1)
    razi = await headers_for(client, "razi-pharmacy")
    code = pack_code(gtin, serials[0])
    shipped = await event(
        client, maker, "ship", [code], destination_gln=facility_gln("razi-pharmacy")
    )
    assert shipped.json()["results"][0]["outcome"] == "warning"  # shipping an expired pack
    await event(client, razi, "receive", [code])
    response = await event(client, razi, "dispense", [code])
    assert response.status_code == 409
    assert "expired" in response.json()["results"][0]["reason"]
    assert (await event(client, razi, "destroy", [code])).status_code == 200


async def test_custody_warnings(client: AsyncTestClient[Any]) -> None:
    gtin, _, serials = await _stock_at(client, "darupakhsh", 2)
    hafez = await headers_for(client, "hafez-pharmacy")
    code = pack_code(gtin, serials[0])
    # A pack the pharmacy never received: dispensed (it is in the patient's hands) with a warning.
    response = await event(client, hafez, "dispense", [code])
    assert response.status_code == 200
    assert "registered elsewhere, not here" in response.json()["results"][0]["reason"]
    # Shipping from a facility that does not hold the pack is refused online.
    response = await event(
        client,
        hafez,
        "ship",
        [pack_code(gtin, serials[1])],
        destination_gln=facility_gln("razi-pharmacy"),
    )
    assert response.status_code == 409
    # Receiving twice is a warning, not a second custody change.
    warehouse = await headers_for(client, "darupakhsh")
    response = await event(client, warehouse, "receive", [pack_code(gtin, serials[1])])
    assert response.json()["results"][0] == response.json()["results"][0] | {
        "outcome": "warning",
        "reason": "already received here",
    }


async def test_device_events_use_the_device_facility(client: AsyncTestClient[Any]) -> None:
    gtin, _, serials = await _stock_at(client, "razi-pharmacy", 1)
    scanner = device_headers(LOGINS["razi-pharmacy"].facility_gln)
    response = await event(client, scanner, "dispense", [pack_code(gtin, serials[0])])
    assert response.status_code == 200
    assert response.json()["facility_gln"] == facility_gln("razi-pharmacy")
    response = await event(
        client,
        scanner,
        "dispense",
        [pack_code(gtin, serials[0])],
        facility_gln=facility_gln("hafez-pharmacy"),
    )
    assert response.status_code == 422


async def test_an_event_may_carry_ten_thousand_codes(client: AsyncTestClient[Any]) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, _, serials = await register_batch(client, maker, count=10_000)
    codes = [pack_code(gtin, s) for s in serials]
    response = await event(client, maker, "ship", codes, destination_gln=facility_gln("darupakhsh"))
    assert response.status_code == 200, response.text[:500]
    assert response.json()["summary"]["ok"] == 10_000
    too_many = await event(client, maker, "lock", codes * (MAX_CODES // len(codes)) + codes[:1])
    assert too_many.status_code == 422
    assert f"{MAX_CODES:,}" in too_many.text or str(MAX_CODES) in too_many.text


async def test_refusals_name_only_the_scanning_organisations_own_sites(
    client: AsyncTestClient[Any],
) -> None:
    """Custody is confidential between competitors: a pharmacy is told what to do, not which
    other organisation's site holds or dispensed the pack; the alert names it, for the inspector
    and the organisations involved. A site of the scanning organisation may be named."""
    gtin, _, serials = await _stock_at(client, "razi-pharmacy", 1)
    code = pack_code(gtin, serials[0])
    razi = await headers_for(client, "razi-pharmacy")
    assert (await event(client, razi, "dispense", [code])).status_code == 200
    hafez = await headers_for(client, "hafez-pharmacy")
    refused = await event(client, hafez, "dispense", [code])
    assert refused.status_code == 409
    reason = refused.json()["results"][0]["reason"]
    today = datetime.now(UTC).date().isoformat()
    assert reason.startswith(f"already dispensed elsewhere on {today}: ")
    assert "do not supply this pack, set it aside" in reason
    assert "Razi" not in reason and "Razi" not in refused.json()["detail"]
    for who in ("fdo-inspector", "razi-pharmacy", "hafez-pharmacy"):
        alerts = await client.get(
            f"/api/alerts?code=cloned_code&gtin={gtin}", headers=await headers_for(client, who)
        )
        assert [a["message"] for a in alerts.json()] == [
            f"dispense: already dispensed at Dr. Razi Pharmacy ({facility_gln('razi-pharmacy')})"
            f" on {today}: the code may be cloned; do not supply this pack, set it aside and "
            "report it"
        ], who

    # The distributor's other hub is its own: named.
    stock, _, held = await _stock_at(client, "darupakhsh", 2, item="002")
    warehouse = await headers_for(client, "darupakhsh")
    mashhad = demo_gln(56)
    shipped = await event(
        client,
        warehouse,
        "ship",
        [pack_code(stock, held[0])],
        facility_gln=mashhad,
        destination_gln=facility_gln("razi-pharmacy"),
    )
    assert shipped.status_code == 409
    assert "registered at Daru Pakhsh Tehran Hub" in shipped.json()["results"][0]["reason"]
    # To a pharmacy, the distributor's hub is another organisation's site.
    not_here = await event(client, hafez, "dispense", [pack_code(stock, held[1])])
    reason = not_here.json()["results"][0]["reason"]
    assert "registered elsewhere, not here" in reason and "Daru Pakhsh" not in reason
    alert = (
        await client.get(
            f"/api/alerts?code=not_held_here&serial={held[1]}",
            headers=await headers_for(client, "fdo-inspector"),
        )
    ).json()
    assert "registered at Daru Pakhsh Tehran Hub" in alert[0]["message"]


async def test_a_receipt_says_where_the_packs_came_from(client: AsyncTestClient[Any]) -> None:
    """The receiver of a shipment addressed to it knows its supplier, of whatever organisation:
    each pack's result (and a case's) names the sender. A pack shipped to another site does not
    name its sender, nor does anything but a receipt."""
    maker = await headers_for(client, "sina-darou")
    warehouse = await headers_for(client, "darupakhsh")
    plant = {"gln": facility_gln("sina-darou"), "name": "Sina Darou Plant"}
    gtin, _, serials = await register_batch(client, maker, count=4)
    codes = [pack_code(gtin, s) for s in serials]
    case = sscc(311)
    assert (await event(client, maker, "pack", codes[2:], container=case_code(case))).json()[
        "summary"
    ]["ok"] == 2
    shipped = await event(
        client,
        maker,
        "ship",
        [codes[0], case_code(case)],
        destination_gln=facility_gln("darupakhsh"),
    )
    assert not any("received_from" in r for r in shipped.json()["results"])
    elsewhere = await event(
        client, maker, "ship", [codes[1]], destination_gln=facility_gln("razi-pharmacy")
    )
    assert elsewhere.status_code == 200

    received = await event(client, warehouse, "receive", [codes[0], codes[1], case_code(case)])
    assert received.status_code == 200, received.text
    pack, misdirected, whole_case = received.json()["results"]
    assert pack["outcome"] == "ok" and pack["received_from"] == plant
    assert misdirected["outcome"] == "warning" and "received_from" not in misdirected
    assert "Sina Darou" not in misdirected["reason"]
    assert whole_case["sscc"] == case and whole_case["received_from"] == plant
    documented = msgspec.convert(received.json(), EventOut)  # the answer is what the schema says
    assert documented.results[0].received_from == Sender(**plant)
    again = await event(client, warehouse, "receive", [codes[0]])
    assert "received_from" not in again.json()["results"][0]  # already here: not a receipt
