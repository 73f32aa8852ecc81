"""The alert engine (raised by events, in their transaction) and alert triage."""

from typing import Any

from litestar.testing import AsyncTestClient

from tests.helpers import event, facility_gln, headers_for, pack_code, register_batch


async def at_pharmacy(client: AsyncTestClient[Any], count: int) -> tuple[str, list[str]]:
    """`count` packs shipped by the maker to Razi Pharmacy and received there."""
    maker = await headers_for(client, "sina-darou")
    razi = await headers_for(client, "razi-pharmacy")
    gtin, _, serials = await register_batch(client, maker, count=count)
    codes = [pack_code(gtin, s) for s in serials]
    await event(client, maker, "ship", codes, destination_gln=facility_gln("razi-pharmacy"))
    await event(client, razi, "receive", codes)
    return gtin, codes


async def alerts(client: AsyncTestClient[Any], who: str, query: str = "") -> list[dict[str, Any]]:
    response = await client.get(f"/api/alerts?{query}", headers=await headers_for(client, who))
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


async def test_a_cloned_code_alerts_both_pharmacies_the_owner_and_fdo(
    client: AsyncTestClient[Any],
) -> None:
    gtin, codes = await at_pharmacy(client, 1)
    razi = await headers_for(client, "razi-pharmacy")
    hafez = await headers_for(client, "hafez-pharmacy")
    assert (await event(client, razi, "dispense", codes)).status_code == 200
    assert await alerts(client, "fdo-inspector", f"gtin={gtin}") == []

    clone = await event(client, hafez, "dispense", codes)
    assert clone.status_code == 409
    for who in ("razi-pharmacy", "hafez-pharmacy", "sina-darou", "fdo-inspector"):
        raised = await alerts(client, who, f"gtin={gtin}")
        assert [(a["code"], a["severity"], a["status"]) for a in raised] == [
            ("cloned_code", "high", "new")
        ], who
    alert = raised[0]
    assert alert["facility_gln"] == facility_gln("hafez-pharmacy")
    assert alert["gtin"] == gtin and alert["event_id"] == clone.json()["event_id"]
    assert "already dispensed at Dr. Razi Pharmacy" in alert["message"]
    assert await alerts(client, "ferdowsi-pharmacy", f"gtin={gtin}") == []
    outsider = await headers_for(client, "ferdowsi-pharmacy")
    assert (await client.get(f"/api/alerts/{alert['id']}", headers=outsider)).status_code == 404


async def test_an_unknown_serial_is_a_suspected_counterfeit(client: AsyncTestClient[Any]) -> None:
    gtin, _ = await at_pharmacy(client, 1)
    razi = await headers_for(client, "razi-pharmacy")
    fake = pack_code(gtin, "FAKE00000001")
    assert (await event(client, razi, "dispense", [fake])).status_code == 422
    raised = await alerts(client, "sina-darou", f"code=unknown_serial&gtin={gtin}")
    assert [(a["code"], a["severity"], a["serial"]) for a in raised] == [
        ("unknown_serial", "high", "FAKE00000001")
    ]
    unknown_product = "(01)04006381333931(21)XYZ"
    await event(client, razi, "dispense", [unknown_product])
    high = await alerts(client, "razi-pharmacy", "severity=high&gtin=04006381333931")
    assert [(a["code"], a["product"]) for a in high] == [("unknown_product", None)]


async def test_a_repeat_at_the_same_counter_warns_first_then_alerts(
    client: AsyncTestClient[Any],
) -> None:
    gtin, codes = await at_pharmacy(client, 1)
    razi = await headers_for(client, "razi-pharmacy")
    assert (await event(client, razi, "dispense", codes)).json()["summary"]["ok"] == 1
    second = await event(client, razi, "dispense", codes)
    assert second.json()["results"][0]["outcome"] == "warning"
    assert await alerts(client, "fdo-inspector", f"gtin={gtin}") == []
    await event(client, razi, "dispense", codes)
    assert [a["code"] for a in await alerts(client, "fdo-inspector", f"gtin={gtin}")] == [
        "repeat_decommission"
    ]


async def test_offline_conflicts_are_recorded_and_alerted(client: AsyncTestClient[Any]) -> None:
    gtin, codes = await at_pharmacy(client, 1)
    razi = await headers_for(client, "razi-pharmacy")
    hafez = await headers_for(client, "hafez-pharmacy")
    await event(client, razi, "dispense", codes)
    offline = await event(client, hafez, "dispense", codes, offline=True)
    assert offline.status_code == 200
    assert offline.json()["results"][0]["outcome"] == "warning"
    assert [a["code"] for a in await alerts(client, "hafez-pharmacy", f"gtin={gtin}")] == [
        "cloned_code"
    ]


async def test_a_pack_dispensed_where_it_is_not_held(client: AsyncTestClient[Any]) -> None:
    gtin, codes = await at_pharmacy(client, 1)
    hafez = await headers_for(client, "hafez-pharmacy")
    assert (await event(client, hafez, "dispense", codes)).json()["results"][0]["outcome"] == (
        "warning"
    )
    raised = await alerts(client, "razi-pharmacy", f"gtin={gtin}")
    assert [(a["code"], a["severity"]) for a in raised] == [("not_held_here", "low")]


async def test_triage_new_investigating_closed(client: AsyncTestClient[Any]) -> None:
    gtin, codes = await at_pharmacy(client, 1)
    razi = await headers_for(client, "razi-pharmacy")
    hafez = await headers_for(client, "hafez-pharmacy")
    inspector = await headers_for(client, "fdo-inspector")
    await event(client, razi, "dispense", codes)
    await event(client, hafez, "dispense", codes)
    (alert,) = await alerts(client, "fdo-inspector", f"gtin={gtin}")
    url = f"/api/alerts/{alert['id']}"

    investigating = await client.post(
        f"{url}/status", json={"status": "investigating", "note": "calling both"}, headers=inspector
    )
    assert investigating.status_code == 200 and investigating.json()["status"] == "investigating"
    no_cause = await client.post(f"{url}/status", json={"status": "closed"}, headers=hafez)
    assert no_cause.status_code == 422 and no_cause.json()["field"] == "root_cause"
    closed = await client.post(
        f"{url}/status",
        json={"status": "closed", "root_cause": "double scan of one pack at Hafez"},
        headers=hafez,
    )
    assert closed.status_code == 200
    assert closed.json()["root_cause"] == "double scan of one pack at Hafez"
    assert [(c["status"], c["by"]) for c in closed.json()["changes"]] == [
        ("investigating", "fdo-inspector"),
        ("closed", "hafez-pharmacy"),
    ]
    again = await client.post(
        f"{url}/status", json={"status": "closed", "root_cause": "x"}, headers=inspector
    )
    assert again.status_code == 409
    outsider = await headers_for(client, "ferdowsi-pharmacy")
    hidden = await client.post(f"{url}/status", json={"status": "investigating"}, headers=outsider)
    assert hidden.status_code == 404
    assert [
        a["status"] for a in await alerts(client, "fdo-inspector", f"status=closed&gtin={gtin}")
    ] == ["closed"]
    assert await alerts(client, "fdo-inspector", f"status=new&gtin={gtin}") == []


async def test_risky_packs_verified_at_a_pharmacy_raise_one_alert_each(
    client: AsyncTestClient[Any],
) -> None:
    gtin, codes = await at_pharmacy(client, 2)
    razi = await headers_for(client, "razi-pharmacy")
    hafez = await headers_for(client, "hafez-pharmacy")
    warehouse = await headers_for(client, "darupakhsh")
    assert (await event(client, razi, "stolen", codes[:1])).json()["summary"]["ok"] == 1
    fake = pack_code(gtin, "NEVERMADE123")
    for _ in range(3):  # the pharmacist checks again: still one alert each
        for code in (codes[0], fake):
            verified = await client.post("/api/verify", json={"code": code}, headers=hafez)
            assert verified.status_code == 200
    raised = await alerts(client, "hafez-pharmacy", f"gtin={gtin}")
    assert sorted((a["code"], a["serial"], a["facility_gln"]) for a in raised) == [
        ("stolen_pack", codes[0][18:], facility_gln("hafez-pharmacy")),
        ("unknown_serial", "NEVERMADE123", facility_gln("hafez-pharmacy")),
    ]
    assert all(a["event_id"] is None for a in raised)
    # The maker (the batch's owner) is involved; a warehouse checking stock raises nothing.
    assert len(await alerts(client, "sina-darou", f"gtin={gtin}")) == 2
    await client.post("/api/verify", json={"code": codes[1]}, headers=warehouse)
    await client.post("/api/verify", json={"code": fake}, headers=warehouse)
    assert len(await alerts(client, "fdo-inspector", f"gtin={gtin}")) == 2
    # A good pack raises nothing.
    await client.post("/api/verify", json={"code": codes[1]}, headers=razi)
    assert len(await alerts(client, "fdo-inspector", f"gtin={gtin}")) == 2


async def test_alerts_of_one_event_page_without_gaps(client: AsyncTestClient[Any]) -> None:
    gtin, _ = await at_pharmacy(client, 1)
    razi = await headers_for(client, "razi-pharmacy")
    fakes = [pack_code(gtin, f"FAKE{n:08d}") for n in range(5)]
    assert (await event(client, razi, "dispense", fakes)).status_code == 422
    pages: list[list[dict[str, Any]]] = [
        await alerts(client, "razi-pharmacy", f"gtin={gtin}&limit=2")
    ]
    while pages[-1]:
        last = pages[-1][-1]
        query = f"gtin={gtin}&limit=2&before={last['raised_at']}&before_id={last['id']}"
        pages.append(await alerts(client, "razi-pharmacy", query.replace("+", "%2B")))
    serials = [a["serial"] for page in pages for a in page]
    assert sorted(serials) == [f"FAKE{n:08d}" for n in range(5)]
    assert len({a["raised_at"] for page in pages for a in page}) == 1  # one event, one time
