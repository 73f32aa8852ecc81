"""Aggregation: receive a pallet of 10,000 packs with one SSCC scan (target ≤ 2 s), after packing
them onto the pallet (one event of 10,000 pack codes) and shipping it (one scan).

    uv run python bench/pallet.py [PACKS]
"""

from __future__ import annotations

import sys
import time
import uuid
from typing import Any

import httpx
from harness import (
    LONG,
    checked,
    code,
    commission,
    demo_server,
    facility_gln,
    login,
    new_batch,
    serial_lines,
)

from models.gs1 import with_check_digit


def timed_event(
    client: httpx.Client, headers: dict[str, str], action: str, codes: list[str], **fields: Any
) -> tuple[float, dict[str, Any]]:
    event = {"event_id": str(uuid.uuid4()), "action": action, "codes": codes, **fields}
    started = time.perf_counter()
    answer = checked(client.post("/api/events", json=event, headers=headers, timeout=LONG))
    return time.perf_counter() - started, answer


def main() -> None:
    packs = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    pallet = f"(00){with_check_digit('06260009' + '5' * 9)}"
    with demo_server() as server, httpx.Client(base_url=server.url) as client:
        maker, warehouse = login(client, "sina-darou"), login(client, "darupakhsh")
        gtin = new_batch(client, maker, packs, n=40)
        commission(client, maker, gtin, "LOT-40", packs)
        codes = [code(gtin, s) for s in serial_lines(client, maker, gtin, "LOT-40")]
        packed_s, packed = timed_event(client, maker, "pack", codes, container=pallet)
        assert packed["summary"]["ok"] == packs, packed["summary"]
        shipped_s, shipped = timed_event(
            client, maker, "ship", [pallet], destination_gln=facility_gln("darupakhsh")
        )
        assert shipped["results"][0]["summary"]["ok"] == packs, shipped["results"][0]
        received_s, received = timed_event(client, warehouse, "receive", [pallet])
        assert received["results"][0]["summary"]["ok"] == packs, received["results"][0]
    print(f"pallet of {packs:,} packs (2 cores):")
    print(f"  pack onto the pallet ({packs:,} codes in one event): {packed_s:.2f} s")
    print(f"  ship the pallet (one SSCC scan):                       {shipped_s:.2f} s")
    print(f"  receive the pallet (one SSCC scan, target ≤ 2 s):      {received_s:.2f} s")


if __name__ == "__main__":
    main()
