from typing import Any

from litestar.testing import AsyncTestClient

from models.gs1 import with_check_digit
from tests.helpers import LOGINS, headers_for, me

PROBLEM = "application/problem+json"
NEW_GLN = with_check_digit("626000777700")


async def _count(client: AsyncTestClient[Any], path: str, headers: dict[str, str]) -> int:
    return len((await client.get(path, headers=headers)).json())


async def test_register_organisation_facility_user_and_device(
    client: AsyncTestClient[Any],
) -> None:
    admin = await headers_for(client, "fdo-admin")
    org = await client.post(
        "/api/organizations",
        json={
            "gln": NEW_GLN,
            "name": "Kimia Pharmacy",
            "name_fa": "داروخانه کیمیا",
            "kind": "pharmacy",
        },
        headers=admin,
    )
    assert org.status_code == 201, org.text
    assert org.json()["name_fa"] == "داروخانه کیمیا"
    facility = await client.post(
        "/api/facilities",
        json={
            "gln": with_check_digit("626000777701"),
            "organization_id": org.json()["id"],
            "name": "Kimia Pharmacy",
            "province": "Gilan",
            "city": "Rasht",
            "address": "Golsar Blvd",
        },
        headers=admin,
    )
    assert facility.status_code == 201, facility.text
    user = await client.post(
        "/api/users",
        json={
            "username": "kimia",
            "password": "correct horse battery",
            "role": "pharmacy",
            "organization_id": org.json()["id"],
            "facility_id": facility.json()["id"],
        },
        headers=admin,
    )
    assert user.status_code == 201, user.text
    assert "password" not in user.text and "password_hash" not in user.json()
    login = await client.post(
        "/api/auth/login", json={"username": "kimia", "password": "correct horse battery"}
    )
    assert login.status_code == 200
    kimia = {"Authorization": f"Bearer {login.json()['access_token']}"}
    device = await client.post(
        "/api/devices",
        json={"facility_id": facility.json()["id"], "name": "Counter 1"},
        headers=kimia,
    )
    assert device.status_code == 201, device.text
    api_key = device.json()["api_key"]
    assert api_key.startswith("dtk_") and len(api_key) > 40
    listed = (await client.get("/api/devices", headers=kimia)).json()
    assert [d["name"] for d in listed] == ["Counter 1"]
    assert "api_key" not in listed[0]
    assert api_key not in (await client.get("/api/devices", headers=admin)).text
    assert (await me(client, {"X-API-Key": api_key}))["facility_id"] == facility.json()["id"]


async def test_wrong_gln_check_digit_is_422_naming_the_field_and_stores_nothing(
    client: AsyncTestClient[Any],
) -> None:
    admin = await headers_for(client, "fdo-admin")
    before = await _count(client, "/api/organizations", admin)
    bad_gln = NEW_GLN[:-1] + str((int(NEW_GLN[-1]) + 1) % 10)
    response = await client.post(
        "/api/organizations",
        json={"gln": bad_gln, "name": "X", "name_fa": "ایکس", "kind": "pharmacy"},
        headers=admin,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["field"] == "gln"
    assert f"expected {NEW_GLN[-1]}" in problem["detail"]
    assert problem["status"] == 422 and problem["instance"] == "/api/organizations"
    assert await _count(client, "/api/organizations", admin) == before


async def test_duplicate_gln_and_username_are_409(client: AsyncTestClient[Any]) -> None:
    admin = await headers_for(client, "fdo-admin")
    existing_gln = LOGINS["razi-pharmacy"].facility_gln
    response = await client.post(
        "/api/facilities",
        json={
            "gln": existing_gln,
            "organization_id": (await me(client, admin))["organization_id"],
            "name": "Dup",
            "province": "Tehran",
            "city": "Tehran",
        },
        headers=admin,
    )
    assert response.status_code == 409
    assert existing_gln in response.json()["detail"]
    response = await client.post(
        "/api/users",
        json={
            "username": "razi-pharmacy",
            "password": "long-enough-1",
            "role": "inspector",
            "organization_id": (await me(client, admin))["organization_id"],
        },
        headers=admin,
    )
    assert response.status_code == 409


async def test_user_role_must_fit_the_organisation(client: AsyncTestClient[Any]) -> None:
    admin = await headers_for(client, "fdo-admin")
    pharmacy_org = (await me(client, await headers_for(client, "razi-pharmacy")))["organization_id"]
    before = await _count(client, "/api/users", admin)
    response = await client.post(
        "/api/users",
        json={
            "username": "sneaky",
            "password": "long-enough-1",
            "role": "inspector",
            "organization_id": pharmacy_org,
        },
        headers=admin,
    )
    assert response.status_code == 422
    assert "pharmacy organisation can be: pharmacy" in response.json()["detail"]
    response = await client.post(
        "/api/users",
        json={
            "username": "short",
            "password": "short",
            "role": "pharmacy",
            "organization_id": pharmacy_org,
        },
        headers=admin,
    )
    assert response.status_code == 422
    assert "at least 8" in response.json()["detail"]
    assert await _count(client, "/api/users", admin) == before


async def test_invalid_fields_are_422_and_malformed_bodies_400(
    client: AsyncTestClient[Any],
) -> None:
    admin = await headers_for(client, "fdo-admin")
    response = await client.post(
        "/api/organizations", json={"gln": NEW_GLN, "kind": "spaceship"}, headers=admin
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["title"] == "Invalid input"
    assert problem["errors"]
    response = await client.post(
        "/api/organizations",
        content=b"{not json",
        headers=admin | {"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


async def test_unknown_route_and_bad_id_are_problems(client: AsyncTestClient[Any]) -> None:
    admin = await headers_for(client, "fdo-admin")
    response = await client.get("/api/nothing-here", headers=admin)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    response = await client.get("/api/organizations/not-a-uuid", headers=admin)
    assert response.status_code in (400, 404)
    assert response.headers["content-type"] == PROBLEM


async def test_members_see_only_their_own_organisation(client: AsyncTestClient[Any]) -> None:
    pharmacy = await headers_for(client, "razi-pharmacy")
    organizations = (await client.get("/api/organizations", headers=pharmacy)).json()
    assert [o["name"] for o in organizations] == ["Dr. Razi Pharmacy"]
    inspector = await headers_for(client, "fdo-inspector")
    assert len((await client.get("/api/organizations", headers=inspector)).json()) == 11
    users = (await client.get("/api/users", headers=pharmacy)).json()
    assert [u["username"] for u in users] == ["razi-pharmacy"]


async def test_schema_ui_is_self_hosted(client: AsyncTestClient[Any]) -> None:
    page = await client.get("/schema/")
    assert page.status_code == 200
    assert "/schema/assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    asset = await client.get("/schema/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    spec = (await client.get("/schema/openapi.json")).json()
    assert "/api/auth/login" in spec["paths"]
    assert "/api/access-log" in spec["paths"]


async def test_an_administrator_sets_company_prefixes_that_never_overlap(
    client: AsyncTestClient[Any],
) -> None:
    admin = await headers_for(client, "fdo-admin")
    before = await _count(client, "/api/organizations", admin)
    body = {"gln": NEW_GLN, "name": "Kimia Darou", "name_fa": "کیمیا دارو", "kind": "manufacturer"}
    refusals = [
        (["626"], 422, "4 to 12 digits"),
        (["62600A1"], 422, "4 to 12 digits"),
        (["0000095"], 422, "GTIN-8 range"),
        (["6260013", "62600131"], 422, "lies inside 6260013"),
        (["626000991"], 409, "Sina Darou Pharmaceutical"),  # inside Sina Darou's 62600099
        (["6260"], 409, "belongs to"),  # around Sina Darou's and Zagros Pharmed's
    ]
    for company_prefixes, status, words in refusals:
        response = await client.post(
            "/api/organizations", json=body | {"company_prefixes": company_prefixes}, headers=admin
        )
        assert response.status_code == status, (company_prefixes, response.text)
        assert response.json()["field"] == "company_prefixes"
        assert words in response.json()["detail"], response.text
    assert await _count(client, "/api/organizations", admin) == before

    created = await client.post(
        "/api/organizations",
        json=body | {"company_prefixes": ["6260013", "000001234567"]},  # + a GTIN-8's licence
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json()["company_prefixes"] == ["000001234567", "6260013"]
    path = f"/api/organizations/{created.json()['id']}"
    clash = await client.patch(path, json={"company_prefixes": ["6260012"]}, headers=admin)
    assert clash.status_code == 409
    assert "Zagros Pharmed" in clash.json()["detail"]
    assert (await client.get(path, headers=admin)).json()["company_prefixes"] == [
        "000001234567",
        "6260013",
    ]
    changed = await client.patch(path, json={"company_prefixes": ["6260014"]}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["company_prefixes"] == ["6260014"]
    sina = await headers_for(client, "sina-darou")
    own = (await client.get("/api/organizations", headers=sina)).json()
    assert [o["company_prefixes"] for o in own] == [["62600099"]]
    refused = await client.patch(path, json={"company_prefixes": ["6260015"]}, headers=sina)
    assert refused.status_code == 403
