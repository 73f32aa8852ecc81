"""The counter in real Chromium: a keyboard-wedge scanner typing codes in every form, the row and
tones of each outcome, a refusal that stays until dismissed; and offline, the heart of it: scans
queued in IndexedDB survive a reload and a browser restart (the service worker serves the page)
and drain exactly once each when the network is back, conflicts listed as needing attention."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

from models.codes import _PERSIAN_KEYS, _PERSIAN_SHIFTED_KEYS
from models.gs1 import with_check_digit
from tests.browser import FLAGS, browser, chromium, console, live_server, log_in, screenshots
from tests.helpers import LOGINS
from tests.scan_server import login as api_login

__all__ = ["browser", "console", "live_server", "screenshots"]

_TO_PERSIAN = {latin: persian for persian, latin in (_PERSIAN_KEYS | _PERSIAN_SHIFTED_KEYS).items()}


def persian_layout(text: str) -> str:
    """What a wedge scanner types with the Persian keyboard layout active."""
    digits = {str(i): chr(0x06F0 + i) for i in range(10)}
    return "".join(digits.get(c, _TO_PERSIAN.get(c, c)) for c in text)


def _api(server: str) -> httpx.Client:
    return httpx.Client(base_url=server, timeout=60)


def _event(api: httpx.Client, who: str, action: str, codes: list[str], **extra: Any) -> Any:
    body = {"event_id": str(uuid.uuid4()), "action": action, "codes": codes, **extra}
    answer = api.post("/api/events", json=body, headers=api_login(api, who))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _batch(server: str, item: str, lot: str, count: int) -> tuple[str, list[str]]:
    """`count` packs of a new product, at the manufacturer."""
    api = _api(server)
    maker = api_login(api, "sina-darou")
    gtin = with_check_digit(f"0626000998{item}")
    api.post(
        "/api/products",
        json={"gtin": gtin, "name": f"Metformin 500 mg ({item})", "name_fa": "متفورمین ۵۰۰",
              "generic_name": "metformin", "form": "tablet", "strength": "500 mg",
              "pack_size": 30, "atc": "A10BA02", "irc": f"IRC-MET{item}"},
        headers=maker,
    ).raise_for_status()  # fmt: skip
    api.post(
        "/api/batches",
        json={"gtin": gtin, "lot": lot, "expiry": "2028-12-31", "manufactured_on": "2026-01-01",
              "quantity": count, "origin": "produced"},
        headers=maker,
    ).raise_for_status()  # fmt: skip
    api.post(f"/api/batches/{gtin}/{lot}/packs", json={"count": count}, headers=maker)
    csv = api.get(f"/api/batches/{gtin}/{lot}/packs.csv", headers=maker).text
    return gtin, [line.split(",")[1] for line in csv.splitlines()[1:]]


_INSPECTORS: dict[str, tuple[httpx.Client, dict[str, str]]] = {}


def _pack(server: str, gtin: str, serial: str) -> dict[str, Any]:
    """The pack as the inspector sees it (one login per server: logins are rate-limited)."""
    if server not in _INSPECTORS:
        api = _api(server)
        _INSPECTORS[server] = (api, api_login(api, "fdo-inspector"))
    api, inspector = _INSPECTORS[server]
    found: dict[str, Any] = api.get(f"/api/packs/{gtin}/{serial}", headers=inspector).json()
    return found


def _status(server: str, gtin: str, serial: str) -> str:
    return str(_pack(server, gtin, serial)["status"])


def _holder(server: str, gtin: str, serial: str) -> str | None:
    facility = (_pack(server, gtin, serial).get("holder") or {}).get("facility") or {}
    return facility.get("gln")


async def _wedge(page: Any, text: str, enter: bool = True) -> None:
    """A scanner: the whole code in a fast burst, then its Enter suffix (or none)."""
    await page.keyboard.type(text, delay=3)
    if enter:
        await page.keyboard.press("Enter")


async def _rows(page: Any, count: int) -> Any:
    rows = page.locator("#scans li.scan")
    await page.wait_for_function(
        "n => document.querySelectorAll('#scans li.scan:not(.outcome-sending)').length >= n",
        arg=count,
    )
    return rows


async def test_a_wedge_scanner_receives_and_dispenses_in_every_form(
    console: Any, live_server: str, screenshots: Path
) -> None:
    gtin, serials = _batch(live_server, "101", "MET7", 8)
    razi = LOGINS["razi-pharmacy"].facility_gln
    codes = [f"(01){gtin}(21){s}" for s in serials]
    case = with_check_digit("06260009000000777")
    _event(_api(live_server), "sina-darou", "pack", codes[:3], container=f"(00){case}")
    _event(_api(live_server), "sina-darou", "ship", [f"(00){case}", *codes[3:7]],
           destination_gln=razi)  # fmt: skip
    _event(_api(live_server), "hafez-pharmacy", "dispense", [codes[7]], offline=True)

    page = await console("razi-pharmacy", "fa")
    await page.goto(f"{live_server}/console/counter")
    assert await page.locator("html").get_attribute("dir") == "rtl"
    await page.click("button.mode[data-mode=receive]")
    banner = page.locator("#mode-banner")
    assert await banner.inner_text() == "دریافت"

    # The case by its SSCC: the whole case moves; the row counts its packs.
    await _wedge(page, f"00{case}")
    rows = await _rows(page, 1)
    assert "۳ بسته: ۳ درست" in await rows.first.inner_text()
    # A pack in each form a scanner sends: "^" for GS, brackets, a Digital Link, the Persian
    # keyboard layout; the last one without Enter (the burst's end submits it).
    await _wedge(page, f"01{gtin}21{serials[3]}^10MET7")
    await _wedge(page, f"(01){gtin}(21){serials[4]}(10)MET7")
    await _wedge(page, f"https://id.gs1.org/01/{gtin}/10/MET7/21/{serials[5]}")
    await _wedge(page, persian_layout(f"01{gtin}10MET7^21{serials[6]}"), enter=False)
    rows = await _rows(page, 5)
    outcomes = await page.locator("#scans li.scan").evaluate_all(
        "rows => rows.map(row => row.dataset.outcome)"
    )
    assert outcomes == ["ok"] * 5, await page.locator("#scans").inner_text()
    first = await rows.first.inner_text()
    assert "متفورمین ۵۰۰" in first and "MET7" in first and "۱۴۰۷" in first  # Jalali expiry
    for serial in serials[:7]:
        assert _holder(live_server, gtin, serial) == razi, serial
        assert _status(live_server, gtin, serial) == "active"

    await page.click("button.mode[data-mode=dispense]")
    assert await banner.inner_text() == "تحویل به بیمار"
    await _wedge(page, f"01{gtin}21{serials[0]}")
    await _rows(page, 6)
    assert _status(live_server, gtin, serials[0]) == "dispensed"
    # A pack already dispensed at another pharmacy: refused in red, two tones, set aside until
    # dismissed.
    await _wedge(page, f"01{gtin}21{serials[7]}")
    await _rows(page, 7)
    refused = page.locator("#scans li.scan").first
    assert await refused.get_attribute("data-outcome") == "refused"
    background = await refused.evaluate("row => getComputedStyle(row).backgroundColor")
    assert background == "rgb(253, 231, 234)"  # --danger-bg
    assert await page.locator("#counter").get_attribute("data-tones") == "2"
    # The server's reason, in the page's language.
    assert "ممکن است کد جعلی (تکثیرشده) باشد" in await refused.inner_text()
    assert "the code may be cloned" not in await refused.inner_text()
    await _wedge(page, f"01{gtin}21{serials[1]}")
    await _rows(page, 8)
    aside = page.locator("#refusals")
    assert await aside.is_visible()
    assert serials[7] in await aside.inner_text()
    # An unreadable code (a wrong check digit) says why.
    await _wedge(page, f"01{gtin[:-1]}{(int(gtin[-1]) + 1) % 10}21{serials[2]}")
    await _rows(page, 9)
    assert "رقم کنترل" in await page.locator("#scans li.scan").first.inner_text()
    tally = page.locator("#tally")
    assert await tally.locator("[data-count=scanned]").inner_text() == "۹"
    assert await tally.locator("[data-count=refused]").inner_text() == "۲"
    await page.screenshot(path=str(screenshots / "counter-fa.png"), full_page=True)
    await aside.locator("li", has_text=serials[7]).get_by_role("button").click()
    await page.wait_for_function("() => document.querySelectorAll('#refusals li').length === 1")
    assert "رقم کنترل" in await aside.inner_text()  # the unreadable code is still set aside


async def test_in_english_a_mode_the_role_may_not_do_is_refused_clearly(
    console: Any, live_server: str, screenshots: Path
) -> None:
    gtin, serials = _batch(live_server, "102", "MET8", 1)
    page = await console("darupakhsh", "en")
    await page.goto(f"{live_server}/console/counter")
    assert await page.locator("html").get_attribute("dir") == "ltr"
    await page.click("button.mode[data-mode=dispense]")
    assert await page.locator("#mode-banner").inner_text() == "Dispense"
    await _wedge(page, f"01{gtin}21{serials[0]}")
    rows = await _rows(page, 1)
    assert await rows.first.get_attribute("data-outcome") == "refused"
    assert "Your role (distributor) may not record 'dispense'." in await rows.first.inner_text()
    assert await page.locator("#login-again").is_hidden()
    await page.click("button.mode[data-mode=ship]")
    await _wedge(page, f"01{gtin}21{serials[0]}")
    await _rows(page, 2)
    assert "Choose where the packs are going" in await rows.first.inner_text()
    await page.screenshot(path=str(screenshots / "counter-en.png"), full_page=True)


def _database_counts(url: str, facility_gln: str) -> tuple[int, int]:
    plain = re.sub(r"^postgresql\+\w+://", "postgresql://", url)
    with psycopg.connect(plain) as connection:
        row = connection.execute(
            "SELECT count(*), count(DISTINCT e.event_id) FROM events e"
            " JOIN facilities f ON f.id = e.facility_id"
            " WHERE f.gln = %s AND e.action = 'dispense' AND e.offline",
            (facility_gln,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def _open(browser: Any, profile: Path, offline: bool) -> Any:
    context = await browser.browser_type.launch_persistent_context(
        str(profile), executable_path=chromium(), args=FLAGS, locale="en", offline=offline
    )
    return context


async def _counter_settled(page: Any, queued: int) -> None:
    await page.wait_for_function(
        "n => document.querySelector('#queued-count')?.textContent === String(n)",
        arg=queued, timeout=60_000,
    )  # fmt: skip


async def test_fifty_scans_offline_survive_a_reload_and_a_restart_and_land_once_each(
    browser: Any, live_server: str, test_database: str, tmp_path: Path, screenshots: Path
) -> None:
    gtin, serials = _batch(live_server, "103", "MET9", 50)
    razi = LOGINS["razi-pharmacy"].facility_gln
    codes = [f"(01){gtin}(21){s}" for s in serials]
    _event(_api(live_server), "sina-darou", "ship", codes, destination_gln=razi)
    _event(_api(live_server), "razi-pharmacy", "receive", codes)

    profile = tmp_path / "profile"
    context = await _open(browser, profile, offline=False)
    await context.add_cookies([{"name": "darutrace_lang", "value": "en", "url": live_server}])
    page = context.pages[0] if context.pages else await context.new_page()
    await log_in(page, live_server, "razi-pharmacy")
    await page.goto(f"{live_server}/console/counter")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    cached = "async () => Boolean(await caches.match('/console/counter'))"
    assert await page.evaluate(cached)
    await page.click("button.mode[data-mode=dispense]")

    await context.set_offline(True)
    for serial in serials:
        await _wedge(page, f"01{gtin}21{serial}")
    await _counter_settled(page, 50)
    assert await page.locator("#net").get_attribute("data-state") == "offline"
    assert await page.locator("#scans li.outcome-queued").count() == 50
    # Meanwhile another pharmacy, offline too, dispensed one of them.
    _event(_api(live_server), "hafez-pharmacy", "dispense", [codes[7]], offline=True)

    await page.reload()
    await _counter_settled(page, 50)
    assert await page.locator("#mode-banner").inner_text() == "Dispense"
    await context.close()

    context = await _open(browser, profile, offline=True)
    page = context.pages[0] if context.pages else await context.new_page()
    await page.goto(f"{live_server}/console/counter")  # from the service worker's cache
    await _counter_settled(page, 50)
    unreachable = "() => fetch('/health').then(() => false, () => true)"
    assert await page.evaluate(unreachable), "the page should have come from the cache"
    assert _status(live_server, gtin, serials[0]) == "active"
    await page.screenshot(path=str(screenshots / "counter-offline-en.png"), full_page=True)

    # The session ended meanwhile (its cookie lives as long as the browser, and is gone here):
    # back online, the counter keeps every scan and asks for a new login, which sends them.
    await context.clear_cookies()
    await context.set_offline(False)
    await page.wait_for_function(
        "() => document.querySelector('#net').dataset.state === 'login'", timeout=60_000
    )
    assert await page.locator("#login-again").is_visible()
    await _counter_settled(page, 50)
    assert _status(live_server, gtin, serials[0]) == "active"
    await log_in(page, live_server, "razi-pharmacy")
    await page.goto(f"{live_server}/console/counter")
    await _counter_settled(page, 0)
    await page.wait_for_function("() => document.querySelector('#net').dataset.state === 'online'")

    assert _database_counts(test_database, razi) == (50, 50)
    for serial in serials:
        assert _status(live_server, gtin, serial) == "dispensed"
    attention = page.locator("#attention")
    assert await attention.is_visible()
    assert await attention.locator("li").count() == 1
    assert serials[7] in await attention.inner_text()
    api = _api(live_server)
    alerts = api.get(
        f"/api/alerts?serial={serials[7]}", headers=api_login(api, "fdo-inspector")
    ).json()
    assert "cloned_code" in [a["code"] for a in alerts]
    await page.screenshot(path=str(screenshots / "counter-synced-en.png"), full_page=True)
    await context.close()


async def test_a_server_error_is_retried_until_recorded_once_and_undo_last_reverts(
    console: Any, live_server: str, test_database: str
) -> None:
    gtin, serials = _batch(live_server, "104", "MET10", 1)
    razi = LOGINS["razi-pharmacy"].facility_gln
    codes = [f"(01){gtin}(21){serials[0]}"]
    _event(_api(live_server), "sina-darou", "ship", codes, destination_gln=razi)
    _event(_api(live_server), "razi-pharmacy", "receive", codes)
    page = await console("razi-pharmacy", "en")
    await page.goto(f"{live_server}/console/counter")
    await page.click("button.mode[data-mode=dispense]")

    answered: list[int] = []

    async def flaky(route: Any) -> None:
        # The first request reaches the server and is recorded, but its answer is lost in a
        # 503 from a proxy; the retry must be the same event, answered as the first.
        response = await route.fetch()
        answered.append(response.status)
        if len(answered) == 1:
            await route.fulfill(status=503, body="proxy timeout")
        else:
            await route.fulfill(response=response)

    await page.route("**/console/counter/events", flaky)
    await _wedge(page, codes[0])
    row = page.locator("#scans li.scan").first
    await page.wait_for_function(
        "() => document.querySelector('#scans li.scan')?.dataset.outcome === 'ok'",
        timeout=30_000,
    )
    assert answered == [200, 200]
    assert _status(live_server, gtin, serials[0]) == "dispensed"
    plain = re.sub(r"^postgresql\+\w+://", "postgresql://", test_database)
    with psycopg.connect(plain) as connection:
        row_count = connection.execute(
            "SELECT count(*) FROM pack_events WHERE gtin = %s AND serial = %s"
            " AND action = 'dispense'",
            (gtin, serials[0]),
        ).fetchone()
    assert row_count == (1,)
    await page.unroute("**/console/counter/events")

    await page.click("#undo-last")
    await _rows(page, 2)
    assert await row.get_attribute("data-outcome") == "ok"
    assert "Undo" in await row.inner_text()
    assert _status(live_server, gtin, serials[0]) == "active"

    # Packing: the case's SSCC first, then its packs.
    case = with_check_digit("06260009000000888")
    await page.click("button.mode[data-mode=pack]")
    await _wedge(page, f"00{case}")
    assert await page.locator("#case-sscc").inner_text() == f"00{case}"
    await _wedge(page, codes[0])
    await _rows(page, 3)
    assert await row.get_attribute("data-outcome") == "ok", await row.inner_text()
    api, inspector = _INSPECTORS[live_server]
    packed = api.get(f"/api/containers/{case}", headers=inspector).json()
    assert serials[0] in str(packed), packed


async def test_with_the_server_unreachable_scans_wait_and_are_marked_as_captured_offline(
    console: Any, live_server: str, test_database: str
) -> None:
    gtin, serials = _batch(live_server, "105", "MET11", 3)
    razi = LOGINS["razi-pharmacy"].facility_gln
    codes = [f"(01){gtin}(21){s}" for s in serials]
    _event(_api(live_server), "sina-darou", "ship", codes, destination_gln=razi)
    _event(_api(live_server), "razi-pharmacy", "receive", codes)
    page = await console("razi-pharmacy", "en")
    await page.goto(f"{live_server}/console/counter")
    await page.click("button.mode[data-mode=dispense]")

    # The network is up but the server does not answer: the first scan may have reached it (its
    # retry must be the same event); those after it certainly did not, and say so.
    sending = re.compile(r"/console/counter/events(/queued)?$")  # one scan, or several
    await page.route(sending, lambda route: route.abort("connectionrefused"))
    for code in codes:
        await _wedge(page, code)
    await _counter_settled(page, 3)
    assert await page.locator("#net").get_attribute("data-state") == "offline"
    await page.unroute(sending)
    await _counter_settled(page, 0)
    plain = re.sub(r"^postgresql\+\w+://", "postgresql://", test_database)
    with psycopg.connect(plain) as connection:
        marked = connection.execute(
            "SELECT pe.serial, e.offline FROM pack_events pe JOIN events e USING (event_id)"
            " WHERE pe.gtin = %s AND pe.action = 'dispense' ORDER BY e.event_time",
            (gtin,),
        ).fetchall()
    assert marked == [(serials[0], False), (serials[1], True), (serials[2], True)]
