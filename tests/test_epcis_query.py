"""EPCIS 2.0: every event type captured and queried back, one event at a time by POST
/epcis/events, the query parameters, paging, EPC formats and who sees what."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from litestar.testing import AsyncTestClient

from tests.epcis_documents import (
    captured,
    commissioning,
    document,
    sgln_dl,
    sgtin_dl,
    sgtin_urn,
    sscc_dl,
)
from tests.helpers import facility_gln, headers_for, register_batch
from tests.test_aggregation import sscc

MAKER = "sina-darou"
GTIN = "06260009994012"  # not registered: these events are kept, not applied


def _examples(site: str) -> list[dict[str, Any]]:
    """One event of each type, with the optional parts the standard allows (our own data)."""
    place = {"readPoint": {"id": sgln_dl(site)}, "bizLocation": {"id": sgln_dl(site)}}
    when = {"eventTimeZoneOffset": "+03:30"}
    return [
        {
            "type": "ObjectEvent", "eventTime": "2026-11-01T08:00:00.000Z", **when,
            "eventID": "urn:uuid:0b7a6a52-7c1b-4a43-9a0e-3f1f7c1b2a01",
            "action": "OBSERVE", "bizStep": "inspecting", "disposition": "conformant",
            "epcList": [sgtin_dl(GTIN, "Q1")],
            "quantityList": [{"epcClass": "urn:epc:class:lgtin:6260009.099401.LOT7",
                              "quantity": 12, "uom": "EA"}],
            "persistentDisposition": {"set": ["completeness_verified"]},
            "certificationInfo": "https://example.ir/cert/77",
            "sensorElementList": [{
                "sensorMetadata": {"time": "2026-11-01T07:59:00Z", "deviceID": "urn:x:logger:9"},
                "sensorReport": [{"type": "Temperature", "value": 6.5, "uom": "CEL"},
                                 {"type": "Humidity", "value": 40, "uom": "A93"}],
            }],
            "example:handling": {"example:shelf": "B-12", "example:checkedBy": "Ali"},
            **place,
        },
        {
            "type": "AggregationEvent", "eventTime": "2026-11-01T08:10:00.000Z", **when,
            "action": "OBSERVE", "bizStep": "cycle_counting",
            "parentID": sscc_dl(sscc(401)),
            "childEPCs": [sgtin_urn(GTIN, "Q2")],
            "childQuantityList": [{"epcClass": "urn:epc:class:lgtin:6260009.099401.LOT8",
                                   "quantity": 3}],
            **place,
        },
        {
            "type": "TransactionEvent", "eventTime": "2026-11-01T08:20:00.000Z", **when,
            "action": "ADD", "bizStep": "shipping",
            "bizTransactionList": [{"type": "po", "bizTransaction": "urn:x:po:4711"}],
            "parentID": sscc_dl(sscc(402)),
            "epcList": [sgtin_dl(GTIN, "Q3")],
            **place,
        },
        {
            "type": "TransformationEvent", "eventTime": "2026-11-01T08:30:00.000Z", **when,
            "bizStep": "repackaging", "transformationID": "urn:x:transformation:1",
            "inputEPCList": [sgtin_dl(GTIN, "Q4")],
            "inputQuantityList": [{"epcClass": f"https://id.gs1.org/01/{GTIN}/10/LOT9",
                                   "quantity": 2.5, "uom": "KGM"}],
            "outputEPCList": [sgtin_dl(GTIN, "Q5"), sgtin_dl(GTIN, "Q6")],
            "ilmd": {"cbvmda:lotNumber": "LOT10"},
            **place,
        },
        {
            "type": "AssociationEvent", "eventTime": "2026-11-01T08:40:00.000Z", **when,
            "action": "ADD", "bizStep": "installing",
            "parentID": "urn:epc:id:grai:6260009.00001.77",
            "childEPCs": ["urn:epc:id:giai:6260009.SENSOR1"],
            **place,
        },
        {
            "type": "ObjectEvent", "eventTime": "2026-11-01T08:00:00.000Z", **when,
            "eventID": "urn:uuid:0b7a6a52-7c1b-4a43-9a0e-3f1f7c1b2a02",
            "action": "OBSERVE", "bizStep": "inspecting", "disposition": "conformant",
            "epcList": [sgtin_dl(GTIN, "Q1")],
            "errorDeclaration": {
                "declarationTime": "2026-11-02T09:00:00Z", "reason": "incorrect_data",
                "correctiveEventIDs": ["urn:uuid:0b7a6a52-7c1b-4a43-9a0e-3f1f7c1b2a01"],
            },
            **place,
        },
    ]  # fmt: skip


def _since() -> str:
    """Only what the test records: the demo world's own history is older."""
    moment = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return f"GE_recordTime={moment}"


CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
           {"example": "https://example.ir/epcis/"}]  # fmt: skip


async def _query(
    client: AsyncTestClient[Any], headers: dict[str, str], path: str = "/epcis/events", **extra: str
) -> Any:
    response = await client.get(path, headers=headers | extra)
    assert response.status_code == 200, response.text
    return response


def _events(response: Any) -> list[dict[str, Any]]:
    body = response.json()
    assert body["type"] == "EPCISQueryDocument"
    return list(body["epcisBody"]["queryResults"]["resultsBody"]["eventList"])


def _epcs(event: dict[str, Any]) -> list[str]:
    return [e for name in ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
            for e in event.get(name, [])]  # fmt: skip


async def test_every_event_type_is_captured_and_queried_back_as_it_came(
    client: AsyncTestClient[Any],
) -> None:
    maker = await headers_for(client, MAKER)
    since = _since()
    sent = _examples(facility_gln(MAKER))
    job = await captured(client, maker, document(*sent, context=CONTEXT))
    assert job["success"] and job["storedCount"] == len(sent), job

    found = _events(await _query(client, maker, f"/epcis/events?perPage=50&{since}",
                                 **{"GS1-EPC-Format": "Never_Translates"}))  # fmt: skip
    assert len(found) == len(sent)
    by_time = sorted(sent, key=lambda e: (e["eventTime"], e.get("eventID", "")))
    for mine, theirs in zip(by_time, found, strict=True):
        assert theirs["type"] == mine["type"]
        assert theirs["eventTime"] == mine["eventTime"]
        assert theirs.get("bizStep") == mine.get("bizStep")
        assert _epcs(theirs) == _epcs(mine)
        assert "recordTime" in theirs and theirs["eventID"]
        for name in ("quantityList", "sensorElementList", "ilmd", "errorDeclaration",
                     "persistentDisposition", "example:handling", "bizTransactionList",
                     "childQuantityList", "inputQuantityList", "parentID"):  # fmt: skip
            assert theirs.get(name) == mine.get(name), name
    hashed = [e for e in found if e["eventID"].startswith("ni:///sha-256;")]
    assert len(hashed) == 4  # the events sent without an eventID are known by their hash

    # The same event under another eventID is the same event (its hash): not stored again.
    again = dict(sent[0], eventID="urn:uuid:5d2b9c61-1111-4bbb-8ccc-000000000009")
    again["@context"] = CONTEXT
    response = await client.post("/epcis/events", json=again, headers=maker)
    assert response.status_code == 201 and response.json()["duplicate"], response.text
    assert response.headers["Location"].endswith(quote(sent[0]["eventID"], safe=""))

    # One at a time: 201 and the event's place; sent again, the same place, stored once.
    single = dict(sent[0], eventID="urn:uuid:5d2b9c61-1111-4bbb-8ccc-000000000001")
    single["eventTime"] = "2026-11-03T08:00:00.000Z"
    single["@context"] = CONTEXT
    for _ in range(2):
        response = await client.post("/epcis/events", json=single, headers=maker)
        assert response.status_code == 201, response.text
        location = response.headers["Location"]
    assert location == "/epcis/events/" + quote(single["eventID"], safe="")
    one = await client.get(location, headers=maker)
    assert one.status_code == 200 and one.json()["eventID"] == single["eventID"]
    assert len(_events(await _query(client, maker, f"/epcis/events?perPage=50&{since}"))) == 7


async def test_query_parameters_paging_formats_and_visibility(
    client: AsyncTestClient[Any],
) -> None:
    maker = await headers_for(client, MAKER)
    site = facility_gln(MAKER)
    since = _since()
    gtin, lot, _ = await register_batch(client, maker, item="411", lot="EQ1")
    serials = [f"S{n}" for n in range(5)]
    events = [
        commissioning(gtin, [serial], lot, "2028-06-30", site, f"2026-11-0{n + 1}T06:00:00Z")
        for n, serial in enumerate(serials)
    ]
    job = await captured(client, maker, document(*events))
    assert job["success"], job

    def times(response: Any) -> list[str]:
        return [e["eventTime"] for e in _events(response)]

    page = await _query(client, maker, f"/epcis/events?EQ_bizStep=commissioning&perPage=2&{since}")
    assert times(page) == ["2026-11-01T06:00:00Z", "2026-11-02T06:00:00Z"]
    pages = 1
    while "Link" in page.headers:
        link = page.headers["Link"]
        assert link.endswith('>; rel="next"')
        page = await _query(client, maker, link[1 : link.index(">")])
        pages += 1
    assert pages == 3 and times(page) == ["2026-11-05T06:00:00Z"]

    found = await _query(
        client, maker, "/epcis/events?GE_eventTime=2026-11-02T00:00:00Z"
        "&LT_eventTime=2026-11-04T00:00:00Z&orderDirection=DESC&EQ_bizStep=commissioning"
        f"&{since}",
    )  # fmt: skip
    assert times(found) == ["2026-11-03T06:00:00Z", "2026-11-02T06:00:00Z"]
    urn = sgtin_urn(gtin, "S3")
    by_epc = await _query(client, maker, f"/epcis/events?MATCH_epc={quote(urn, safe='')}")
    assert [_epcs(e) for e in _events(by_epc)] == [[sgtin_dl(gtin, "S3")]]
    as_urn = await _query(client, maker, f"/epcis/events?MATCH_epc={quote(urn, safe='')}",
                          **{"GS1-EPC-Format": "Always_EPC_URN"})  # fmt: skip
    assert [_epcs(e) for e in _events(as_urn)] == [[urn]]
    pattern = quote(f"urn:epc:idpat:sgtin:6260009.{gtin[0]}{gtin[8:13]}.*", safe="")
    assert len(_events(await _query(client, maker, f"/epcis/events?MATCH_epc={pattern}"))) == 5
    resource = await _query(client, maker, f"/epcis/epcs/{quote(urn, safe='')}/events")
    assert [_epcs(e) for e in _events(resource)] == [[sgtin_dl(gtin, "S3")]]
    at_site = await _query(
        client,
        maker,
        f"/epcis/bizLocations/{quote(sgln_dl(site), safe='')}/events"
        f"?EQ_bizStep=commissioning&{since}",
    )
    assert len(_events(at_site)) == 5
    steps = await _query(client, maker, "/epcis/bizSteps")
    assert "commissioning" in steps.json()["@set"]

    for wrong in ("perPage=0", "GE_eventTime=yesterday", "EQ_colour=red", "orderBy=size",
                  "nextPageToken=abc", "MATCH_epc=urn:epc:id:sgtin:1.2.3"):  # fmt: skip
        refused = await client.get(f"/epcis/events?{wrong}", headers=maker)
        assert refused.status_code == 422, (wrong, refused.text)

    # Another organisation's pharmacy sees none of the maker's events; the inspector all.
    pharmacy = await headers_for(client, "razi-pharmacy")
    assert (
        _events(await _query(client, pharmacy, f"/epcis/events?EQ_bizStep=commissioning&{since}"))
        == []
    )
    inspector = await headers_for(client, "fdo-inspector")
    seen = await _query(
        client, inspector, f"/epcis/events?EQ_bizStep=commissioning&perPage=9&{since}"
    )
    assert len(_events(seen)) == 5
    missing = await client.get("/epcis/events/urn:uuid:0b7a6a52-0000-4a43-9a0e-3f1f7c1b2a09",
                               headers=maker)  # fmt: skip
    assert missing.status_code == 404
    assert (await client.get("/epcis/events")).status_code == 401
    headers = (await _query(client, maker)).headers
    assert headers["GS1-EPCIS-Version"] == "2.0.0" and headers["GS1-CBV-Version"] == "2.0.0"


async def test_discovery_says_the_versions_without_credentials(
    client: AsyncTestClient[Any],
) -> None:
    for path in ("/epcis", "/epcis/capture", "/epcis/events"):
        response = await client.options(path)
        assert response.status_code == 204, (path, response.text)
        assert response.headers["GS1-EPCIS-Version"] == "2.0.0"
        assert response.headers["GS1-CBV-Version"] == "2.0.0"
        assert response.headers["GS1-EPCIS-Capture-Limit"] == "10000"
        assert "OPTIONS" in response.headers["Allow"]


async def test_every_query_and_capture_is_in_the_access_log(client: AsyncTestClient[Any]) -> None:
    pharmacy = await headers_for(client, "razi-pharmacy")
    asked = "/epcis/events?EQ_bizStep=dispensing"
    assert (await client.get(asked, headers=pharmacy)).status_code == 200
    assert (await client.get("/epcis/events?EQ_colour=red", headers=pharmacy)).status_code == 422
    refused = await client.post("/epcis/capture", content=b"{}", headers=pharmacy)
    assert refused.status_code == 400
    inspector = await headers_for(client, "fdo-inspector")
    log = await client.get("/api/access-log", params={"resource": "epcis"}, headers=inspector)
    assert log.status_code == 200, log.text
    entries = [(e["method"], e["path"], e["status_code"]) for e in log.json()]
    for expected in (("GET", "/epcis/events", 200), ("GET", "/epcis/events", 422),
                     ("POST", "/epcis/capture", 400)):  # fmt: skip
        assert expected in entries, entries[:5]
