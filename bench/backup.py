"""How long a backup and a restore take (the RTO) at national scale: `serve --demo` on a fresh
embedded database, 10,000,000 packs commissioned through the API (a million per request), then
`darutrace backup FILE` while the server runs, and `darutrace restore FILE` into a new, empty
data directory (initdb, load, indexes, ANALYZE), and the restored server started to `/ready`.
Prints the database and dump sizes, the times, and checks that the restored counts match.

    uv run python bench/backup.py [--packs 10000000]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
from harness import DARUTRACE, commission, demo_server, free_port, login, new_batch, wait_ready

from app.db.embedded import EmbeddedPostgres

MAX_PER_REQUEST = 1_000_000
LOT = "LOT-1"
COUNTED = ("packs", "pack_events", "events", "access_log")


def darutrace(data_dir: Path, *args: str) -> float:
    """Run `darutrace ARGS` on the embedded server in `data_dir`; seconds taken."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DARUTRACE_DATA_DIR"] = str(data_dir)
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603
        [DARUTRACE, *args], env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"darutrace {' '.join(args)}: {done.stderr}")
    print(f"  {done.stdout.strip()}")
    return seconds


def sizes(conninfo: str) -> tuple[int, dict[str, int]]:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        assert row is not None
        counts = {}
        for table in COUNTED:
            counted = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
            assert counted is not None
            counts[table] = int(counted[0])
    return int(row[0]), counts


def conninfo_of(data_dir: Path) -> str:
    password = (data_dir / "pg-password").read_text().strip()
    port = (data_dir / "pg18" / "postmaster.pid").read_text().splitlines()[3].strip()
    return f"host=127.0.0.1 port={port} user=postgres password={password} dbname=darutrace"


def start_restored(data_dir: Path) -> float:
    """`darutrace serve` on the restored data directory: seconds to 200 on /ready."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"DARUTRACE_DATA_DIR": str(data_dir), "DARUTRACE_PORT": str(port)}
    log_path = data_dir / "server.log"
    started = time.perf_counter()
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603
            [DARUTRACE, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_ready(f"http://127.0.0.1:{port}", server, log_path)
        return time.perf_counter() - started
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packs", type=int, default=10_000_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="darutrace-backup-") as tmp:
        dump = Path(tmp) / "darutrace.dump"
        with demo_server() as server, httpx.Client(base_url=server.url, timeout=30) as client:
            maker = login(client, "sina-darou")
            gtin = new_batch(client, maker, quantity=args.packs)
            started, have = time.perf_counter(), 0
            while have < args.packs:
                count = min(MAX_PER_REQUEST, args.packs - have)
                commission(client, maker, gtin, LOT, count)
                have += count
            print(f"commissioned {have:,} packs in {time.perf_counter() - started:.0f} s")
            with psycopg.connect(server.pg_conninfo(), autocommit=True) as conn:
                conn.execute("CHECKPOINT")
            database_bytes, counts = sizes(server.pg_conninfo())
            print(f"database: {database_bytes / 2**30:.2f} GiB; rows: {counts}")
            backup_seconds = darutrace(server.data_dir, "backup", str(dump))
            print(
                f"backup (server running): {backup_seconds:.1f} s, "
                f"dump {dump.stat().st_size / 2**20:,.0f} MiB"
            )

        data_dir = Path(tmp) / "restored"
        restore_seconds = darutrace(data_dir, "restore", str(dump))
        print(f"restore into an empty data directory: {restore_seconds:.1f} s")
        ready_seconds = start_restored(data_dir)
        print(f"restored server started to /ready: {ready_seconds:.1f} s")
        embedded = EmbeddedPostgres(data_dir)
        embedded.start()
        try:
            restored_bytes, restored_counts = sizes(conninfo_of(data_dir))
        finally:
            embedded.stop()
        print(f"restored: {restored_bytes / 2**30:.2f} GiB; rows: {restored_counts}")
        if restored_counts != counts:
            raise RuntimeError(f"counts differ: {counts} vs {restored_counts}")
        print(
            f"RTO for {args.packs:,} packs: restore {restore_seconds:.0f} s + start "
            f"{ready_seconds:.0f} s = {restore_seconds + ready_seconds:.0f} s"
        )


if __name__ == "__main__":
    main()
