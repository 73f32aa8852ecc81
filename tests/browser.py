"""Real headless Chromium (Debian's `chromium`, or DARUTRACE_CHROMIUM) driven by Playwright,
against the real server: for the console's browser tests. They skip, saying why, where there is
no Chromium; `.ci/run` installs it."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import LOGINS
from tests.scan_server import live_server

__all__ = ["browser", "console", "live_server", "log_in", "screenshots"]

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests leave screenshots of the pages: DARUTRACE_SCREENSHOTS, else a
    temporary folder."""
    chosen = os.environ.get("DARUTRACE_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def chromium() -> str | None:
    return os.environ.get("DARUTRACE_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    executable = chromium()
    if executable is None:
        pytest.skip("no Chromium on this machine (apt install chromium, or set DARUTRACE_CHROMIUM)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (uv sync installs it)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


async def log_in(page: Any, server: str, username: str) -> None:
    await page.goto(f"{server}/console/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", LOGINS[username].password)
    await page.click("form.form button[type=submit]")
    await page.wait_for_url(re.compile(r".*/console(?!/login).*"))


@pytest.fixture
async def console(browser: Any, live_server: str) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """`await console(username, language)`: a new browser page of that person, logged in. A
    page that breaks the CSP fails the test."""
    contexts: list[Any] = []
    refused: list[str] = []

    def note(message: Any) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    async def open_as(username: str, language: str = "fa") -> Any:
        context = await browser.new_context(locale=language)
        await context.add_cookies(
            [{"name": "darutrace_lang", "value": language, "url": live_server}]
        )
        contexts.append(context)
        page = await context.new_page()
        page.on("console", note)
        await log_in(page, live_server, username)
        return page

    yield open_as
    for context in contexts:
        await context.close()
    assert refused == [], f"refused by the Content-Security-Policy: {refused}"
