"""Time from `darutrace serve --demo` to a 200 on /ready: first run on an empty data directory
(initdb, migrations, demo seed) and second run on the same directory.

    uv run python bench/startup.py
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

DARUTRACE = str(Path(sys.executable).parent / "darutrace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_until_ready(data_dir: Path) -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"DARUTRACE_DATA_DIR": str(data_dir), "DARUTRACE_PORT": str(port)}
    started = time.perf_counter()
    server = subprocess.Popen(  # noqa: S603
        [DARUTRACE, "serve", "--demo"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            if server.poll() is not None:
                raise RuntimeError("server exited before it was ready")
            time.sleep(0.02)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    first, second = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            first.append(serve_until_ready(Path(tmp)))
            second.append(serve_until_ready(Path(tmp)))
    report("first run (initdb + migrate + seed)", first)
    report("second run (reuse)", second)


def report(label: str, seconds: list[float]) -> None:
    runs = ", ".join(f"{t:.2f}" for t in seconds)
    median = sorted(seconds)[len(seconds) // 2]
    print(f"serve --demo to ready, {label}: median {median:.2f} s (runs: {runs})")


if __name__ == "__main__":
    main()
