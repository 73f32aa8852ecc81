"""The counter's camera in real Chromium: a fake camera (`--use-file-for-fake-video-capture`)
films real labels, DataMatrix and Digital Link QR, several to a frame, over and over; the
counter in receive mode decodes them (ZXing WebAssembly from /static, under the counter's CSP)
and receives every pack exactly once, however many frames show it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser import FLAGS, browser, chromium, live_server, log_in, screenshots
from tests.camera_video import frame_of, label_images, write_y4m
from tests.helpers import LOGINS
from tests.scan_server import login as api_login
from tests.test_console_counter_browser import _INSPECTORS, _api, _batch, _event, _holder

__all__ = ["browser", "live_server", "screenshots"]

FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


async def test_every_pack_filmed_by_the_camera_is_received_exactly_once(
    browser: Any, live_server: str, screenshots: Path, tmp_path: Path
) -> None:
    razi = LOGINS["razi-pharmacy"].facility_gln
    gtin, serials = _batch(live_server, "131", "CAM1", 8)
    codes = [f"(01){gtin}(21){s}" for s in serials]
    _event(_api(live_server), "sina-darou", "ship", codes, destination_gln=razi)
    video = write_y4m(
        tmp_path / "labels.y4m",
        frame_of(label_images([(gtin, s, "CAM1") for s in serials]), 1280, 720),
        count=20,
    )

    camera = await browser.browser_type.launch(
        executable_path=chromium(),
        args=[*FLAGS, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={video}"],
    )
    try:
        context = await camera.new_context(locale="en")
        await context.add_cookies([{"name": "darutrace_lang", "value": "en", "url": live_server}])
        page = await context.new_page()
        said: list[str] = []
        page.on("console", lambda m: said.append(m.text))
        await log_in(page, live_server, "razi-pharmacy")
        await page.goto(f"{live_server}/console/counter")
        await page.click("button.mode[data-mode=receive]")
        await page.click("#camera-toggle")
        await page.wait_for_function(
            "n => document.querySelectorAll('#scans li.scan.outcome-ok').length >= n",
            arg=len(serials), timeout=60_000,
        )  # fmt: skip
        # The video loops: let it show every label many more times before looking at the server.
        frames = await page.evaluate("window.darutraceCamera.stats.frames")
        await page.wait_for_function(
            "n => window.darutraceCamera.stats.frames >= n", arg=frames + 40, timeout=60_000
        )
        await page.screenshot(path=str(screenshots / "counter-camera-en.png"))
        stats = await page.evaluate("({...window.darutraceCamera.stats})")
        rows = await page.locator("#scans li.scan").count()
        await context.close()
    finally:
        await camera.close()

    refused = [text for text in said if "Content Security" in text]
    assert refused == [], f"refused by the Content-Security-Policy: {refused}"
    assert stats["codes"] > stats["submitted"], stats  # seen many times, submitted once each
    assert stats["submitted"] == len(serials), stats
    assert rows == len(serials)
    api = _api(live_server)
    razi_headers = api_login(api, "razi-pharmacy")
    for serial in serials:
        assert _holder(live_server, gtin, serial) == razi
        history = api.get(f"/api/packs/{gtin}/{serial}/events", headers=razi_headers).json()
        receipts = [entry for entry in history if entry["action"] == "receive"]
        assert len(receipts) == 1, history
    _INSPECTORS.pop(live_server, None)
