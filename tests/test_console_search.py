"""The console's search box, the case/pallet page, the product page and the site page, through
HTTP: every form of code goes to its page, an unreadable one says why in the user's language,
a lot typed alone lists its batches; each page scoped and access-logged as its API twin."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Litestar
from litestar.testing import AsyncTestClient

from models.gs1 import with_check_digit
from tests.console import log_in
from tests.helpers import event, facility_gln, headers_for, pack_code, register_batch

Client = AsyncTestClient[Litestar]
GS = "\x1d"


async def _search(client: Client, text: str) -> Any:
    return await client.get("/console/search", params={"q": text}, follow_redirects=False)


def _plain(html: str) -> str:
    """The page's text without the bidi isolates around the values of a message."""
    return html.replace("\u2068", "").replace("\u2069", "")


async def test_every_form_of_a_code_goes_to_its_page(client: Client) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, lot, serials = await register_batch(client, maker, count=1)
    serial = serials[0]
    pack = f"/console/packs/{gtin}/{serial}"
    await log_in(client, "fdo-inspector")
    persian_digits = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
    forms = {
        f"]d201{gtin}21{serial}{GS}10{lot}": pack,  # scanned: symbology identifier and GS
        f"01{gtin}21{serial}^10{lot}": pack,  # the wedge sent ^ for GS
        f"(01){gtin}(21){serial}": pack,  # the bracketed text under the symbol
        f"https://id.example.ir/01/{gtin}/21/{serial}": pack,  # Digital Link
        f"(01){gtin}(21){serial}".translate(persian_digits): pack,
        f"01{gtin}10{lot}": f"/console/batches/{gtin}/{lot}",
        gtin[1:]: f"/console/products/{gtin}",  # an EAN-13 as printed
        f"  {gtin}\n": f"/console/products/{gtin}",
        f"(414){facility_gln('darupakhsh')}": f"/console/facilities/{facility_gln('darupakhsh')}",
    }
    sscc = with_check_digit("06260009" + "1" * 9)
    forms[sscc] = f"/console/cases/{sscc}"
    forms[f"(00){sscc}"] = f"/console/cases/{sscc}"
    for text, target in forms.items():
        answer = await _search(client, text)
        assert answer.status_code in (302, 303), (text, answer.text[:300])
        assert answer.headers["location"] == target, text
    # Typed on a Persian keyboard layout: the reader maps the keys back.
    typed = await _search(client, f"(01){gtin}(21){serial}".translate(str.maketrans("()", ")(")))
    assert typed.headers["location"] == pack


async def test_an_unreadable_code_says_why_in_persian_and_in_english(client: Client) -> None:
    await log_in(client, "fdo-inspector")
    wrong = await _search(client, "(01)09506000134353(21)X")
    assert wrong.status_code == 422
    assert "رقم کنترل نادرست دارد: باید \u20682\u2069 باشد" in wrong.text  # the digit isolated
    assert 'aria-invalid="true"' in wrong.text
    assert 'value="(01)09506000134353(21)X"' in wrong.text  # what was typed is kept
    short = await _search(client, "(17)991332")
    assert short.status_code == 422 and "تاریخ انقضا" in short.text

    client.cookies.clear()
    await log_in(client, "fdo-inspector", language="en")
    wrong = await _search(client, "(01)09506000134353(21)X")
    assert wrong.status_code == 422
    assert "AI (01) GTIN: 09506000134353 has a wrong check digit: expected 2" in _plain(wrong.text)
    other = await _search(client, "(253)9506000134352ABC")
    assert other.status_code == 422 and "GDTI" in other.text and "no page" in other.text

    # The API answers in English exactly as before.
    api = await headers_for(client, "fdo-inspector")
    parsed = await client.post(
        "/api/codes/parse", json={"codes": ["(01)09506000134353(21)X"]}, headers=api
    )
    assert parsed.json()[0]["error"] == (
        "AI (01) GTIN: 09506000134353 has a wrong check digit: expected 2"
    )


async def test_a_lot_or_serial_typed_alone_lists_what_the_caller_may_see(client: Client) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, _, serials = await register_batch(client, maker, lot="ZX77", count=1)
    await log_in(client, "sina-darou")
    found = await _search(client, "ZX77")
    assert found.status_code == 200
    assert f"/console/batches/{gtin}/ZX77" in found.text
    by_serial = await _search(client, serials[0])
    assert by_serial.status_code in (200, 302, 303)
    if by_serial.status_code == 200:
        assert f"/console/packs/{gtin}/{quote(serials[0], safe='')}" in by_serial.text

    client.cookies.clear()
    await log_in(client, "razi-pharmacy")
    hidden = await _search(client, "ZX77")
    assert hidden.status_code == 422  # another organisation's batch: nothing to list
    assert "/console/batches/" not in hidden.text


async def _case(client: Client) -> tuple[str, str, str, list[str]]:
    """A pallet of one case of two packs, shipped from the maker to the distributor."""
    maker = await headers_for(client, "sina-darou")
    gtin, _, serials = await register_batch(client, maker, count=2)
    case = with_check_digit("06260009" + "000000042")
    pallet = with_check_digit("06260009" + "000000900")
    packed = await event(
        client, maker, "pack", [pack_code(gtin, s) for s in serials], container=f"(00){case}"
    )
    assert packed.status_code == 200, packed.text
    await event(client, maker, "pack", [f"(00){case}"], container=f"(00){pallet}")
    shipped = await event(
        client, maker, "ship", [f"(00){pallet}"], destination_gln=facility_gln("darupakhsh")
    )
    assert shipped.status_code == 200, shipped.text
    return gtin, case, pallet, serials


async def test_the_case_page_shows_contents_place_and_history_scoped_as_the_api(
    client: Client,
) -> None:
    gtin, case, pallet, serials = await _case(client)
    api = await client.get(
        f"/api/containers/{pallet}", headers=await headers_for(client, "darupakhsh")
    )
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["in_transit"] is True and body["contents"]["total_packs"] == 2
    assert body["contents"]["cases"][0]["sscc"] == case
    assert [e["action"] for e in body["history"]] == ["pack", "ship"]

    await log_in(client, "darupakhsh", language="en")
    page = await client.get(f"/console/cases/{pallet}")
    assert page.status_code == 200, page.text
    assert 'data-in-transit="true"' in page.text
    assert f'data-sscc="{case}"' in page.text
    assert f"/console/packs/{gtin}/{quote(serials[0], safe='')}" in page.text
    assert "In transit" in page.text
    inner = await client.get(f"/console/cases/{case}")
    assert f"/console/cases/{pallet}" in inner.text  # the pallet it is on

    client.cookies.clear()
    await log_in(client, "razi-pharmacy")
    other = await client.get(f"/console/cases/{pallet}")
    assert other.status_code == 404
    refused = await client.get(
        f"/api/containers/{pallet}", headers=await headers_for(client, "razi-pharmacy")
    )
    assert refused.status_code == 404
    bad = await client.get("/console/cases/123")
    assert bad.status_code == 422

    inspector = await headers_for(client, "fdo-inspector")
    log = await client.get("/api/access-log", params={"resource": "containers"}, headers=inspector)
    seen = [(e["actor_name"], e["path"], e["outcome"]) for e in log.json()]
    assert ("razi-pharmacy", f"/console/cases/{pallet}", "not_found") in seen
    assert ("darupakhsh", f"/console/cases/{pallet}", "ok") in seen


async def test_the_product_page_lists_batches_with_counts_to_those_who_may_see_them(
    client: Client,
) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, lot, _ = await register_batch(client, maker, count=3)
    await log_in(client, "sina-darou")
    page = await client.get(f"/console/products/{gtin}")
    assert page.status_code == 200
    assert f'data-lot="{lot}"' in page.text
    assert '<td class="serialized">۳</td>' in page.text
    assert f"/console/batches/{gtin}/{lot}" in page.text

    client.cookies.clear()
    await log_in(client, "razi-pharmacy")
    public = await client.get(f"/console/products/{gtin}")
    assert public.status_code == 200  # the register is reference data
    assert "data-lot=" not in public.text  # batches are not the pharmacy's to list
    missing = await client.get("/console/products/06260009999992")
    assert missing.status_code in (404, 422)


async def test_the_site_page_is_scoped_as_its_api_twin(client: Client) -> None:
    gln = facility_gln("darupakhsh")
    await log_in(client, "darupakhsh", language="en")
    own = await client.get(f"/console/facilities/{gln}")
    assert own.status_code == 200, own.text
    assert gln in own.text and 'id="province"' in own.text

    client.cookies.clear()
    await log_in(client, "razi-pharmacy")
    assert (await client.get(f"/console/facilities/{gln}")).status_code == 404
    client.cookies.clear()
    await log_in(client, "fdo-inspector")
    assert (await client.get(f"/console/facilities/{gln}")).status_code == 200
    inspector = await headers_for(client, "fdo-inspector")
    log = await client.get("/api/access-log", params={"resource": "facilities"}, headers=inspector)
    assert ("razi-pharmacy", f"/console/facilities/{gln}", "not_found") in [
        (e["actor_name"], e["path"], e["outcome"]) for e in log.json()
    ]
