"""The maker's and the pharmacy's pages in real headless Chromium, in Persian and English: a
manufacturer registers a product and a batch, serializes 10,000 packs watching the progress
move, and downloads labels and serials; a pharmacy sees its stock (near expiry marked),
acknowledges a recall notice and gets a 404 page for another pharmacy's stock."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from models.gs1 import with_check_digit
from tests.browser import browser, console, live_server, screenshots
from tests.helpers import LOGINS
from tests.scan_server import login as api_login

__all__ = ["browser", "console", "live_server", "screenshots"]


def _read(path: Path | str) -> bytes:
    return Path(path).read_bytes()


async def _watch_progress(page: Any) -> list[int]:
    """Every count the progress bar showed, read from the page until the run is done."""
    seen: list[int] = []
    while True:
        bar = page.locator("#progress")
        await bar.wait_for()
        made = int(await bar.get_attribute("data-made") or "0")
        if not seen or seen[-1] != made:
            seen.append(made)
        if await bar.get_attribute("data-done") == "true":
            return seen
        await page.wait_for_function(
            "made => { const bar = document.querySelector('#progress');"
            " return bar && (bar.dataset.made !== String(made) || bar.dataset.done === 'true'); }",
            arg=made,
        )


async def _register_and_serialize(
    page: Any, server: str, item: str, lot: str, language: str, shots: Path
) -> None:
    gtin = with_check_digit("0626000999" + item)
    await page.goto(f"{server}/console/products/new")
    form = page.locator("#product-form")
    await form.locator("[name=gtin]").fill(gtin[:-1] + str((int(gtin[-1]) + 1) % 10))
    for name, value in {
        "irc": f"IRC-{item}", "name": f"Azithromycin 250 ({item})", "name_fa": "آزیترومایسین ۲۵۰",
        "generic_name": "azithromycin", "form": "tablet", "strength": "250 mg",
        "pack_size": "6", "atc": "J01FA10",
    }.items():  # fmt: skip
        await form.locator(f"[name={name}]").fill(value)
    await form.locator("button[type=submit]").click()
    problem = page.locator('[data-field="gtin"]')
    await problem.wait_for()
    if language == "fa":
        assert "رقم کنترل" in await problem.inner_text()
        direction = "element => getComputedStyle(element).direction"
        assert await problem.evaluate(direction) == "rtl"
    else:
        assert "wrong check digit" in await problem.inner_text()
    await page.screenshot(path=str(shots / f"product-form-error-{language}.png"), full_page=True)
    await page.locator("#product-form [name=gtin]").fill(gtin)
    await page.locator("#product-form button[type=submit]").click()
    await page.wait_for_url(f"**/console/products?registered={gtin}")
    assert await page.locator(f'#products tr[data-gtin="{gtin}"]').count() == 1

    await page.goto(f"{server}/console/batches/new?gtin={gtin}")
    batch = page.locator("#batch-form")
    await batch.locator("[name=lot]").fill(lot)
    await batch.locator("[name=manufactured_on]").fill("2026-06-01")
    await batch.locator("[name=expiry]").fill("2028-05-31")
    await batch.locator("[name=quantity]").fill("10000")
    await batch.locator("button[type=submit]").click()
    await page.wait_for_url(f"**/console/batches/{gtin}/{lot}/serialize")

    await page.locator("#serialize-form [name=count]").fill("10000")
    await page.locator("#serialize-form button[type=submit]").click()
    seen = await _watch_progress(page)
    assert seen[-1] == 10_000, seen
    assert any(0 < made < 10_000 for made in seen), seen  # it moved on the way, not in one jump
    assert seen == sorted(seen)
    count = await page.locator(".progress-count").inner_text()
    assert ("۱۰٬۰۰۰" if language == "fa" else "10,000") in count, count
    await page.screenshot(path=str(shots / f"serialized-{language}.png"), full_page=True)

    async with page.expect_download() as labels:
        await page.locator("#labels-now").click()
    pdf = await (await labels.value).path()
    assert _read(pdf).startswith(b"%PDF-")
    assert (await labels.value).suggested_filename == f"{gtin}-{lot}-labels.pdf"

    # The downloads below the run were brought up to date with it, without a reload.
    full = "۱۰٬۰۰۰ / ۱۰٬۰۰۰" if language == "fa" else "10,000 / 10,000"
    assert full in await page.locator("#serialized").inner_text()
    async with page.expect_download() as serials:
        await page.locator("#serials").click()
    lines = _read(await (await serials.value).path()).decode().splitlines()
    assert lines[0] == "gtin,serial,lot,status" and len(lines) == 10_001
    assert {line.split(",")[0] for line in lines[1:]} == {gtin}

    await page.goto(f"{server}/console/products")
    row = page.locator(f'#products tr[data-gtin="{gtin}"] tr[data-lot="{lot}"]')
    assert await row.locator(f'a[href="/console/batches/{gtin}/{lot}"]').count() == 1
    await page.screenshot(path=str(shots / f"products-{language}.png"), full_page=True)


async def test_a_manufacturer_registers_serializes_and_downloads_in_persian_and_english(
    console: Any, live_server: str, screenshots: Path
) -> None:
    persian = await console("sina-darou", "fa")
    await _register_and_serialize(persian, live_server, "801", "AZ-FA1", "fa", screenshots)
    assert await persian.locator("html").get_attribute("dir") == "rtl"
    english = await console("sina-darou", "en")
    await _register_and_serialize(english, live_server, "802", "AZ-EN1", "en", screenshots)
    assert await english.locator("html").get_attribute("dir") == "ltr"


def _stock_and_recall_at_razi(server: str) -> tuple[str, str, str]:
    """A batch at Razi pharmacy and one close to expiry there; the first recalled."""
    api = httpx.Client(base_url=server, timeout=60)
    maker = api_login(api, "sina-darou")
    razi = api_login(api, "razi-pharmacy")
    gtin = api.get("/api/products", headers=maker).json()[0]["gtin"]
    suffix = uuid.uuid4().hex[:6].upper()
    soon = (date.today() + timedelta(days=20)).isoformat()
    lots = {f"RC{suffix}": "2028-12-31", f"NE{suffix}": soon}
    for lot, expiry in lots.items():
        api.post(
            "/api/batches",
            json={"gtin": gtin, "lot": lot, "expiry": expiry, "manufactured_on": "2026-01-01",
                  "quantity": 10, "origin": "produced"},
            headers=maker,
        ).raise_for_status()  # fmt: skip
        api.post(
            f"/api/batches/{gtin}/{lot}/packs", json={"count": 4}, headers=maker
        ).raise_for_status()
        csv = api.get(f"/api/batches/{gtin}/{lot}/packs.csv", headers=maker).text
        codes = [f"01{gtin}21{line.split(',')[1]}" for line in csv.splitlines()[1:]]
        for who, body in (
            (maker, {"action": "ship", "destination_gln": LOGINS["razi-pharmacy"].facility_gln}),
            (razi, {"action": "receive"}),
        ):
            api.post(
                "/api/events", json={"event_id": str(uuid.uuid4()), "codes": codes, **body},
                headers=who,
            ).raise_for_status()  # fmt: skip
    recalled, near = list(lots)
    inspector = api_login(api, "fdo-inspector")
    recall = api.post(
        "/api/recalls",
        json={"gtin": gtin, "lots": [recalled], "recall_class": "II",
              "reason": "Label misprint", "instructions": "Quarantine and return.",
              "deadline": (date.today() + timedelta(days=7)).isoformat()},
        headers=inspector,
    )  # fmt: skip
    recall.raise_for_status()
    return recall.json()["id"], recalled, near


async def test_a_pharmacy_sees_its_stock_acknowledges_a_notice_and_not_another_pharmacy(
    console: Any, live_server: str, screenshots: Path
) -> None:
    recall_id, recalled, near = _stock_and_recall_at_razi(live_server)
    for language in ("fa", "en"):
        page = await console("razi-pharmacy", language)
        await page.goto(f"{live_server}/console/inventory")
        site = page.locator("#inventory")
        assert await site.get_attribute("data-gln") == LOGINS["razi-pharmacy"].facility_gln
        soon_row = page.locator(f'#by-batch tr[data-lot="{near}"]')
        assert await soon_row.get_attribute("class") == "expiring"
        cell = soon_row.locator("td.expiry")
        colours = "element => getComputedStyle(element).backgroundColor"
        plain = page.locator(f'#by-batch tr[data-lot="{recalled}"] td.expiry')
        assert await cell.evaluate(colours) != await plain.evaluate(colours)
        if language == "fa":
            assert await site.evaluate("e => getComputedStyle(e).direction") == "rtl"
            assert "۲۰" in await soon_row.locator("td.number").first.inner_text()
            assert "۱۴۰" in await cell.inner_text()  # a Jalali year in Persian digits
        else:
            assert "2026" in await cell.inner_text() or "2027" in await cell.inner_text()
        await page.screenshot(path=str(screenshots / f"inventory-{language}.png"), full_page=True)

        answer = await page.goto(
            f"{live_server}/console/inventory/{LOGINS['hafez-pharmacy'].facility_gln}"
        )
        assert answer is not None and answer.status == 404
        assert await page.locator(".error[data-status='404']").count() == 1
        assert LOGINS["hafez-pharmacy"].organization not in await page.content()

    persian = await console("razi-pharmacy", "fa")
    await persian.goto(f"{live_server}/console/notices")
    notice = persian.locator(f'[data-recall="{recall_id}"]')
    assert await notice.get_attribute("data-acknowledged") == "false"
    await persian.screenshot(path=str(screenshots / "notices-fa.png"), full_page=True)
    await notice.locator("button.acknowledge").click()
    await persian.locator(f'[data-recall="{recall_id}"][data-acknowledged="true"]').wait_for()
    assert "تأیید دریافت" in await persian.locator(f'[data-recall="{recall_id}"]').inner_text()
    await persian.screenshot(path=str(screenshots / "notices-acknowledged-fa.png"), full_page=True)

    english = await console("razi-pharmacy", "en")
    await english.goto(f"{live_server}/console/notices")
    done = english.locator(f'[data-recall="{recall_id}"]')
    assert await done.get_attribute("data-acknowledged") == "true"  # kept, not just shown
    assert "Acknowledged" in await done.inner_text()
    await english.screenshot(path=str(screenshots / "notices-en.png"), full_page=True)
