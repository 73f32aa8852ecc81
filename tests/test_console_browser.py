"""The console in real headless Chromium: right to left in Persian, with Jalali dates and
Persian digits; left to right in English; the layout loads no script or style the CSP refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.browser import browser, console, live_server, screenshots
from tests.scan_server import login as api_login

__all__ = ["browser", "console", "live_server", "screenshots"]


def _pack_at_maker(server: str) -> tuple[str, str]:
    api = httpx.Client(base_url=server, timeout=30)
    maker = api_login(api, "sina-darou")
    products = api.get("/api/products", headers=maker).json()
    gtin = products[0]["gtin"]
    lot = "WEB1"
    api.post(
        "/api/batches",
        json={"gtin": gtin, "lot": lot, "expiry": "2028-12-31", "manufactured_on": "2026-01-01",
              "quantity": 10, "origin": "produced"},
        headers=maker,
    ).raise_for_status()  # fmt: skip
    api.post(f"/api/batches/{gtin}/{lot}/packs", json={"count": 1}, headers=maker)
    csv = api.get(f"/api/batches/{gtin}/{lot}/packs.csv", headers=maker).text
    return gtin, csv.splitlines()[1].split(",")[1]


async def test_the_pack_page_in_persian_is_right_to_left_with_jalali_dates(
    console: Any, live_server: str, screenshots: Path
) -> None:
    gtin, serial = _pack_at_maker(live_server)
    page = await console("sina-darou", "fa")
    await page.goto(f"{live_server}/console/packs/{gtin}/{serial}")
    banner = page.locator("#pack-status")
    assert await banner.get_attribute("data-status") == "active"
    assert await banner.evaluate("element => getComputedStyle(element).direction") == "rtl"
    assert "فعال" in await banner.inner_text()
    when = page.locator("#timeline time").first
    assert (await when.get_attribute("title")).startswith("20")  # Gregorian on hover
    shown = await when.inner_text()
    assert "۱۴۰" in shown, shown  # the Jalali year (1405 for 2026), in Persian digits
    code = page.locator("bdi.code").first
    assert await code.evaluate("element => getComputedStyle(element).direction") == "ltr"
    assert await page.evaluate("document.fonts.check('16px Vazirmatn')")
    await page.screenshot(path=str(screenshots / "pack-fa.png"), full_page=True)

    english = await console("sina-darou", "en")
    await english.goto(f"{live_server}/console/packs/{gtin}/{serial}")
    assert await english.locator("html").get_attribute("dir") == "ltr"
    assert "Active" in await english.locator("#pack-status").inner_text()
    assert "2026" in await english.locator("#timeline time").first.inner_text()
    await english.screenshot(path=str(screenshots / "pack-en.png"), full_page=True)


async def test_a_code_scanned_into_the_search_box_opens_its_pack(
    console: Any, live_server: str, screenshots: Path
) -> None:
    gtin, serial = _pack_at_maker(live_server)
    page = await console("fdo-inspector", "fa")
    search = page.locator("form.search input[name=q]")
    assert await search.evaluate("element => element === document.activeElement")
    # A keyboard-wedge scanner: a fast burst, "^" for GS, then Enter.
    await page.keyboard.type(f"01{gtin}21{serial}^10WEB1", delay=4)
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/console/packs/{gtin}/{serial}")
    assert await page.locator("#pack-status").get_attribute("data-status") == "active"

    await search.fill(f"(01){gtin[:-1]}0(21){serial}")  # a wrong check digit
    await search.press("Enter")
    await page.wait_for_load_state()
    assert "رقم کنترل" in await page.locator("main").inner_text()
    await page.screenshot(path=str(screenshots / "search-error-fa.png"), full_page=True)


async def test_the_patient_page_on_a_phone_is_persian_and_right_to_left(
    browser: Any, live_server: str, screenshots: Path
) -> None:
    gtin, serial = _pack_at_maker(live_server)
    phone = await browser.new_context(viewport={"width": 390, "height": 844}, locale="fa-IR")
    refused: list[str] = []
    try:
        page = await phone.new_page()
        page.on(
            "console", lambda m: refused.append(m.text) if "Security Policy" in m.text else None
        )
        await page.goto(f"{live_server}/01/{gtin}/21/{serial}")
        verdict = page.locator("#verdict")
        assert await page.locator("html").get_attribute("dir") == "rtl"
        assert await verdict.evaluate("element => getComputedStyle(element).direction") == "rtl"
        assert await verdict.get_attribute("data-verdict") == "genuine"
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is wider than the phone: {width}px"
        await page.screenshot(path=str(screenshots / "patient-fa-phone.png"), full_page=True)
    finally:
        await phone.close()
    assert refused == []
