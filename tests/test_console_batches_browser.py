"""The batch and recall pages in real headless Chromium, in Persian and English: the province
map is drawn, the recall is issued from the batch page's form, and the progress page follows a
receipt and a return recorded through the API while it stays open."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from app.demo_supply import MASHHAD_HUB
from tests.browser import browser, console, live_server, screenshots
from tests.helpers import LOGINS
from tests.scan_server import batch_at_hub
from tests.scan_server import login as api_login

__all__ = ["browser", "console", "live_server", "screenshots"]

HUB = LOGINS["darupakhsh"].facility_gln
PLANT = LOGINS["sina-darou"].facility_gln
PROGRESS_WAIT_MS = 20_000  # the page polls every 5 s


def record(
    api: httpx.Client, who: dict[str, str], action: str, codes: list[str], **more: Any
) -> None:
    body = {"event_id": str(uuid.uuid4()), "action": action, "codes": codes} | more
    answer = api.post("/api/events", json=body, headers=who)
    assert answer.status_code == 200, answer.text
    assert answer.json()["summary"]["refused"] == 0, answer.text


def spread_over_two_provinces(server: str, item: str) -> tuple[httpx.Client, str, list[str]]:
    """50 packs shipped to the Tehran hub: 30 received there, 10 of them sent on to and received
    at the Mashhad hub; 20 still on their way to Tehran."""
    api, _maker, gtin, serials = batch_at_hub(server, item)
    codes = [f"(01){gtin}(21){s}" for s in serials]
    hub = api_login(api, "darupakhsh")
    record(api, hub, "receive", codes[:30])
    record(api, hub, "ship", codes[:10], destination_gln=MASHHAD_HUB)
    record(api, hub, "receive", codes[:10], facility_gln=MASHHAD_HUB)
    return api, gtin, codes


async def drawn_map(page: Any) -> None:
    await page.wait_for_function(
        "() => document.getElementById('batch-map').dataset.drawn === '31'", timeout=15_000
    )
    assert await page.locator("#batch-map canvas").count() >= 1


async def test_an_inspector_recalls_a_batch_in_persian_and_watches_the_progress(
    console: Any, live_server: str, screenshots: Path
) -> None:
    api, gtin, codes = spread_over_two_provinces(live_server, "701")
    page = await console("fdo-inspector", "fa")
    await page.goto(f"{live_server}/console/batches/{gtin}/CTZ9")
    await drawn_map(page)
    banner = page.locator("#batch-status")
    assert await banner.evaluate("element => getComputedStyle(element).direction") == "rtl"
    total = page.locator("#batch-total")
    assert await total.get_attribute("data-packs") == "50"
    assert "۵۰" in await total.inner_text()  # Persian digits
    assert "۱۴۰" in await page.locator("#batch-expiry time").inner_text()  # Jalali year
    assert "تهران" in await page.locator("#batch-provinces").inner_text()
    await page.wait_for_selector("#batch-first-event time")  # the forward trace came in
    await page.screenshot(path=str(screenshots / "batch-fa.png"), full_page=True)

    form = page.locator("#recall-form")
    await form.locator("select[name=recall_class]").select_option("I")
    await form.locator("textarea[name=reason]").fill("ذرات خارجی در قرص‌ها")
    await form.locator("textarea[name=instructions]").fill("قرنطینه و بازگشت به تولیدکننده")
    await form.locator("input[name=deadline]").fill("2099-12-31")
    await form.locator("button[type=submit]").click()
    await page.wait_for_url(f"{live_server}/console/recalls/*")
    summary = page.locator("#recall-summary")
    assert await summary.get_attribute("data-affected") == "50"
    in_transit = page.locator("#recall-categories tr[data-category=in_transit]")
    assert await in_transit.get_attribute("data-packs") == "20"
    assert await page.locator(f"#recall-awaiting tr[data-gln='{HUB}']").count() == 1
    await page.screenshot(path=str(screenshots / "recall-progress-fa.png"), full_page=True)

    # While the page stays open: the hub receives the 20 packs on their way, then returns 10.
    hub = api_login(api, "darupakhsh")
    record(api, hub, "receive", codes[30:])
    await page.wait_for_function(
        "() => document.querySelector('#recall-categories tr[data-category=in_transit]')"
        ".dataset.packs === '0'",
        timeout=PROGRESS_WAIT_MS,
    )
    record(api, hub, "return", codes[30:40], destination_gln=PLANT)
    await page.wait_for_function(
        "() => document.querySelector('#recall-categories tr[data-category=returning]')"
        ".dataset.packs === '10'",
        timeout=PROGRESS_WAIT_MS,
    )
    assert await summary.count() == 1
    await page.screenshot(path=str(screenshots / "recall-progress-fa-after.png"), full_page=True)


async def test_the_batch_and_recall_pages_in_english(
    console: Any, live_server: str, screenshots: Path
) -> None:
    _api, gtin, _codes = spread_over_two_provinces(live_server, "702")
    page = await console("fdo-inspector", "en")
    await page.goto(f"{live_server}/console/batches/{gtin}/CTZ9")
    await drawn_map(page)
    assert await page.locator("html").get_attribute("dir") == "ltr"
    assert "Razavi Khorasan" in await page.locator("#batch-provinces").inner_text()
    assert "2028-12-31" in await page.locator("#batch-expiry").inner_text()
    assert await page.locator("#packs-more").count() == 0  # 50 packs: one page, no next
    assert await page.locator("#batch-packs tr[data-serial]").count() == 50
    await page.screenshot(path=str(screenshots / "batch-en.png"), full_page=True)

    await page.goto(f"{live_server}/console/recalls/new?gtin={gtin}&lot=CTZ9")
    form = page.locator("#recall-form")
    await form.locator("select[name=recall_class]").select_option("II")
    await form.locator("textarea[name=reason]").fill("Wrong leaflet")
    await form.locator("input[name=deadline]").fill("2099-12-31")
    await form.locator("button[type=submit]").click()  # no instructions: refused beside the field
    problem = page.locator(".field-error[data-field=instructions]")
    assert "Write what holders must do" in await problem.inner_text()
    assert await form.locator("textarea[name=reason]").input_value() == "Wrong leaflet"
    await page.screenshot(path=str(screenshots / "recall-form-en.png"), full_page=True)
    await form.locator("textarea[name=instructions]").fill("Return to the distributor")
    await form.locator("button[type=submit]").click()
    await page.wait_for_url(f"{live_server}/console/recalls/*")
    assert await page.locator("#recall-banner").get_attribute("data-class") == "II"
    await page.goto(f"{live_server}/console/recalls")
    assert await page.locator("#recalls tr[data-recall]").count() == 1
    await page.screenshot(path=str(screenshots / "recalls-en.png"), full_page=True)
