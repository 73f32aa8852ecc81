"""A pack's and a batch's history as an EPCIS 2.0 document: through the API (scoped and
access-logged as the chain of custody and the batch trace are) and `darutrace epcis export`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import PgServer
from tests.epcis_history import DL, UNKNOWN_SERIAL, record_history, sgln
from tests.helpers import headers_for, register_batch

DARUTRACE = str(Path(sys.executable).parent / "darutrace")
CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
EPCIS_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


async def exported(client: AsyncTestClient[Any], path: str, username: str) -> Any:
    response = await client.get(path, headers=await headers_for(client, username))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    return response.json()


def events_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    assert document["@context"] == CONTEXT
    assert document["type"] == "EPCISDocument"
    assert document["schemaVersion"] == "2.0"
    assert EPCIS_TIME.fullmatch(document["creationDate"])
    events: list[dict[str, Any]] = document["epcisBody"]["eventList"]
    times = [e["eventTime"] for e in events]
    assert times == sorted(times)  # in event-time order
    return events


def event_ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["eventID"].removeprefix("urn:uuid:") for e in events]


def epcs(event: dict[str, Any]) -> list[str]:
    listed: list[str] = event.get("epcList", event.get("childEPCs"))
    return sorted(listed)


async def access_log(client: AsyncTestClient[Any], resource: str) -> list[dict[str, Any]]:
    inspector = await headers_for(client, "fdo-inspector")
    response = await client.get("/api/access-log", params={"resource": resource}, headers=inspector)
    assert response.status_code == 200, response.text
    return [e for e in response.json() if e["path"].endswith("/epcis")]


def party(role: str, username: str, organization: str) -> list[dict[str, str]]:
    return [
        {"type": "location", role: sgln(username)},
        {"type": "owning_party", role: f"{DL}/417/{organization}"},
    ]


async def test_a_packs_history_as_an_epcis_document(client: AsyncTestClient[Any]) -> None:
    h = await record_history(client)
    document = await exported(client, f"/api/packs/{h.gtin}/{h.serials[0]}/epcis", "fdo-inspector")
    events = events_of(document)
    assert event_ids(events) == h.event_ids
    for event in events:
        assert EPCIS_TIME.fullmatch(event["eventTime"]) and EPCIS_TIME.fullmatch(
            event["recordTime"]
        )
        assert event["eventTimeZoneOffset"] == "+00:00"
        assert epcs(event) == [h.epc(0)]  # this pack's history: its EPC only
    commissioning, packing, shipping, receipt, shipping_on, receipt_on, dispensing = events
    assert commissioning | {"epcList": None} == {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:{h.event_ids[0]}",
        "eventTime": commissioning["eventTime"],
        "eventTimeZoneOffset": "+00:00",
        "recordTime": commissioning["recordTime"],
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "readPoint": {"id": sgln("sina-darou")},
        "bizLocation": {"id": sgln("sina-darou")},
        "ilmd": {"cbvmda:lotNumber": h.lot, "cbvmda:itemExpirationDate": h.expiry},
        "epcList": None,
    }
    assert packing["type"] == "AggregationEvent" and packing["parentID"] == h.case_epc
    assert (packing["action"], packing["bizStep"]) == ("ADD", "packing")
    assert "epcList" not in packing

    maker = shipping["sourceList"][1]["source"].removeprefix(f"{DL}/417/")
    warehouse = shipping["destinationList"][1]["destination"].removeprefix(f"{DL}/417/")
    pharmacy = shipping_on["destinationList"][1]["destination"].removeprefix(f"{DL}/417/")
    assert len({maker, warehouse, pharmacy}) == 3
    assert shipping["sourceList"] == party("source", "sina-darou", maker)
    assert shipping["destinationList"] == party("destination", "darupakhsh", warehouse)
    assert (shipping["bizStep"], shipping["disposition"]) == ("shipping", "in_transit")
    assert "bizLocation" not in shipping  # in transit
    assert receipt["sourceList"] == party("source", "sina-darou", maker)
    assert receipt["destinationList"] == party("destination", "darupakhsh", warehouse)
    assert receipt["bizLocation"] == {"id": sgln("darupakhsh")}
    assert receipt_on["sourceList"] == party("source", "darupakhsh", warehouse)
    assert (dispensing["action"], dispensing["bizStep"], dispensing["disposition"]) == (
        "OBSERVE",
        "dispensing",
        "dispensed",
    )
    assert dispensing["readPoint"] == dispensing["bizLocation"] == {"id": sgln("razi-pharmacy")}

    (logged,) = await access_log(client, "packs")
    assert (logged["actor_name"], logged["object_id"], logged["outcome"]) == (
        "fdo-inspector",
        h.gtin,
        "ok",
    )


async def test_the_pack_export_is_scoped_like_its_chain_of_custody(
    client: AsyncTestClient[Any],
) -> None:
    h = await record_history(client)
    path = f"/api/packs/{h.gtin}/{h.serials[0]}/epcis"
    assert event_ids(events_of(await exported(client, path, "razi-pharmacy"))) == h.event_ids[4:]
    assert event_ids(events_of(await exported(client, path, "sina-darou"))) == h.event_ids[:3]
    other = await headers_for(client, "hafez-pharmacy")
    assert (await client.get(path, headers=other)).status_code == 404
    # A pack the pharmacy never handled, and a code of no pack (the refused line).
    razi = await headers_for(client, "razi-pharmacy")
    never = await client.get(f"/api/packs/{h.gtin}/{h.serials[5]}/epcis", headers=razi)
    assert never.status_code == 404
    inspector = await headers_for(client, "fdo-inspector")
    unknown = await client.get(f"/api/packs/{h.gtin}/{UNKNOWN_SERIAL}/epcis", headers=inspector)
    assert unknown.status_code == 404
    left = events_of(
        await exported(client, f"/api/packs/{h.gtin}/{h.serials[5]}/epcis", "fdo-inspector")
    )
    assert event_ids(left) == h.event_ids[:1]  # commissioned, and nothing since
    outcomes = [(e["actor_name"], e["outcome"]) for e in await access_log(client, "packs")]
    assert ("hafez-pharmacy", "not_found") in outcomes and ("razi-pharmacy", "ok") in outcomes


async def test_a_batch_history_as_an_epcis_document(client: AsyncTestClient[Any]) -> None:
    h = await record_history(client)
    document = await exported(client, f"/api/batches/{h.gtin}/{h.lot}/epcis", "fdo-inspector")
    events = events_of(document)
    assert event_ids(events) == h.event_ids
    packed = sorted(h.epc(i) for i in range(4))
    assert [epcs(e) for e in events] == [
        sorted(h.epc(i) for i in range(6)),
        packed,
        packed,
        packed,
        packed,
        packed,
        [h.epc(0)],  # the refused line did not happen
    ]
    assert events[0]["ilmd"] == {"cbvmda:lotNumber": h.lot, "cbvmda:itemExpirationDate": h.expiry}
    assert events[1]["parentID"] == h.case_epc
    assert [e["bizStep"] for e in events] == [
        "commissioning", "packing", "shipping", "receiving", "shipping", "receiving", "dispensing",
    ]  # fmt: skip
    (logged,) = await access_log(client, "trace")
    assert (logged["object_id"], logged["outcome"]) == (h.gtin, "ok")


async def test_the_batch_export_is_scoped_like_its_trace(client: AsyncTestClient[Any]) -> None:
    h = await record_history(client)
    path = f"/api/batches/{h.gtin}/{h.lot}/epcis"
    assert event_ids(events_of(await exported(client, path, "darupakhsh"))) == h.event_ids[2:5]
    assert event_ids(events_of(await exported(client, path, "sina-darou"))) == h.event_ids[:3]
    other = await headers_for(client, "hafez-pharmacy")
    assert (await client.get(path, headers=other)).status_code == 404
    inspector = await headers_for(client, "fdo-inspector")
    missing = await client.get(f"/api/batches/{h.gtin}/NOSUCHLOT/epcis", headers=inspector)
    assert missing.status_code == 404
    assert "No batch NOSUCHLOT" in missing.json()["detail"]


def run_cli(pg_server: PgServer, url: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = os.environ | {"DATABASE_URL": url, "DARUTRACE_DATA_DIR": str(pg_server.data_dir)}
    return subprocess.run(
        [DARUTRACE, "epcis", "export", *args], env=env, capture_output=True, timeout=120
    )


async def test_the_cli_writes_a_batch_document(
    client: AsyncTestClient[Any], pg_server: PgServer, test_database: str, tmp_path: Path
) -> None:
    h = await record_history(client)
    target = tmp_path / "batch.jsonld"
    done = run_cli(
        pg_server, test_database, "--gtin", h.gtin, "--lot", h.lot, "--output", str(target)
    )
    assert done.returncode == 0, done.stderr.decode()
    from_file = json.loads(target.read_text())
    assert event_ids(events_of(from_file)) == h.event_ids
    assert epcs(from_file["epcisBody"]["eventList"][0]) == sorted(h.epc(i) for i in range(6))

    printed = run_cli(pg_server, test_database, "--gtin", h.gtin, "--lot", h.lot)
    assert printed.returncode == 0, printed.stderr.decode()
    assert event_ids(events_of(json.loads(printed.stdout))) == h.event_ids

    unknown = tmp_path / "none.jsonld"
    refused = run_cli(
        pg_server, test_database, "--gtin", h.gtin, "--lot", "NOSUCHLOT", "-o", str(unknown)
    )
    assert refused.returncode == 1
    assert b"No batch NOSUCHLOT" in refused.stderr
    assert not unknown.exists()


async def test_a_big_commissioning_is_one_event_of_all_its_packs(
    client: AsyncTestClient[Any],
) -> None:
    """30,000 packs: their list is written in many chunks (of 64 KiB), and reads back whole."""
    maker = await headers_for(client, "sina-darou")
    gtin, lot, serials = await register_batch(
        client, maker, item="152", quantity=30_000, count=30_000
    )
    (commissioning,) = events_of(
        await exported(client, f"/api/batches/{gtin}/{lot}/epcis", "sina-darou")
    )
    assert commissioning["epcList"] == sorted(f"{DL}/01/{gtin}/21/{s}" for s in serials)


async def test_an_event_an_epcis_capture_drove_keeps_its_captured_event_id(
    client: AsyncTestClient[Any],
) -> None:
    """The query lists such an event as captured; the history still has it, by that name."""
    h = await record_history(client)
    captured = "urn:uuid:00000000-0000-4000-8000-000000000015"
    pool = client.app.state.darutrace.db.pool
    async with pool.connection() as connection:
        await connection.execute(
            "INSERT INTO epcis_events (event_id, hash_id, event_type, event_time,"
            " event_time_zone_offset, record_time, actor_kind, actor_id, gtins,"
            " register_event_id, document)"
            " VALUES (%s, 'ni:///sha-256;test', 'ObjectEvent', now(), '+00:00', now(), 'user',"
            " gen_random_uuid(), ARRAY[%s]::char(14)[], %s, '{}')",
            (captured, h.gtin, h.event_ids[6]),
        )
    expected = [f"urn:uuid:{i}" for i in h.event_ids[:6]] + [captured]
    for path in (
        f"/api/packs/{h.gtin}/{h.serials[0]}/epcis",
        f"/api/batches/{h.gtin}/{h.lot}/epcis",
    ):
        events = events_of(await exported(client, path, "fdo-inspector"))
        assert [e["eventID"] for e in events] == expected
        assert events[-1]["bizStep"] == "dispensing" and epcs(events[-1]) == [h.epc(0)]
