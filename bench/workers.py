"""One worker process or two? bench/http_load.py (verify at 32 connections, then dispense one
code per request) against `serve --workers 1` and `--workers 2`, alternately, RUNS times each
(each run a fresh server and data directory), so that what else the machine does falls on both.

    uv run python bench/workers.py [--runs 3] [--workers 1 2] [-- http_load.py options]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

HTTP_LOAD = Path(__file__).with_name("http_load.py")
LINE = re.compile(
    r"^(verify|dispense): (\d+) req/s, p50 ([\d.]+) ms, p99 ([\d.]+) ms.*"
    r"server ([\d.]+) ms, PostgreSQL ([\d.]+) ms",
    re.M,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("load", nargs=argparse.REMAINDER, help="options for http_load.py")
    args = parser.parse_args()
    load = [a for a in args.load if a != "--"]
    figures: dict[tuple[int, str], list[tuple[float, ...]]] = {}
    for run in range(1, args.runs + 1):
        for workers in args.workers:
            command = [sys.executable, str(HTTP_LOAD), "--workers", str(workers), *load]
            output = subprocess.run(  # noqa: S603
                command, capture_output=True, text=True, check=True
            ).stdout
            print(f"--- run {run}, workers {workers}\n{output.strip()}", flush=True)
            for name, *values in LINE.findall(output):
                figures.setdefault((workers, name), []).append(tuple(map(float, values)))
    print(
        "\nworkers  what      req/s of each run       median   p50 ms  p99 ms"
        "  CPU ms a request: server  PostgreSQL (medians)"
    )
    for (workers, name), runs in sorted(figures.items(), key=lambda item: (item[0][1], item[0][0])):
        rates = " ".join(f"{run[0]:6.0f}" for run in runs)
        medians = [statistics.median(run[i] for run in runs) for i in range(5)]
        print(
            f"{workers:>7}  {name:<8}  {rates:<22}  {medians[0]:6.0f}  {medians[1]:7.1f}"
            f"  {medians[2]:6.1f}  {medians[3]:24.2f}  {medians[4]:10.2f}"
        )


if __name__ == "__main__":
    main()
