"""Servers the tests start as separate processes, as a user would: a free port, and waiting until
one answers `/ready`."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_ready(
    process: subprocess.Popen[str] | subprocess.Popen[bytes],
    url: str,
    patience: float = 90,
    output: Callable[[], str] = lambda: "",
) -> None:
    """Until `url`/ready answers 200; fails with the server's `output` if it exits first."""
    deadline = time.monotonic() + patience
    while True:
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, f"server exited: {output()}"
        assert time.monotonic() < deadline, f"server not ready in {patience} s: {output()}"
        time.sleep(0.1)
