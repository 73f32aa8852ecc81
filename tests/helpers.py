"""Small helpers for API tests: logging in as the demo users and devices."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import AsyncTestClient
from sqlmodel import select

from app import demo
from app.auth.credentials import issue_token
from models.gs1 import with_check_digit
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


def facility_gln(username: str) -> str:
    return LOGINS[username].facility_gln


def pack_code(gtin: str, serial: str, lot: str | None = None) -> str:
    """A pack's code as a scanner reads a GS1 DataMatrix: element string with a GS separator."""
    code = f"01{gtin}21{serial}"
    return code + (f"\x1d10{lot}" if lot else "")


async def register_batch(
    client: AsyncTestClient[Any],
    headers: dict[str, str],
    *,
    item: str = "001",
    lot: str = "L2026A",
    expiry: str = "2028-06-30",
    quantity: int = 10_000,
    count: int = 0,
) -> tuple[str, str, list[str]]:
    """Register a product and a batch as the manufacturer and commission `count` packs;
    returns (gtin, lot, serials)."""
    gtin = with_check_digit("0626000999" + item.zfill(3)[-3:])
    product = await client.post(
        "/api/products",
        json={
            "gtin": gtin,
            "name": f"Amoxicillin 500 mg ({item})",
            "name_fa": "آموکسی‌سیلین ۵۰۰",
            "generic_name": "amoxicillin",
            "form": "capsule",
            "strength": "500 mg",
            "pack_size": 16,
            "atc": "J01CA04",
            "irc": f"IRC{item}",
        },
        headers=headers,
    )
    assert product.status_code == 201, product.text
    batch = await client.post(
        "/api/batches",
        json={
            "gtin": gtin,
            "lot": lot,
            "expiry": expiry,
            "manufactured_on": "2025-06-01",
            "quantity": quantity,
            "origin": "produced",
        },
        headers=headers,
    )
    assert batch.status_code == 201, batch.text
    serials: list[str] = []
    if count:
        done = await client.post(
            f"/api/batches/{gtin}/{lot}/packs", json={"count": count}, headers=headers
        )
        assert done.status_code == 201, done.text
        csv = await client.get(f"/api/batches/{gtin}/{lot}/packs.csv", headers=headers)
        assert csv.status_code == 200, csv.text
        serials = [line.split(",")[1] for line in csv.text.splitlines()[1:]]
    return gtin, lot, serials


async def event(
    client: AsyncTestClient[Any],
    headers: dict[str, str],
    action: str,
    codes: list[str],
    **fields: Any,
) -> Any:
    body = {"event_id": str(uuid.uuid4()), "action": action, "codes": codes} | fields
    return await client.post("/api/events", json=body, headers=headers)
