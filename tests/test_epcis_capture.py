"""EPCIS 2.0 capture: a manufacturer's line system commissions, packs and ships by EPCIS; the
register follows as if it had all come through /api/events."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.auth.principal import Principal
from app.db.database import Database
from app.epcis import capture
from models.epcis import ErrorBehaviour
from models.identity import Role
from tests.conftest import client_for
from tests.epcis_documents import (
    captured,
    commissioning,
    document,
    packing,
    sgtin_dl,
    sgtin_urn,
    shipping,
    sscc_dl,
)
from tests.helpers import event, facility_gln, headers_for, pack_code, register_batch
from tests.test_aggregation import case_code, sscc

MAKER, DISTRIBUTOR = "sina-darou", "darupakhsh"


def serials_of(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n:06d}" for n in range(count)]


async def _pack(client: AsyncTestClient[Any], gtin: str, serial: str) -> dict[str, Any]:
    inspector = await headers_for(client, "fdo-inspector")
    response = await client.get(f"/api/packs/{gtin}/{serial}", headers=inspector)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _state(pack: dict[str, Any]) -> tuple[Any, ...]:
    return pack["status"], pack["holder"], pack["overlays"]


async def test_a_line_system_commissions_packs_and_ships_cases_by_epcis(
    client: AsyncTestClient[Any],
) -> None:
    maker = await headers_for(client, MAKER)
    site, destination = facility_gln(MAKER), facility_gln(DISTRIBUTOR)
    gtin, lot, _ = await register_batch(client, maker, item="301", lot="EP01")
    serials = serials_of("EP", 40)
    cases = [sscc(301), sscc(302)]
    body = document(
        commissioning(gtin, serials, lot, "2028-06-30", site, "2026-11-30T06:00:00.000Z"),
        # The URN form for the first case's packs, Digital Link for the second's.
        packing(cases[0], [sgtin_urn(gtin, s) for s in serials[:20]], site,
                "2026-11-30T06:10:00.000Z"),
        packing(cases[1], [sgtin_dl(gtin, s) for s in serials[20:]], site,
                "2026-11-30T06:11:00.000Z"),
        shipping([sscc_dl(c) for c in cases], site, destination, "2026-11-30T07:00:00.000Z"),
    )  # fmt: skip
    job = await captured(client, maker, body)
    assert job["success"], job
    assert job["storedCount"] == 4 and job["errors"] == []

    pack = await _pack(client, gtin, serials[0])
    assert pack["status"] == "active"
    distributor = await headers_for(client, DISTRIBUTOR)
    received = await event(client, distributor, "receive", [case_code(cases[0])])
    assert received.status_code == 200, received.text
    assert received.json()["summary"] == {"ok": 1, "warning": 0, "refused": 0}

    # The same history through /api/events, for a second batch: the packs end the same.
    twin_gtin, _, twin = await register_batch(client, maker, item="302", lot="EP02", count=40)
    twin_cases = [sscc(303), sscc(304)]
    for case, part in ((twin_cases[0], twin[:20]), (twin_cases[1], twin[20:])):
        packed = await event(
            client, maker, "pack", [pack_code(twin_gtin, s) for s in part],
            container=case_code(case),
        )  # fmt: skip
        assert packed.status_code == 200, packed.text
    shipped = await event(
        client, maker, "ship", [case_code(c) for c in twin_cases], destination_gln=destination
    )
    assert shipped.status_code == 200, shipped.text
    received = await event(client, distributor, "receive", [case_code(twin_cases[0])])
    assert received.status_code == 200, received.text
    for mine, theirs in ((serials[0], twin[0]), (serials[25], twin[25])):
        assert _state(await _pack(client, gtin, mine)) == _state(
            await _pack(client, twin_gtin, theirs)
        )


async def _stored_count(client: AsyncTestClient[Any]) -> int:
    runtime = client.app.state.darutrace
    assert runtime.db.pool is not None
    async with runtime.db.pool.connection() as connection:
        row = await (await connection.execute("SELECT count(*) FROM epcis_events")).fetchone()
    assert row is not None
    return int(row[0])


async def test_an_invalid_document_names_its_problems_and_stores_nothing(
    client: AsyncTestClient[Any],
) -> None:
    maker = await headers_for(client, MAKER)
    site = facility_gln(MAKER)
    gtin, lot, _ = await register_batch(client, maker, item="311", lot="EP11")
    good = commissioning(gtin, ["A1"], lot, "2028-06-30", site, "2026-11-30T06:00:00Z")
    bad_digit = commissioning(gtin, ["A2"], lot, "2028-06-30", site, "2026-11-30T06:00:00Z")
    bad_digit["epcList"] = [f"https://id.gs1.org/01/{gtin[:-1]}{(int(gtin[-1]) + 1) % 10}/21/A2"]
    no_action = {k: v for k, v in good.items() if k != "action"}
    unknown = dict(good, colour="red")
    body = document(good, bad_digit, no_action, unknown)
    response = await client.post("/epcis/capture", json=body, headers=maker)
    assert response.status_code == 400, response.text
    problems = {p["path"]: p["message"] for p in response.json()["errors"]}
    assert "$.epcisBody.eventList[1].epcList[0]" in problems, problems
    assert "check digit" in problems["$.epcisBody.eventList[1].epcList[0]"]
    assert "$.epcisBody.eventList[2].action" in problems
    assert "$.epcisBody.eventList[3].colour" in problems
    assert response.json()["detail"].startswith("$.epcisBody.eventList[1].epcList[0]")
    for broken in (b"not json", b"[]", b'{"type": "EPCISDocument"}'):
        refused = await client.post(
            "/epcis/capture", content=broken, headers=maker | {"Content-Type": "application/json"}
        )
        assert refused.status_code == 400, refused.text
    assert await _stored_count(client) == 0
    assert (await _pack_status(client, gtin, "A1")) == "unknown"


async def _pack_status(client: AsyncTestClient[Any], gtin: str, serial: str) -> str:
    return str((await _pack(client, gtin, serial))["status"])


async def test_rollback_stores_nothing_and_proceed_stores_the_good_events(
    client: AsyncTestClient[Any],
) -> None:
    maker = await headers_for(client, MAKER)
    site = facility_gln(MAKER)
    gtin, lot, _ = await register_batch(client, maker, item="321", lot="EP21")
    good = commissioning(gtin, ["R1", "R2"], lot, "2028-06-30", site, "2026-11-30T06:00:00Z")
    # Not the capturer's facility: this event may not be captured by the maker.
    foreign = commissioning(
        gtin, ["R3"], lot, "2028-06-30", facility_gln(DISTRIBUTOR), "2026-11-30T06:05:00Z"
    )
    body = document(good, foreign)

    job = await captured(client, maker, body)
    assert not job["success"] and job["storedCount"] == 0
    assert job["captureErrorBehaviour"] == "rollback"
    [error] = job["errors"]
    assert error["eventIndex"] == 1 and "not one of your organisation" in error["message"]
    assert await _stored_count(client) == 0
    assert await _pack_status(client, gtin, "R1") == "unknown"

    job = await captured(client, maker, body, behaviour="proceed")
    assert not job["success"] and job["storedCount"] == 1, job
    assert [e["eventIndex"] for e in job["errors"]] == [1]
    assert await _stored_count(client) == 1
    assert (await _pack(client, gtin, "R1"))["status"] == "active"
    assert await _pack_status(client, gtin, "R3") == "unknown"

    # Sent again: nothing is stored or applied twice.
    again = await captured(client, maker, document(good), behaviour="proceed")
    assert again["success"] and again["storedCount"] == 0, again
    assert await _stored_count(client) == 1
    bad = await client.post(
        "/epcis/capture", json=body, headers=maker | {"GS1-Capture-Error-Behaviour": "maybe"}
    )
    assert bad.status_code == 422, bad.text


async def test_a_refusal_of_the_register_is_stored_as_captured_and_raised(
    client: AsyncTestClient[Any],
) -> None:
    maker = await headers_for(client, MAKER)
    site = facility_gln(MAKER)
    gtin, lot, _ = await register_batch(client, maker, item="331", lot="EP31")
    unknown_lot = commissioning(gtin, ["U1"], "NOPE", "2028-06-30", site, "2026-11-30T06:00Z")
    wrong_expiry = commissioning(gtin, ["U2"], lot, "2029-01-31", site, "2026-11-30T06:01Z")
    job = await captured(client, maker, document(unknown_lot, wrong_expiry))
    assert job["storedCount"] == 2 and not job["success"], job
    messages = [e["message"] for e in job["errors"]]
    assert all(e["stored"] for e in job["errors"])
    assert "no batch NOPE" in messages[0] and "expires on 2028-06-30" in messages[1], messages
    assert await _pack_status(client, gtin, "U1") == "unknown"
    assert await _pack_status(client, gtin, "U2") == "unknown"
    inspector = await headers_for(client, "fdo-inspector")
    alerts = (await client.get("/api/alerts?code=refused_change", headers=inspector)).json()
    texts = [a["message"] for a in alerts if "EPCIS event" in a["message"]]
    assert len(texts) == 2, alerts


async def test_only_the_supply_chain_captures(client: AsyncTestClient[Any]) -> None:
    inspector = await headers_for(client, "fdo-inspector")
    body = document(
        commissioning("06260009993213", ["I1"], "X", "2028-06-30", facility_gln(MAKER),
                      "2026-11-30T06:00Z")
    )  # fmt: skip
    response = await client.post("/epcis/capture", json=body, headers=inspector)
    assert response.status_code == 403, response.text
    assert (await client.post("/epcis/capture", json=body)).status_code == 401


async def test_a_job_left_running_by_a_stopped_server_runs_at_the_next_start(
    app: Litestar, database: Database
) -> None:
    async with client_for(app, database) as client:
        maker = await headers_for(client, MAKER)
        site = facility_gln(MAKER)
        gtin, lot, _ = await register_batch(client, maker, item="341", lot="EP41")
        body = document(commissioning(gtin, ["J1"], lot, "2028-06-30", site, "2026-11-30T06Z"))
        runtime = client.app.state.darutrace
        assert runtime.db.pool is not None
        async with runtime.db.pool.connection() as connection:
            # Accepted, then the server stopped before the job ran.
            capture_id, _ = await capture.accept(
                connection, await _principal_of(connection, MAKER),
                msgspec.json.encode(body), ErrorBehaviour.rollback,
            )  # fmt: skip
    async with client_for(app, database) as client:
        maker = await headers_for(client, MAKER)
        for _ in range(600):
            job = (await client.get(f"/epcis/capture/{capture_id}", headers=maker)).json()
            if not job["running"]:
                break
            await asyncio.sleep(0.05)
        assert job["success"], job
        assert await _pack_status(client, gtin, "J1") == "active"


async def _principal_of(connection: Any, username: str) -> Principal:
    cursor = await connection.execute(
        "SELECT id, role, organization_id, facility_id FROM users WHERE username = %s",
        (username,),
    )
    user_id, role, organization_id, facility_id = await cursor.fetchone()
    return Principal("user", user_id, username, Role(role), organization_id, facility_id)


_PACK_STATE = """
SELECT p.status, p.holder_id, p.transit_from_id, p.transit_to_id, p.in_return, p.version,
       c.sscc IS NOT NULL, c.holder_id, c.parent_sscc IS NOT NULL
FROM packs p LEFT JOIN containers c ON c.sscc = p.container_sscc
WHERE p.gtin = %s ORDER BY p.serial
"""


async def _pack_states(client: AsyncTestClient[Any], gtin: str) -> list[tuple[Any, ...]]:
    runtime = client.app.state.darutrace
    assert runtime.db.pool is not None
    async with runtime.db.pool.connection() as connection:
        return list(await (await connection.execute(_PACK_STATE, (gtin,))).fetchall())


async def test_ten_thousand_packs_by_epcis_end_as_by_the_register_api(
    client: AsyncTestClient[Any],
) -> None:
    """Commissioned, packed into 10 cases on a pallet and shipped by EPCIS, received with one
    scan of the pallet through /api/events: every pack's state (status, custody, case, version)
    is what the same steps through /api/events leave."""
    maker = await headers_for(client, MAKER)
    distributor = await headers_for(client, DISTRIBUTOR)
    site, destination = facility_gln(MAKER), facility_gln(DISTRIBUTOR)
    gtin, lot, _ = await register_batch(client, maker, item="351", lot="EP51", quantity=10_000)
    serials = serials_of("T", 10_000)
    cases, pallet = [sscc(3510 + n) for n in range(10)], sscc(3599)
    packs_in = [serials[n * 1000 : (n + 1) * 1000] for n in range(10)]
    body = document(
        commissioning(gtin, serials, lot, "2028-06-30", site, "2026-11-30T06:00:00.000Z"),
        *[
            packing(case, [sgtin_dl(gtin, s) for s in part], site, f"2026-11-30T06:{10 + n}:00Z")
            for n, (case, part) in enumerate(zip(cases, packs_in, strict=True))
        ],
        packing(pallet, [sscc_dl(c) for c in cases], site, "2026-11-30T06:30:00Z"),
        shipping([sscc_dl(pallet)], site, destination, "2026-11-30T07:00:00Z"),
    )
    job = await captured(client, maker, body)
    assert job["success"], job["errors"][:3]
    received = await event(client, distributor, "receive", [case_code(pallet)])
    assert received.status_code == 200, received.text

    twin_gtin, _, twin = await register_batch(
        client, maker, item="352", lot="EP52", quantity=10_000, count=10_000
    )
    twin_cases, twin_pallet = [sscc(3520 + n) for n in range(10)], sscc(3598)
    for n, case in enumerate(twin_cases):
        part = twin[n * 1000 : (n + 1) * 1000]
        packed = await event(
            client, maker, "pack", [pack_code(twin_gtin, s) for s in part],
            container=case_code(case),
        )  # fmt: skip
        assert packed.status_code == 200, packed.text
    pallet_packed = await event(
        client, maker, "pack", [case_code(c) for c in twin_cases], container=case_code(twin_pallet)
    )
    assert pallet_packed.status_code == 200, pallet_packed.text
    shipped = await event(
        client, maker, "ship", [case_code(twin_pallet)], destination_gln=destination
    )
    assert shipped.status_code == 200, shipped.text
    received = await event(client, distributor, "receive", [case_code(twin_pallet)])
    assert received.status_code == 200, received.text

    mine, theirs = await _pack_states(client, gtin), await _pack_states(client, twin_gtin)
    assert len(mine) == len(theirs) == 10_000
    assert sorted(mine, key=repr) == sorted(theirs, key=repr)
    assert {state[0] for state in mine} == {"active"}
