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
LINE = re.compile(r"^(verify|dispense): (\d+) req/s, p50 ([\d.]+) ms, p99 ([\d.]+) ms", re.M)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("load", nargs=argparse.REMAINDER, help="options for http_load.py")
    args = parser.parse_args()
    load = [a for a in args.load if a != "--"]
    figures: dict[tuple[int, str], list[tuple[float, float, float]]] = {}
    for run in range(1, args.runs + 1):
        for workers in args.workers:
            command = [sys.executable, str(HTTP_LOAD), "--workers", str(workers), *load]
            output = subprocess.run(  # noqa: S603
                command, capture_output=True, text=True, check=True
            ).stdout
            print(f"--- run {run}, workers {workers}\n{output.strip()}", flush=True)
            for name, rate, p50, p99 in LINE.findall(output):
                figures.setdefault((workers, name), []).append(
                    (float(rate), float(p50), float(p99))
                )
    print("\nworkers  what      req/s of each run       median  p50 ms (median)  p99 ms (median)")
    for (workers, name), runs in sorted(figures.items(), key=lambda item: (item[0][1], item[0][0])):
        rates = " ".join(f"{rate:6.0f}" for rate, _, _ in runs)
        print(
            f"{workers:>7}  {name:<8}  {rates:<22}  {statistics.median(r for r, _, _ in runs):6.0f}"
            f"  {statistics.median(p for _, p, _ in runs):15.1f}"
            f"  {statistics.median(p for _, _, p in runs):15.1f}"
        )


if __name__ == "__main__":
    main()
