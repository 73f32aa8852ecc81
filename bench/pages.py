"""Console page renders at scale: the pack, batch and recall-progress pages (and the fragments
the batch page loads: the forward trace, the next page of packs; the progress's API twin) of one
batch of 1,000,000 packs spread over 500 facilities, p50 and p95 (target p95 ≤ 300 ms for the
pages).

    uv run python bench/pages.py [PACKS] [FACILITIES] [RUNS]

The data is `bench/trace.py`'s: the facilities and the commissioning through the API, the moves
written by SQL as those API calls write them (`bench/spread.py`, which checks they are the
same); the pages are read as an inspector with a console session (the login page's form and
cookie), as a browser would.
With DARUTRACE_BENCH_DATA_DIR set (see `harness.demo_server`), a second run measures the data
the first one built, and its recall, again.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from trace import setup_facilities

import httpx
import psycopg
from harness import LONG, checked, console_session, demo_server, login, percentile, serial_lines
from spread import spread_batch_by_sql

from models.gs1 import with_check_digit


def measure(what: str, call: Callable[[], httpx.Response], runs: int) -> None:
    call()  # warm: the first render compiles the templates
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        response = call()
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, (what, response.status_code, response.text[:300])
    ordered = sorted(seconds)
    print(
        f"{what}: p50 {percentile(ordered, 50) * 1000:.0f} ms, "
        f"p95 {percentile(ordered, 95) * 1000:.0f} ms ({runs} runs)"
    )


def main() -> None:
    packs = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    facility_count = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    with demo_server() as server, httpx.Client(base_url=server.url, timeout=LONG) as api:
        admin = login(api, "fdo-admin")
        maker = login(api, "sina-darou")
        inspector = login(api, "fdo-inspector")
        gtin = with_check_digit("0626000998001")  # `new_batch`'s product number 1
        built = api.get(f"/api/batches/{gtin}/LOT-1", headers=maker).status_code == 200
        if built:
            serial = next(serial_lines(api, maker, gtin, "LOT-1"))
        else:
            started = time.perf_counter()
            facilities = setup_facilities(api, admin, facility_count)
            with psycopg.connect(server.pg_conninfo(), autocommit=True) as conn:
                gtin, _, codes = spread_batch_by_sql(api, conn, maker, facilities, packs)
            serial = codes[0].rsplit(")", 1)[1]
            print(f"data built in {time.perf_counter() - started:.0f} s")
        pages = httpx.Client(base_url=server.url, timeout=LONG, cookies={"darutrace_lang": "fa"})
        console_session(pages, "fdo-inspector")

        batch = f"/console/batches/{gtin}/LOT-1"
        measure("pack page", lambda: pages.get(f"/console/packs/{gtin}/{serial}"), runs)
        measure("batch page", lambda: pages.get(batch), runs)
        measure(
            "batch page: the next page of packs", lambda: pages.get(f"{batch}/packs?after=M"), runs
        )
        measure(
            "batch page: forward trace fragment",
            lambda: pages.get(f"{batch}/trace"),
            max(3, runs // 5),
        )

        order = {
            "gtin": gtin, "lots": ["LOT-1"], "recall_class": "I", "reason": "benchmark",
            "instructions": "quarantine and return", "deadline": "2099-12-31",
        }  # fmt: skip
        if built:
            issued = checked(api.get("/api/recalls", headers=inspector))
            recall = next(each for each in issued if each["gtin"] == gtin)
        else:
            started = time.perf_counter()
            recall = checked(api.post("/api/recalls", json=order, headers=inspector))
            print(f"recall issued in {time.perf_counter() - started:.2f} s")
        progress = f"/console/recalls/{recall['id']}"
        measure("recall progress page", lambda: pages.get(progress), runs)
        measure(
            "recall progress fragment (polled)", lambda: pages.get(f"{progress}/progress"), runs
        )
        measure(
            "recall progress, API (GET /api/recalls/{id})",
            lambda: api.get(f"/api/recalls/{recall['id']}", headers=inspector),
            runs,
        )
        measure("recall list", lambda: pages.get("/console/recalls"), max(3, runs // 5))


if __name__ == "__main__":
    main()
