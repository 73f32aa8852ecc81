"""The register's own events answered as EPCIS 2.0 events (app/epcis/register_events.py), the
source the `/epcis/events` query routes read beside the events captured as EPCIS: the filters,
the order and the cursor, visibility, and what is not listed (refused lines, events an EPCIS
capture drove)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from litestar.testing import AsyncTestClient

from app.epcis import register_events
from app.epcis.filters import Cursor, EpcMatch, EventQuery, FoundEvent, Visibility
from tests.epcis_history import DL, UNKNOWN_SERIAL, History, record_history, sgln
from tests.helpers import event, facility_gln, headers_for, pack_code

INSPECTOR = Visibility()


async def find(
    client: AsyncTestClient[Any], query: EventQuery, narrow: bool = False
) -> list[FoundEvent]:
    pool = client.app.state.darutrace.db.pool
    async with pool.connection() as connection:
        return await register_events.find(connection, query, narrow=narrow)


async def ids(client: AsyncTestClient[Any], query: EventQuery) -> list[str]:
    return [f.document["eventID"].removeprefix("urn:uuid:") for f in await find(client, query)]


async def visibility_of(client: AsyncTestClient[Any], username: str) -> Visibility:
    """What the user's organisation may see: its facilities and its products."""
    pool = client.app.state.darutrace.db.pool
    async with pool.connection() as connection:
        row = await (
            await connection.execute(
                "SELECT organization_id FROM users WHERE username = %s", (username,)
            )
        ).fetchone()
        assert row is not None
        organization = row[0]
        sites = await (
            await connection.execute(
                "SELECT id FROM facilities WHERE organization_id = %s", (organization,)
            )
        ).fetchall()
        products = await (
            await connection.execute(
                "SELECT gtin FROM products WHERE organization_id = %s", (organization,)
            )
        ).fetchall()
    return Visibility(
        organization, frozenset(r[0] for r in sites), frozenset(r[0] for r in products)
    )


def since(found: FoundEvent) -> datetime:
    return datetime.fromisoformat(found.document["eventTime"])


async def history_with_start(client: AsyncTestClient[Any]) -> tuple[History, EventQuery]:
    """The history, and a query of everything from its first event on, oldest first."""
    history = await record_history(client)
    (commissioning,) = await find(
        client, EventQuery(event_ids=frozenset({f"urn:uuid:{history.event_ids[0]}"}))
    )
    return history, EventQuery(ge_event_time=since(commissioning), descending=False, per_page=100)


def epc_lists(found: list[FoundEvent]) -> list[list[str]]:
    return [f.document.get("epcList", f.document.get("childEPCs")) for f in found]


async def test_a_packs_events_by_match_epc_with_lists_narrowed_or_whole(
    client: AsyncTestClient[Any],
) -> None:
    h = await record_history(client)
    query = EventQuery(match_epc=(EpcMatch(h.epc(0)),), descending=False, visibility=INSPECTOR)
    narrowed = await find(client, query, narrow=True)
    assert [f.document["eventID"] for f in narrowed] == [f"urn:uuid:{i}" for i in h.event_ids]
    assert epc_lists(narrowed) == [[h.epc(0)]] * 7

    whole = await find(client, query)
    lists = epc_lists(whole)
    assert sorted(lists[0]) == sorted(h.epc(i) for i in range(6))  # the commissioning: all six
    assert sorted(lists[1]) == sorted(h.epc(i) for i in range(4))  # packed into the case
    for moved in lists[2:6]:  # the case moved whole, and each of its packs with it
        assert sorted(moved) == sorted([h.case_epc, *(h.epc(i) for i in range(4))])
    assert lists[6] == [h.epc(0)]  # the refused line of the dispensing did not happen

    documents = [f.document for f in whole]
    assert [d["type"] for d in documents] == ["ObjectEvent", "AggregationEvent"] + [
        "ObjectEvent"
    ] * 5
    assert [(d["action"], d["bizStep"], d.get("disposition")) for d in documents] == [
        ("ADD", "commissioning", "active"),
        ("ADD", "packing", "in_progress"),
        ("OBSERVE", "shipping", "in_transit"),
        ("OBSERVE", "receiving", "in_progress"),
        ("OBSERVE", "shipping", "in_transit"),
        ("OBSERVE", "receiving", "in_progress"),
        ("OBSERVE", "dispensing", "dispensed"),
    ]
    assert documents[1]["parentID"] == h.case_epc
    assert documents[0]["ilmd"] == {
        "cbvmda:lotNumber": h.lot,
        "cbvmda:itemExpirationDate": h.expiry,
    }


async def test_cases_match_as_epcs_or_as_parents(client: AsyncTestClient[Any]) -> None:
    h = await record_history(client)
    case = (EpcMatch(h.case_epc),)
    assert await ids(client, EventQuery(match_epc=case, descending=False)) == h.event_ids[2:6]
    assert await ids(client, EventQuery(match_any_epc=case, descending=False)) == h.event_ids[1:6]
    assert await ids(client, EventQuery(match_parent_id=case)) == [h.event_ids[1]]
    # The case is named, not the pack: narrowed, the lists hold the case only.
    moved = await find(client, EventQuery(match_epc=case), narrow=True)
    assert epc_lists(moved) == [[h.case_epc]] * 4


async def test_patterns_and_codes_of_no_pack(client: AsyncTestClient[Any]) -> None:
    h = await record_history(client)
    every_serial = EpcMatch(f"{DL}/01/{h.gtin}/21/", prefix=True)
    assert await ids(client, EventQuery(match_epc=(every_serial,), descending=False)) == h.event_ids
    serial_start = EpcMatch(f"{DL}/01/{h.gtin}/21/{h.serials[5][:4]}", prefix=True)
    found = await find(client, EventQuery(match_epc=(serial_start,)), narrow=True)
    assert [f.document["bizStep"] for f in found] == ["commissioning"]
    assert epc_lists(found) == [[h.epc(5)]]
    # A refused line did not happen: the code scanned at the counter names no event.
    unknown = EpcMatch(f"{DL}/01/{h.gtin}/21/{UNKNOWN_SERIAL}")
    assert await find(client, EventQuery(match_epc=(unknown,))) == []
    assert await find(client, EventQuery(match_epc=(EpcMatch("urn:example:thing"),))) == []


async def test_filters_by_step_disposition_time_location_and_parties(
    client: AsyncTestClient[Any],
) -> None:
    h, every = await history_with_start(client)
    e = h.event_ids
    assert await ids(client, replace(every, biz_steps=frozenset({"shipping"}))) == [e[2], e[4]]
    cbv = "https://ref.gs1.org/cbv/BizStep-receiving"
    assert await ids(client, replace(every, biz_steps=frozenset({cbv}))) == [e[3], e[5]]
    assert await ids(client, replace(every, dispositions=frozenset({"dispensed"}))) == [e[6]]
    aggregations = replace(every, event_types=frozenset({"AggregationEvent"}))
    assert await ids(client, aggregations) == [e[1]]
    assert await ids(client, replace(every, actions=frozenset({"DELETE"}))) == []
    assert await ids(client, replace(every, actions=frozenset({"ADD"}))) == e[:2]

    found = {f.document["eventID"]: f for f in await find(client, every)}
    shipped, delivered = (since(found[f"urn:uuid:{e[i]}"]) for i in (2, 5))
    window = replace(every, ge_event_time=shipped, lt_event_time=delivered)
    assert await ids(client, window) == e[2:5]

    at_pharmacy = replace(every, biz_locations=(EpcMatch(sgln("razi-pharmacy")),))
    assert await ids(client, at_pharmacy) == [e[5], e[6]]  # shipments have no bizLocation
    read_at_warehouse = replace(every, read_points=(EpcMatch(sgln("darupakhsh")),))
    assert await ids(client, read_at_warehouse) == [e[3], e[4]]
    gln_pattern = replace(every, read_points=(EpcMatch(f"{DL}/414/", prefix=True),))
    assert await ids(client, gln_pattern) == e

    from_maker = replace(every, sources={"location": frozenset({sgln("sina-darou")})})
    assert await ids(client, from_maker) == [e[2], e[3]]  # its shipment, and the receipt of it
    pharmacy = found[f"urn:uuid:{e[5]}"].document["destinationList"][1]["destination"]
    to_pharmacy = replace(every, destinations={"owning_party": frozenset({pharmacy})})
    assert await ids(client, to_pharmacy) == [e[4], e[5]]
    assert (
        await ids(client, replace(every, sources={"possessing_party": frozenset({pharmacy})})) == []
    )

    transactions = replace(every, biz_transactions={"po": frozenset({"urn:example:po:1"})})
    assert await ids(client, transactions) == []
    assert await ids(client, replace(every, event_types=frozenset({"TransformationEvent"}))) == []
    classes = replace(every, match_epc_class=(EpcMatch(f"{DL}/01/{h.gtin}"),))
    assert await ids(client, classes) == []


async def test_order_and_pages_follow_the_cursor(client: AsyncTestClient[Any]) -> None:
    h, every = await history_with_start(client)
    for order_by in ("eventTime", "recordTime"):
        for descending in (False, True):
            query = replace(every, per_page=2, order_by=order_by, descending=descending)
            seen: list[str] = []
            while True:
                page = await find(client, query)
                assert len(page) <= 3
                seen += [f.document["eventID"].removeprefix("urn:uuid:") for f in page[:2]]
                if len(page) <= 2:
                    break
                query = replace(query, after=page[1].cursor)
            assert seen == (h.event_ids[::-1] if descending else h.event_ids)
    # A captured event at the same time as ours comes first ("c" before "r"): ours follows it.
    (receipt,) = await find(client, EventQuery(event_ids=frozenset({f"urn:uuid:{h.event_ids[3]}"})))
    captured_then = Cursor(receipt.cursor.time, "c", "17")
    assert await ids(client, replace(every, after=captured_then)) == h.event_ids[3:]
    backwards = replace(every, after=captured_then, descending=True)
    assert await ids(client, backwards) == h.event_ids[2::-1]


async def test_each_organisation_sees_its_own_sites_and_products(
    client: AsyncTestClient[Any],
) -> None:
    h = await record_history(client)
    e = h.event_ids
    pack = (EpcMatch(h.epc(0)),)

    async def seen_by(username: str) -> list[FoundEvent]:
        visibility = await visibility_of(client, username)
        query = EventQuery(match_epc=pack, descending=False, visibility=visibility)
        return await find(client, query)

    def event_ids(found: list[FoundEvent]) -> list[str]:
        return [f.document["eventID"].removeprefix("urn:uuid:") for f in found]

    assert event_ids(await seen_by("razi-pharmacy")) == [e[4], e[5], e[6]]  # shipped to it
    assert event_ids(await seen_by("darupakhsh")) == [e[2], e[3], e[4]]
    assert await seen_by("hafez-pharmacy") == []  # another organisation's pharmacy
    maker = await seen_by("sina-darou")  # its product's packs, wherever they went
    assert event_ids(maker) == e
    # Seen for its products only: the others' case is not listed.
    assert sorted(epc_lists(maker)[5]) == sorted(h.epc(i) for i in range(4))
    assert h.case_epc in epc_lists(maker)[2]  # its own shipment, as it was

    pool = client.app.state.darutrace.db.pool
    dispensing = uuid.UUID(e[6])
    async with pool.connection() as connection:
        razi = await visibility_of(client, "razi-pharmacy")
        document = await register_events.event(connection, dispensing, razi)
        assert document is not None and document["bizStep"] == "dispensing"
        hafez = await visibility_of(client, "hafez-pharmacy")
        assert await register_events.event(connection, dispensing, hafez) is None
        assert await register_events.event(connection, uuid.uuid4(), INSPECTOR) is None


async def test_not_listed_refused_events_and_those_a_capture_drove(
    client: AsyncTestClient[Any],
) -> None:
    h, every = await history_with_start(client)
    pharmacy = await headers_for(client, "razi-pharmacy")
    refused = await event(client, pharmacy, "dispense", [pack_code(h.gtin, UNKNOWN_SERIAL)])
    assert refused.status_code in (409, 422), refused.text  # recorded, but nothing happened
    dispensings = replace(every, biz_steps=frozenset({"dispensing"}))
    assert await ids(client, dispensings) == [h.event_ids[6]]
    by_id = EventQuery(event_ids=frozenset({f"urn:uuid:{refused.json()['event_id']}"}))
    assert await find(client, by_id) == []

    # An EPCIS capture that drove the register's dispensing lists it as captured, once.
    pool = client.app.state.darutrace.db.pool
    async with pool.connection() as connection:
        await connection.execute(
            "INSERT INTO epcis_events (event_id, hash_id, event_type, event_time,"
            " event_time_zone_offset, record_time, actor_kind, actor_id, gtins,"
            " register_event_id, document)"
            " VALUES ('urn:uuid:' || gen_random_uuid(), 'ni:///sha-256;test', 'ObjectEvent',"
            " now(), '+00:00', now(), 'user', gen_random_uuid(), ARRAY[%s]::char(14)[], %s, '{}')",
            (h.gtin, h.event_ids[6]),
        )
        assert await register_events.event(connection, uuid.UUID(h.event_ids[6]), INSPECTOR) is None
    assert await ids(client, dispensings) == []
    assert await ids(client, every) == h.event_ids[:6]


async def test_every_step_at_the_counter_in_cbv_terms(client: AsyncTestClient[Any]) -> None:
    """Undo, lock and unlock, destroy, return, as SHAPES maps them."""
    h, every = await history_with_start(client)
    pharmacy = await headers_for(client, "razi-pharmacy")
    steps = [
        ("undo", 0, {}),
        ("lock", 1, {}),
        ("unlock", 1, {}),
        ("destroy", 2, {}),
        ("return", 3, {"destination_gln": facility_gln("darupakhsh")}),
    ]
    for action, index, fields in steps:
        answer = await event(
            client, pharmacy, action, [pack_code(h.gtin, h.serials[index])], **fields
        )
        assert answer.json()["summary"]["ok"] == 1, answer.text
    found = await find(client, every)
    later = [f.document for f in found][7:]
    assert [(d["action"], d["bizStep"], d["disposition"]) for d in later] == [
        ("OBSERVE", "decommissioning", "active"),
        ("OBSERVE", "holding", "non_sellable_other"),
        ("OBSERVE", "holding", "active"),
        ("DELETE", "destroying", "destroyed"),
        ("OBSERVE", "shipping", "returned"),
    ]
    assert [d["epcList"] for d in later] == [[h.epc(i)] for i in (0, 1, 1, 2, 3)]
    returned = later[-1]
    assert "bizLocation" not in returned
    assert returned["sourceList"][0] == {"type": "location", "source": sgln("razi-pharmacy")}
    assert returned["destinationList"][0] == {
        "type": "location",
        "destination": sgln("darupakhsh"),
    }
