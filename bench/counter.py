"""The counter in real Chromium (Playwright, Debian's `chromium` or DARUTRACE_CHROMIUM) against
the demo server on loopback:

- scan-to-feedback latency: a code typed into the scan box and Enter, to its row painted with the
  server's answer (the next animation frame after it), p50 and p95 over 500 receipts
  (target p95 ≤ 150 ms);
- 1,000 scans queued offline, then the network back: time until the queue is drained
  (target ≤ 10 s);
- the camera: Chromium's fake camera playing real labels (8 a frame, DataMatrix and Digital Link
  QR) at 1280×720; frames decoded per second and codes read per second (target ≥ 15 fps).

    uv run python bench/counter.py [camera]   (camera: only the camera's figures)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
from harness import (
    LONG,
    code,
    commission,
    demo_password,
    demo_server,
    facility_gln,
    login,
    new_batch,
    percentile,
    record,
    serial_lines,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.browser import FLAGS
from tests.camera_video import frame_of, label_images, write_y4m

LATENCY_SCANS = 500
OFFLINE_SCANS = 1_000
CAMERA_SECONDS = 10
PHARMACY = "razi-pharmacy"

TYPE_AND_PAINT = """async (codes) => {
  const input = document.getElementById("scan-input");
  const rows = document.getElementById("scans");
  const waiting = ":not(.outcome-sending):not(.outcome-queued)";
  const answered = () => rows.querySelectorAll(`li.scan${waiting}`).length;
  const took = [];
  for (const code of codes) {
    const before = answered();
    const started = performance.now();
    input.value = code;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    while (answered() <= before) await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => requestAnimationFrame(() => r()));
    took.push(performance.now() - started);
  }
  return took;
}"""


def at_the_pharmacy(api: httpx.Client, count: int) -> list[str]:
    """`count` new packs shipped to the pharmacy, waiting to be received."""
    maker = login(api, "sina-darou")
    gtin = new_batch(api, maker, quantity=count, n=77)
    commission(api, maker, gtin, "LOT-77", count)
    codes = [code(gtin, serial) for serial in serial_lines(api, maker, gtin, "LOT-77")]
    for start in range(0, count, 250):
        record(api, maker, "ship", codes[start : start + 250], facility_gln(PHARMACY))
    return codes


async def counter_page(browser: object, url: str) -> object:
    context = await browser.new_context(locale="en")  # type: ignore[attr-defined]
    page = await context.new_page()
    await page.goto(f"{url}/console/login")
    await page.fill("input[name=username]", PHARMACY)
    await page.fill("input[name=password]", demo_password(PHARMACY))
    await page.click("form.form button[type=submit]")
    await page.wait_for_url(lambda u: "/console/login" not in u)
    await page.goto(f"{url}/console/counter")
    await page.click("button.mode[data-mode=receive]")
    return page


async def latency_and_drain(
    playwright: object, executable: str, url: str, codes: list[str]
) -> None:
    browser = await playwright.chromium.launch(executable_path=executable, args=FLAGS)  # type: ignore[attr-defined]
    try:
        page = await counter_page(browser, url)
        took = sorted(await page.evaluate(TYPE_AND_PAINT, codes[:LATENCY_SCANS]))
        print(
            f"scan to feedback (typed, Enter, row painted): p50 {percentile(took, 50):.0f} ms, "
            f"p95 {percentile(took, 95):.0f} ms, max {took[-1]:.0f} ms ({len(took)} scans)"
        )
        queued = codes[LATENCY_SCANS : LATENCY_SCANS + OFFLINE_SCANS]
        await page.context.set_offline(True)
        await page.evaluate(
            "async (codes) => {"
            " for (const c of codes) await window.darutraceCounter.submitCode(c); }",
            queued,
        )
        await page.wait_for_function(
            "n => document.getElementById('queued-count').textContent === String(n)",
            arg=len(queued), timeout=120_000,
        )  # fmt: skip
        started = time.perf_counter()
        await page.context.set_offline(False)
        await page.wait_for_function(
            "() => document.getElementById('queued-count').textContent === '0'",
            timeout=300_000, polling=20,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        print(f"drain {len(queued):,} offline scans after reconnecting: {seconds:.1f} s")
    finally:
        await browser.close()


async def camera(playwright: object, executable: str, url: str, codes: list[str]) -> None:
    packs = [(c[4:18], c.rsplit(")", 1)[1], "LOT-77") for c in codes[:8]]
    folder = Path(tempfile.mkdtemp())
    video = write_y4m(folder / "labels.y4m", frame_of(label_images(packs), 1280, 720), count=30)
    browser = await playwright.chromium.launch(  # type: ignore[attr-defined]
        executable_path=executable,
        args=[*FLAGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
              f"--use-file-for-fake-video-capture={video}"],
    )  # fmt: skip
    try:
        page = await counter_page(browser, url)
        await page.click("button.mode[data-mode=verify]")
        await page.click("#camera-toggle")
        await page.wait_for_function(
            "() => window.darutraceCamera.stats.frames > 5", timeout=60_000
        )
        first = await page.evaluate("({...window.darutraceCamera.stats, now: performance.now()})")
        await asyncio.sleep(CAMERA_SECONDS)
        last = await page.evaluate("({...window.darutraceCamera.stats, now: performance.now()})")
        seconds = (last["now"] - first["now"]) / 1000
        fps = (last["frames"] - first["frames"]) / seconds
        per_second = (last["codes"] - first["codes"]) / seconds
        size = await page.evaluate(
            "() => { const v = document.getElementById('camera-video');"
            " return `${v.videoWidth}x${v.videoHeight}`; }"
        )
        print(
            f"camera {size}, 8 labels a frame: {fps:.1f} frames/s decoded, "
            f"{per_second:.0f} codes/s read"
        )
    finally:
        await browser.close()
        shutil.rmtree(folder, ignore_errors=True)


async def run(url: str, codes: list[str]) -> None:
    from playwright.async_api import async_playwright

    executable = os.environ.get("DARUTRACE_CHROMIUM") or shutil.which("chromium")
    assert executable, "no Chromium (apt install chromium, or set DARUTRACE_CHROMIUM)"
    async with async_playwright() as playwright:
        if "camera" not in sys.argv[1:]:
            await latency_and_drain(playwright, executable, url, codes)
        await camera(playwright, executable, url, codes)


def main() -> None:
    with demo_server() as server, httpx.Client(base_url=server.url, timeout=LONG) as api:
        codes = at_the_pharmacy(api, LATENCY_SCANS + OFFLINE_SCANS)
        asyncio.run(run(server.url, codes))


if __name__ == "__main__":
    main()
