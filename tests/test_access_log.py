import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import TEST_DATABASE, PgServer
from tests.helpers import LOGINS, device_headers, headers_for, me, pack_code, register_batch


async def _log(client: AsyncTestClient[Any], **params: str) -> list[dict[str, Any]]:
    inspector = await headers_for(client, "fdo-inspector")
    response = await client.get("/api/access-log", params=params, headers=inspector)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


async def test_reads_are_logged_with_who_what_where_and_outcome(
    client: AsyncTestClient[Any],
) -> None:
    pharmacist = await headers_for(client, "razi-pharmacy")
    who = await me(client, pharmacist)
    own = who["organization_id"]
    inspector = await headers_for(client, "fdo-inspector")
    other = next(
        o["id"]
        for o in (await client.get("/api/organizations", headers=inspector)).json()
        if o["name"] == "Hafez Pharmacy"
    )

    assert (await client.get(f"/api/organizations/{own}", headers=pharmacist)).status_code == 200
    assert (await client.get(f"/api/organizations/{other}", headers=pharmacist)).status_code == 404
    assert (await client.get("/api/access-log", headers=pharmacist)).status_code == 403

    entries = await _log(client, actor_id=who["id"])
    assert [(e["method"], e["resource"], e["object_id"], e["outcome"]) for e in entries] == [
        ("GET", "access-log", None, "forbidden"),
        ("GET", "organizations", other, "not_found"),
        ("GET", "organizations", own, "ok"),
    ]
    newest = entries[0]
    assert newest["actor_name"] == "razi-pharmacy"
    assert newest["actor_kind"] == "user"
    assert newest["role"] == "pharmacy"
    assert newest["organization_id"] == own
    assert newest["status_code"] == 403
    assert newest["client_address"]
    assert newest["path"] == "/api/access-log"


async def test_device_reads_are_logged_and_anonymous_requests_are_not(
    client: AsyncTestClient[Any],
) -> None:
    gln = LOGINS["hafez-pharmacy"].facility_gln
    device = await me(client, device_headers(gln))
    assert (
        await client.get(f"/api/facilities/{device['facility_id']}", headers=device_headers(gln))
    ).status_code == 200
    assert (await client.get("/api/facilities")).status_code == 401
    entries = await _log(client, resource="facilities")
    assert [(e["actor_kind"], e["actor_id"], e["object_id"]) for e in entries] == [
        ("device", device["id"], device["facility_id"])
    ]


async def test_the_log_records_its_own_readers_and_pages(client: AsyncTestClient[Any]) -> None:
    admin = await headers_for(client, "fdo-admin")
    for _ in range(3):
        assert (await client.get("/api/organizations", headers=admin)).status_code == 200
    first_page = await _log(client, resource="organizations", limit="2")
    assert len(first_page) == 2
    second_page = await _log(
        client, resource="organizations", limit="2", before_id=str(first_page[-1]["id"])
    )
    assert len(second_page) == 1
    assert second_page[0]["id"] < first_page[-1]["id"]
    readers = await _log(client, resource="access-log")
    assert {e["actor_name"] for e in readers} == {"fdo-inspector"}


async def test_bad_filters_are_422(client: AsyncTestClient[Any]) -> None:
    inspector = await headers_for(client, "fdo-inspector")
    response = await client.get(
        "/api/access-log", params={"limit": "0", "outcome": "maybe"}, headers=inspector
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {error["field"] for error in response.json()["errors"]} == {"limit", "outcome"}


async def test_concurrent_requests_are_each_logged_once(client: AsyncTestClient[Any]) -> None:
    """Entries of concurrent requests are committed together (group commit): none lost, none
    doubled, each before its answer."""
    pharmacist = await headers_for(client, "razi-pharmacy")
    organization = (await me(client, pharmacist))["organization_id"]
    paths = [f"/api/organizations/{organization}?n={n}" for n in range(40)]
    answers = await asyncio.gather(*(client.get(p, headers=pharmacist) for p in paths))
    assert all(a.status_code == 200 for a in answers)
    logged = [e["path"] for e in await _log(client, resource="organizations", limit="1000")]
    assert sorted(p for p in logged if p.startswith(f"/api/organizations/{organization}")) == (
        sorted([f"/api/organizations/{organization}"] * 40)
    )


async def test_verifications_are_logged_once_each(client: AsyncTestClient[Any]) -> None:
    """The lookup writes its own row; the middleware adds none (and writes the row of a code
    refused before any lookup)."""
    pharmacist = await headers_for(client, "razi-pharmacy")
    gtin, _, serials = await register_batch(
        client, await headers_for(client, "sina-darou"), count=3
    )
    for serial in serials[:3]:
        verified = await client.post(
            "/api/verify", json={"code": pack_code(gtin, serial)}, headers=pharmacist
        )
        assert verified.status_code == 200, verified.text
    unknown = await client.post(
        "/api/verify", json={"code": pack_code(gtin, "NOSUCHPACK")}, headers=pharmacist
    )
    assert unknown.status_code == 200 and unknown.json()["status"] == "unknown"
    unreadable = await client.post("/api/verify", json={"code": "]d2junk"}, headers=pharmacist)
    assert unreadable.status_code == 422
    shown = await client.get(f"/api/packs/{gtin}/{serials[0]}", headers=pharmacist)
    assert shown.status_code == 200
    entries = await _log(client, resource="packs", actor_id=(await me(client, pharmacist))["id"])
    assert [(e["method"], e["path"], e["status_code"]) for e in reversed(entries)] == [
        *[("POST", "/api/verify", 200)] * 4,
        ("POST", "/api/verify", 422),
        ("GET", f"/api/packs/{gtin}/{serials[0]}", 200),
    ]


@pytest.fixture
def unwritable_log(pg_server: PgServer, database: object) -> Iterator[Callable[[str], None]]:
    """Makes the access log refuse the rows of the paths given, as a full disk or a broken
    table would refuse every row, while the rest of the database works."""
    refused: list[str] = []
    with pg_server.connect(TEST_DATABASE) as sql:

        def refuse(path: str) -> None:
            refused.append(path)
            sql.execute("ALTER TABLE access_log DROP CONSTRAINT IF EXISTS test_refused")
            paths = ", ".join(f"'{p}'" for p in refused)
            sql.execute(
                "ALTER TABLE access_log ADD CONSTRAINT test_refused"
                f" CHECK (path NOT IN ({paths})) NOT VALID"
            )

        try:
            yield refuse
        finally:
            sql.execute("ALTER TABLE access_log DROP CONSTRAINT IF EXISTS test_refused")


async def test_no_answer_leaves_without_its_row(
    client: AsyncTestClient[Any], unwritable_log: Callable[[str], None]
) -> None:
    pharmacist = await headers_for(client, "razi-pharmacy")
    organization = (await me(client, pharmacist))["organization_id"]
    gtin, _, serials = await register_batch(
        client, await headers_for(client, "sina-darou"), count=3
    )
    verify = {"code": pack_code(gtin, serials[0])}
    assert (await client.post("/api/verify", json=verify, headers=pharmacist)).status_code == 200

    unwritable_log(f"/api/organizations/{organization}")  # written by the middleware
    answer = await client.get(f"/api/organizations/{organization}", headers=pharmacist)
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert "could not be recorded in the access log" in answer.json()["detail"]
    assert organization not in answer.text.replace(f"/api/organizations/{organization}", "")
    # Other paths are logged and answered as before.
    assert (await client.post("/api/verify", json=verify, headers=pharmacist)).status_code == 200

    unwritable_log("/api/verify")  # written by the pack's lookup itself
    answer = await client.post("/api/verify", json=verify, headers=pharmacist)
    assert answer.status_code == 500
    assert "could not be recorded in the access log" in answer.json()["detail"]
    assert serials[0] not in answer.text
    logged = await _log(client, resource="packs")
    assert [e["status_code"] for e in logged if e["path"] == "/api/verify"] == [200, 200]
