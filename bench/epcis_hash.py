"""CBV 2.0 event hash IDs per second: a typical one-pack commissioning event, a shipping event
with business transactions, source and destination, and commissioning events of 10,000 and
100,000 SGTINs (URNs and Digital Link URIs).

uv run python bench/epcis_hash.py [SECONDS_PER_CASE]
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from app.epcis.hash_id import event_hash_id
from app.packs.serials import new_serials

CONTEXT = {"daru": "https://darutrace.example/epcis/"}
PLANT = "urn:epc:id:sgln:6260123.00001.0"


def commissioning(epcs: list[str]) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": "2026-11-02T09:15:04.250+03:30",
        "eventTimeZoneOffset": "+03:30",
        "epcList": epcs,
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "readPoint": {"id": "urn:epc:id:sgln:6260123.00001.3"},
        "bizLocation": {"id": PLANT},
        "ilmd": {"cbvmda:lotNumber": "B2611-07", "cbvmda:itemExpirationDate": "2028-10-31"},
    }


def shipping() -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": "2026-11-03T14:00:00.000+03:30",
        "eventTimeZoneOffset": "+03:30",
        "epcList": ["urn:epc:id:sscc:6260123.0000004711"],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": PLANT},
        "bizTransactionList": [
            {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:6260456000107:PO-2026-118"}
        ],
        "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:6260123.00000"}],
        "destinationList": [
            {"type": "owning_party", "destination": "urn:epc:id:pgln:6260456.00000"}
        ],
        "daru:vehicle": {"daru:plate": "12-345-67"},
    }


def measure(name: str, event: dict[str, Any], seconds: float, epcs: int) -> None:
    event_hash_id(event, CONTEXT)
    runs = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds or runs < 3:
        event_hash_id(event, CONTEXT)
        runs += 1
    per_event = elapsed / runs
    print(
        f"{name}: {runs / elapsed:,.1f} events/s, {per_event * 1e3:.3f} ms an event"
        + (f", {epcs / per_event:,.0f} EPCs/s" if epcs > 1 else "")
    )


def baseline(seconds: float) -> None:
    """A fixed pure-Python workload, to compare runs taken under different loads."""
    runs = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        sorted(str(i * 7919 % 100_003) for i in range(10_000))
        runs += 1
    print(f"baseline (sort 10,000 short strings): {elapsed / runs * 1e3:.2f} ms a run")


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    load = os.getloadavg()[0]
    print(f"load average (1 min) before: {load:.2f}; {os.cpu_count()} CPUs")
    baseline(seconds)
    serials = new_serials(100_000)
    urns = [f"urn:epc:id:sgtin:6260123.012345.{serial}" for serial in serials]
    links = [f"https://id.gs1.org/01/06260123123459/21/{serial}" for serial in serials]
    measure("commissioning, 1 SGTIN (URN)", commissioning(urns[:1]), seconds, 1)
    measure("shipping, 1 SSCC, bizTransaction/source/destination", shipping(), seconds, 1)
    measure("commissioning, 10,000 SGTINs (URN)", commissioning(urns[:10_000]), seconds, 10_000)
    measure("commissioning, 10,000 SGTINs (DL)", commissioning(links[:10_000]), seconds, 10_000)
    measure("commissioning, 100,000 SGTINs (URN)", commissioning(urns), seconds, 100_000)
    baseline(seconds)
    print(f"load average (1 min) after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
