"""Real headless Chromium (Debian's `chromium`, or DARUTRACE_CHROMIUM) driven by Playwright,
against the real server: for the console's browser tests. They skip, saying why, where there is
no Chromium; `.ci/run` installs it."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.helpers import LOGINS
from tests.scan_server import live_server

__all__ = ["browser", "console", "live_server", "log_in"]

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str | None:
    return os.environ.get("DARUTRACE_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium()
    if executable is None:
        pytest.skip("no Chromium on this machine (apt install chromium, or set DARUTRACE_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (uv sync installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def log_in(page: Any, server: str, username: str) -> None:
    page.goto(f"{server}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", LOGINS[username].password)
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r".*/console(?!/login).*"))


@pytest.fixture
def console(browser: Any, live_server: str) -> Iterator[Callable[..., Any]]:
    """`console(username, language)`: a new browser page of that person, logged in."""
    contexts: list[Any] = []

    def open_as(username: str, language: str = "fa") -> Any:
        context = browser.new_context(locale=language, extra_http_headers={})
        context.add_cookies([{"name": "darutrace_lang", "value": language, "url": live_server}])
        contexts.append(context)
        page = context.new_page()
        log_in(page, live_server, username)
        return page

    yield open_as
    for context in contexts:
        context.close()
