"""Verification and a pack's record, as each kind of user sees them."""

from typing import Any

from litestar.testing import AsyncTestClient

from models.gs1 import with_check_digit
from tests.helpers import (
    device_headers,
    event,
    facility_gln,
    headers_for,
    pack_code,
    register_batch,
)


async def _batch_at_warehouse(client: AsyncTestClient[Any]) -> tuple[str, str, list[str]]:
    maker = await headers_for(client, "sina-darou")
    gtin, lot, serials = await register_batch(client, maker, count=3)
    codes = [pack_code(gtin, s) for s in serials]
    await event(client, maker, "ship", codes, destination_gln=facility_gln("darupakhsh"))
    await event(client, await headers_for(client, "darupakhsh"), "receive", codes)
    return gtin, lot, serials


async def test_every_form_of_the_code_gives_the_same_answer(client: AsyncTestClient[Any]) -> None:
    gtin, lot, serials = await _batch_at_warehouse(client)
    serial = serials[0]
    forms = [
        f"01{gtin}21{serial}\x1d10{lot}\x1d17280630",
        f"]d201{gtin}21{serial}\x1d10{lot}",
        f"({'01'}){gtin}(21){serial}(10){lot}(17)280630",
        f"https://id.example.org/01/{gtin}/10/{lot}/21/{serial}?17=280630",
        f"  01{gtin}21{serial}  \n",
    ]
    pharmacy = await headers_for(client, "razi-pharmacy")
    answers = [
        (await client.post("/api/verify", json={"code": form}, headers=pharmacy)).json()
        for form in forms
    ]
    assert {a["status"] for a in answers} == {"active"}
    assert {a["serial"] for a in answers} == {serial}
    assert {a["lot"] for a in answers} == {lot}
    assert answers[0]["expiry"] == "2028-06-30"
    assert answers[0]["product"]["generic_name"] == "amoxicillin"


async def test_unknown_parts_are_named(client: AsyncTestClient[Any]) -> None:
    gtin, lot, _ = await _batch_at_warehouse(client)
    pharmacy = await headers_for(client, "razi-pharmacy")
    unknown_gtin = with_check_digit("0626000999444")
    cases = [
        (pack_code(unknown_gtin, "ABC"), "unknown product"),
        (pack_code(gtin, "ABC", "NOLOT"), "unknown batch"),
        (pack_code(gtin, "ABC", lot), "unknown serial"),
    ]
    for code, words in cases:
        answer = (await client.post("/api/verify", json={"code": code}, headers=pharmacy)).json()
        assert answer["status"] == "unknown"
        assert answer["reason"].startswith(words), answer
        assert "do not supply" in answer["reason"]


async def test_unreadable_codes_are_422(client: AsyncTestClient[Any]) -> None:
    pharmacy = await headers_for(client, "razi-pharmacy")
    for code in ("hello", f"01{with_check_digit('0626000999444')}", "0106260009994445"):
        response = await client.post("/api/verify", json={"code": code}, headers=pharmacy)
        assert response.status_code == 422, code
        assert response.json()["field"] == "code"


async def test_mismatched_expiry_is_reported(client: AsyncTestClient[Any]) -> None:
    gtin, lot, serials = await _batch_at_warehouse(client)
    pharmacy = await headers_for(client, "razi-pharmacy")
    code = f"01{gtin}21{serials[0]}\x1d10{lot}\x1d17290101"
    answer = (await client.post("/api/verify", json={"code": code}, headers=pharmacy)).json()
    assert answer["status"] == "active"
    assert "expiry mismatch" in answer["reason"]


async def test_holder_is_shown_only_to_those_involved(client: AsyncTestClient[Any]) -> None:
    gtin, _, serials = await _batch_at_warehouse(client)
    path = f"/api/packs/{gtin}/{serials[0]}"
    warehouse = (await client.get(path, headers=await headers_for(client, "darupakhsh"))).json()
    assert warehouse["holder"] == {
        "in_transit": False,
        "facility": {"gln": facility_gln("darupakhsh"), "name": "Daru Pakhsh Tehran Hub"},
    }
    inspector = (await client.get(path, headers=await headers_for(client, "fdo-inspector"))).json()
    assert inspector["holder"] == warehouse["holder"]
    pharmacy = (await client.get(path, headers=await headers_for(client, "razi-pharmacy"))).json()
    assert pharmacy["status"] == "active"
    assert pharmacy["holder"] is None
    scanner = device_headers(facility_gln("razi-pharmacy"))
    assert (await client.get(path, headers=scanner)).json()["holder"] is None


async def test_history_is_scoped_and_every_read_is_logged(client: AsyncTestClient[Any]) -> None:
    gtin, _, serials = await _batch_at_warehouse(client)
    path = f"/api/packs/{gtin}/{serials[0]}/events"
    maker = await headers_for(client, "sina-darou")
    assert [h["action"] for h in (await client.get(path, headers=maker)).json()] == [
        "commission",
        "ship",
    ]
    warehouse = await headers_for(client, "darupakhsh")
    assert [h["action"] for h in (await client.get(path, headers=warehouse)).json()] == [
        "ship",
        "receive",
    ]
    stranger = await headers_for(client, "hafez-pharmacy")
    never_handled = await client.get(path, headers=stranger)
    assert never_handled.status_code == 404  # as for a pack that does not exist
    missing = await client.get(f"/api/packs/{gtin}/NOPE/events", headers=stranger)
    assert missing.status_code == 404

    inspector = await headers_for(client, "fdo-inspector")
    log = (
        await client.get("/api/access-log", params={"resource": "packs"}, headers=inspector)
    ).json()
    assert [(e["actor_name"], e["status_code"]) for e in log[:4]] == [
        ("hafez-pharmacy", 404),
        ("hafez-pharmacy", 404),
        ("darupakhsh", 200),
        ("sina-darou", 200),
    ]
    assert log[1]["path"] == path
