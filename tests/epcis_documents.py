"""EPCIS 2.0 documents for tests and benchmarks, written here in our own words: a manufacturer's
line system commissions packs, packs them into cases and ships the cases."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.testing import AsyncTestClient

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def sgtin_dl(gtin: str, serial: str) -> str:
    return f"https://id.gs1.org/01/{gtin}/21/{serial}"


def sgtin_urn(gtin: str, serial: str, prefix_length: int = 7) -> str:
    """`gtin` = indicator, company prefix, item reference, check digit."""
    prefix = gtin[1 : 1 + prefix_length]
    item = gtin[0] + gtin[1 + prefix_length : 13]
    return f"urn:epc:id:sgtin:{prefix}.{item}.{serial}"


def sscc_dl(sscc: str) -> str:
    return f"https://id.gs1.org/00/{sscc}"


def sgln_dl(gln: str) -> str:
    return f"https://id.gs1.org/414/{gln}"


def document(*events: dict[str, Any], context: list[Any] | None = None) -> dict[str, Any]:
    return {
        "@context": context or [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-30T08:00:00.000Z",
        "epcisBody": {"eventList": list(events)},
    }


def commissioning(
    gtin: str, serials: list[str], lot: str, expiry: str, site_gln: str, when: str, *,
    urn: bool = False,
) -> dict[str, Any]:  # fmt: skip
    make = sgtin_urn if urn else sgtin_dl
    return {
        "type": "ObjectEvent",
        "eventTime": when,
        "eventTimeZoneOffset": "+03:30",
        "epcList": [make(gtin, serial) for serial in serials],
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "readPoint": {"id": sgln_dl(site_gln)},
        "bizLocation": {"id": sgln_dl(site_gln)},
        "ilmd": {"cbvmda:lotNumber": lot, "cbvmda:itemExpirationDate": expiry},
    }


def packing(
    sscc: str, children: list[str], site_gln: str, when: str, action: str = "ADD"
) -> dict[str, Any]:
    return {
        "type": "AggregationEvent",
        "eventTime": when,
        "eventTimeZoneOffset": "+03:30",
        "parentID": sscc_dl(sscc),
        "childEPCs": children,
        "action": action,
        "bizStep": "packing" if action == "ADD" else "unpacking",
        "disposition": "in_progress",
        "readPoint": {"id": sgln_dl(site_gln)},
        "bizLocation": {"id": sgln_dl(site_gln)},
    }


def shipping(epcs: list[str], site_gln: str, destination_gln: str, when: str) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": when,
        "eventTimeZoneOffset": "+03:30",
        "epcList": epcs,
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": sgln_dl(site_gln)},
        "bizLocation": {"id": sgln_dl(site_gln)},
        "bizTransactionList": [
            {"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:6260009000006:4711"}
        ],
        "sourceList": [{"type": "location", "source": sgln_dl(site_gln)}],
        "destinationList": [{"type": "location", "destination": sgln_dl(destination_gln)}],
    }


async def captured(
    client: AsyncTestClient[Any],
    headers: dict[str, str],
    body: dict[str, Any],
    behaviour: str | None = None,
) -> dict[str, Any]:
    """POST /epcis/capture, then the job once it has run."""
    extra = {"GS1-Capture-Error-Behaviour": behaviour} if behaviour else {}
    response = await client.post("/epcis/capture", json=body, headers=headers | extra)
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    for _ in range(6000):
        job = await client.get(location, headers=headers)
        assert job.status_code == 200, job.text
        if not job.json()["running"]:
            return dict(job.json())
        await asyncio.sleep(0.05)
    raise AssertionError(f"the capture job {location} is still running after five minutes")
