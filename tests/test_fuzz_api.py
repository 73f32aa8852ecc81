"""Fuzzing the API from its own OpenAPI schema (schemathesis): every operation gets generated
requests, valid ones and invalid ones, from no one, an inspector, an administrator and a
manufacturer. No answer may be a 5xx, and every answer must be what the schema documents:
status code, content type, body and headers. In-process against the Litestar app (ASGI), on
the real test database; deterministic (derandomized), with bounded example counts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from litestar import Litestar
from litestar.testing import AsyncTestClient
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi as schemathesis_asgi

from app.auth.credentials import issue_token
from app.db.database import Database
from app.factory import create_app
from app.state import app_state
from models.gs1 import with_check_digit
from tests.conftest import PgServer, database_at
from tests.helpers import USER_BY_ROLE, headers_for, register_batch

# The issue's checks: no 5xx, and the answer is what the schema documents.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]
POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
# Examples per operation and generation mode, for each caller (None: no credentials). About
# 1,300 requests in all (about 45 s); the inspector and the administrator get invalid ones too.
BUDGET: dict[str | None, dict[GenerationMode, int]] = {
    None: {POSITIVE: 4},
    "inspector": {POSITIVE: 6, NEGATIVE: 4},
    "admin": {POSITIVE: 4, NEGATIVE: 3},
    "manufacturer": {POSITIVE: 4},
}


@dataclass
class Tally:
    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def fuzz_app(pg_server: PgServer, test_database: str) -> Iterator[Litestar]:
    """An application of its own: schemathesis serves it on its own event loop, lifespan (the
    pool) included, apart from the application the other tests' clients share."""
    db = database_at(pg_server, test_database)
    yield create_app(db.settings, db)
    schemathesis_asgi.shutdown_lifespans()


def _user_id(database: Database, username: str) -> uuid.UUID:
    url = sa.make_url(database.url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT id FROM users WHERE username = %s", (username,)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def _credentials(app: Litestar, user_id: uuid.UUID | None) -> Callable[[], dict[str, str]]:
    """A fresh token for every request, so that a generated logout revokes only its own."""
    runtime = app_state(app)

    def headers() -> dict[str, str]:
        if user_id is None:
            return {}
        token = issue_token(user_id, runtime.jwt_secret, runtime.token_ttl).token
        return {"Authorization": f"Bearer {token}"}

    return headers


def _fuzz(
    schema: schemathesis.BaseSchema,
    headers: Callable[[], dict[str, str]],
    budget: dict[GenerationMode, int],
) -> Tally:
    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, examples in budget.items():

            @settings(
                max_examples=examples,
                derandomize=True,  # the same requests on every run (CI included)
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate],  # no shrinking: report as found
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                response = case.call(headers=headers())
                tally.cases += 1
                tally.statuses[response.status_code] = (
                    tally.statuses.get(response.status_code, 0) + 1
                )
                case.validate_response(response, checks=CHECKS)

            try:
                run()
            except (Exception, FailureGroup) as exc:  # all operations' failures, at the end
                tally.failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:2000]}")
    return tally


@pytest.mark.parametrize("role", list(BUDGET))
def test_every_generated_request_gets_a_documented_answer(
    fuzz_app: Litestar, database: Database, role: str | None
) -> None:
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", fuzz_app)
    user_id = _user_id(database, USER_BY_ROLE[role]) if role else None
    started = time.monotonic()
    tally = _fuzz(schema, _credentials(fuzz_app, user_id), BUDGET[role])
    seconds = time.monotonic() - started
    statuses = sorted(tally.statuses.items())
    print(f"\nfuzz as {role}: {tally.cases} cases in {seconds:.1f} s, statuses {statuses}")
    assert not tally.failures, "\n\n".join(tally.failures)
    assert tally.cases >= 3 * len(list(schema.get_all_operations()))
    if role is not None:  # the credentials work: generated requests get past 401 and 403
        assert sum(n for status, n in tally.statuses.items() if status < 300) > tally.cases / 10


# What the fuzzing found, kept as plain tests.


async def test_nul_characters_and_negative_limits_are_refused_not_500(
    client: AsyncTestClient[Any],
) -> None:
    inspector = await headers_for(client, "fdo-inspector")
    for query, status in {
        "gtin=%00": 400,
        "serial=A%00B": 400,
        "limit=-5": 422,
        "limit=1001": 422,
    }.items():
        response = await client.get(f"/api/alerts?{query}", headers=inspector)
        assert response.status_code == status, (query, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    recall = f"/api/recalls/{uuid.uuid4()}/packs?limit=-1"
    assert (await client.get(recall, headers=inspector)).status_code == 422
    codes = await client.post("/api/verify", json={"code": "01\x0021A"}, headers=inspector)
    assert codes.status_code < 500, codes.text
    maker = await headers_for(client, "sina-darou")
    product = {
        "gtin": with_check_digit("0626000999777"),
        "name": "A\x00B",  # a text PostgreSQL cannot store
        "name_fa": "x",
        "generic_name": "x",
        "form": "tablet",
        "strength": "1 mg",
        "pack_size": 1,
        "atc": "N02",
        "irc": "IRC777",
    }
    stored = await client.post("/api/products", json=product, headers=maker)
    assert stored.status_code == 400, stored.text
    assert "NUL" in stored.json()["detail"]


async def test_a_malformed_uri_is_an_unreadable_code_not_a_500(
    client: AsyncTestClient[Any],
) -> None:
    pharmacy = await headers_for(client, "razi-pharmacy")
    parsed = await client.post("/api/codes/parse", json={"codes": ["http://["]}, headers=pharmacy)
    assert parsed.status_code == 200, parsed.text
    assert parsed.json()[0]["ok"] is False
    assert "not a GS1 Digital Link URI" in parsed.json()[0]["error"]
    verified = await client.post("/api/verify", json={"code": "https://[x/01/1"}, headers=pharmacy)
    assert verified.status_code == 422, verified.text


async def test_the_resolver_page_says_its_charset_once(client: AsyncTestClient[Any]) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, _, serials = await register_batch(client, maker, count=1)
    page = await client.get(f"/01/{gtin}/21/{serials[0]}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"


async def test_problems_are_documented_on_every_operation(client: AsyncTestClient[Any]) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "patch", "put", "delete"}:
                continue
            responses = operation["responses"]
            assert {"400", "404", "422", "503"} <= responses.keys(), (method, path)
            assert "application/problem+json" in responses["404"]["content"], (method, path)
    login = schema["paths"]["/api/auth/login"]["post"]["responses"]
    assert "401" in login and "403" not in login
    assert {"401", "403"} <= schema["paths"]["/api/products"]["get"]["responses"].keys()
    page = schema["paths"]["/01/{gtin}/21/{serial}"]["get"]["responses"]
    assert {"text/html", "application/json", "application/linkset+json"} <= page["200"][
        "content"
    ].keys()
    assert {"text/html", "application/problem+json"} <= page["422"]["content"].keys()
    assert (
        "text/html" not in schema["paths"]["/api/products"]["post"]["responses"]["422"]["content"]
    )
