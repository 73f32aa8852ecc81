"""Each role × own / other organisation × each endpoint. Another organisation's object is 404
(its existence does not leak); a role that may not call an endpoint gets 403. Later endpoints
add rows here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from app.demo_supply import demo_gtin
from models.gs1 import with_check_digit
from tests.helpers import DEVICES, LOGINS, USER_BY_ROLE, device_headers, headers_for

ADMIN, INSPECTOR = "admin", "inspector"
ORG_ROLES = ("manufacturer", "importer", "distributor", "pharmacy", "hospital")
CALLERS = (ADMIN, INSPECTOR, *ORG_ROLES, "device")
OTHER_USER = "zagros-pharmed"  # no caller belongs to Zagros Pharmed


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    expected: dict[str, int]
    body: dict[str, str] = field(default_factory=dict)


def statuses(admin: int, inspector: int, organizations: int, device: int = 403) -> dict[str, int]:
    return {ADMIN: admin, INSPECTOR: inspector, "device": device} | dict.fromkeys(
        ORG_ROLES, organizations
    )


AMX_GTIN = demo_gtin("101")
AMX = f"{AMX_GTIN}/AMX2601"  # Sina Darou's
ATV = f"{demo_gtin('103')}/ATV2604"  # Zagros Pharmed's
HANDLED_AMX = statuses(200, 200, 200) | {"importer": 404}
HANDLED_ATV = statuses(200, 200, 404) | {"pharmacy": 200}
NEW_GLN = with_check_digit("626000888800")
NEW_GTIN = with_check_digit("0626000888800")  # under no company prefix: a foreign GTIN
OWN_NEW_GTIN = with_check_digit("0626000998800")  # under the manufacturer's prefix, 62600099
CASES = [
    Case("list organisations", "GET", "/api/organizations", statuses(200, 200, 200)),
    Case("own organisation", "GET", "/api/organizations/{own_org}", statuses(200, 200, 200)),
    Case("other organisation", "GET", "/api/organizations/{other_org}", statuses(200, 200, 404)),
    Case(
        "create organisation",
        "POST",
        "/api/organizations",
        statuses(201, 403, 403),
        {"gln": NEW_GLN, "name": "New", "name_fa": "تازه", "kind": "pharmacy"},
    ),
    Case(
        "set company prefixes",
        "PATCH",
        "/api/organizations/{other_org}",
        statuses(200, 403, 403),
        {"company_prefixes": "6260013"},
    ),
    Case("list facilities", "GET", "/api/facilities", statuses(200, 200, 200, device=200)),
    Case("own facility", "GET", "/api/facilities/{own_facility}", statuses(200, 200, 200, 200)),
    Case("other facility", "GET", "/api/facilities/{other_facility}", statuses(200, 200, 404, 404)),
    Case(
        "create facility",
        "POST",
        "/api/facilities",
        statuses(201, 403, 403),
        {
            "gln": NEW_GLN,
            "organization_id": "{own_org}",
            "name": "Branch",
            "province": "Tehran",
            "city": "Tehran",
        },
    ),
    Case("list users", "GET", "/api/users", statuses(200, 200, 200)),
    Case("own user", "GET", "/api/users/{own_user}", statuses(200, 200, 200)),
    Case("other user", "GET", "/api/users/{other_user}", statuses(200, 200, 404)),
    Case(
        "create user",
        "POST",
        "/api/users",
        statuses(201, 403, 403),
        {
            "username": "new-user",
            "password": "long-enough-1",
            "role": "manufacturer",
            "organization_id": "{other_org}",
        },
    ),
    Case("disable user", "PATCH", "/api/users/{other_user}", statuses(200, 403, 403)),
    Case("list devices", "GET", "/api/devices", statuses(200, 200, 200)),
    Case("own device", "GET", "/api/devices/{own_device}", statuses(200, 200, 200)),
    Case("other device", "GET", "/api/devices/{other_device}", statuses(200, 200, 404)),
    Case(
        "create device at own facility",
        "POST",
        "/api/devices",
        statuses(201, 403, 201),
        {"facility_id": "{own_facility}", "name": "Counter 2"},
    ),
    Case(
        "create device at other facility",
        "POST",
        "/api/devices",
        statuses(201, 403, 422),
        {"facility_id": "{other_facility}", "name": "Counter 2"},
    ),
    Case("revoke own device", "POST", "/api/devices/{own_device}/revoke", statuses(200, 403, 200)),
    Case(
        "revoke other device",
        "POST",
        "/api/devices/{other_device}/revoke",
        statuses(200, 403, 404),
    ),
    Case("access log", "GET", "/api/access-log", statuses(200, 200, 403)),
    Case("who am I", "GET", "/api/auth/me", statuses(200, 200, 200, device=200)),
    Case("product register", "GET", "/api/products", statuses(200, 200, 200, device=200)),
    Case(
        "register product",
        "POST",
        "/api/products",
        statuses(403, 403, 403) | {"manufacturer": 201, "importer": 201},
        {
            "gtin": "{new_gtin}",
            "name": "Product",
            "name_fa": "فرآورده",
            "generic_name": "generic",
            "form": "tablet",
            "strength": "1 mg",
            "pack_size": "10",
            "atc": "A01AA01",
            "irc": "IRC1",
        },
    ),
    Case(
        "list batches",
        "GET",
        "/api/batches",
        statuses(200, 200, 403) | {"manufacturer": 200, "importer": 200},
    ),
    Case(
        "verify",
        "POST",
        "/api/verify",
        statuses(200, 200, 200, device=200),
        {"code": f"(01){NEW_GTIN}(21)ABC"},
    ),
    Case(
        "dispense",
        "POST",
        "/api/events",
        # Allowed to dispense: the unknown pack is then refused (422).
        statuses(403, 403, 403, device=422) | {"pharmacy": 422, "hospital": 422},
        {"event_id": "{event_id}", "action": "dispense", "codes": f"(01){NEW_GTIN}(21)ABC"},
    ),
    Case("list recalls", "GET", "/api/recalls", statuses(200, 200, 200)),
    Case(
        "issue recall",
        "POST",
        "/api/recalls",
        # Allowed to issue: the order naming no batch is then refused (422).
        statuses(403, 422, 403),
        {
            "gtin": NEW_GTIN,
            "recall_class": "I",
            "reason": "contamination",
            "instructions": "return all stock",
            "deadline": "2099-01-01",
        },
    ),
    Case("missing recall", "GET", f"/api/recalls/{uuid.UUID(int=7)}", statuses(404, 404, 404)),
    Case(
        "acknowledge missing recall",
        "POST",
        f"/api/recalls/{uuid.UUID(int=7)}/acknowledge",
        statuses(403, 403, 404),
    ),
    Case("list alerts", "GET", "/api/alerts", statuses(200, 200, 200)),
    Case(
        "triage missing alert",
        "POST",
        f"/api/alerts/{uuid.UUID(int=7)}/status",
        statuses(403, 404, 404),
        {"status": "investigating"},
    ),
    # Trace: an organisation sees a batch or pack it has handled (in the demo world Sina Darou's
    # AMX2601 went through Daru Pakhsh to the pharmacies and the hospital; Zagros Pharmed's
    # ATV2604 through Fars Pakhsh to the pharmacies); others get 404, devices 403.
    Case("batch distribution", "GET", f"/api/batches/{AMX}/distribution", HANDLED_AMX),
    Case("batch forward trace", "GET", f"/api/batches/{AMX}/trace", HANDLED_AMX),
    Case("other batch distribution", "GET", f"/api/batches/{ATV}/distribution", HANDLED_ATV),
    Case("other batch forward trace", "GET", f"/api/batches/{ATV}/trace", HANDLED_ATV),
    Case(
        "pack backward trace",
        "GET",
        f"/api/packs/{AMX_GTIN}/{{amx_serial}}/trace",
        # The first pack went from the plant to Daru Pakhsh's Tehran hub and Dr. Razi Pharmacy.
        HANDLED_AMX | {"hospital": 404},
    ),
    # The same histories as EPCIS documents, scoped as their twins.
    Case("batch EPCIS export", "GET", f"/api/batches/{AMX}/epcis", HANDLED_AMX),
    Case("other batch EPCIS export", "GET", f"/api/batches/{ATV}/epcis", HANDLED_ATV),
    Case(
        "pack EPCIS export",
        "GET",
        f"/api/packs/{AMX_GTIN}/{{amx_serial}}/epcis",
        HANDLED_AMX | {"hospital": 404},
    ),
    Case(
        "own inventory",
        "GET",
        "/api/facilities/{own_gln}/inventory",
        statuses(200, 200, 200, device=200),
    ),
    Case(
        "own inventory CSV",
        "GET",
        "/api/facilities/{own_gln}/inventory.csv",
        statuses(200, 200, 200, device=200),
    ),
    Case(
        "other inventory",
        "GET",
        "/api/facilities/{other_gln}/inventory",
        statuses(200, 200, 404, device=404),
    ),
]


async def _ids(client: AsyncTestClient[Any], caller: str) -> dict[str, str]:
    """Ids of the caller's own objects and of another organisation's (Zagros Pharmed's)."""
    admin = await headers_for(client, "fdo-admin")
    username = USER_BY_ROLE.get(caller, "razi-pharmacy")
    own_gln = LOGINS[username].facility_gln
    other_gln = LOGINS[OTHER_USER].facility_gln
    facilities = {f["gln"]: f for f in (await client.get("/api/facilities", headers=admin)).json()}
    users = {u["username"]: u for u in (await client.get("/api/users", headers=admin)).json()}
    devices = (await client.get("/api/devices", headers=admin)).json()
    device_by_facility = {d["facility_id"]: d["id"] for d in devices}
    own, other = facilities[own_gln], facilities[other_gln]
    serials = await client.get(f"/api/batches/{AMX}/packs.csv", headers=admin)
    return {
        "own_gln": own_gln,
        "other_gln": other_gln,
        "amx_serial": serials.text.splitlines()[1].split(",")[1],
        "own_org": own["organization_id"],
        "other_org": other["organization_id"],
        "own_facility": own["id"],
        "other_facility": other["id"],
        "own_user": users[username]["id"],
        "other_user": users[OTHER_USER]["id"],
        "own_device": device_by_facility[own["id"]],
        "other_device": device_by_facility[other["id"]],
        # A product the caller may register: its own GTIN for a manufacturer, else a foreign one.
        "new_gtin": OWN_NEW_GTIN if caller == "manufacturer" else NEW_GTIN,
    }


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_authorization_matrix(client: AsyncTestClient[Any], caller: str, case: Case) -> None:
    ids = await _ids(client, caller)
    if caller == "device":
        headers = device_headers(LOGINS["razi-pharmacy"].facility_gln)
    else:
        headers = await headers_for(client, USER_BY_ROLE[caller])
    path = case.path.format(**ids)
    body: dict[str, Any] = {
        key: value.format(**ids, event_id=uuid.uuid4()) for key, value in case.body.items()
    }
    if "pack_size" in body:
        body["pack_size"] = int(body["pack_size"])
    if "codes" in body:
        body["codes"] = [body["codes"]]
    if "company_prefixes" in body:
        body["company_prefixes"] = [body["company_prefixes"]]
    if case.method == "PATCH" and not body:
        body = {"is_active": False}
    response = await client.request(
        case.method, path, headers=headers, json=body if case.method != "GET" else None
    )
    assert response.status_code == case.expected[caller], response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"


def test_every_device_key_in_the_demo_is_distinct() -> None:
    assert len({d.api_key for d in DEVICES.values()}) == len(DEVICES)


def test_every_endpoint_declares_who_may_call_it(app: Any) -> None:
    """Public routes say so (`opt={"public": True}`, plus the API docs); every other route has
    an `allow(...)` guard, on itself or its controller."""
    undeclared = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            automatic = handler.http_methods == {"OPTIONS"}  # Litestar's own CORS pre-flight
            if automatic or handler.opt.get("public") or route.path.startswith("/schema"):
                continue
            guards = handler.resolve_guards()
            if not any(hasattr(guard, "allowed_roles") for guard in guards):
                undeclared.append(f"{sorted(handler.http_methods)} {route.path}")
    assert undeclared == []
