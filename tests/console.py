"""Helpers for tests of the console's pages through the HTTP client: logging in on the login
page (a session cookie) and sending forms with their CSRF token."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient

from tests.helpers import LOGINS

_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "the page has no form with a CSRF token"
    return found[1]


async def log_in(client: AsyncTestClient[Any], username: str, language: str = "fa") -> None:
    """The client holds a console session of `username` afterwards, with pages in `language`."""
    client.cookies.set("darutrace_lang", language)
    form = await client.get("/console/login")
    response = await client.post(
        "/console/login",
        data={
            "username": username,
            "password": LOGINS[username].password,
            "_csrf_token": csrf_token(form.text),
            "next": "/console",
        },
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text
    assert "darutrace_session" in client.cookies


async def post_form(
    client: AsyncTestClient[Any], path: str, data: dict[str, Any], from_page: str
) -> Any:
    """POST `data` to `path` the way the form of `from_page` does, with that page's token."""
    page = await client.get(from_page)
    assert page.status_code == 200, page.text
    return await client.post(
        path, data={**data, "_csrf_token": csrf_token(page.text)}, follow_redirects=False
    )
