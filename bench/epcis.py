"""EPCIS 2.0 capture and query (issue 15):
- capture of one commissioning ObjectEvent of 10,000 and 100,000 SGTINs, end to end (from the
  POST to the job's success, the packs in the register): target ≥ 50,000 EPCs/s;
- `GET /epcis/epcs/{epc}/events` for a pack whose commissioning event listed 100,000 EPCs, p50
  and p95 over 300 requests, beside the same for a pack of a 10-EPC event: target p95 ≤ 20 ms,
  not growing with the event's size.

    uv run python bench/epcis.py [SIZES...]
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date
from urllib.parse import quote

import httpx
from harness import LONG, checked, demo_server, facility_gln, login, new_batch, percentile

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def commissioning_document(gtin: str, lot: str, count: int, site: str, tag: str) -> bytes:
    expiry = date(date.today().year + 3, 1, 31).isoformat()
    event = {
        "type": "ObjectEvent",
        "eventTime": "2026-11-30T06:00:00.000Z",
        "eventTimeZoneOffset": "+03:30",
        "epcList": [f"https://id.gs1.org/01/{gtin}/21/{tag}{n:08d}" for n in range(count)],
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "readPoint": {"id": f"https://id.gs1.org/414/{site}"},
        "bizLocation": {"id": f"https://id.gs1.org/414/{site}"},
        "ilmd": {"cbvmda:lotNumber": lot, "cbvmda:itemExpirationDate": expiry},
    }
    body = {
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-30T08:00:00.000Z",
        "epcisBody": {"eventList": [event]},
    }
    return json.dumps(body).encode()


def capture_seconds(
    client: httpx.Client, headers: dict[str, str], body: bytes
) -> tuple[float, float]:
    """(seconds until 202, seconds until the job's success), both from the POST."""
    started = time.perf_counter()
    answer = client.post(
        "/epcis/capture",
        content=body,
        headers=headers | {"Content-Type": "application/ld+json"},
        timeout=LONG,
    )
    accepted = time.perf_counter() - started
    assert answer.status_code == 202, answer.text
    location = answer.headers["Location"]
    while True:
        job = checked(client.get(location, headers=headers))
        if not job["running"]:
            break
        time.sleep(0.01)
    assert job["success"], job
    return accepted, time.perf_counter() - started


def lookup_ms(client: httpx.Client, headers: dict[str, str], epc: str, n: int = 300) -> list[float]:
    path = f"/epcis/epcs/{quote(epc, safe='')}/events"
    times = []
    for _ in range(n):
        started = time.perf_counter()
        answer = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.text
    events = answer.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert len(events) == 1 and events[0]["epcList"] == [epc], events
    return sorted(times)


def main() -> None:
    sizes = [int(arg) for arg in sys.argv[1:]] or [10_000, 100_000]
    print(f"load average at start: {os.getloadavg()}")
    with demo_server() as server, httpx.Client(base_url=server.url, timeout=LONG) as client:
        maker = login(client, "sina-darou")
        site = facility_gln("sina-darou")
        gtin = new_batch(client, maker, quantity=sum(sizes) + 10, n=15)
        small = commissioning_document(gtin, "LOT-15", 10, site, "SMALL")
        capture_seconds(client, maker, small)
        for number, count in enumerate(sizes):
            tag = f"N{number}X"  # new serials each time: a document sent again is a no-op
            accepted, done = capture_seconds(
                client, maker, commissioning_document(gtin, "LOT-15", count, site, tag)
            )
            print(
                f"capture of one commissioning event of {count:,} SGTINs: 202 after "
                f"{accepted:.2f} s, success after {done:.2f} s = {count / done:,.0f} EPCs/s"
            )
        biggest = sizes.index(max(sizes))
        for label, epc in (
            ("10-EPC event", f"https://id.gs1.org/01/{gtin}/21/SMALL00000003"),
            (f"{max(sizes):,}-EPC event", f"https://id.gs1.org/01/{gtin}/21/N{biggest}X{77:08d}"),
        ):
            times = lookup_ms(client, maker, epc)
            print(
                f"GET /epcis/epcs/{{epc}}/events, a pack of a {label}: "
                f"p50 {percentile(times, 50):.1f} ms, p95 {percentile(times, 95):.1f} ms"
            )
        print(f"server peak RSS {server.peak_rss_mb():.0f} MB")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
