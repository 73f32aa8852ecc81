"""EPCIS XML capture (1.2, as installed level-4 systems send it): mapped onto the 2.0 model, so
that the events are queried back as if they had come in JSON-LD, their hash IDs are the same,
the register follows, and a bad document is named by the XPath of what is wrong in it."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.testing import AsyncTestClient

from tests.epcis_documents import (
    captured,
    commissioning,
    document,
    sgln_dl,
    sgtin_dl,
    sgtin_urn,
)
from tests.helpers import event, facility_gln, headers_for, register_batch
from tests.test_aggregation import case_code, sscc

MAKER, DISTRIBUTOR = "sina-darou", "darupakhsh"
XML = {"Content-Type": "application/xml"}


def sgln_urn(gln: str) -> str:
    return f"urn:epc:id:sgln:{gln[:7]}.{gln[7:12]}.0"


def sscc_urn(number: str) -> str:
    return f"urn:epc:id:sscc:{number[1:8]}.{number[0]}{number[8:17]}"


def xml_document(*events: str, version: str = "1.2") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1"
    xmlns:cbvmda="urn:epcglobal:cbv:mda" xmlns:line="https://line.example.com/epcis/"
    schemaVersion="{version}" creationDate="2026-11-30T08:00:00.000Z">
  <EPCISBody><EventList>{"".join(events)}</EventList></EPCISBody>
</epcis:EPCISDocument>"""


def _place(site: str) -> str:
    return f"<readPoint><id>{sgln_urn(site)}</id></readPoint>" + (
        f"<bizLocation><id>{sgln_urn(site)}</id></bizLocation>"
    )


def xml_commissioning(gtin: str, serials: list[str], lot: str, site: str, when: str) -> str:
    epcs = "".join(f"<epc>{sgtin_urn(gtin, s)}</epc>" for s in serials)
    return f"""
    <ObjectEvent>
      <eventTime>{when}</eventTime><eventTimeZoneOffset>+03:30</eventTimeZoneOffset>
      <epcList>{epcs}</epcList>
      <action>ADD</action>
      <bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>
      <disposition>urn:epcglobal:cbv:disp:active</disposition>
      {_place(site)}
      <extension><ilmd>
        <cbvmda:lotNumber>{lot}</cbvmda:lotNumber>
        <cbvmda:itemExpirationDate>2028-06-30</cbvmda:itemExpirationDate>
      </ilmd></extension>
      <line:lineNumber>3</line:lineNumber>
    </ObjectEvent>"""


def xml_events(gtin: str, serials: list[str], lot: str, site: str, to: str, case: str) -> str:
    """Commission, pack, order, count, transform, ship: every kind of event 1.2 has."""
    children = "".join(f"<epc>{sgtin_urn(gtin, s)}</epc>" for s in serials)
    lgtin = f"urn:epc:class:lgtin:{gtin[1:8]}.{gtin[0]}{gtin[8:13]}.{lot}"
    return (
        xml_commissioning(gtin, serials, lot, site, "2026-11-30T06:00:00.000Z")
        + f"""
    <AggregationEvent>
      <eventTime>2026-11-30T06:10:00.000Z</eventTime>
      <eventTimeZoneOffset>+03:30</eventTimeZoneOffset>
      <parentID>{sscc_urn(case)}</parentID>
      <childEPCs>{children}</childEPCs>
      <action>ADD</action>
      <bizStep>urn:epcglobal:cbv:bizstep:packing</bizStep>
      <disposition>urn:epcglobal:cbv:disp:in_progress</disposition>
      {_place(site)}
    </AggregationEvent>
    <TransactionEvent>
      <eventTime>2026-11-30T06:20:00.000Z</eventTime>
      <eventTimeZoneOffset>+03:30</eventTimeZoneOffset>
      <baseExtension>
        <eventID>urn:uuid:3f0c1a52-7d1e-4c4b-9a55-1e2f3a4b5c6d</eventID>
        <errorDeclaration>
          <declarationTime>2026-11-30T06:30:00.000Z</declarationTime>
          <reason>urn:epcglobal:cbv:er:incorrect_data</reason>
          <correctiveEventIDs>
            <correctiveEventID>urn:uuid:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d</correctiveEventID>
          </correctiveEventIDs>
        </errorDeclaration>
      </baseExtension>
      <bizTransactionList>
        <bizTransaction type="urn:epcglobal:cbv:btt:po"
          >urn:epcglobal:cbv:bt:{to}:PO-77</bizTransaction>
      </bizTransactionList>
      <parentID>{sscc_urn(case)}</parentID>
      <epcList/>
      <action>ADD</action>
      <bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>
      {_place(site)}
      <extension><quantityList><quantityElement>
        <epcClass>{lgtin}</epcClass><quantity>20</quantity>
      </quantityElement></quantityList></extension>
    </TransactionEvent>
    <QuantityEvent>
      <eventTime>2026-11-30T06:25:00.000Z</eventTime>
      <eventTimeZoneOffset>+03:30</eventTimeZoneOffset>
      <epcClass>{lgtin}</epcClass><quantity>20</quantity>
      <bizStep>urn:epcglobal:cbv:bizstep:inspecting</bizStep>
      {_place(site)}
    </QuantityEvent>
    <extension><TransformationEvent>
      <eventTime>2026-11-30T06:40:00.000Z</eventTime>
      <eventTimeZoneOffset>+03:30</eventTimeZoneOffset>
      <inputQuantityList><quantityElement>
        <epcClass>{lgtin}</epcClass><quantity>2.5</quantity><uom>KGM</uom>
      </quantityElement></inputQuantityList>
      <outputEPCList><epc>{sgtin_urn(gtin, "TX1")}</epc></outputEPCList>
      <bizStep>urn:epcglobal:cbv:bizstep:repackaging</bizStep>
      {_place(site)}
    </TransformationEvent></extension>
    <ObjectEvent>
      <eventTime>2026-11-30T07:00:00.000Z</eventTime>
      <eventTimeZoneOffset>+03:30</eventTimeZoneOffset>
      <epcList><epc>{sscc_urn(case)}</epc></epcList>
      <action>OBSERVE</action>
      <bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>
      <disposition>urn:epcglobal:cbv:disp:in_transit</disposition>
      {_place(site)}
      <extension>
        <sourceList><source type="urn:epcglobal:cbv:sdt:location">{sgln_urn(site)}</source>
        </sourceList>
        <destinationList>
          <destination type="urn:epcglobal:cbv:sdt:location">{sgln_urn(to)}</destination>
        </destinationList>
      </extension>
    </ObjectEvent>"""
    )


async def _capture_xml(
    client: AsyncTestClient[Any], headers: dict[str, str], body: str
) -> dict[str, Any]:
    response = await client.post("/epcis/capture", content=body.encode(), headers=headers | XML)
    assert response.status_code == 202, response.text
    for _ in range(600):
        job = await client.get(response.headers["Location"], headers=headers)
        if not job.json()["running"]:
            return dict(job.json())
        await asyncio.sleep(0.02)
    raise AssertionError("the XML capture job did not finish")


async def _pack(client: AsyncTestClient[Any], gtin: str, serial: str) -> dict[str, Any]:
    inspector = await headers_for(client, "fdo-inspector")
    response = await client.get(f"/api/packs/{gtin}/{serial}", headers=inspector)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_12_document_is_captured_queried_back_and_moves_the_register(
    client: AsyncTestClient[Any],
) -> None:
    maker = await headers_for(client, MAKER)
    site, to = facility_gln(MAKER), facility_gln(DISTRIBUTOR)
    gtin, lot, _ = await register_batch(client, maker, item="321", lot="XM01")
    serials = [f"XM{n:04d}" for n in range(12)]
    case = sscc(321)
    job = await _capture_xml(
        client, maker, xml_document(xml_events(gtin, serials, lot, site, to, case))
    )
    assert job["success"] and job["errors"] == [], job["errors"]
    assert job["eventCount"] == job["storedCount"] == 6

    assert (await _pack(client, gtin, serials[0]))["status"] == "active"

    answer = await client.get(
        "/epcis/events", params={"EQ_bizLocation": sgln_dl(site), "perPage": 50}, headers=maker
    )
    assert answer.status_code == 200, answer.text
    events = answer.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    captured_here = [e for e in events if e["eventTime"].startswith("2026-11-30T0")]
    kinds = sorted(e["type"] for e in captured_here)
    assert kinds == sorted(
        ["ObjectEvent", "AggregationEvent", "TransactionEvent", "ObjectEvent",
         "TransformationEvent", "ObjectEvent"]
    )  # fmt: skip
    by_time = {e["eventTime"][:19]: e for e in captured_here}
    commissioned = by_time["2026-11-30T06:00:00"]
    assert sorted(commissioned["epcList"]) == sorted(sgtin_dl(gtin, s) for s in serials)
    assert commissioned["bizStep"] in ("commissioning", "urn:epcglobal:cbv:bizstep:commissioning")
    assert commissioned["ilmd"]["cbvmda:lotNumber"] == lot
    assert commissioned["line:lineNumber"] == "3"
    ordered = by_time["2026-11-30T06:20:00"]
    assert ordered["eventID"] == "urn:uuid:3f0c1a52-7d1e-4c4b-9a55-1e2f3a4b5c6d"
    assert ordered["errorDeclaration"]["correctiveEventIDs"] == [
        "urn:uuid:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
    ]
    assert ordered["bizTransactionList"][0]["bizTransaction"].endswith(":PO-77")
    assert ordered["quantityList"][0]["quantity"] == 20
    counted = by_time["2026-11-30T06:25:00"]
    assert counted["action"] == "OBSERVE" and counted["quantityList"][0]["quantity"] == 20
    transformed = by_time["2026-11-30T06:40:00"]
    assert transformed["inputQuantityList"][0] == {
        "epcClass": transformed["inputQuantityList"][0]["epcClass"], "quantity": 2.5, "uom": "KGM"
    }  # fmt: skip
    shipped = by_time["2026-11-30T07:00:00"]
    assert shipped["destinationList"][0]["destination"] == sgln_urn(to)

    # The register followed: the case, holding the packs, went to the distributor, who
    # receives it with one scan.
    assert (await _pack(client, gtin, serials[5]))["holder"]["in_transit"] is True
    distributor = await headers_for(client, DISTRIBUTOR)
    received = await event(client, distributor, "receive", [case_code(case)])
    assert received.status_code == 200, received.text
    assert received.json()["summary"] == {"ok": 1, "warning": 0, "refused": 0}
    pack = await _pack(client, gtin, serials[5])
    assert pack["status"] == "active" and pack["holder"]["facility"]["gln"] == to


async def test_the_same_events_in_json_ld_are_recognised_as_duplicates(
    client: AsyncTestClient[Any],
) -> None:
    """The mapping keeps every member the hash ID reads: the JSON-LD twin of an XML event is
    the same event (no eventIDs here, so only the hash can tell)."""
    maker = await headers_for(client, MAKER)
    site = facility_gln(MAKER)
    gtin, lot, _ = await register_batch(client, maker, item="322", lot="XM02")
    serials = ["XD1", "XD2", "XD3"]
    when = "2026-11-30T06:00:00.000Z"
    job = await _capture_xml(
        client, maker, xml_document(xml_commissioning(gtin, serials, lot, site, when))
    )
    assert job["success"] and job["storedCount"] == 1, job
    twin = commissioning(gtin, serials, lot, "2028-06-30", site, when, urn=True)
    twin["bizStep"], twin["disposition"] = "commissioning", "active"
    twin["readPoint"] = twin["bizLocation"] = {"id": sgln_urn(site)}
    twin["line:lineNumber"] = "3"
    context = [
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        {"line": "https://line.example.com/epcis/"},
    ]
    again = await captured(client, maker, document(twin, context=context))
    assert again["success"] and again["storedCount"] == 0, again


async def test_one_xml_event_by_post_events_and_the_media_types_capture_takes(
    client: AsyncTestClient[Any],
) -> None:
    maker = await headers_for(client, MAKER)
    site = facility_gln(MAKER)
    gtin, lot, _ = await register_batch(client, maker, item="323", lot="XM03")
    one = xml_document(
        xml_commissioning(gtin, ["XE1"], lot, site, "2026-11-30T06:00:00.000Z")
    ).encode()
    response = await client.post(
        "/epcis/events", content=one, headers=maker | {"Content-Type": "text/xml; charset=utf-8"}
    )
    assert response.status_code == 201, response.text
    assert (await _pack(client, gtin, "XE1"))["status"] == "active"

    two = xml_document(
        xml_commissioning(gtin, ["XE2"], lot, site, "2026-11-30T06:00:00.000Z"),
        xml_commissioning(gtin, ["XE3"], lot, site, "2026-11-30T06:01:00.000Z"),
    ).encode()
    refused = await client.post("/epcis/events", content=two, headers=maker | XML)
    assert refused.status_code == 400 and "/epcis/capture" in refused.text, refused.text

    other = await client.post(
        "/epcis/capture", content=one, headers=maker | {"Content-Type": "text/csv"}
    )
    assert other.status_code == 415, other.text
    assert "application/xml" in other.json()["detail"]
    assert (await _pack(client, gtin, "XE2"))["status"] == "unknown"


async def test_a_bad_xml_document_is_named_by_xpath_and_stores_nothing(
    client: AsyncTestClient[Any],
) -> None:
    maker = await headers_for(client, MAKER)
    site = facility_gln(MAKER)
    gtin, lot, _ = await register_batch(client, maker, item="324", lot="XM04")
    good = xml_commissioning(gtin, ["XB1"], lot, site, "2026-11-30T06:00:00.000Z")
    wrong_digit = f"{gtin[:-1]}{(int(gtin[-1]) + 1) % 10}"
    bad_epc = good.replace(
        f"<epc>{sgtin_urn(gtin, 'XB1')}</epc>",
        f"<epc>{sgtin_urn(gtin, 'XB2')}</epc><epc>https://id.gs1.org/01/{wrong_digit}/21/XB3</epc>",
    )
    no_time = good.replace("<eventTime>2026-11-30T06:00:00.000Z</eventTime>", "")
    response = await client.post(
        "/epcis/capture", content=xml_document(good, bad_epc, no_time).encode(), headers=maker | XML
    )
    assert response.status_code == 400, response.text
    problems = {p["path"]: p["message"] for p in response.json()["errors"]}
    base = "/EPCISDocument/EPCISBody/EventList"
    assert f"{base}/ObjectEvent[2]/epcList[1]/epc[2]" in problems, problems
    assert "check digit" in problems[f"{base}/ObjectEvent[2]/epcList[1]/epc[2]"]
    assert f"{base}/ObjectEvent[3]/eventTime" in problems, problems

    bomb = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1">&b;</epcis:EPCISDocument>'
    )
    for broken, said in (
        ("<epcis:EPCISDocument", "not well-formed"),
        (bomb, "DTD"),
        ("<EPCISDocument/>", "root"),
        (xml_document(good).replace("<EventList>", "<Events>").replace("</EventList>", "</Events>"),
         "EventList"),
    ):  # fmt: skip
        refused = await client.post("/epcis/capture", content=broken.encode(), headers=maker | XML)
        assert refused.status_code == 400, refused.text
        assert said in refused.text, refused.text
    assert (await _pack(client, gtin, "XB1"))["status"] == "unknown"


async def test_a_20_xml_event_keeps_its_sensor_reports_and_persistent_disposition(
    client: AsyncTestClient[Any],
) -> None:
    maker = await headers_for(client, MAKER)
    site = facility_gln(MAKER)
    gtin, _, _ = await register_batch(client, maker, item="325", lot="XM05")
    observed = f"""
    <ObjectEvent>
      <eventTime>2026-11-30T09:00:00.000Z</eventTime>
      <eventTimeZoneOffset>+03:30</eventTimeZoneOffset>
      <epcList><epc>{sgtin_urn(gtin, "XS1")}</epc></epcList>
      <action>OBSERVE</action>
      <bizStep>inspecting</bizStep>
      {_place(site)}
      <persistentDisposition><set>completeness_verified</set></persistentDisposition>
      <sensorElementList><sensorElement>
        <sensorMetadata time="2026-11-30T08:59:00.000Z" deviceID="urn:epc:id:giai:6260009.T1"/>
        <sensorReport type="gs1:Temperature" value="6.5" uom="CEL"/>
        <sensorReport type="gs1:RelativeHumidity" value="41" uom="A93"/>
      </sensorElement></sensorElementList>
    </ObjectEvent>"""
    body = xml_document(observed, version="2.0").replace("xsd:1", "xsd:2")
    job = await _capture_xml(client, maker, body)
    assert job["success"], job["errors"]
    answer = await client.get(
        "/epcis/events", params={"MATCH_epc": sgtin_dl(gtin, "XS1")}, headers=maker
    )
    (found,) = answer.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert found["persistentDisposition"] == {"set": ["completeness_verified"]}
    (sensor,) = found["sensorElementList"]
    assert sensor["sensorMetadata"]["deviceID"] == "urn:epc:id:giai:6260009.T1"
    assert [(r["type"], r["value"]) for r in sensor["sensorReport"]] == [
        ("gs1:Temperature", 6.5), ("gs1:RelativeHumidity", 41)
    ]  # fmt: skip
