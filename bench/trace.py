"""Trace at scale: one batch of 1,000,000 packs spread over 500 facilities, then batch
distribution (target ≤ 1 s), forward trace, a pack's backward trace, a facility's inventory,
and last a recall of the batch (target ≤ 10 s) and its progress.

    uv run python bench/trace.py [PACKS] [FACILITIES]

Everything goes through the API of a fresh `serve --demo`, as real users and devices would:
an admin registers 50 organisations (distributors, pharmacies, hospitals) with 10 facilities
each across Iran's 31 provinces, and a scanner device per facility; the manufacturer
commissions the batch in one request, then ships PACKS / FACILITIES packs to each facility
(one `ship` event each); nine facilities in ten receive them with their device (the tenth's stay
in transit) and every pharmacy and hospital dispenses a tenth of what it received. So the
packs, pack_events and events rows are exactly those real scans would write.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from harness import (
    LONG,
    checked,
    code,
    commission,
    demo_server,
    login,
    new_batch,
    record,
    serial_lines,
)

from models.gs1 import with_check_digit

PROVINCES = (
    "Tehran", "Razavi Khorasan", "Isfahan", "Fars", "Khuzestan", "East Azerbaijan",
    "West Azerbaijan", "Mazandaran", "Kerman", "Alborz", "Gilan", "Kermanshah", "Hormozgan",
    "Sistan and Baluchestan", "Golestan", "Hamadan", "Kurdistan", "Markazi", "Lorestan",
    "Ardabil", "Qazvin", "Yazd", "Zanjan", "Bushehr", "Qom", "Chaharmahal and Bakhtiari",
    "North Khorasan", "South Khorasan", "Semnan", "Kohgiluyeh and Boyer-Ahmad", "Ilam",
)  # fmt: skip
FACILITIES_PER_ORGANIZATION = 10
WORKERS = 3


def setup_facilities(
    client: httpx.Client, admin: dict[str, str], count: int
) -> list[dict[str, Any]]:
    """`count` facilities in count / 10 organisations, each with a scanner device."""
    facilities = []
    for org_n in range(count // FACILITIES_PER_ORGANIZATION):
        kind = ("distributor", "pharmacy", "pharmacy", "pharmacy", "hospital")[org_n % 5]
        organization = checked(
            client.post(
                "/api/organizations",
                json={
                    "gln": with_check_digit(f"6260008{org_n:05d}"),
                    "name": f"Bench {kind} {org_n}",
                    "name_fa": f"آزمایشی {org_n}",
                    "kind": kind,
                },
                headers=admin,
            )
        )
        for site_n in range(FACILITIES_PER_ORGANIZATION):
            n = org_n * FACILITIES_PER_ORGANIZATION + site_n
            province = PROVINCES[n % len(PROVINCES)]
            facility = checked(
                client.post(
                    "/api/facilities",
                    json={
                        "gln": with_check_digit(f"6261{n:08d}"),
                        "organization_id": organization["id"],
                        "name": f"Bench {kind} {org_n} site {site_n}",
                        "name_fa": f"مرکز آزمایشی {n}",
                        "province": province,
                        "city": province,
                    },
                    headers=admin,
                )
            )
            device = checked(
                client.post(
                    "/api/devices",
                    json={"facility_id": facility["id"], "name": f"Door {n}"},
                    headers=admin,
                )
            )
            facilities.append(facility | {"kind": kind, "key": device["api_key"]})
    return facilities


def timed(call: Callable[[], httpx.Response], runs: int) -> tuple[list[float], Any]:
    """Seconds per call (the first is the cold one) and the last answer."""
    seconds, body = [], None
    for _ in range(runs):
        started = time.perf_counter()
        body = checked(call())
        seconds.append(time.perf_counter() - started)
    return seconds, body


def report(what: str, seconds: list[float]) -> None:
    warm = seconds[1:] or seconds
    print(
        f"{what}: first {seconds[0] * 1000:.0f} ms, then median "
        f"{statistics.median(warm) * 1000:.0f} ms, max {max(warm) * 1000:.0f} ms "
        f"({len(warm)} runs)"
    )


def spread_batch(
    client: httpx.Client, maker: dict[str, str], facilities: list[dict[str, Any]], packs: int
) -> tuple[str, list[dict[str, Any]], list[str]]:
    """Batch LOT-1 of `packs` packs, commissioned and spread over `facilities` by real events;
    returns (gtin, facilities, codes)."""
    facility_count = len(facilities)
    per_facility = packs // facility_count
    gtin = new_batch(client, maker, quantity=packs)
    started = time.perf_counter()
    commission(client, maker, gtin, "LOT-1", packs)
    codes = [code(gtin, serial) for serial in serial_lines(client, maker, gtin, "LOT-1")]
    print(f"commission {packs:,} packs and list them: {time.perf_counter() - started:.1f} s")

    def move(n: int) -> None:
        site = facilities[n]
        chunk = codes[n * per_facility : (n + 1) * per_facility]
        record(client, maker, "ship", chunk, destination_gln=site["gln"])
        if n % 10 == 9:
            return  # left in transit
        device = {"X-API-Key": site["key"]}
        record(client, device, "receive", chunk)
        if site["kind"] in ("pharmacy", "hospital"):
            record(client, device, "dispense", chunk[: per_facility // 10])

    started = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(move, range(facility_count)))
    print(
        f"spread over {facility_count} facilities by real events: "
        f"{time.perf_counter() - started:.1f} s"
    )
    return gtin, facilities, codes


def main() -> None:
    packs = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    facility_count = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    with demo_server() as server, httpx.Client(base_url=server.url, timeout=LONG) as client:
        admin = login(client, "fdo-admin")
        maker = login(client, "sina-darou")
        inspector = login(client, "fdo-inspector")
        started = time.perf_counter()
        facilities = setup_facilities(client, admin, facility_count)
        print(f"{facility_count} facilities with devices: {time.perf_counter() - started:.1f} s")

        gtin, facilities, codes = spread_batch(client, maker, facilities, packs)

        path = f"/api/batches/{gtin}/LOT-1"
        seconds, body = timed(lambda: client.get(f"{path}/distribution", headers=inspector), 11)
        report("batch distribution (inspector)", seconds)
        print(
            f"  {body['packs']:,} packs: {len(body['holders'])} holders, "
            f"{len(body['provinces'])} provinces, {body['in_transit']:,} in transit "
            f"({len(body['transit'])} routes), by status {body['by_status']}"
        )
        seconds, body = timed(lambda: client.get(f"{path}/distribution", headers=maker), 6)
        report("batch distribution (the owner: its own custody only)", seconds)
        seconds, body = timed(lambda: client.get(f"{path}/trace", headers=inspector), 4)
        report("forward trace (inspector)", seconds)
        print(
            f"  {len(body['facilities'])} facilities reached, {len(body['dispensers'])} dispensers"
        )
        serial = codes[0].rsplit(")", 1)[1]
        seconds, body = timed(
            lambda: client.get(f"/api/packs/{gtin}/{serial}/trace", headers=inspector), 11
        )
        report("backward trace of one pack (inspector)", seconds)
        site = facilities[1]
        device = {"X-API-Key": site["key"]}
        seconds, body = timed(
            lambda: client.get(f"/api/facilities/{site['gln']}/inventory", headers=device), 11
        )
        report("inventory of one facility (its device)", seconds)

        # Last, as it changes the batch: the inspector recalls it (target ≤ 10 s), then follows it.
        order = {
            "gtin": gtin,
            "lots": ["LOT-1"],
            "recall_class": "I",
            "reason": "benchmark",
            "instructions": "quarantine and return",
            "deadline": "2099-12-31",
        }
        seconds, body = timed(lambda: client.post("/api/recalls", json=order, headers=inspector), 1)
        report("issue a recall of the batch (inspector)", seconds)
        print(
            f"  {body['progress']['affected']:,} packs, {len(body['notices'])} holders notified, "
            f"{body['progress']['unaccounted_for']:,} unaccounted for"
        )
        recall = f"/api/recalls/{body['id']}"
        seconds, body = timed(lambda: client.get(recall, headers=inspector), 4)
        report("recall progress (inspector)", seconds)


if __name__ == "__main__":
    main()
