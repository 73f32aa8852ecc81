"""A patient scans a pack's QR code with a phone: the Digital Link opens our resolver."""

from typing import Any

from litestar.testing import AsyncTestClient

from models.links import digital_link
from tests.helpers import event, facility_gln, headers_for, pack_code, register_batch


async def _pack(client: AsyncTestClient[Any]) -> tuple[str, str, list[str]]:
    maker = await headers_for(client, "sina-darou")
    return await register_batch(client, maker, count=2)


async def test_a_genuine_pack_opens_a_bilingual_page_without_login(
    client: AsyncTestClient[Any],
) -> None:
    gtin, lot, serials = await _pack(client)
    path = digital_link("", gtin, serials[0], lot)
    page = await client.get(path, headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-status="active"' in page.text
    assert "Genuine" in page.text and "اصل" in page.text
    assert "آموکسی‌سیلین" in page.text
    assert "Daru Pakhsh" not in page.text and "Sina Darou" not in page.text  # no custody


async def test_json_and_linkset_for_programs(client: AsyncTestClient[Any]) -> None:
    gtin, lot, serials = await _pack(client)
    path = f"/01/{gtin}/21/{serials[0]}?17=280630"
    body = (await client.get(path, headers={"accept": "application/json"})).json()
    assert (body["status"], body["lot"], body["expiry"]) == ("active", lot, "2028-06-30")
    assert body["verdict"]["tone"] == "ok"
    assert "holder" not in body
    linkset = await client.get(path, headers={"accept": "application/linkset+json"})
    assert linkset.headers["content-type"].startswith("application/linkset+json")
    assert "https://gs1.org/voc/defaultLink" in linkset.json()["linkset"][0]
    description = (await client.get("/.well-known/gs1resolver")).json()
    assert description["supportedPrimaryKeys"] == ["01"]


async def test_dispensed_unknown_and_mismatched_packs_warn_the_patient(
    client: AsyncTestClient[Any],
) -> None:
    gtin, _, serials = await _pack(client)
    maker = await headers_for(client, "sina-darou")
    code = pack_code(gtin, serials[0])
    await event(client, maker, "ship", [code], destination_gln=facility_gln("razi-pharmacy"))
    pharmacy = await headers_for(client, "razi-pharmacy")
    await event(client, pharmacy, "receive", [code])
    await event(client, pharmacy, "dispense", [code])
    json_ = {"accept": "application/json"}
    dispensed = (await client.get(f"/01/{gtin}/21/{serials[0]}", headers=json_)).json()
    assert (dispensed["status"], dispensed["verdict"]["tone"]) == ("dispensed", "warning")
    unknown = (await client.get(f"/01/{gtin}/21/NOSUCHPACK", headers=json_)).json()
    assert (unknown["status"], unknown["verdict"]["tone"]) == ("unknown", "danger")
    assert "report it" in unknown["verdict"]["en"]
    mismatch = (await client.get(f"/01/{gtin}/10/OTHERLOT/21/{serials[1]}", headers=json_)).json()
    assert mismatch["verdict"]["tone"] == "danger"
    bad = await client.get("/01/09506000134353/21/X", headers=json_)
    assert bad.status_code == 422
    assert "check digit" in bad.json()["detail"]
