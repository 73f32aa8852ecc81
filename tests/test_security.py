"""Security hardening through the HTTP API: rate limits, back-off after failed logins, token
expiry and revocation, request size limits, security headers, CORS, secrets kept out of logs."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
import structlog
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.auth.credentials import issue_token
from app.db import request_session
from app.db.database import Database
from app.factory import create_app
from app.security.config import SecuritySettings
from app.state import app_state
from models.gs1 import with_check_digit
from tests.conftest import TEST_DATABASE, PgServer
from tests.helpers import LOGINS, device_headers, facility_gln, headers_for, login, me, pack_code

PROBLEM = "application/problem+json"
GTIN = with_check_digit("0626000999001")
Client = AsyncTestClient[Litestar]
MakeClient = Callable[..., Any]


@pytest.fixture
def make_client(database: Database) -> MakeClient:
    """An app of its own over the test database, with these security settings."""

    @asynccontextmanager
    async def make(**security: Any) -> AsyncIterator[Client]:
        settings = dataclasses.replace(database.settings, security=SecuritySettings(**security))
        app = create_app(settings, database)
        async with AsyncTestClient(app) as client:
            yield client

    return make


async def _login(client: Client, username: str, password: str | None = None) -> Any:
    password = password if password is not None else LOGINS[username].password
    return await client.post("/api/auth/login", json={"username": username, "password": password})


async def _refused_soon(send: Callable[[], Awaitable[Any]], limit: int) -> Any:
    """The first refusal among up to `limit` more requests: the sliding-window counter weighs
    the previous window's count by the time left of it, so requests that straddle a window's
    end may get up to `limit` more through before the count catches up."""
    for _ in range(limit + 1):
        response = await send()
        if response.status_code == 429:
            return response
    return response


def _retry_after(response: Any) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM
    seconds = int(response.headers["retry-after"])
    assert response.json()["retry_after"] == seconds
    assert seconds >= 1
    return seconds


# --- rate limits ------------------------------------------------------------------------------


async def test_login_is_rate_limited_per_address_with_a_problem_and_retry_after(
    make_client: MakeClient,
) -> None:
    async with make_client(rate_limit_login="3/minute") as client:
        for _ in range(3):
            assert (await _login(client, "razi-pharmacy")).status_code == 200
        refused = await _refused_soon(lambda: _login(client, "razi-pharmacy"), 3)
        assert _retry_after(refused) <= 60
        body = refused.json()
        assert body["status"] == 429 and body["title"] == "Too many requests"
        assert "logging in from one address" in body["detail"]


async def test_resolver_pages_are_rate_limited_per_address(make_client: MakeClient) -> None:
    async with make_client(rate_limit_resolver="2/minute") as client:
        path = f"/01/{GTIN}/21/NOSUCHPACK"
        assert (await client.get(path)).status_code == 200
        assert (await client.get(path, headers={"accept": "application/json"})).status_code == 200
        _retry_after(await _refused_soon(lambda: client.get(path), 2))
        # Another kind of request from the same address is not counted against it.
        assert (await client.get("/.well-known/gs1resolver")).status_code == 200


async def test_verify_and_parse_are_limited_per_caller_not_per_address(
    make_client: MakeClient,
) -> None:
    async with make_client(rate_limit_verify="2/minute", rate_limit_parse="1/minute") as client:
        pharmacist = await headers_for(client, "razi-pharmacy")
        station = device_headers(facility_gln("razi-pharmacy"))
        body = {"code": pack_code(GTIN, "NOSUCHPACK")}
        for _ in range(2):
            response = await client.post("/api/verify", json=body, headers=pharmacist)
            assert response.status_code != 429, response.text
        _retry_after(
            await _refused_soon(
                lambda: client.post("/api/verify", json=body, headers=pharmacist), 2
            )
        )
        # Same address, another caller: a budget of its own.
        response = await client.post("/api/verify", json=body, headers=station)
        assert response.status_code != 429
        codes = {"codes": [pack_code(GTIN, "NOSUCHPACK")]}
        assert (
            await client.post("/api/codes/parse", json=codes, headers=station)
        ).status_code == 200
        refused = await _refused_soon(
            lambda: client.post("/api/codes/parse", json=codes, headers=station), 1
        )
        _retry_after(refused)
        assert "code reading by one caller" in refused.json()["detail"]


async def test_throttled_verifications_are_in_the_access_log(make_client: MakeClient) -> None:
    async with make_client(rate_limit_verify="1/minute") as client:
        inspector = await headers_for(client, "fdo-inspector")
        body = {"code": pack_code(GTIN, "NOSUCHPACK")}
        await client.post("/api/verify", json=body, headers=inspector)
        _retry_after(
            await _refused_soon(lambda: client.post("/api/verify", json=body, headers=inspector), 1)
        )
        admin = await headers_for(client, "fdo-admin")
        log = (await client.get("/api/access-log", headers=admin)).json()
        entries = log["entries"] if isinstance(log, dict) else log
        assert any(entry["status_code"] == 429 for entry in entries), entries


def test_default_limits_let_an_authenticated_scanner_work_and_typos_fail_at_start() -> None:
    defaults = SecuritySettings()
    assert defaults.rate_limit_verify == "6000/minute"
    assert defaults.rate_limit_login == "30/minute"
    with pytest.raises(ValueError, match="couldn't parse"):
        SecuritySettings(rate_limit_login="thirty a minute")
    assert SecuritySettings(rate_limit_verify="off").rate_limit_verify == "off"


# --- back-off after failed logins --------------------------------------------------------------

BACKOFF = {"login_backoff_after": 3, "login_backoff_seconds": 60, "login_backoff_after_ip": 100}


def _expire_blocks(pg_server: PgServer) -> None:
    """As if the wait were over (the test does not sleep)."""
    with pg_server.connect(TEST_DATABASE) as conn:
        conn.execute("UPDATE login_failures SET blocked_until = now() - interval '1 second'")


async def test_failed_logins_block_the_username_for_a_growing_delay_even_with_the_password(
    make_client: MakeClient, pg_server: PgServer
) -> None:
    async with make_client(**BACKOFF) as client:
        for _ in range(3):
            assert (await _login(client, "razi-pharmacy", "wrong-password")).status_code == 401
        first = _retry_after(await _login(client, "razi-pharmacy"))  # the right password
        assert 30 < first <= 60
        # Another account from the same address is not blocked.
        assert (await _login(client, "darupakhsh")).status_code == 200
        _expire_blocks(pg_server)
        assert (await _login(client, "razi-pharmacy", "wrong-again")).status_code == 401
        second = _retry_after(await _login(client, "razi-pharmacy"))
        assert 60 < second <= 120
        # Usernames are matched as typed by people: case and spaces do not reset the count.
        _retry_after(await _login(client, " Razi-Pharmacy ", "x"))


async def test_a_successful_login_resets_the_count(
    make_client: MakeClient, pg_server: PgServer
) -> None:
    async with make_client(**BACKOFF) as client:
        for _ in range(2):
            assert (await _login(client, "razi-pharmacy", "wrong-password")).status_code == 401
        assert (await _login(client, "razi-pharmacy")).status_code == 200
        for _ in range(2):
            assert (await _login(client, "razi-pharmacy", "wrong-password")).status_code == 401
        assert (await _login(client, "razi-pharmacy")).status_code == 200


async def test_unknown_usernames_are_blocked_like_known_ones(make_client: MakeClient) -> None:
    async with make_client(**BACKOFF) as client:
        for _ in range(3):
            assert (await _login(client, "no-such-user", "whatever123")).status_code == 401
        _retry_after(await _login(client, "no-such-user", "whatever123"))


async def test_failed_logins_from_one_address_block_that_address(make_client: MakeClient) -> None:
    settings = BACKOFF | {"login_backoff_after": 100, "login_backoff_after_ip": 3}
    async with make_client(**settings) as client:
        for username in ("fdo-admin", "sina-darou", "darupakhsh"):
            assert (await _login(client, username, "wrong-password")).status_code == 401
        refused = await _login(client, "razi-pharmacy")
        _retry_after(refused)
        assert "from this address" in refused.json()["detail"]


async def test_the_back_off_holds_across_worker_processes(make_client: MakeClient) -> None:
    """Two apps over one database, as two workers would be: failures seen by one block the
    other (the count is in PostgreSQL)."""
    async with make_client(**BACKOFF) as worker_a, make_client(**BACKOFF) as worker_b:
        for _ in range(3):
            assert (await _login(worker_a, "razi-pharmacy", "wrong-password")).status_code == 401
        _retry_after(await _login(worker_b, "razi-pharmacy"))


# --- token expiry and revocation ---------------------------------------------------------------


async def test_an_expired_token_is_refused(client: Client) -> None:
    user_id = uuid.UUID((await me(client, await headers_for(client, "razi-pharmacy")))["id"])
    secret = app_state(client.app).jwt_secret
    expired = issue_token(user_id, secret, timedelta(seconds=-1)).token
    response = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


async def test_a_logged_out_token_is_refused_even_right_after_use(client: Client) -> None:
    headers = await login(client, "razi-pharmacy")
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 200  # now cached
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204
    response = await client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401
    assert "logging out" in response.json()["detail"]


# --- request size limits -----------------------------------------------------------------------


async def test_a_body_over_the_limit_is_413(make_client: MakeClient) -> None:
    async with make_client(max_body_bytes=2048) as client:
        headers = await headers_for(client, "razi-pharmacy")
        small = {"codes": [pack_code(GTIN, "NOSUCHPACK")]}
        assert (
            await client.post("/api/codes/parse", json=small, headers=headers)
        ).status_code == 200
        big = {"codes": [pack_code(GTIN, f"S{i:08d}") for i in range(100)]}
        response = await client.post("/api/codes/parse", json=big, headers=headers)
        assert response.status_code == 413
        assert response.headers["content-type"] == PROBLEM


async def test_the_default_body_limit_holds_the_largest_event_and_refuses_more(
    client: Client,
) -> None:
    headers = await headers_for(client, "razi-pharmacy")
    # The largest event: 100,000 codes in their longest usual form (a Digital Link URI with the
    # lot and expiry), each distinct; one more code is refused by name, not by size.
    longest = "https://id.gs1.org/01/{gtin}/21/{serial}?10=LOT-2026-0001-ABCD&17=281231"
    too_many = [longest.format(gtin=GTIN, serial=f"S{i:019d}") for i in range(100_001)]
    body = {"event_id": str(uuid.uuid4()), "action": "receive", "codes": too_many}
    response = await client.post("/api/events", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"] == "codes: must have at most 100000 items"
    huge = {"event_id": str(uuid.uuid4()), "action": "receive", "codes": ["x" * 1000] * 17_000}
    response = await client.post("/api/events", json=huge, headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


# --- security headers and CORS -----------------------------------------------------------------

ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def _has_security_headers(response: Any) -> None:
    for name, value in ALWAYS.items():
        assert response.headers.get(name) == value, (response.url, name)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers  # not configured


async def test_every_response_has_security_headers_and_api_answers_are_not_stored(
    client: Client,
) -> None:
    headers = await headers_for(client, "razi-pharmacy")
    responses = [
        await client.get("/api/auth/me", headers=headers),
        await client.get("/api/organizations"),  # 401
        await client.get("/api/no-such-thing"),  # 404 from the router
        await client.get("/health"),
        await _login(client, "razi-pharmacy"),  # the token itself
    ]
    for response in responses:
        _has_security_headers(response)
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert [r.status_code for r in responses] == [200, 401, 404, 200, 200]


async def test_the_resolver_page_has_the_consoles_strict_policy_and_no_script(
    client: Client,
) -> None:
    page = await client.get(f"/01/{GTIN}/21/NOSUCHPACK", headers={"accept": "text/html"})
    assert page.status_code == 200
    _has_security_headers(page)
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "<script" not in page.text and "<style" not in page.text and " style=" not in page.text
    assert '<link rel="stylesheet" href="/static/console.css">' in page.text
    assert page.headers["cache-control"] == "no-store"  # a pack's status changes


def _inline_script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


async def test_swagger_ui_runs_under_its_csp(client: Client) -> None:
    page = await client.get("/schema")
    assert page.status_code == 200
    _has_security_headers(page)
    policy = page.headers["content-security-policy"]
    csp = dict((*part.split(" ", 1), "")[:2] for part in policy.split("; "))
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.DOTALL)
    inline = [body for attributes, body in scripts if "src=" not in attributes]
    external = [re.search(r'src="([^"]+)"', attributes) for attributes, _ in scripts]
    assert inline and len(external) - len(inline) == 2
    for body in inline:
        assert _inline_script_hash(body) in csp["script-src"].split()
    for match in filter(None, external):
        assert match.group(1).startswith("/schema/assets/")  # same origin: 'self'
        assert (await client.get(match.group(1))).status_code == 200
    assert "'unsafe-inline'" not in csp["script-src"]
    assert csp["default-src"] == "'self'" and "data:" in csp["img-src"]
    assert (await client.get("/schema/openapi.json")).status_code == 200


async def test_hsts_only_when_configured(make_client: MakeClient) -> None:
    async with make_client(hsts_seconds=31_536_000) as client:
        response = await client.get("/health")
        assert (
            response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        )


PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization",
}


async def test_cors_is_off_unless_origins_are_configured(
    client: Client, make_client: MakeClient
) -> None:
    origin = {"origin": "https://portal.fdo.example"}
    response = await client.options("/api/verify", headers=origin | PREFLIGHT)
    assert "access-control-allow-origin" not in response.headers
    response = await client.get("/health", headers=origin)
    assert "access-control-allow-origin" not in response.headers
    async with make_client(cors_origins=("https://portal.fdo.example",)) as configured:
        response = await configured.options("/api/verify", headers=origin | PREFLIGHT)
        assert response.status_code in (200, 204)
        assert response.headers["access-control-allow-origin"] == origin["origin"]
        other = {"origin": "https://evil.example"}
        response = await configured.get("/health", headers=other)
        assert "access-control-allow-origin" not in response.headers


# --- secrets never logged ----------------------------------------------------------------------


async def test_passwords_tokens_and_api_keys_are_never_logged(
    client: Client,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level("DEBUG")
    # The request logger writes to the stdout it first saw (an earlier test's capture); a fresh
    # one writes to this test's.
    monkeypatch.setattr(request_session, "log", structlog.get_logger("darutrace.http"))
    password = LOGINS["razi-pharmacy"].password
    wrong = "not-the-password-4f9c"
    api_key = device_headers(facility_gln("razi-pharmacy"))["X-API-Key"]
    bad_key = "dtk_" + "z" * 43
    assert (await _login(client, "razi-pharmacy", wrong)).status_code == 401
    response = await _login(client, "razi-pharmacy", password)
    token = response.json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/auth/me", headers=bearer)).status_code == 200
    assert (await client.get("/api/auth/me", headers={"X-API-Key": api_key})).status_code == 200
    assert (await client.get("/api/auth/me", headers={"X-API-Key": bad_key})).status_code == 401
    body = {"code": pack_code(GTIN, "NOSUCHPACK")}
    assert (await client.post("/api/verify", json=body, headers=bearer)).status_code == 200
    assert (await client.post("/api/auth/logout", headers=bearer)).status_code == 204
    assert (await client.get("/api/auth/me", headers=bearer)).status_code == 401

    out, err = capfd.readouterr()
    records = "\n".join(f"{record.__dict__}" for record in caplog.records)
    logged = "\n".join([out, err, caplog.text, records])
    # The requests were logged (else this test would prove nothing) ...
    assert logged.count('"path":"/api/auth/login"') >= 2
    assert '"path":"/api/auth/me"' in logged
    # ... and none of the secrets.
    for secret in (password, wrong, token, token.split(".")[2], api_key, bad_key):
        assert secret not in logged
