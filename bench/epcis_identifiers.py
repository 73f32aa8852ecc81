"""EPCs read per second by app.epcis.identifiers, one core: 100,000 SGTIN URNs and 100,000 SGTIN
Digital Link URIs, as a commissioning event sends them (one GTIN, the register's random serials),
then with a GTIN of its own for every EPC (no check digit cached), with escapes in every serial
(the full reader's path), and the translations an answer makes. The shared GS1 reader
(models.codes.read_code) on the same Digital Link URIs is the baseline. Each figure is the best
of ROUNDS runs, since other sessions load the machine; the load average is printed with them.

    uv run python bench/epcis_identifiers.py [COUNT] [ROUNDS]
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

from app.epcis.identifiers import (
    EPCFormat,
    company_prefix_length,
    parse_epc,
    render,
    to_digital_link,
    to_urn,
)
from app.packs.serials import new_serials
from models.codes import read_code
from models.gs1 import with_check_digit

COMPANY_PREFIX = "6260012"  # a demo manufacturer's (app/demo.py)
GTIN = with_check_digit("0" + COMPANY_PREFIX + "00001")
PREFIXES = company_prefix_length([COMPANY_PREFIX, "62600099"])


def best_rate(work: Callable[[], object], count: int, rounds: int) -> tuple[float, float]:
    """EPCs per second of wall-clock time and of this process's CPU time (which the other
    processes on the machine inflate less), each the best of `rounds`."""
    wall = cpu = float("inf")
    for _ in range(rounds):
        started, started_cpu = time.perf_counter(), time.process_time()
        work()
        cpu = min(cpu, time.process_time() - started_cpu)
        wall = min(wall, time.perf_counter() - started)
    return count / wall, count / cpu


def report(name: str, rates: tuple[float, float]) -> None:
    wall, cpu = rates
    print(
        f"{name}: {wall:,.0f} EPCs/s ({1e6 / wall:.2f} µs an EPC); "
        f"CPU time {cpu:,.0f} EPCs/s ({1e6 / cpu:.2f} µs)"
    )


def urn(gtin: str, serial: str) -> str:
    return f"urn:epc:id:sgtin:{COMPANY_PREFIX}.{gtin[0]}{gtin[8:13]}.{serial}"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    print(f"load average {os.getloadavg()[0]:.2f}, {count:,} EPCs, best of {rounds}")
    serials = new_serials(count)
    gtins = [with_check_digit("0" + COMPANY_PREFIX + f"{n % 100_000:05d}") for n in range(count)]
    forms = {
        "SGTIN URN, one GTIN": [urn(GTIN, s) for s in serials],
        "SGTIN Digital Link, one GTIN": [f"https://id.gs1.org/01/{GTIN}/21/{s}" for s in serials],
        "SGTIN URN, a GTIN each": [urn(g, s) for g, s in zip(gtins, serials, strict=True)],
        "SGTIN Digital Link, a GTIN each": [
            f"https://id.gs1.org/01/{g}/21/{s}" for g, s in zip(gtins, serials, strict=True)
        ],
        "SGTIN URN, an escape in each serial": [urn(GTIN, s[:6] + "%2F" + s[6:]) for s in serials],
        "SGTIN Digital Link with lot and expiry (full reader)": [
            f"https://id.gs1.org/01/{GTIN}/10/LOT1/21/{s}?17=281231" for s in serials
        ],
    }
    for name, texts in forms.items():
        report(name, best_rate(lambda texts=texts: [parse_epc(t) for t in texts], count, rounds))
    urns, links = forms["SGTIN URN, one GTIN"], forms["SGTIN Digital Link, one GTIN"]
    read = [parse_epc(t) for t in urns]
    report("to_digital_link", best_rate(lambda: [to_digital_link(i) for i in read], count, rounds))
    report("to_urn", best_rate(lambda: [to_urn(i, PREFIXES) for i in read], count, rounds))
    dl = EPCFormat.ALWAYS_GS1_DIGITAL_LINK
    report(
        "render URN as Digital Link",
        best_rate(lambda: [render(t, dl, PREFIXES) for t in urns], count, rounds),
    )
    as_urn = EPCFormat.ALWAYS_EPC_URN
    report(
        "render Digital Link as URN",
        best_rate(lambda: [render(t, as_urn, PREFIXES) for t in links], count, rounds),
    )
    baseline = links[: max(count // 10, 1)]
    report(
        "baseline: models.codes.read_code, the same Digital Link URIs",
        best_rate(lambda: [read_code(t) for t in baseline], len(baseline), rounds),
    )
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
