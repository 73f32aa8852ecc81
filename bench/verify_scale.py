"""Does verification slow down as the register grows? The p50 of sequential single verify
requests (random packs, one keep-alive connection) with 100,000 packs in the database and with
10,000,000 (target: within 1.5x of each other).

    uv run python bench/verify_scale.py [--max-packs 10000000] [--requests 2000] [--workers N]
"""

from __future__ import annotations

import argparse
import random
import time

import httpx
from harness import (
    code,
    commission,
    demo_server,
    login,
    new_batch,
    percentile,
    serial_lines,
)

MAX_PER_REQUEST = 1_000_000
LOT = "LOT-1"
WARM_UP = 100  # requests sent before measuring, not counted


def sample_codes(
    client: httpx.Client, headers: dict[str, str], gtin: str, total: int, k: int
) -> list[str]:
    """`k` packs drawn at random from the batch's `total` serials (streamed from the CSV)."""
    wanted = set(random.sample(range(total), k))
    codes = [
        code(gtin, serial)
        for index, serial in enumerate(serial_lines(client, headers, gtin, LOT))
        if index in wanted
    ]
    random.shuffle(codes)
    return codes


def verify_latencies_ms(
    client: httpx.Client, headers: dict[str, str], codes: list[str]
) -> list[float]:
    latencies = []
    for index, text in enumerate(codes):
        started = time.perf_counter()
        response = client.post("/api/verify", json={"code": text}, headers=headers)
        elapsed = time.perf_counter() - started
        if response.status_code != 200 or response.json()["status"] != "active":
            raise RuntimeError(f"verify {text} -> {response.status_code}: {response.text}")
        if index >= WARM_UP:
            latencies.append(elapsed * 1000)
    return sorted(latencies)


def grow_to(
    client: httpx.Client, headers: dict[str, str], gtin: str, have: int, total: int
) -> float:
    """Commission packs, at most a million per request, until the batch has `total`."""
    started = time.perf_counter()
    while have < total:
        count = min(MAX_PER_REQUEST, total - have)
        commission(client, headers, gtin, LOT, count)
        have += count
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-packs", type=int, default=10_000_000)
    parser.add_argument("--small", type=int, default=100_000, help="the first size")
    parser.add_argument("--requests", type=int, default=2000, help="measured per size")
    parser.add_argument("--workers", type=int, default=None, help="server worker processes")
    args = parser.parse_args()
    sizes = [args.small, args.max_packs]
    p50s = []

    with (
        demo_server(args.workers) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        maker, verifier = login(client, "sina-darou"), login(client, "razi-pharmacy")
        gtin = new_batch(client, maker, quantity=args.max_packs)
        have = 0
        for size in sizes:
            seconds = grow_to(client, maker, gtin, have, size)
            print(f"commissioned {size - have:,} packs (to {size:,}) in {seconds:.1f} s")
            have = size
            codes = sample_codes(client, maker, gtin, size, WARM_UP + args.requests)
            latencies = verify_latencies_ms(client, verifier, codes)
            p50s.append(percentile(latencies, 50))
            print(
                f"verify with {size:,} packs: p50 {p50s[-1]:.2f} ms, "
                f"p90 {percentile(latencies, 90):.2f} ms, p99 {percentile(latencies, 99):.2f} ms "
                f"({len(latencies):,} sequential requests, random packs)"
            )
    print(f"p50 ratio {sizes[1]:,} / {sizes[0]:,} packs: {p50s[1] / p50s[0]:.2f}x")


if __name__ == "__main__":
    main()
