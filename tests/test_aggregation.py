"""Cases and pallets (SSCC): packing, moving a case and everything in it with one scan, checked
receipts, and what happens to a pack taken out of a case at the counter."""

import uuid
from typing import Any

from litestar.testing import AsyncTestClient

from models.gs1 import with_check_digit
from tests.helpers import event, facility_gln, headers_for, pack_code, register_batch


def sscc(n: int) -> str:
    return with_check_digit(f"06260009{n:09d}")


def case_code(number: str) -> str:
    return f"(00){number}"


async def packed_cases(
    client: AsyncTestClient[Any], cases: int, per_case: int
) -> tuple[str, list[str], list[list[str]]]:
    """The maker packs `cases` cases of `per_case` packs; returns (gtin, SSCCs, codes per case)."""
    maker = await headers_for(client, "sina-darou")
    gtin, _, serials = await register_batch(client, maker, count=cases * per_case)
    codes = [pack_code(gtin, s) for s in serials]
    numbers, contents = [], []
    for i in range(cases):
        number = sscc(i + 1)
        inside = codes[i * per_case : (i + 1) * per_case]
        packed = await event(client, maker, "pack", inside, container=case_code(number))
        assert packed.status_code == 200, packed.text
        assert packed.json()["summary"]["ok"] == per_case
        numbers.append(number)
        contents.append(inside)
    return gtin, numbers, contents


async def status_of(client: AsyncTestClient[Any], code: str, who: str = "fdo-inspector") -> Any:
    headers = await headers_for(client, who)
    return (await client.post("/api/verify", json={"code": code}, headers=headers)).json()


async def test_a_pallet_of_cases_ships_and_is_received_with_one_scan(
    client: AsyncTestClient[Any],
) -> None:
    maker = await headers_for(client, "sina-darou")
    warehouse = await headers_for(client, "darupakhsh")
    _, cases, contents = await packed_cases(client, 3, 4)
    pallet = sscc(900)
    palletised = await event(
        client, maker, "pack", [case_code(c) for c in cases], container=case_code(pallet)
    )
    assert palletised.json()["summary"]["ok"] == 3

    shipped = await event(
        client, maker, "ship", [case_code(pallet)], destination_gln=facility_gln("darupakhsh")
    )
    assert shipped.status_code == 200, shipped.text
    (result,) = shipped.json()["results"]
    assert result["sscc"] == pallet and result["outcome"] == "ok" and result["packs"] == 12
    assert result["summary"] == {"ok": 12, "warning": 0, "refused": 0}
    moving = await status_of(client, contents[2][3])
    assert moving["holder"]["in_transit"] is True

    received = await event(client, warehouse, "receive", [pallet])
    assert received.json()["results"][0]["summary"]["ok"] == 12
    for inside in contents:
        for code in inside:
            assert (await status_of(client, code))["holder"]["facility"]["gln"] == facility_gln(
                "darupakhsh"
            )

    # One case leaves the pallet and goes on to a pharmacy; the rest stay.
    on = await event(
        client,
        warehouse,
        "ship",
        [case_code(cases[0])],
        destination_gln=facility_gln("razi-pharmacy"),
    )
    assert on.json()["results"][0]["packs"] == 4
    razi = await headers_for(client, "razi-pharmacy")
    assert (await event(client, razi, "receive", [case_code(cases[0])])).status_code == 200
    assert (await status_of(client, contents[1][0]))["holder"]["facility"]["gln"] == facility_gln(
        "darupakhsh"
    )
    assert (await status_of(client, contents[0][0]))["holder"]["facility"]["gln"] == facility_gln(
        "razi-pharmacy"
    )


async def test_a_checked_receipt_reports_missing_and_extra_packs(
    client: AsyncTestClient[Any],
) -> None:
    maker = await headers_for(client, "sina-darou")
    warehouse = await headers_for(client, "darupakhsh")
    _, (number, other), (inside, elsewhere) = await packed_cases(client, 2, 5)
    await event(
        client, maker, "ship", [case_code(number)], destination_gln=facility_gln("darupakhsh")
    )
    found = [*inside[1:], elsewhere[0]]
    received = await event(client, warehouse, "receive", [case_code(number)], contents=found)
    assert received.status_code == 200, received.text
    body = received.json()
    missing_serial = inside[0][18:]  # after (01) GTIN (21)
    assert [m["serial"] for m in body["discrepancies"]["missing"]] == [missing_serial]
    assert [e["serial"] for e in body["discrepancies"]["extra"]] == [elsewhere[0][18:]]
    assert body["results"][0]["summary"]["ok"] == 4
    # The missing pack is not here: it is still in transit, and out of the case.
    assert (await status_of(client, inside[0]))["holder"]["in_transit"] is True
    alerts = (await client.get("/api/alerts?code=receipt_discrepancy", headers=warehouse)).json()
    assert len(alerts) == 1 and "1 packs missing" in alerts[0]["message"]
    assert other  # the second case stays packed at the maker


async def test_dispensing_a_pack_from_a_case_takes_it_out(client: AsyncTestClient[Any]) -> None:
    maker = await headers_for(client, "sina-darou")
    razi = await headers_for(client, "razi-pharmacy")
    _, (number,), (inside,) = await packed_cases(client, 1, 3)
    await event(
        client, maker, "ship", [case_code(number)], destination_gln=facility_gln("razi-pharmacy")
    )
    await event(client, razi, "receive", [case_code(number)])
    dispensed = await event(client, razi, "dispense", [inside[0]])
    assert dispensed.json()["results"][0]["outcome"] == "ok"
    assert f"taken out of case {number}" in dispensed.json()["results"][0]["reason"]
    # The case now holds the other two: returning it returns two packs.
    back = await event(
        client, razi, "return", [case_code(number)], destination_gln=facility_gln("sina-darou")
    )
    assert back.json()["results"][0]["packs"] == 2
    assert (await status_of(client, inside[0]))["status"] == "dispensed"


async def test_packing_rules(client: AsyncTestClient[Any]) -> None:
    maker = await headers_for(client, "sina-darou")
    warehouse = await headers_for(client, "darupakhsh")
    gtin, (first,), (inside,) = await packed_cases(client, 1, 3)
    _, _, more = await register_batch(client, maker, item="002", count=2)
    loose = [pack_code(with_check_digit("0626000999002"), s) for s in more]

    twice = await event(client, maker, "pack", [inside[0]], container=case_code(sscc(2)))
    assert twice.status_code == 409
    assert f"packed in case {first}" in twice.json()["results"][0]["reason"]
    again = await event(client, maker, "pack", [inside[0]], container=case_code(first))
    assert again.json()["results"][0]["outcome"] == "warning"

    elsewhere = await event(client, warehouse, "pack", loose, container=case_code(sscc(3)))
    assert elsewhere.status_code == 409
    assert "not held here" in elsewhere.json()["results"][0]["reason"]

    no_case = await event(client, maker, "pack", loose)
    assert no_case.status_code == 422 and no_case.json()["field"] == "container"
    a_pack = await event(client, maker, "pack", loose, container=inside[1])
    assert a_pack.status_code == 422
    wrong = sscc(1)[:-1] + str((int(sscc(1)[-1]) + 1) % 10)
    bad_check_digit = await event(client, maker, "pack", loose, container=case_code(wrong))
    assert bad_check_digit.status_code == 422

    loop = await event(client, maker, "pack", [case_code(first)], container=case_code(first))
    assert "inside itself" in loop.json()["results"][0]["reason"]
    unknown = await event(
        client, maker, "ship", [case_code(sscc(77))], destination_gln=facility_gln("darupakhsh")
    )
    assert unknown.status_code == 422
    assert "unknown case" in unknown.json()["results"][0]["reason"]
    whole = await event(client, maker, "destroy", [case_code(first)])
    assert whole.status_code == 422 and "unpack it" in whole.json()["results"][0]["reason"]

    out = await event(client, maker, "unpack", [inside[2]], container=case_code(first))
    assert out.json()["summary"]["ok"] == 1
    emptied = await event(client, maker, "unpack", [], container=case_code(first))
    assert emptied.json()["summary"]["ok"] == 2
    shipped = await event(
        client, maker, "ship", [case_code(first)], destination_gln=facility_gln("darupakhsh")
    )
    assert shipped.json()["results"][0]["packs"] == 0
    assert gtin


async def test_a_case_at_another_facility_cannot_be_shipped(client: AsyncTestClient[Any]) -> None:
    warehouse = await headers_for(client, "darupakhsh")
    _, (number,), (inside,) = await packed_cases(client, 1, 2)
    refused = await event(
        client,
        warehouse,
        "ship",
        [case_code(number)],
        destination_gln=facility_gln("razi-pharmacy"),
    )
    assert refused.status_code == 409
    assert (await status_of(client, inside[0]))["holder"]["facility"]["gln"] == facility_gln(
        "sina-darou"
    )
    offline = await event(
        client,
        warehouse,
        "ship",
        [case_code(number)],
        destination_gln=facility_gln("razi-pharmacy"),
        offline=True,
    )
    assert offline.status_code == 200
    assert offline.json()["results"][0]["outcome"] == "warning"


async def test_codes_repeated_or_nested_in_one_event_count_once(
    client: AsyncTestClient[Any],
) -> None:
    maker = await headers_for(client, "sina-darou")
    _, (case, other), (inside, loose) = await packed_cases(client, 2, 2)
    pallet = sscc(901)
    twice = await event(
        client, maker, "pack", [case_code(case), case_code(case)], container=case_code(pallet)
    )
    assert twice.status_code == 200, twice.text
    assert [r["outcome"] for r in twice.json()["results"]] == ["ok", "warning"]
    again = await event(client, maker, "unpack", [loose[0], loose[0]], container=case_code(other))
    assert [r["outcome"] for r in again.json()["results"]] == ["ok", "warning"]
    # The pallet, the case on it and one of the case's packs, scanned together: moved once.
    shipped = await event(
        client,
        maker,
        "ship",
        [case_code(pallet), case_code(case), inside[0], case_code(pallet)],
        destination_gln=facility_gln("darupakhsh"),
    )
    assert shipped.status_code == 200, shipped.text
    first, *rest = shipped.json()["results"]
    assert first["summary"] == {"ok": 2, "warning": 0, "refused": 0}
    assert [(r["outcome"], r["reason"].split(",")[0]) for r in rest] == [
        ("warning", f"moves with case {pallet}"),
        ("warning", f"moves with case {pallet}"),
        ("warning", "scanned twice in this event; counted once"),
    ]


async def test_a_retried_packing_gets_its_first_answer_after_the_case_moved(
    client: AsyncTestClient[Any],
) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, _, serials = await register_batch(client, maker, count=1)
    body = {
        "event_id": str(uuid.uuid4()),
        "action": "pack",
        "codes": [pack_code(gtin, serials[0])],
        "container": case_code(sscc(3)),
    }
    first = await client.post("/api/events", json=body, headers=maker)
    assert first.status_code == 200, first.text
    await event(
        client, maker, "ship", [case_code(sscc(3))], destination_gln=facility_gln("darupakhsh")
    )
    retried = await client.post("/api/events", json=body, headers=maker)
    assert retried.status_code == 200 and retried.json() == first.json()


async def test_a_refused_packing_leaves_no_case(client: AsyncTestClient[Any]) -> None:
    warehouse = await headers_for(client, "darupakhsh")
    _, _, (inside,) = await packed_cases(client, 1, 1)
    refused = await event(client, warehouse, "pack", inside, container=case_code(sscc(4)))
    assert refused.status_code == 409
    gone = await event(client, warehouse, "unpack", [], container=case_code(sscc(4)))
    assert gone.status_code == 422 and "no case" in gone.json()["detail"]


async def test_a_receipt_discrepancy_names_each_batch_and_its_owner(
    client: AsyncTestClient[Any],
) -> None:
    """A case of two batches, sent on by the distributor, arrives at a pharmacy short of a pack
    of each and with a pack not in the register: one alert per batch, naming it, which the
    batches' owner sees (it is not the sender), and filtering by GTIN and lot finds."""
    maker = await headers_for(client, "sina-darou")
    warehouse = await headers_for(client, "darupakhsh")
    razi = await headers_for(client, "razi-pharmacy")
    first, first_lot, a = await register_batch(client, maker, item="001", count=3)
    second, second_lot, b = await register_batch(client, maker, item="002", lot="L2026B", count=3)
    inside = [pack_code(first, s) for s in a] + [pack_code(second, s) for s in b]
    number = sscc(7)
    assert (await event(client, maker, "pack", inside, container=case_code(number))).is_success
    case = [case_code(number)]
    await event(client, maker, "ship", case, destination_gln=facility_gln("darupakhsh"))
    await event(client, warehouse, "receive", case)
    await event(client, warehouse, "ship", case, destination_gln=facility_gln("razi-pharmacy"))
    found = [*inside[1:3], *inside[4:], pack_code(first, "NOTREGISTERED1")]
    received = await event(client, razi, "receive", case, contents=found)
    assert received.status_code == 200, received.text

    alerts = (await client.get("/api/alerts?code=receipt_discrepancy", headers=maker)).json()
    by_batch = {(x["gtin"], x["lot"]): x for x in alerts}
    assert set(by_batch) == {(first, first_lot), (second, second_lot), (first, None)}
    assert by_batch[(first, first_lot)]["message"] == (
        f"receipt of case {number} checked, batch {first_lot} of GTIN {first}: 1 packs missing "
        f"({a[0]}), 0 packs found beyond the cases"
    )
    assert "1 packs found beyond the cases (NOTREGISTERED1)" in by_batch[(first, None)]["message"]
    for alert in alerts:
        assert alert["product"] is not None
        assert set(alert["organizations_involved"]) == {
            "Dr. Razi Pharmacy",
            "Daru Pakhsh Distribution",
            "Sina Darou Pharmaceutical",
        }
    filtered = await client.get(
        f"/api/alerts?code=receipt_discrepancy&gtin={second}&lot={second_lot}", headers=maker
    )
    assert [x["id"] for x in filtered.json()] == [by_batch[(second, second_lot)]["id"]]
