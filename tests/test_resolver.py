"""A patient scans a pack's QR code with a phone: the Digital Link opens our resolver."""

from typing import Any

from litestar.testing import AsyncTestClient

from models.links import digital_link
from tests.helpers import event, facility_gln, headers_for, pack_code, register_batch

_JSON = {"accept": "application/json"}


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
    assert 'data-status="active"' in page.text and 'data-verdict="genuine"' in page.text
    assert "Genuine" in page.text and "اصل" in page.text
    assert "آموکسی‌سیلین" in page.text
    assert "Daru Pakhsh" not in page.text and "Sina Darou" not in page.text  # no custody


async def test_json_and_linkset_for_programs(client: AsyncTestClient[Any]) -> None:
    gtin, lot, serials = await _pack(client)
    path = f"/01/{gtin}/21/{serials[0]}?17=280630"
    body = (await client.get(path, headers={"accept": "application/json"})).json()
    assert (body["status"], body["lot"], body["expiry"]) == ("active", lot, "2028-06-30")
    assert (body["verdict"], body["message"]["tone"]) == ("genuine", "ok")
    assert body["expiry_on_code"] == "2028-06-30" and body["lot_on_code"] is None
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
    assert (dispensed["status"], dispensed["verdict"]) == ("dispensed", "dispensed")
    assert dispensed["message"]["tone"] == "warning"
    unknown = (await client.get(f"/01/{gtin}/21/NOSUCHPACK", headers=json_)).json()
    assert (unknown["status"], unknown["verdict"]) == ("unknown", "unknown")
    assert "report it" in unknown["message"]["en"]
    bad = await client.get("/01/09506000134353/21/X", headers=json_)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert "check digit" in bad.json()["detail"]


async def test_a_wrong_batch_or_expiry_in_the_code_is_said_plainly(
    client: AsyncTestClient[Any],
) -> None:
    gtin, lot, serials = await _pack(client)
    path = f"/01/{gtin}/10/OTHERLOT/21/{serials[1]}"
    body = (await client.get(path, headers={"accept": "application/json"})).json()
    assert (body["verdict"], body["status"]) == ("batch_mismatch", "active")
    assert (body["lot_on_code"], body["lot"]) == ("OTHERLOT", lot)
    assert (
        "batch on this code (OTHERLOT) does not match the national register"
        in (body["message"]["en"])
    )
    page = await client.get(path, headers={"accept": "text/html"})
    assert page.status_code == 200
    assert 'data-verdict="batch_mismatch"' in page.text
    assert "does not match the national register" in page.text
    assert "سری ساخت روی این کد (OTHERLOT) با سامانه‌ی ملی هم‌خوانی ندارد" in page.text
    assert "سری ساخت روی کد" in page.text and "سری ساخت در سامانه" in page.text  # Persian first
    english = await client.get(path, params={"lang": "en"}, headers={"accept": "text/html"})
    assert "Batch on the code" in english.text and "Batch in the register" in english.text
    assert "Genuine" not in page.text
    stale = await client.get(
        f"/01/{gtin}/10/{lot}/21/{serials[1]}?17=290101", headers={"accept": "application/json"}
    )
    assert stale.json()["verdict"] == "expiry_mismatch"
    assert "2029-01-01" in stale.json()["message"]["en"]


async def test_a_malformed_code_opens_the_page_saying_it_is_not_valid(
    client: AsyncTestClient[Any],
) -> None:
    for path in ("/01/09506000134353/21/X", "/01/95060001343/21/X", "/01/0950600013435A/21/X"):
        page = await client.get(path, headers={"accept": "text/html,*/*;q=0.8"})
        assert page.status_code == 422, path
        assert page.headers["content-type"].startswith("text/html")
        assert 'data-verdict="invalid"' in page.text
        assert "Not a valid code" in page.text and "کد معتبر نیست" in page.text
        assert path.split("/")[2] in page.text  # what was scanned, escaped
    phone = await client.get("/01/09506000134353/21/%3Cscript%3E")  # no Accept at all
    assert 'data-verdict="invalid"' in phone.text and "<script>" not in phone.text
    program = await client.get("/01/09506000134353/21/X", headers={"accept": "application/json"})
    assert program.headers["content-type"] == "application/problem+json"


async def test_the_verdict_says_recalled_while_the_status_stays_active(
    client: AsyncTestClient[Any],
) -> None:
    gtin, lot, serials = await _pack(client)
    inspector = await headers_for(client, "fdo-inspector")
    recall = await client.post(
        "/api/recalls",
        json={"gtin": gtin, "lots": [lot], "recall_class": "I", "reason": "contamination",
              "instructions": "return all stock", "deadline": "2099-01-01"},
        headers=inspector,
    )  # fmt: skip
    assert recall.status_code == 201, recall.text
    body = (await client.get(f"/01/{gtin}/21/{serials[0]}", headers=_JSON)).json()
    assert (body["status"], body["verdict"]) == ("active", "recalled")
    assert body["message"]["tone"] == "danger"
