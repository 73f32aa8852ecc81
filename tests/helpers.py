"""Small helpers for API tests: logging in as the demo users and devices."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlmodel import select

from app import demo
from app.auth.credentials import issue_token
from models.identity import User

LOGINS = {login.username: login for login in demo.logins()}
DEVICES = {device.facility_gln: device for device in demo.devices()}

# One demo user per role, for the authorization matrix.
USER_BY_ROLE = {
    "admin": "fdo-admin",
    "inspector": "fdo-inspector",
    "manufacturer": "sina-darou",
    "importer": "pars-import",
    "distributor": "darupakhsh",
    "pharmacy": "razi-pharmacy",
    "hospital": "imamreza-hospital",
}


async def headers_for(client: AsyncTestClient[Any], username: str) -> dict[str, str]:
    """A valid access token for a demo user, minted with the app's key without the (deliberately
    slow) password check; tests of logging in itself use `login`."""
    runtime = client.app.state.darutrace
    async with runtime.db.session() as session:
        user = (await session.exec(select(User).where(User.username == username))).one()
    token = issue_token(user.id, runtime.jwt_secret, runtime.token_ttl).token
    return {"Authorization": f"Bearer {token}"}


async def login(client: AsyncTestClient[Any], username: str) -> dict[str, str]:
    response = await client.post(
        "/api/auth/login",
        json={"username": username, "password": LOGINS[username].password},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def device_headers(facility_gln: str) -> dict[str, str]:
    return {"X-API-Key": DEVICES[facility_gln].api_key}


async def me(client: AsyncTestClient[Any], headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/api/auth/me", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
