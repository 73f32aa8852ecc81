"""The console's foundation, through HTTP: logging in and out with a session cookie, CSRF on
every form, the language of the pages, redirects to the login page, error pages, scoping and
the access log of pages as of their API twins."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.db.database import Database
from tests.console import csrf_token, log_in
from tests.helpers import LOGINS, headers_for, register_batch

Client = AsyncTestClient[Litestar]


async def test_a_page_without_a_login_goes_to_the_login_page_and_back(client: Client) -> None:
    wanted = "/console/packs/06260009990013/SN1?from=letter"
    response = await client.get(wanted, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == (
        "/console/login?next=%2Fconsole%2Fpacks%2F06260009990013%2FSN1%3Ffrom%3Dletter"
    )

    form = await client.get(response.headers["location"])
    assert f'name="next" value="{wanted}"' in form.text
    answer = await client.post(
        "/console/login",
        data={
            "username": "fdo-inspector",
            "password": LOGINS["fdo-inspector"].password,
            "next": wanted,
            "_csrf_token": csrf_token(form.text),
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == wanted
    cookie = answer.headers["set-cookie"]
    assert "darutrace_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Path=/console" in cookie


async def test_login_never_sends_anywhere_but_the_console(client: Client) -> None:
    for target in ("https://evil.example/", "//evil.example", "/api/packs", "/\\evil.example"):
        form = await client.get("/console/login", params={"next": target})
        assert 'name="next" value="/console"' in form.text, target


async def test_a_wrong_password_shows_the_problem_on_the_form_in_persian(client: Client) -> None:
    form = await client.get("/console/login")
    response = await client.post(
        "/console/login",
        data={"username": "fdo-inspector", "password": "x", "_csrf_token": csrf_token(form.text)},
    )
    assert response.status_code == 401
    assert 'dir="rtl"' in response.text
    assert "نام کاربری یا گذرواژه نادرست است" in response.text
    assert "darutrace_session" not in response.cookies


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client: Client) -> None:
    await log_in(client, "fdo-inspector")
    refused = await client.post("/console/logout", follow_redirects=False)
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    assert (await client.get("/console", follow_redirects=False)).status_code == 200  # still in
    forged = await client.post(
        "/console/logout", headers={"x-csrftoken": "0" * 128}, follow_redirects=False
    )
    assert forged.status_code == 403


async def test_logging_out_ends_the_session_for_good(client: Client) -> None:
    await log_in(client, "razi-pharmacy")
    cookie = client.cookies["darutrace_session"]
    home = await client.get("/console")
    out = await client.post(
        "/console/logout", data={"_csrf_token": csrf_token(home.text)}, follow_redirects=False
    )
    assert out.headers["location"] == "/console/login"
    client.cookies.set("darutrace_session", cookie, path="/console")  # a copy kept by an attacker
    again = await client.get("/console", follow_redirects=False)
    assert again.status_code in (302, 303)
    assert again.headers["location"].startswith("/console/login")


async def test_a_session_idle_too_long_has_expired(client: Client, database: Database) -> None:
    await log_in(client, "razi-pharmacy")
    assert (await client.get("/console", follow_redirects=False)).status_code == 200
    async with database.session() as session:
        await session.exec(  # type: ignore[call-overload]
            _sql("UPDATE web_sessions SET last_seen_at = now() - interval '31 minutes'")
        )
        await session.commit()
    expired = await client.get("/console", follow_redirects=False)
    assert expired.status_code in (302, 303)


async def test_the_api_never_takes_the_session_cookie(client: Client) -> None:
    await log_in(client, "fdo-inspector")
    assert (await client.get("/api/auth/me")).status_code == 401


async def test_pages_are_persian_by_default_and_english_on_request(client: Client) -> None:
    await log_in(client, "fdo-inspector")
    client.cookies.delete("darutrace_lang")
    persian = await client.get("/console")
    assert '<html lang="fa" dir="rtl">' in persian.text
    english = await client.get("/console", headers={"Accept-Language": "en-GB,en;q=0.9,fa;q=0.5"})
    assert '<html lang="en" dir="ltr">' in english.text
    switched = await client.get("/console/language/en?next=/console", follow_redirects=False)
    assert switched.headers["location"] == "/console"
    assert "darutrace_lang=en" in switched.headers["set-cookie"]
    chosen = await client.get("/console", headers={"Accept-Language": "fa"})
    assert '<html lang="en" dir="ltr">' in chosen.text


async def test_pages_have_a_strict_content_security_policy(client: Client) -> None:
    response = await client.get("/console/login")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text), "inline script"
    assert " style=" not in response.text
    asset = await client.get("/static/vendor/htmx/htmx.min.js")
    assert asset.status_code == 200
    assert "max-age" in asset.headers["cache-control"]


async def test_the_pack_page_is_scoped_and_access_logged_as_its_api_twin(client: Client) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, lot, serials = await register_batch(client, maker, count=1)
    page_path = f"/console/packs/{gtin}/{serials[0]}"

    await log_in(client, "sina-darou")
    own = await client.get(page_path)
    assert own.status_code == 200, own.text
    assert 'data-status="active"' in own.text
    assert "فعال" in own.text
    assert lot in own.text

    client.cookies.clear()
    await log_in(client, "razi-pharmacy", language="en")
    other = await client.get(page_path)
    assert other.status_code == 404
    assert '<html lang="en"' in other.text
    assert f"No pack {serials[0]} of GTIN {gtin}." in other.text

    inspector = await headers_for(client, "fdo-inspector")
    log = await client.get("/api/access-log", params={"resource": "packs"}, headers=inspector)
    seen = [(e["actor_name"], e["path"], e["outcome"]) for e in log.json()]
    assert ("razi-pharmacy", page_path, "not_found") in seen
    assert ("sina-darou", page_path, "ok") in seen


async def test_an_unknown_console_path_is_a_404_page(client: Client) -> None:
    await log_in(client, "fdo-inspector", language="en")
    response = await client.get("/console/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def _sql(text: str) -> Any:
    from sqlalchemy import text as sql_text

    return sql_text(text)


def test_a_problem_with_a_percent_sign_is_shown_as_it_is() -> None:
    """A service's message is translated, never %-formatted: "100%" must not break the page."""
    from app.web.i18n import ENGLISH, PERSIAN
    from app.web.templating import environment

    fragment = environment().get_template("errors/fragment.html")
    for language in (ENGLISH, PERSIAN):
        shown = fragment.render(lang=language, status=422, title="Bad Request", detail="lot 100%")
        assert "lot 100%" in shown
