"""The floor DaruTrace's single-pack paths are measured against (issue 14): a bare Litestar +
psycopg server, one uvicorn process like `darutrace serve`, on the same PostgreSQL.

- POST /bare/verify {"gtin": …, "serial": …}: one indexed SELECT of the pack joined with its
  batch (as verify reads it), one INSERT of a row shaped like an access-log row, autocommit;
  answers {"status", "lot", "expiry"}.
- POST /bare/verify-chained: the same, but the row goes into a table with the hash-chain trigger
  access_log had before sealing moved off the request path (migration 0014): the trigger
  functions of migrations 0004 and 0013, copied as they are.

Its tables and trigger functions live in the schema `bench` (dropped and made again at each
start), so nothing of the register is touched. The Authorization header is ignored: clients send
DaruTrace's only so that requests are the same size.

    BARE_CONNINFO='host=… port=… user=… password=… dbname=darutrace' \\
        uv run python bench/bare.py [--port 8001]
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import msgspec
import psycopg
import uvicorn
from harness import free_port, wait_ready
from litestar import Litestar, Request, get, post
from psycopg_pool import AsyncConnectionPool

SCHEMA = "bench"
PLAIN, CHAINED = "verify_log", "verify_log_chained"
CONNINFO_VARIABLE = "BARE_CONNINFO"

# The trigger as access_log had it before 0014: the chain functions of migration 0004, with the
# content function and trigger body that migration 0013 put in their place.
_HASH_CHAINS = importlib.import_module("migrations.versions.0004_hash_chains")
_PACK_VERSIONS = importlib.import_module("migrations.versions.0013_pack_versions")
CHAIN_FUNCTIONS = (
    _HASH_CHAINS.AUDIT_STREAM,
    _HASH_CHAINS.AUDIT_LINK,
    _PACK_VERSIONS.AUDIT_CONTENT,
    _PACK_VERSIONS.AUDIT_CHAIN,
)
CHAIN_KEY = _HASH_CHAINS.CHAINS["access_log"][0]

# access_log's columns and indexes (migration 0001), so that the INSERT maintains as much as
# DaruTrace's does and the chain hashes rows of the same size.
_LOG_COLUMNS = """
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    actor_kind varchar(10) NOT NULL,
    actor_id uuid NOT NULL,
    actor_name varchar(120) NOT NULL,
    role varchar(24) NOT NULL,
    organization_id uuid NOT NULL,
    resource varchar(60) NOT NULL,
    object_id varchar(120),
    method varchar(10) NOT NULL,
    path varchar(500) NOT NULL,
    client_address varchar(64),
    status_code integer NOT NULL,
    outcome varchar(12) NOT NULL
"""
_INDEXED = ("actor_id", "at", "organization_id", "resource")


def schema_statements() -> list[str]:
    statements = [
        f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE",
        f"CREATE SCHEMA {SCHEMA}",
        f"SET search_path = {SCHEMA}",
        "CREATE TABLE audit_heads (chain varchar(20), stream uuid, seq bigint NOT NULL,"
        " hash bytea NOT NULL, PRIMARY KEY (chain, stream))",
        *CHAIN_FUNCTIONS,
        f"CREATE TABLE {PLAIN} ({_LOG_COLUMNS})",
        # NOT NULL: an INSERT the trigger did not chain fails instead of measuring nothing.
        f"CREATE TABLE {CHAINED} ({_LOG_COLUMNS},"
        " chain_seq bigint NOT NULL, row_hash bytea NOT NULL)",
        f"CREATE TRIGGER {CHAINED}_chain BEFORE INSERT ON {CHAINED}"
        f" FOR EACH ROW EXECUTE FUNCTION audit_chain('{CHAINED}', '{CHAIN_KEY}')",
    ]
    for table in (PLAIN, CHAINED):
        statements += [f"CREATE INDEX ON {table} ({column})" for column in _INDEXED]
    return statements


def prepare_schema(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        for statement in schema_statements():
            connection.execute(statement)  # type: ignore[arg-type]  # our constant text


# The trigger functions name audit_link, audit_content and audit_heads unqualified: the pool's
# search path makes them the bench schema's, never the register's.
CONNECTION_OPTIONS = f"-c search_path={SCHEMA},public"

_PACK = """
SELECT p.status, b.lot, b.expiry
FROM packs p JOIN batches b ON b.gtin = p.gtin AND b.lot = p.lot
WHERE p.gtin = %s AND p.serial = %s
"""
_COLUMNS = (
    "at, actor_kind, actor_id, actor_name, role, organization_id, resource, object_id,"
    " method, path, client_address, status_code, outcome"
)
_VALUES = "clock_timestamp(), " + ", ".join(["%s"] * 12)
_INSERT = {
    table: f"INSERT INTO {table} ({_COLUMNS}) VALUES ({_VALUES})"  # noqa: S608 (our names)
    for table in (PLAIN, CHAINED)
}
# Stands in for the caller an authenticated request logs: kind, id, name, role, organisation.
CALLER = ("user", uuid.uuid4(), "bench", "pharmacy", uuid.uuid4())


class VerifyIn(msgspec.Struct):
    gtin: str
    serial: str


class VerifyOut(msgspec.Struct):
    status: str
    lot: str | None = None
    expiry: date | None = None


async def lookup_and_log(
    request: Request[None, None, None], data: VerifyIn, table: str
) -> VerifyOut:
    pool: AsyncConnectionPool = request.app.state.pool
    client = request.client.host if request.client else None
    async with pool.connection() as connection:
        row = await (await connection.execute(_PACK, (data.gtin, data.serial))).fetchone()
        await connection.execute(
            _INSERT[table],  # type: ignore[arg-type]
            (*CALLER, "packs", None, "POST", request.url.path, client, 200, "ok"),
        )
    if row is None:
        return VerifyOut(status="unknown")
    return VerifyOut(status=row[0], lot=row[1], expiry=row[2])


@post("/bare/verify", status_code=200)
async def verify(request: Request[None, None, None], data: VerifyIn) -> VerifyOut:
    return await lookup_and_log(request, data, PLAIN)


@post("/bare/verify-chained", status_code=200)
async def verify_chained(request: Request[None, None, None], data: VerifyIn) -> VerifyOut:
    return await lookup_and_log(request, data, CHAINED)


@get("/ready")
async def ready() -> dict[str, str]:
    return {"status": "ready"}


def create_app(conninfo: str) -> Litestar:
    @asynccontextmanager
    async def pool(app: Litestar) -> AsyncIterator[None]:
        # DaruTrace's hot-path pool (app/db/database.py): same sizes, autocommit.
        app.state.pool = AsyncConnectionPool(
            conninfo,
            min_size=2,
            max_size=20,
            kwargs={"autocommit": True, "options": CONNECTION_OPTIONS},
            open=False,
        )
        await app.state.pool.open()
        try:
            yield
        finally:
            await app.state.pool.close()

    return Litestar(route_handlers=[verify, verify_chained, ready], lifespan=[pool])


@dataclass(frozen=True)
class BareServer:
    url: str
    pid: int


@contextmanager
def bare_server(conninfo: str) -> Iterator[BareServer]:
    """This module run as a server process of its own, SIGTERMed at the end."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="darutrace-bare-") as tmp:
        log_path = Path(tmp, "bare.log")
        with log_path.open("wb") as log:
            server = subprocess.Popen(  # noqa: S603
                [sys.executable, __file__, "--port", str(port)],
                env=os.environ | {CONNINFO_VARIABLE: conninfo},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url, server, log_path)
            yield BareServer(url, server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    conninfo = os.environ[CONNINFO_VARIABLE]
    prepare_schema(conninfo)
    # As `darutrace serve` runs (app/cli.py): one process, uvicorn's defaults otherwise.
    config = uvicorn.Config(
        create_app(conninfo),
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
