"""How long `darutrace` takes to start: `darutrace --help` and `darutrace code parse X` to exit
(targets 0.5 s and 1 s), and `darutrace serve --demo` to a 200 on /ready, first on an empty data
directory (initdb, migrations, demo seed) and again on the same directory (target 2 s).

    uv run python bench/startup.py [RUNS]

Python caches the modules it compiles (`__pycache__`) unless PYTHONDONTWRITEBYTECODE is set, as
it is on our development machines; then every start compiles every module again, which takes
most of the start-up. The commands are timed as on a server, with the cache: the variable is
left out of their environment, and an untimed first run fills the cache. `--no-cache` keeps the
variable as it is.
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
NO_CACHE = "--no-cache" in sys.argv
ENV = {
    k: v
    for k, v in os.environ.items()
    if k not in ("DATABASE_URL", "DARUTRACE_PORT") and (NO_CACHE or k != "PYTHONDONTWRITEBYTECODE")
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_until_ready(data_dir: Path) -> float:
    port = free_port()
    env = ENV | {"DARUTRACE_DATA_DIR": str(data_dir), "DARUTRACE_PORT": str(port)}
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


def command_seconds(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([DARUTRACE, *args], check=True, stdout=subprocess.DEVNULL, env=ENV)  # noqa: S603
    return time.perf_counter() - started


def main() -> None:
    numbers = [arg for arg in sys.argv[1:] if arg.isdigit()]
    runs = int(numbers[0]) if numbers else 3
    command_seconds("--help")  # fills the cache of compiled modules
    report("darutrace --help", [command_seconds("--help") for _ in range(runs)])
    code = "(01)09506000134352(21)A1B2C3D4E5(10)LOT123(17)271231"
    report("darutrace code parse", [command_seconds("code", "parse", code) for _ in range(runs)])
    first, second = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            first.append(serve_until_ready(Path(tmp)))
            second.append(serve_until_ready(Path(tmp)))
    report("serve --demo to ready, first run (initdb + migrate + seed)", first)
    report("serve --demo to ready, second run (reuse)", second)


def report(label: str, seconds: list[float]) -> None:
    runs = ", ".join(f"{t:.2f}" for t in seconds)
    median = sorted(seconds)[len(seconds) // 2]
    print(f"{label}: median {median:.2f} s (runs: {runs})", flush=True)


if __name__ == "__main__":
    main()
