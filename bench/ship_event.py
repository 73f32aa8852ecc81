"""One big event: ship N pack codes in one request (targets: 10,000 codes ≥ 10,000 codes/s,
i.e. ≤ 1 s; 100,000 codes ≥ 20,000 codes/s with the server's peak RSS ≤ 500 MB), then receive
them, one event each way, end to end over HTTP.

    uv run python bench/ship_event.py [CODES ...]     (default: 10000 100000)
"""

from __future__ import annotations

import sys
from typing import Any

import httpx
from harness import (
    code,
    commission,
    demo_server,
    facility_gln,
    login,
    new_batch,
    serial_lines,
)
from pallet import timed_event


def timed(
    client: httpx.Client, headers: dict[str, str], action: str, codes: list[str], **fields: Any
) -> float:
    elapsed, answer = timed_event(client, headers, action, codes, **fields)
    if answer["summary"]["ok"] != len(codes):
        raise RuntimeError(f"{action}: not all ok: {answer['summary']}")
    return elapsed


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    with demo_server() as server, httpx.Client(base_url=server.url) as client:
        maker, warehouse = login(client, "sina-darou"), login(client, "darupakhsh")
        destination = facility_gln("darupakhsh")
        rows = []
        for n, size in enumerate(sizes, start=50):
            gtin = new_batch(client, maker, size, n=n)
            commission(client, maker, gtin, f"LOT-{n}", size)
            codes = [code(gtin, s) for s in serial_lines(client, maker, gtin, f"LOT-{n}")]
            shipped = timed(client, maker, "ship", codes, destination_gln=destination)
            received = timed(client, warehouse, "receive", codes)
            rows.append((size, shipped, received, server.peak_rss_mb()))
    print("one event of N pack codes, end to end over HTTP (2 cores):")
    for size, shipped, received, rss in rows:
        print(
            f"  {size:>7,} codes: ship {shipped:6.2f} s ({size / shipped:>7,.0f} codes/s), "
            f"receive {received:6.2f} s ({size / received:>7,.0f} codes/s), "
            f"server peak RSS {rss:,.0f} MB"
        )


if __name__ == "__main__":
    main()
