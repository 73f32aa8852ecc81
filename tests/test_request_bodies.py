"""Request bodies through the HTTP API: a body that cannot be read is a 400 problem on every
endpoint that takes one; a field whose value does not fit is a 422 naming the field in plain
words, in the body as in a parameter; numbers in quotes are not numbers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from app.auth.middleware import PAGE_OPT, PUBLIC_OPT
from app.openapi_problems import WRITE_METHODS
from app.problems import plain_words
from tests.helpers import USER_BY_ROLE, event, facility_gln, headers_for, register_batch

PROBLEM = "application/problem+json"
Client = AsyncTestClient[Litestar]
NESTED = b"[" * 100_000 + b"]" * 100_000
UNREADABLE_BODIES = {
    "100,000 nested arrays": NESTED,
    "100,000 nested arrays in a member": b'{"extra": ' + NESTED + b"}",
    "invalid UTF-8": b'{"\xff\xfe": 1}',
    "not JSON": b"{event_id:",
}
PATH_PARAMETER = re.compile(r"\{(\w+):(\w+)\}")


@dataclass(frozen=True)
class BodyEndpoint:
    method: str
    path: str
    handler: HTTPRouteHandler

    def url(self) -> str:
        """The path with its parameters filled in: the body is read before any is looked up."""
        values = {"uuid": str(uuid.uuid4()), "int": "1"}
        return PATH_PARAMETER.sub(lambda m: values.get(m[2], "x"), self.path)

    def caller(self) -> str | None:
        """A demo user the endpoint's guard lets through (None for a public endpoint)."""
        if self.handler.opt.get(PUBLIC_OPT):
            return None
        guards: list[Any] = list(self.handler.guards or [])
        allowed = {role for guard in guards for role in guard.allowed_roles}
        return next(user for role, user in USER_BY_ROLE.items() if not allowed or role in allowed)


def body_endpoints(app: Litestar) -> Iterator[BodyEndpoint]:
    """Every write endpoint that takes a body, from the app's route table."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if "data" not in handler.parsed_fn_signature.parameters:
                continue
            if handler.opt.get(PAGE_OPT):
                continue  # the console's forms: URL-encoded, behind CSRF (tests/test_console*)
            for method in sorted(handler.http_methods & WRITE_METHODS):
                yield BodyEndpoint(method, route.path, handler)


async def test_a_body_that_cannot_be_read_is_a_400_problem_on_every_endpoint(
    client: Client,
) -> None:
    endpoints = list(body_endpoints(client.app))
    paths = {endpoint.path for endpoint in endpoints}
    assert {"/api/events", "/api/auth/login", "/api/users/{user_id:uuid}"} <= paths, paths
    for endpoint in endpoints:
        caller = endpoint.caller()
        headers = await headers_for(client, caller) if caller else {}
        headers |= {"content-type": "application/json"}
        for name, body in UNREADABLE_BODIES.items():
            response = await client.request(
                endpoint.method, endpoint.url(), content=body, headers=headers
            )
            label = (endpoint.method, endpoint.path, name)
            assert response.status_code == 400, (*label, response.text[:300])
            assert response.headers["content-type"] == PROBLEM, label
            assert response.json()["detail"].startswith("The body "), (label, response.text)


async def test_an_empty_body_is_a_400_saying_so(client: Client) -> None:
    pharmacy = await headers_for(client, "razi-pharmacy")
    response = await client.post(
        "/api/events", content=b"", headers=pharmacy | {"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert "no body" in response.json()["detail"]


async def test_field_errors_are_422_naming_the_field_in_plain_words(client: Client) -> None:
    pharmacy = await headers_for(client, "razi-pharmacy")
    malformed_date = await event(client, pharmacy, "dispense", ["x"], event_time="yesterday")
    assert malformed_date.status_code == 422, malformed_date.text
    assert malformed_date.headers["content-type"] == PROBLEM
    problem = malformed_date.json()
    assert problem["detail"] == (
        "event_time: not a date-time in ISO 8601 form (e.g. 2026-05-01T10:00:00Z)"
    )
    assert problem["field"] == "event_time"
    assert problem["title"] == "Invalid input"  # as the services' own field errors

    no_id = await client.post(
        "/api/events", json={"action": "dispense", "codes": ["x"]}, headers=pharmacy
    )
    assert no_id.status_code == 422, no_id.text
    assert no_id.json()["detail"] == "event_id is required"
    assert no_id.json()["field"] == "event_id"

    nested = await event(client, pharmacy, "dispense", ["ok", 7])
    assert nested.status_code == 422, nested.text
    assert nested.json()["detail"] == "codes[1]: must be a string, not a whole number"

    unknown_action = await event(client, pharmacy, "teleport", ["x"])
    assert unknown_action.status_code == 422, unknown_action.text
    assert unknown_action.json()["detail"].startswith(
        "action: 'teleport' is not one of the accepted values (commission, ship, receive,"
    )
    status = await client.get(
        "/api/alerts?status=gone", headers=await headers_for(client, "fdo-admin")
    )
    assert status.status_code == 422, status.text
    assert status.json()["detail"] == (
        "status: 'gone' is not one of the accepted values (new, investigating, closed)"
    )

    limit = await client.get("/api/alerts?limit=0", headers=await headers_for(client, "fdo-admin"))
    assert limit.status_code == 422, limit.text
    assert limit.json()["detail"] == "limit: must be at least 1"
    assert limit.json()["errors"] == [
        {"field": "limit", "detail": "limit: must be at least 1", "source": "query"}
    ]


async def test_a_body_that_is_not_an_object_is_a_400(client: Client) -> None:
    pharmacy = await headers_for(client, "razi-pharmacy")
    response = await client.post("/api/verify", json=["01..."], headers=pharmacy)
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == "The body cannot be read: it must be an object, not a list."


async def test_numbers_in_quotes_are_refused_and_change_nothing(client: Client) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, lot, _ = await register_batch(client, maker)
    packs = f"/api/batches/{gtin}/{lot}/packs"
    quoted = await client.post(packs, json={"count": "10"}, headers=maker)
    assert quoted.status_code == 422, quoted.text
    assert quoted.json()["detail"] == "count: must be a whole number, not a string"
    fractional = await client.post(packs, json={"count": 10.0}, headers=maker)
    assert fractional.status_code == 422, fractional.text
    listed = await client.get(f"{packs}.csv", headers=maker)
    assert listed.text.splitlines()[1:] == []  # nothing was commissioned

    batch = await client.post(
        "/api/batches",
        json={
            "gtin": gtin,
            "lot": "L2",
            "expiry": "2028-06-30",
            "manufactured_on": "2025-06-01",
            "quantity": "500",
            "origin": "produced",
        },
        headers=maker,
    )
    assert batch.status_code == 422, batch.text
    assert batch.json()["field"] == "quantity"

    pharmacy = await headers_for(client, "razi-pharmacy")
    flag = await event(
        client,
        pharmacy,
        "dispense",
        ["x"],
        offline="true",
        facility_gln=facility_gln("razi-pharmacy"),
    )
    assert flag.status_code == 422, flag.text
    assert flag.json()["detail"] == "offline: must be true or false, not a string"


def quotable_fields(endpoint: BodyEndpoint) -> Iterator[tuple[str, str]]:
    """The body's number and true/false fields, each with a value in quotes that lenient
    decoding would take for one."""
    body = msgspec.inspect.type_info(
        endpoint.handler.parsed_fn_signature.parameters["data"].annotation
    )
    assert isinstance(body, msgspec.inspect.StructType)
    for field in body.fields:
        kinds = (
            field.type.types if isinstance(field.type, msgspec.inspect.UnionType) else (field.type,)
        )
        for kind in kinds:
            if isinstance(kind, msgspec.inspect.IntType | msgspec.inspect.FloatType):
                yield field.encode_name, "5"
            elif isinstance(kind, msgspec.inspect.BoolType):
                yield field.encode_name, "true"


async def test_no_endpoint_takes_a_number_or_a_boolean_in_quotes(client: Client) -> None:
    checked = set()
    for endpoint in body_endpoints(client.app):
        caller = endpoint.caller()
        headers = await headers_for(client, caller) if caller else {}
        for name, quoted in quotable_fields(endpoint):
            response = await client.request(
                endpoint.method, endpoint.url(), json={name: quoted}, headers=headers
            )
            label = (endpoint.method, endpoint.path, name)
            assert response.status_code == 422, (*label, response.text)
            assert response.json()["field"] == name, (*label, response.text)
            checked.add(name)
    assert {"count", "quantity", "pack_size", "offline"} <= checked, checked


async def test_numbers_in_the_query_string_are_still_read(client: Client) -> None:
    """A query string has only text: strictness is for JSON bodies."""
    admin = await headers_for(client, "fdo-admin")
    response = await client.get("/api/alerts?limit=5", headers=admin)
    assert response.status_code == 200, response.text


def test_an_unknown_msgspec_message_is_passed_on_without_markup() -> None:
    assert plain_words("Expected `int` that's a multiple of 3") == (
        "Expected int that's a multiple of 3"
    )
    assert plain_words("Expected `str` of length <= 20") == "must be at most 20 characters long"
    assert plain_words("Expected `array` of length <= 10000") == "must have at most 10000 items"
