"""The national indicators page in real headless Chromium, in Persian and English: the dispensing
chart, the open alerts chart and the province map are drawn (the map with Iran's 31 provinces),
the page runs right to left in Persian with Jalali dates, and a filter brings new results and
charts through htmx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser import browser, console, live_server, screenshots

__all__ = ["browser", "console", "live_server", "screenshots"]

DRAWN_MS = 15_000


async def drawn(page: Any) -> None:
    await page.wait_for_function(
        "() => document.querySelector('[data-chart=near-expiry]').dataset.drawn === '31'"
        " && document.querySelector('[data-chart=dispensing]').dataset.drawn !== undefined",
        timeout=DRAWN_MS,
    )
    charts = ["dispensing", "near-expiry"]
    if await page.locator("#open_alerts tbody tr[data-key]").count():
        charts.append("open-alerts")  # no chart where no alert is open
    else:
        assert await page.locator("[data-chart=open-alerts]").count() == 0
    for chart in charts:
        assert await page.locator(f"[data-chart={chart}] canvas").count() >= 1, chart
    provinces = await page.evaluate("() => echarts.getMap('iran').geoJSON.features.length")
    assert provinces == 31


async def test_the_indicators_in_persian_right_to_left_with_charts(
    console: Any, live_server: str, screenshots: Path
) -> None:
    page = await console("fdo-inspector", "fa")
    await page.goto(f"{live_server}/console/indicators")
    await drawn(page)
    assert await page.locator("[data-chart=open-alerts] canvas").count() >= 1  # demo alerts
    period = page.locator("#indicator-period")
    assert await period.evaluate("element => getComputedStyle(element).direction") == "rtl"
    assert "۱۴۰" in await period.locator("time").first.inner_text()  # a Jalali year
    series = await page.locator("[data-chart=dispensing]").get_attribute("data-drawn")
    assert int(series or 0) >= 2  # the demo history dispenses in several provinces
    dispensed = page.locator("#totals dd[data-col=dispensed]")
    assert int(await dispensed.get_attribute("data-value") or 0) > 0
    assert any("۰" <= c <= "۹" for c in await dispensed.inner_text())  # Persian digits
    assert "تهران" in await page.locator("#by_province").inner_text()
    await page.screenshot(path=str(screenshots / "indicators-fa.png"), full_page=True)

    # One province: htmx swaps the results in, and the charts are drawn again over them.
    await page.locator("#indicator-filters select[name=province]").select_option("Tehran")
    await page.wait_for_function(
        "() => location.search.includes('province=Tehran')", timeout=DRAWN_MS
    )
    await page.wait_for_function(
        "() => [...document.querySelectorAll('#by_province tbody tr[data-key]')]"
        ".every(row => row.dataset.key === 'Tehran')",
        timeout=DRAWN_MS,
    )
    await drawn(page)
    assert await page.locator("[data-chart=dispensing]").get_attribute("data-drawn") == "1"
    await page.screenshot(path=str(screenshots / "indicators-fa-tehran.png"), full_page=True)


async def test_the_indicators_in_english_left_to_right(
    console: Any, live_server: str, screenshots: Path
) -> None:
    page = await console("fdo-admin", "en")
    await page.goto(f"{live_server}/console/indicators")
    await drawn(page)
    period = page.locator("#indicator-period")
    assert await period.evaluate("element => getComputedStyle(element).direction") == "ltr"
    start = await period.get_attribute("data-from")
    assert start and start in await period.inner_text()  # Gregorian dates
    assert "Tehran" in await page.locator("#by_province").inner_text()
    download = page.locator("a.csv[data-table=by_province]")
    async with page.expect_download() as waited:
        await download.click()
    download_file = await (await waited.value).path()
    with open(download_file, encoding="utf-8") as saved:  # noqa: ASYNC230 (a small file)
        assert saved.read().startswith("province,commissioned,")
    await page.screenshot(path=str(screenshots / "indicators-en.png"), full_page=True)
