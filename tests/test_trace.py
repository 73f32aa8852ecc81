"""Backward trace (pack), batch distribution and forward trace (batch), through the API: what
inspectors see, what each organisation sees of its own custody, and what is logged."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from app.demo_supply import MASHHAD_HUB
from tests.conftest import TEST_DATABASE, PgServer
from tests.helpers import (
    device_headers,
    event,
    facility_gln,
    headers_for,
    pack_code,
    register_batch,
)

PLANT = facility_gln("sina-darou")
HUB = facility_gln("darupakhsh")
MASHHAD = MASHHAD_HUB  # Daru Pakhsh's second facility
RAZI = facility_gln("razi-pharmacy")
HAFEZ = facility_gln("hafez-pharmacy")
HOSPITAL = facility_gln("imamreza-hospital")


async def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    assert response.json()["summary"]["refused"] == 0, response.text
    return response.json()


async def spread(client: AsyncTestClient[Any]) -> tuple[str, str, list[str]]:
    """A batch of 60 packs moved through the demo world:
    Sina Darou plant keeps 10; Daru Pakhsh Tehran hub receives 50, keeps 10, ships 20 to Razi
    (which dispenses 3 and undoes 1), 10 to Hafez (still in transit) and 10 to its Mashhad hub,
    which keeps 5 and sends 5 to Imam Reza Hospital (which dispenses 1)."""
    maker = await headers_for(client, "sina-darou")
    hub = await headers_for(client, "darupakhsh")
    razi = await headers_for(client, "razi-pharmacy")
    hospital = await headers_for(client, "imamreza-hospital")
    gtin, lot, serials = await register_batch(client, maker, item="301", lot="TRC1", count=60)
    codes = [pack_code(gtin, s) for s in serials]
    await ok(await event(client, maker, "ship", codes[:50], destination_gln=HUB))
    await ok(await event(client, hub, "receive", codes[:50]))
    await ok(await event(client, hub, "ship", codes[:20], destination_gln=RAZI))
    await ok(await event(client, razi, "receive", codes[:20]))
    await ok(await event(client, razi, "dispense", codes[:3]))
    await ok(await event(client, razi, "undo", codes[2:3]))
    await ok(await event(client, hub, "ship", codes[20:30], destination_gln=HAFEZ))
    await ok(await event(client, hub, "ship", codes[30:40], destination_gln=MASHHAD))
    await ok(await event(client, hub, "receive", codes[30:40], facility_gln=MASHHAD))
    await ok(
        await event(
            client, hub, "ship", codes[30:35], facility_gln=MASHHAD, destination_gln=HOSPITAL
        )
    )
    await ok(await event(client, hospital, "receive", codes[30:35]))
    await ok(await event(client, hospital, "dispense", codes[30:31]))
    return gtin, lot, serials


def holders(body: dict[str, Any]) -> dict[str, tuple[int, dict[str, int]]]:
    return {h["facility"]["gln"]: (h["packs"], h["by_status"]) for h in body["holders"]}


async def get(client: AsyncTestClient[Any], path: str, username: str) -> Any:
    return await client.get(path, headers=await headers_for(client, username))


async def test_inspectors_see_where_every_pack_of_a_batch_is(
    client: AsyncTestClient[Any],
) -> None:
    gtin, lot, _ = await spread(client)
    response = await get(client, f"/api/batches/{gtin}/{lot}/distribution", "fdo-inspector")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "all"
    assert body["product"] == {
        "gtin": gtin,
        "name": "Amoxicillin 500 mg (301)",
        "name_fa": body["product"]["name_fa"],
    }
    assert body["owner"]["name"] == "Sina Darou Pharmaceutical"
    assert (body["packs"], body["held"], body["in_transit"]) == (60, 50, 10)
    assert body["by_status"] == {"active": 57, "dispensed": 3}
    assert holders(body) == {
        PLANT: (10, {"active": 10}),
        HUB: (10, {"active": 10}),
        RAZI: (20, {"active": 18, "dispensed": 2}),
        MASHHAD: (5, {"active": 5}),
        HOSPITAL: (5, {"active": 4, "dispensed": 1}),
    }
    razi = next(h["facility"] for h in body["holders"] if h["facility"]["gln"] == RAZI)
    assert razi == {
        "gln": RAZI,
        "name": "Dr. Razi Pharmacy",
        "name_fa": "داروخانه دکتر رازی",
        "province": "Tehran",
        "city": "Tehran",
        "organization": {
            "gln": razi["organization"]["gln"],
            "name": "Dr. Razi Pharmacy",
            "name_fa": "داروخانه دکتر رازی",
            "kind": "pharmacy",
        },
    }
    assert [(p["province"], p["packs"]) for p in body["provinces"]] == [
        ("Tehran", 40),
        ("Razavi Khorasan", 10),
    ]
    assert [
        (t["from_facility"]["gln"], t["to_facility"]["gln"], t["packs"]) for t in body["transit"]
    ] == [(HUB, HAFEZ, 10)]


async def test_an_organisation_sees_only_the_packs_in_its_custody(
    client: AsyncTestClient[Any],
) -> None:
    gtin, lot, _ = await spread(client)
    path = f"/api/batches/{gtin}/{lot}/distribution"

    razi = (await get(client, path, "razi-pharmacy")).json()
    assert razi["scope"] == "own"
    assert (razi["packs"], razi["held"], razi["in_transit"]) == (20, 20, 0)
    assert holders(razi) == {RAZI: (20, {"active": 18, "dispensed": 2})}

    # Packs on their way to Hafez are Hafez's to know about (and the sender's).
    hafez = (await get(client, path, "hafez-pharmacy")).json()
    assert (hafez["packs"], hafez["held"], hafez["in_transit"]) == (10, 0, 10)
    assert hafez["transit"][0]["to_facility"]["gln"] == HAFEZ

    distributor = (await get(client, path, "darupakhsh")).json()
    assert holders(distributor) == {HUB: (10, {"active": 10}), MASHHAD: (5, {"active": 5})}
    assert distributor["in_transit"] == 10
    assert distributor["by_status"] == {"active": 25}

    # The owner sees its own stock of its batch, not the distributors' or pharmacies'.
    owner = (await get(client, path, "sina-darou")).json()
    assert (owner["packs"], holders(owner)) == (10, {PLANT: (10, {"active": 10})})

    # Organisations that never held a pack of it: as if the batch did not exist.
    for stranger in ("zagros-pharmed", "ferdowsi-pharmacy", "pars-import"):
        response = await get(client, path, stranger)
        assert response.status_code == 404, (stranger, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == f"No batch {lot} of GTIN {gtin}."
    missing = await get(client, f"/api/batches/{gtin}/NOPE/distribution", "zagros-pharmed")
    assert missing.json()["detail"] == f"No batch NOPE of GTIN {gtin}."


async def test_forward_trace_lists_every_facility_reached_and_every_dispenser(
    client: AsyncTestClient[Any],
) -> None:
    gtin, lot, _ = await spread(client)
    response = await get(client, f"/api/batches/{gtin}/{lot}/trace", "fdo-inspector")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "all"
    reached = [(f["facility"]["gln"], f["commissioned"], f["received"]) for f in body["facilities"]]
    # In the order the batch reached them; Hafez's packs are still on the road.
    assert reached == [
        (PLANT, 60, 0),
        (HUB, 0, 50),
        (RAZI, 0, 20),
        (MASHHAD, 0, 10),
        (HOSPITAL, 0, 5),
    ]
    first = body["facilities"][0]
    assert first["first_at"] <= first["last_at"]
    assert body["facilities"][0]["facility"]["organization"]["kind"] == "manufacturer"
    dispensers = [
        (d["facility"]["gln"], d["facility"]["organization"]["kind"], d["dispensed"])
        for d in body["dispensers"]
    ]
    # Razi dispensed 3 and undid 1.
    assert dispensers == [(RAZI, "pharmacy", 2), (HOSPITAL, "hospital", 1)]
    assert body["dispensers"][0]["first_dispensed_at"] <= body["dispensers"][0]["last_dispensed_at"]


async def test_forward_trace_is_scoped_to_the_callers_facilities(
    client: AsyncTestClient[Any],
) -> None:
    gtin, lot, _ = await spread(client)
    path = f"/api/batches/{gtin}/{lot}/trace"
    distributor = (await get(client, path, "darupakhsh")).json()
    assert distributor["scope"] == "own"
    assert [(f["facility"]["gln"], f["received"]) for f in distributor["facilities"]] == [
        (HUB, 50),
        (MASHHAD, 10),
    ]
    assert distributor["dispensers"] == []
    razi = (await get(client, path, "razi-pharmacy")).json()
    assert [(d["facility"]["gln"], d["dispensed"]) for d in razi["dispensers"]] == [(RAZI, 2)]
    # Hafez's packs have not arrived: nothing reached it yet, but the batch is not hidden.
    hafez = await get(client, path, "hafez-pharmacy")
    assert hafez.status_code == 200, hafez.text
    assert hafez.json()["facilities"] == []
    assert (await get(client, path, "zagros-pharmed")).status_code == 404
    assert (await get(client, path, "ferdowsi-pharmacy")).status_code == 404


async def test_backward_trace_from_the_patient_to_the_plant(
    client: AsyncTestClient[Any],
) -> None:
    gtin, _, serials = await spread(client)
    serial = serials[30]  # dispensed at Imam Reza Hospital
    # A refused attempt elsewhere is in the history (and the alerts), not in the trace.
    refused = await event(
        client, await headers_for(client, "hafez-pharmacy"), "dispense", [pack_code(gtin, serial)]
    )
    assert refused.status_code == 409
    path = f"/api/packs/{gtin}/{serial}/trace"

    body = (await get(client, path, "fdo-inspector")).json()
    assert body["scope"] == "all"
    assert body["origin"]["organization"]["name"] == "Sina Darou Pharmaceutical"
    assert body["origin"]["facility"]["gln"] == PLANT
    steps = [
        (s["action"], s["business_step"], s["facility"]["gln"], (s["destination"] or {}).get("gln"))
        for s in body["steps"]
    ]
    assert steps == [
        ("commission", "commissioning", PLANT, None),
        ("ship", "shipping", PLANT, HUB),
        ("receive", "receiving", HUB, None),
        ("ship", "shipping", HUB, MASHHAD),
        ("receive", "receiving", MASHHAD, None),
        ("ship", "shipping", MASHHAD, HOSPITAL),
        ("receive", "receiving", HOSPITAL, None),
        ("dispense", "dispensing", HOSPITAL, None),
    ]
    times = [s["event_time"] for s in body["steps"]]
    assert times == sorted(times)
    hub_step = body["steps"][2]["facility"]
    assert hub_step["name"] == "Daru Pakhsh Tehran Hub"
    assert hub_step["name_fa"] == "مرکز پخش تهران"
    assert hub_step["organization"]["name"] == "Daru Pakhsh Distribution"
    assert hub_step["organization"]["name_fa"] == "شرکت پخش دارو پخش"
    now = body["now"]
    assert (now["status"], now["in_transit"], now["facility"]["gln"]) == (
        "dispensed",
        False,
        HOSPITAL,
    )

    hospital = (await get(client, path, "imamreza-hospital")).json()
    assert hospital["scope"] == "own"
    assert [s["action"] for s in hospital["steps"]] == ["ship", "receive", "dispense"]
    assert hospital["origin"]["organization"]["name"] == "Sina Darou Pharmaceutical"
    assert hospital["origin"]["facility"] is None
    assert hospital["now"]["facility"]["gln"] == HOSPITAL

    # The distributor sees its own part; where the pack went after it is another's business.
    distributor = (await get(client, path, "darupakhsh")).json()
    assert [s["action"] for s in distributor["steps"]] == [
        "ship",
        "receive",
        "ship",
        "receive",
        "ship",
    ]
    assert distributor["now"] is None

    in_transit = await get(client, f"/api/packs/{gtin}/{serials[20]}/trace", "hafez-pharmacy")
    assert in_transit.json()["now"]["in_transit"] is True
    assert in_transit.json()["now"]["from_facility"]["gln"] == HUB
    assert in_transit.json()["now"]["to_facility"]["gln"] == HAFEZ

    for stranger in ("zagros-pharmed", "ferdowsi-pharmacy"):
        response = await get(client, path, stranger)
        assert response.status_code == 404, (stranger, response.text)
        assert response.json()["detail"] == f"No pack {serial} of GTIN {gtin}."
    unknown = await get(client, f"/api/packs/{gtin}/NOSUCHPACK/trace", "fdo-inspector")
    assert unknown.status_code == 404
    bad = await get(client, "/api/packs/123/ABC/trace", "fdo-inspector")
    assert bad.status_code == 422


async def test_trace_reads_are_in_the_access_log(client: AsyncTestClient[Any]) -> None:
    gtin, lot, serials = await spread(client)
    await get(client, f"/api/batches/{gtin}/{lot}/distribution", "razi-pharmacy")
    await get(client, f"/api/batches/{gtin}/{lot}/trace", "zagros-pharmed")
    await get(client, f"/api/packs/{gtin}/{serials[0]}/trace", "fdo-inspector")
    devices = await client.get(
        f"/api/batches/{gtin}/{lot}/distribution",
        headers=device_headers(RAZI),
    )
    assert devices.status_code == 403
    inspector = await headers_for(client, "fdo-inspector")
    log = await client.get("/api/access-log", params={"resource": "trace"}, headers=inspector)
    entries = [
        (e["actor_name"], e["method"], e["path"], e["object_id"], e["outcome"])
        for e in reversed(log.json())
    ]
    assert entries == [
        ("razi-pharmacy", "GET", f"/api/batches/{gtin}/{lot}/distribution", gtin, "ok"),
        ("zagros-pharmed", "GET", f"/api/batches/{gtin}/{lot}/trace", gtin, "not_found"),
        ("fdo-inspector", "GET", f"/api/packs/{gtin}/{serials[0]}/trace", gtin, "ok"),
        (
            "Dr. Razi Pharmacy scanner",
            "GET",
            f"/api/batches/{gtin}/{lot}/distribution",
            gtin,
            "forbidden",
        ),
    ]


async def test_pack_history_names_facilities_and_organisations(
    client: AsyncTestClient[Any],
) -> None:
    gtin, _, serials = await spread(client)
    history = await get(client, f"/api/packs/{gtin}/{serials[30]}/events", "fdo-inspector")
    assert history.status_code == 200, history.text
    entries = history.json()
    ship = entries[1]
    assert ship["action"] == "ship"
    assert ship["facility"] == {
        "gln": PLANT,
        "name": "Sina Darou Plant",
        "name_fa": "کارخانه سینا دارو",
        "province": "Tehran",
        "city": "Tehran",
        "organization": {
            "gln": ship["facility"]["organization"]["gln"],
            "name": "Sina Darou Pharmaceutical",
            "name_fa": "داروسازی سینا دارو",
            "kind": "manufacturer",
        },
    }
    assert ship["destination"]["organization"]["name"] == "Daru Pakhsh Distribution"
    assert entries[-1]["facility"]["organization"]["name_fa"] == "بیمارستان امام رضا"


async def test_forward_trace_counts_packs_received_not_receipts(
    client: AsyncTestClient[Any],
) -> None:
    """A pharmacy that received 24 packs and scanned them all twice received 24; a pack missing
    from its case on receipt was not received (it is still on its way)."""
    maker = await headers_for(client, "sina-darou")
    razi = await headers_for(client, "razi-pharmacy")
    gtin, lot, serials = await register_batch(client, maker, item="302", lot="TRC2", count=28)
    codes = [pack_code(gtin, s) for s in serials]
    await ok(await event(client, maker, "ship", codes[:24], destination_gln=RAZI))
    await ok(await event(client, razi, "receive", codes[:24]))
    again = await event(client, razi, "receive", codes[:24])
    assert again.json()["summary"]["warning"] == 24
    case = "(00)062600090000000126"
    await ok(await event(client, maker, "pack", codes[24:], container=case))
    await ok(await event(client, maker, "ship", [case], destination_gln=HAFEZ))
    hafez = await headers_for(client, "hafez-pharmacy")
    checked = await event(client, hafez, "receive", [case], contents=codes[25:])
    assert [m["serial"] for m in checked.json()["discrepancies"]["missing"]] == [serials[24]]

    body = (await get(client, f"/api/batches/{gtin}/{lot}/trace", "fdo-inspector")).json()
    received = {f["facility"]["gln"]: f["received"] for f in body["facilities"]}
    assert received == {PLANT: 0, RAZI: 24, HAFEZ: 3}
    # The missing pack's trace shows it taken out of the case at Hafez, not received there.
    trace = (await get(client, f"/api/packs/{gtin}/{serials[24]}/trace", "fdo-inspector")).json()
    assert [(s["action"], s["outcome"]) for s in trace["steps"]][-2:] == [
        ("ship", "ok"),
        ("unpack", "warning"),
    ]
    assert trace["now"]["in_transit"] is True


def test_the_planner_knows_how_few_custody_groups_a_batch_makes(
    pg_server: PgServer, test_database: str
) -> None:
    """The distribution and a recall's progress group a batch's packs by status and custody;
    without statistics on those columns together the planner expects a group per hundred packs,
    sorts a million of them on disk and counts them in one process (1.6 s instead of 0.36 s)."""
    with pg_server.connect(TEST_DATABASE) as conn:
        kept = conn.execute(
            "SELECT s.stxkind, array_agg(a.attname::text ORDER BY a.attname)"
            " FROM pg_statistic_ext s"
            " JOIN pg_attribute a ON a.attrelid = s.stxrelid AND a.attnum = ANY(s.stxkeys)"
            " WHERE s.stxrelid = 'packs'::regclass GROUP BY s.oid, s.stxkind"
        ).fetchall()
    grouped = {"status", "holder_id", "transit_from_id", "transit_to_id", "status_facility_id"}
    assert any("d" in kinds and grouped <= set(columns) for kinds, columns in kept), kept
