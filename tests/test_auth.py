import uuid
from datetime import timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from app.auth.credentials import issue_token
from tests.helpers import LOGINS, device_headers, login, me

PROBLEM = "application/problem+json"


async def test_login_returns_a_bearer_token_that_works(client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        "/api/auth/login", json={"username": "razi-pharmacy", "password": "razi-pharmacy-demo"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    who = await me(client, {"Authorization": f"Bearer {body['access_token']}"})
    assert who["name"] == "razi-pharmacy"
    assert who["role"] == "pharmacy"
    assert who["kind"] == "user"


async def test_wrong_password_and_unknown_user_get_the_same_401(
    client: AsyncTestClient[Any],
) -> None:
    wrong = await client.post(
        "/api/auth/login", json={"username": "razi-pharmacy", "password": "not-the-password"}
    )
    unknown = await client.post(
        "/api/auth/login", json={"username": "nobody-here", "password": "whatever123"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["content-type"] == PROBLEM
    assert wrong.json()["detail"] == unknown.json()["detail"] == "Invalid username or password."


async def test_login_body_is_validated(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/api/auth/login", json={"username": "razi-pharmacy"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "password is required"


async def test_no_credentials_is_401_with_a_challenge(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/api/organizations")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "POST /api/auth/login" in response.json()["detail"]


async def test_malformed_and_forged_tokens_are_rejected(client: AsyncTestClient[Any]) -> None:
    for header in ("Token abc", "Bearer ", "Bearer not.a.jwt"):
        response = await client.get("/api/organizations", headers={"Authorization": header})
        assert response.status_code == 401, header
    forged = issue_token(uuid.uuid4(), "some-other-secret-" + "y" * 40, timedelta(minutes=5)).token
    response = await client.get("/api/organizations", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_expired_token_is_rejected(client: AsyncTestClient[Any]) -> None:
    headers = await login(client, "razi-pharmacy")
    user_id = (await me(client, headers))["id"]
    secret = client.app.state.darutrace.jwt_secret
    expired = issue_token(uuid.UUID(user_id), secret, timedelta(seconds=-1)).token
    response = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_logout_ends_the_token_only(client: AsyncTestClient[Any]) -> None:
    first = await login(client, "razi-pharmacy")
    second = await login(client, "razi-pharmacy")
    assert (await client.post("/api/auth/logout", headers=first)).status_code == 204
    assert (await client.get("/api/auth/me", headers=first)).status_code == 401
    assert (await client.get("/api/auth/me", headers=second)).status_code == 200


async def test_disabled_user_cannot_log_in_or_use_a_token(client: AsyncTestClient[Any]) -> None:
    admin = await login(client, "fdo-admin")
    pharmacist = await login(client, "razi-pharmacy")
    user_id = (await me(client, pharmacist))["id"]
    response = await client.patch(f"/api/users/{user_id}", json={"is_active": False}, headers=admin)
    assert response.status_code == 200
    assert (await client.get("/api/auth/me", headers=pharmacist)).status_code == 401
    response = await client.post(
        "/api/auth/login",
        json={"username": "razi-pharmacy", "password": LOGINS["razi-pharmacy"].password},
    )
    assert response.status_code == 401


async def test_device_key_authenticates_as_its_facility(client: AsyncTestClient[Any]) -> None:
    gln = LOGINS["razi-pharmacy"].facility_gln
    who = await me(client, device_headers(gln))
    assert who["kind"] == "device"
    assert who["role"] == "pharmacy"
    assert who["facility_id"] is not None
    response = await client.get("/api/auth/me", headers={"X-API-Key": "dtk_wrong"})
    assert response.status_code == 401


async def test_revoked_device_key_stops_working(client: AsyncTestClient[Any]) -> None:
    gln = LOGINS["razi-pharmacy"].facility_gln
    device_id = (await me(client, device_headers(gln)))["id"]
    owner = await login(client, "razi-pharmacy")
    response = await client.post(f"/api/devices/{device_id}/revoke", headers=owner)
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    response = await client.get("/api/auth/me", headers=device_headers(gln))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
