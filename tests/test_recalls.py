"""Recalls: an inspector recalls a batch spread over a warehouse and pharmacies, follows every
pack until all are accounted for; holders acknowledge; recalled packs cannot be supplied."""

from datetime import date, timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from models.gs1 import with_check_digit
from tests.helpers import event, facility_gln, headers_for, pack_code, register_batch

DEADLINE = (date.today() + timedelta(days=7)).isoformat()


def recall_order(gtin: str, lots: list[str], **fields: Any) -> dict[str, Any]:
    return {
        "gtin": gtin,
        "lots": lots,
        "recall_class": "I",
        "reason": "Out-of-specification dissolution results",
        "instructions": "Quarantine all stock and return it to the manufacturer.",
        "deadline": DEADLINE,
    } | fields


async def spread_batch(client: AsyncTestClient[Any]) -> tuple[str, str, list[str]]:
    """40 packs: 20 at the distributor, 10 at Razi (2 dispensed), 10 in transit to Hafez."""
    maker = await headers_for(client, "sina-darou")
    warehouse = await headers_for(client, "darupakhsh")
    razi = await headers_for(client, "razi-pharmacy")
    gtin, lot, serials = await register_batch(client, maker, count=40)
    codes = [pack_code(gtin, s) for s in serials]
    await event(client, maker, "ship", codes, destination_gln=facility_gln("darupakhsh"))
    await event(client, warehouse, "receive", codes)
    await event(
        client, warehouse, "ship", codes[20:30], destination_gln=facility_gln("razi-pharmacy")
    )
    await event(
        client, warehouse, "ship", codes[30:], destination_gln=facility_gln("hafez-pharmacy")
    )
    await event(client, razi, "receive", codes[20:30])
    dispensed = await event(client, razi, "dispense", codes[20:22])
    assert dispensed.json()["summary"]["ok"] == 2
    return gtin, lot, codes


async def test_a_recall_followed_to_the_last_pack(client: AsyncTestClient[Any]) -> None:
    inspector = await headers_for(client, "fdo-inspector")
    maker = await headers_for(client, "sina-darou")
    warehouse = await headers_for(client, "darupakhsh")
    razi = await headers_for(client, "razi-pharmacy")
    hafez = await headers_for(client, "hafez-pharmacy")
    gtin, lot, codes = await spread_batch(client)

    issued = await client.post("/api/recalls", json=recall_order(gtin, [lot]), headers=inspector)
    assert issued.status_code == 201, issued.text
    recall = issued.json()
    assert recall["lots"] == [lot] and recall["recall_class"] == "I"
    progress = recall["progress"]
    assert progress["affected"] == 40
    assert progress["at_holder"] == 28
    assert progress["in_transit"] == 10
    assert progress["supplied_before_recall"] == 2
    assert progress["unaccounted_for"] == 38
    assert progress["all_accounted_for"] is False
    notices = {n["gln"]: n for n in recall["notices"]}
    assert {g: n["packs_at_notice"] for g, n in notices.items()} == {
        facility_gln("darupakhsh"): 20,
        facility_gln("razi-pharmacy"): 8,
        facility_gln("hafez-pharmacy"): 10,
    }
    recall_url = f"/api/recalls/{recall['id']}"

    # The overlay is on every pack at once: verification and the patient page say so.
    verified = await client.post("/api/verify", json={"code": codes[25]}, headers=razi)
    assert verified.json()["overlays"] == ["recalled"]
    assert "recall" in verified.json()["reason"]
    serial = codes[25][len("01") + 14 + len("21") :]
    page = await client.get(f"/01/{gtin}/21/{serial}", headers={"Accept": "application/json"})
    assert page.json()["verdict"] == "recalled"
    assert "Recalled" in page.json()["message"]["en"]

    # Supplying a recalled pack is refused, and raises an alert the pharmacy and FDO see.
    refused = await event(client, razi, "dispense", [codes[25]])
    assert refused.status_code == 409
    assert "recalled" in refused.json()["results"][0]["reason"]
    for who in (razi, inspector, maker):
        alerts = (
            await client.get(f"/api/alerts?code=recalled_pack&gtin={gtin}", headers=who)
        ).json()
        assert [a["serial"] for a in alerts] == [serial], alerts

    # Each holder sees the recall it was notified of, and only its own part of it.
    mine = (await client.get("/api/recalls", headers=razi)).json()
    assert [(r["id"], r["awaiting_my_acknowledgement"]) for r in mine] == [(recall["id"], 1)]
    razi_view = (await client.get(recall_url, headers=razi)).json()
    assert [f["gln"] for f in razi_view["facilities"]] == [facility_gln("razi-pharmacy")]
    assert razi_view["progress"]["affected"] == 10
    outsider = await headers_for(client, "ferdowsi-pharmacy")
    assert (await client.get(recall_url, headers=outsider)).status_code == 404
    assert (await client.get("/api/recalls", headers=outsider)).json() == []

    # Holders acknowledge.
    for holder in (warehouse, razi, hafez):
        acknowledged = await client.post(f"{recall_url}/acknowledge", headers=holder)
        assert acknowledged.status_code == 200, acknowledged.text
        assert all(n["acknowledged_at"] for n in acknowledged.json())
    assert (await client.post(f"{recall_url}/acknowledge", headers=outsider)).status_code == 404

    # Stock is returned to the maker, quarantined or destroyed.
    back = await event(
        client, warehouse, "return", codes[:20], destination_gln=facility_gln("sina-darou")
    )
    assert back.json()["summary"]["ok"] == 20
    assert (await client.get(recall_url, headers=inspector)).json()["progress"]["returning"] == 20
    assert (await event(client, maker, "receive", codes[:20])).json()["summary"]["ok"] == 20
    assert (await event(client, hafez, "receive", codes[30:])).json()["summary"]["ok"] == 10
    assert (await event(client, hafez, "lock", codes[30:])).json()["summary"]["ok"] == 10
    assert (await event(client, razi, "destroy", codes[22:30])).json()["summary"]["ok"] == 8

    final = (await client.get(recall_url, headers=inspector)).json()
    assert {k: v for k, v in final["progress"].items() if v} == {
        "affected": 40,
        "at_owner": 20,
        "quarantined": 10,
        "destroyed": 8,
        "supplied_before_recall": 2,
        "all_accounted_for": True,
    }
    dispensed = (
        await client.get(f"{recall_url}/packs?category=supplied_before_recall", headers=inspector)
    ).json()
    assert [(p["status"], p["facility_gln"]) for p in dispensed] == [
        ("dispensed", facility_gln("razi-pharmacy"))
    ] * 2
    page_one = (await client.get(f"{recall_url}/packs?limit=15", headers=inspector)).json()
    last = page_one[-1]
    page_two = (
        await client.get(
            f"{recall_url}/packs?limit=100&after={last['gtin']}/{last['serial']}", headers=inspector
        )
    ).json()
    assert len(page_one) + len(page_two) == 40
    assert {p["serial"] for p in page_one}.isdisjoint({p["serial"] for p in page_two})


async def test_recall_orders_that_cannot_be_issued(client: AsyncTestClient[Any]) -> None:
    inspector = await headers_for(client, "fdo-inspector")
    maker = await headers_for(client, "sina-darou")
    gtin, lot, _ = await register_batch(client, maker, count=5)

    refused = await client.post("/api/recalls", json=recall_order(gtin, [lot]), headers=maker)
    assert refused.status_code == 403
    unknown = await client.post(
        "/api/recalls", json=recall_order(gtin, ["NOPE"]), headers=inspector
    )
    assert unknown.status_code == 422 and "NOPE" in unknown.json()["detail"]
    both = await client.post(
        "/api/recalls", json=recall_order(gtin, [lot], whole_product=True), headers=inspector
    )
    assert both.status_code == 422
    past = await client.post(
        "/api/recalls", json=recall_order(gtin, [lot], deadline="2020-01-01"), headers=inspector
    )
    assert past.status_code == 422
    bad_gtin = await client.post(
        "/api/recalls", json=recall_order("06260009990011", [lot]), headers=inspector
    )
    assert bad_gtin.status_code == 422
    assert (await client.get("/api/recalls", headers=inspector)).json() == []

    first = await client.post(
        "/api/recalls", json=recall_order(gtin, [], whole_product=True), headers=inspector
    )
    assert first.status_code == 201, first.text
    assert first.json()["progress"]["affected"] == 5
    second = await client.post("/api/recalls", json=recall_order(gtin, [lot]), headers=inspector)
    assert second.status_code == 409 and "already recalled" in second.json()["detail"]


async def test_a_withdrawal_sets_the_withdrawn_overlay(client: AsyncTestClient[Any]) -> None:
    inspector = await headers_for(client, "fdo-inspector")
    maker = await headers_for(client, "sina-darou")
    gtin, lot, serials = await register_batch(client, maker, count=3)
    issued = await client.post(
        "/api/recalls",
        json=recall_order(gtin, [lot], kind="withdrawal", recall_class="III"),
        headers=inspector,
    )
    assert issued.status_code == 201
    verified = await client.post(
        "/api/verify", json={"code": pack_code(gtin, serials[0])}, headers=maker
    )
    assert verified.json()["overlays"] == ["withdrawn"]
    sold = await event(client, maker, "export", [pack_code(gtin, serials[0])])
    assert sold.status_code == 409 and "withdrawn" in sold.json()["results"][0]["reason"]
    # The manufacturer sees its own product's recall with all its progress.
    mine = (await client.get(f"/api/recalls/{issued.json()['id']}", headers=maker)).json()
    assert mine["progress"]["at_holder"] == 0 and mine["progress"]["at_owner"] == 3


async def test_recalling_a_demo_batch_until_all_is_accounted_for(
    client: AsyncTestClient[Any],
) -> None:
    """The demo world's AMX2601 is at the factory, at two hubs, at pharmacies and a hospital, in
    transit, and partly dispensed. Every holder sends its stock back; the factory receives it."""
    inspector = await headers_for(client, "fdo-inspector")
    admin = await headers_for(client, "fdo-admin")
    gtin = with_check_digit("0626000999101")
    issued = await client.post(
        "/api/recalls", json=recall_order(gtin, ["AMX2601"]), headers=inspector
    )
    assert issued.status_code == 201, issued.text
    url = f"/api/recalls/{issued.json()['id']}"
    progress = issued.json()["progress"]
    assert all(progress[c] > 0 for c in ("at_holder", "in_transit", "at_owner")), progress
    assert progress["supplied_before_recall"] > 0

    facilities = (await client.get("/api/facilities", headers=admin)).json()
    organization_of = {f["gln"]: f["organization_id"] for f in facilities}
    users = (await client.get("/api/users", headers=admin)).json()
    user_of = {u["organization_id"]: u["username"] for u in users}
    factory = facility_gln("sina-darou")

    async def holder(gln: str) -> dict[str, str]:
        return await headers_for(client, user_of[organization_of[gln]])

    in_transit = (await client.get(f"{url}/packs?category=in_transit", headers=inspector)).json()
    for gln in {p["facility_gln"] for p in in_transit}:
        codes = [pack_code(p["gtin"], p["serial"]) for p in in_transit if p["facility_gln"] == gln]
        received = await event(client, await holder(gln), "receive", codes, facility_gln=gln)
        assert received.json()["summary"]["ok"] == len(codes), received.text
    at_holders = (await client.get(f"{url}/packs?category=at_holder", headers=inspector)).json()
    assert len(at_holders) == progress["at_holder"] + progress["in_transit"]
    for gln in {p["facility_gln"] for p in at_holders}:
        codes = [pack_code(p["gtin"], p["serial"]) for p in at_holders if p["facility_gln"] == gln]
        headers = await holder(gln)
        assert (await client.post(f"{url}/acknowledge", headers=headers)).status_code == 200
        sent = await event(
            client, headers, "return", codes, facility_gln=gln, destination_gln=factory
        )
        assert sent.json()["summary"]["ok"] == len(codes), sent.text
    returning = (await client.get(f"{url}/packs?category=returning", headers=inspector)).json()
    maker = await headers_for(client, "sina-darou")
    assert (await client.post(f"{url}/acknowledge", headers=maker)).status_code == 200
    back = await event(
        client, maker, "receive", [pack_code(p["gtin"], p["serial"]) for p in returning]
    )
    assert back.json()["summary"]["ok"] == len(returning)

    final = (await client.get(url, headers=inspector)).json()["progress"]
    assert final["all_accounted_for"] is True, final
    assert final["supplied_before_recall"] == progress["supplied_before_recall"]
    assert final["at_owner"] == progress["affected"] - progress["supplied_before_recall"]
    notices = (await client.get(url, headers=inspector)).json()["notices"]
    assert notices and all(n["acknowledged_at"] for n in notices)


async def test_packs_returned_to_a_distributor_are_returning(client: AsyncTestClient[Any]) -> None:
    """A return shipment is `returning` whatever the destination in the chain: a pharmacy
    sending recalled packs back to its distributor, not to the manufacturer."""
    inspector = await headers_for(client, "fdo-inspector")
    razi = await headers_for(client, "razi-pharmacy")
    gtin, lot, codes = await spread_batch(client)
    recall = (
        await client.post("/api/recalls", json=recall_order(gtin, [lot]), headers=inspector)
    ).json()
    url = f"/api/recalls/{recall['id']}"
    back = await event(
        client, razi, "return", codes[22:26], destination_gln=facility_gln("darupakhsh")
    )
    assert back.json()["summary"]["ok"] == 4, back.text
    progress = (await client.get(url, headers=inspector)).json()["progress"]
    assert progress["returning"] == 4
    assert progress["in_transit"] == 10  # the shipment to Hafez is no return
    returning = (await client.get(f"{url}/packs?category=returning", headers=inspector)).json()
    assert sorted(p["serial"] for p in returning) == sorted(c[18:] for c in codes[22:26])

    serial = codes[22][18:]
    custody = (await client.get(f"/api/packs/{gtin}/{serial}", headers=razi)).json()["holder"]
    assert custody["in_transit"] is True and custody["returning"] is True
    trace = (await client.get(f"/api/packs/{gtin}/{serial}/trace", headers=inspector)).json()
    assert trace["now"]["in_transit"] is True and trace["now"]["returning"] is True
    shipped = (await client.get(f"/api/packs/{gtin}/{codes[30][18:]}", headers=inspector)).json()
    assert shipped["holder"]["returning"] is False

    # Received back, the packs are stock at the distributor again, no longer returning.
    warehouse = await headers_for(client, "darupakhsh")
    assert (await event(client, warehouse, "receive", codes[22:26])).json()["summary"]["ok"] == 4
    progress = (await client.get(url, headers=inspector)).json()["progress"]
    assert progress["returning"] == 0 and progress["at_holder"] == 28
    trace = (await client.get(f"/api/packs/{gtin}/{serial}/trace", headers=inspector)).json()
    assert trace["now"]["returning"] is False


async def test_dispensers_are_told_which_packs_they_supplied_before_the_recall(
    client: AsyncTestClient[Any],
) -> None:
    """A pharmacy that sold every pack of the batch it had holds none when the class I recall
    comes, yet its patients must be reached: it gets a notice, sees its part (which packs it
    supplied, and when) and acknowledges; progress shows who has not acknowledged yet."""
    inspector = await headers_for(client, "fdo-inspector")
    maker = await headers_for(client, "sina-darou")
    ferdowsi = await headers_for(client, "ferdowsi-pharmacy")
    gtin, lot, _ = await spread_batch(client)
    sold = [pack_code(gtin, s) for s in await more_packs(client, maker, gtin, lot)]
    await event(client, maker, "ship", sold, destination_gln=facility_gln("ferdowsi-pharmacy"))
    await event(client, ferdowsi, "receive", sold)
    assert (await event(client, ferdowsi, "dispense", sold)).json()["summary"]["ok"] == 3

    recall = (
        await client.post("/api/recalls", json=recall_order(gtin, [lot]), headers=inspector)
    ).json()
    url = f"/api/recalls/{recall['id']}"
    notices = {n["gln"]: n for n in recall["notices"]}
    mine = notices[facility_gln("ferdowsi-pharmacy")]
    assert (mine["packs_at_notice"], mine["packs_supplied"]) == (0, 3)
    assert mine["first_supplied_at"] <= mine["last_supplied_at"] < recall["issued_at"]
    razi = notices[facility_gln("razi-pharmacy")]  # holds 8, dispensed 2
    assert (razi["packs_at_notice"], razi["packs_supplied"]) == (8, 2)
    awaiting = {n["gln"] for n in recall["progress"]["awaiting_acknowledgement"]}
    assert facility_gln("ferdowsi-pharmacy") in awaiting
    assert len(awaiting) == len(recall["notices"]) == 4

    listed = (await client.get("/api/recalls", headers=ferdowsi)).json()
    assert [(r["id"], r["awaiting_my_acknowledgement"]) for r in listed] == [(recall["id"], 1)]
    view = await client.get(url, headers=ferdowsi)
    assert view.status_code == 200, view.text
    assert [n["gln"] for n in view.json()["notices"]] == [facility_gln("ferdowsi-pharmacy")]
    assert view.json()["progress"]["affected"] == 3
    assert view.json()["progress"]["supplied_before_recall"] == 3
    supplied = (
        await client.get(f"{url}/packs?category=supplied_before_recall", headers=ferdowsi)
    ).json()
    assert sorted(p["serial"] for p in supplied) == sorted(c[18:] for c in sold)
    assert all(p["status"] == "dispensed" and p["status_at"] for p in supplied)

    acknowledged = await client.post(f"{url}/acknowledge", headers=ferdowsi)
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()[0]["acknowledged_at"] is not None
    after = (await client.get(url, headers=inspector)).json()["progress"]
    assert facility_gln("ferdowsi-pharmacy") not in {
        n["gln"] for n in after["awaiting_acknowledgement"]
    }
    assert len(after["awaiting_acknowledgement"]) == 3


async def more_packs(
    client: AsyncTestClient[Any], maker: dict[str, str], gtin: str, lot: str
) -> list[str]:
    """Three more packs of the batch, commissioned at the plant; their serials."""
    before = await client.get(f"/api/batches/{gtin}/{lot}/packs.csv", headers=maker)
    known = {line.split(",")[1] for line in before.text.splitlines()[1:]}
    done = await client.post(f"/api/batches/{gtin}/{lot}/packs", json={"count": 3}, headers=maker)
    assert done.status_code == 201, done.text
    after = await client.get(f"/api/batches/{gtin}/{lot}/packs.csv", headers=maker)
    return [
        s for s in (line.split(",")[1] for line in after.text.splitlines()[1:]) if s not in known
    ]
