"""The issue's walk, in one go, in Persian, as an inspector would do it at 2 a.m.: search a pack
by its scanned element string, open its batch from the pack page, see the province map, recall
the batch, watch the progress move while a hub's receipt and return arrive through the API, and
close the alert a suspected counterfeit raised, with its root cause. No curl, only the pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser import browser, console, live_server, screenshots
from tests.scan_server import login as api_login
from tests.test_console_batches_browser import (
    PLANT,
    PROGRESS_WAIT_MS,
    drawn_map,
    record,
    spread_over_two_provinces,
)

__all__ = ["browser", "console", "live_server", "screenshots"]


async def test_the_inspectors_walk_in_persian(
    console: Any, live_server: str, screenshots: Path
) -> None:
    api, gtin, codes = spread_over_two_provinces(live_server, "702")
    serial = codes[0].split("(21)")[1]
    pharmacy = api_login(api, "razi-pharmacy")
    fake = api.post("/api/verify", json={"code": f"(01){gtin}(21)FAKE0000001"}, headers=pharmacy)
    assert fake.json()["status"] == "unknown", fake.text  # raises a suspected-counterfeit alert

    page = await console("fdo-inspector", "fa")
    await page.keyboard.type(f"01{gtin}21{serial}^10CTZ9", delay=4)  # a wedge scanner's burst
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/console/packs/{gtin}/{serial}")
    assert await page.locator("#pack-status").get_attribute("data-status") == "active"

    await page.click(f"a[href='/console/batches/{gtin}/CTZ9']")
    await page.wait_for_url(f"**/console/batches/{gtin}/CTZ9")
    await drawn_map(page)
    form = page.locator("#recall-form")
    await form.locator("select[name=recall_class]").select_option("I")
    await form.locator("textarea[name=reason]").fill("آلودگی میکروبی")
    await form.locator("textarea[name=instructions]").fill("قرنطینه و بازگشت به تولیدکننده")
    await form.locator("input[name=deadline]").fill("2099-12-31")
    await form.locator("button[type=submit]").click()
    await page.wait_for_url(f"{live_server}/console/recalls/*")
    assert await page.locator("#recall-summary").get_attribute("data-affected") == "50"

    hub = api_login(api, "darupakhsh")
    record(api, hub, "receive", codes[30:])
    record(api, hub, "return", codes[30:40], destination_gln=PLANT)
    await page.wait_for_function(
        "() => document.querySelector('#recall-categories tr[data-category=returning]')"
        ".dataset.packs === '10'",
        timeout=PROGRESS_WAIT_MS,
    )
    await page.screenshot(path=str(screenshots / "walk-recall-fa.png"), full_page=True)

    await page.click("nav.sections a[href='/console/alerts']")
    await page.select_option("select[name=code]", "unknown_serial")
    await page.wait_for_url("**code=unknown_serial**")
    newest = page.locator("#alerts tbody tr[data-id]").first  # the pharmacy's, just now
    await newest.locator("a").first.click()
    await page.wait_for_url("**/console/alerts/*")
    await page.select_option("#close select[name=root_cause_kind]", "falsified")
    await page.fill("#close textarea[name=root_cause]", "بسته در داروخانه توقیف شد")
    await page.click("#close button[type=submit]")
    await page.wait_for_selector("#root-cause")
    assert await page.locator("#alert-banner").get_attribute("data-status") == "closed"
    assert "FAKE0000001" in await page.locator("main").inner_text()
    await page.screenshot(path=str(screenshots / "walk-alert-closed-fa.png"), full_page=True)
