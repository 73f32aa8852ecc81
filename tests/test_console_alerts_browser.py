"""The alerts inbox and the administrators' device page in real Chromium: an inspector filters
alerts and closes one with a root cause (Persian, right to left); an admin registers a device
and sees its key once (English)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser import browser, console, live_server, screenshots

__all__ = ["browser", "console", "live_server", "screenshots"]


async def test_an_inspector_filters_alerts_and_closes_one_in_persian(
    console: Any, live_server: str, screenshots: Path
) -> None:
    page = await console("fdo-inspector", "fa")
    await page.goto(f"{live_server}/console/alerts")
    assert (
        await page.locator("#alert-counts").evaluate(
            "element => getComputedStyle(element).direction"
        )
        == "rtl"
    )
    await page.select_option("select[name=severity]", "high")
    await page.wait_for_url("**severity=high**")
    rows = page.locator("#alerts tbody tr[data-id]")
    assert await rows.count() >= 1
    assert "۱۴۰" in await page.locator("#alerts time").first.inner_text()
    await page.screenshot(path=str(screenshots / "alerts-fa.png"), full_page=True)
    await rows.first.locator("a").click()
    await page.wait_for_url("**/console/alerts/*")
    await page.select_option("#close select[name=root_cause_kind]", "user_error")
    await page.fill("#close textarea[name=root_cause]", "اسکن دوباره در پیشخوان")
    await page.click("#close button[type=submit]")
    await page.wait_for_selector("#root-cause")
    assert "خطای کاربر" in await page.locator("#root-cause").inner_text()
    assert await page.locator("#alert-banner").get_attribute("data-status") == "closed"
    await page.screenshot(path=str(screenshots / "alert-closed-fa.png"), full_page=True)


async def test_an_admin_registers_a_device_and_sees_its_key_once(
    console: Any, live_server: str, screenshots: Path
) -> None:
    page = await console("fdo-admin", "en")
    await page.goto(f"{live_server}/console/admin/devices")
    assert await page.locator("html").get_attribute("dir") == "ltr"
    await page.select_option("#new-device select[name=facility_id]", index=1)
    await page.fill("#new-device input[name=name]", "Counter 3")
    await page.click("#new-device button[type=submit]")
    key = await page.locator("#api-key").inner_text()
    assert key.startswith(key[:12]) and len(key) > 20
    await page.screenshot(path=str(screenshots / "device-key-en.png"), full_page=True)
    await page.goto(f"{live_server}/console/admin/devices")
    assert key not in await page.content()
    assert await page.locator("#issued-key").count() == 0

    persian = await console("fdo-admin", "fa")
    await persian.goto(f"{live_server}/console/admin/organizations")
    await persian.click("#new-organization button[type=submit]")
    assert "الزامی" in await persian.locator("[data-field=gln]").inner_text()
    await persian.screenshot(path=str(screenshots / "organizations-fa.png"), full_page=True)
