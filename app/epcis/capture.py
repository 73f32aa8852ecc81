"""Capture (EPCIS 2.0 REST binding): a document is read and checked while the request waits (an
invalid one is refused whole, nothing stored), kept as a capture job, answered 202, and run in
the background — one transaction, each event in its savepoint. `rollback` (the default): one
event the capturer may not capture and nothing is stored; `proceed`: the others are. An event
the register refuses is stored all the same, as captured, and its refusal listed in the job."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import msgspec
import psycopg
from psycopg.types.json import Jsonb

from app.auth.principal import Principal
from app.db.database import Database
from app.epcis import captured, register
from app.epcis.captured import CapturedEvent
from app.epcis.document import Document, read_document, read_event
from app.epcis.xml12 import read_xml_document, read_xml_event
from app.errors import Forbidden, InvalidInput, NotFound, ServiceError
from app.facilities.directory import FacilityDirectory, Site, acting_site
from models.base import utcnow
from models.codes import ReaderConfig
from models.epcis import ErrorBehaviour
from models.identity import Role

Connection = psycopg.AsyncConnection[Any]
log = logging.getLogger(__name__)

CAPTURE_ROLES = frozenset(
    {Role.manufacturer, Role.importer, Role.distributor, Role.pharmacy, Role.hospital}
)
MAX_EVENTS = 10_000  # GS1-EPCIS-Capture-Limit: events a document


@dataclass
class Outcome:
    """What became of one event of a document."""

    stored: bool
    duplicate: bool = False
    event_id: str | None = None
    error: dict[str, Any] | None = None


def ensure_may_capture(principal: Principal) -> None:
    if principal.role not in CAPTURE_ROLES:
        raise Forbidden(
            "Only a manufacturer, importer, distributor, pharmacy or hospital (a user or a "
            "device) may capture EPCIS events."
        )


async def accept(
    connection: Connection,
    principal: Principal,
    body: bytes,
    behaviour: ErrorBehaviour,
    *,
    xml: bool = False,
) -> tuple[uuid.UUID, Document]:
    """Checks the document and keeps it as a job to run; raises DocumentError when invalid.
    An XML document is kept in its EPCIS 2.0 JSON form, the one its job reads."""
    ensure_may_capture(principal)
    if xml:
        document, data = read_xml_document(body)
        body = msgspec.json.encode(data)
    else:
        document = read_document(body)
    if len(document.events) > MAX_EVENTS:
        raise ServiceError(
            f"A document may hold at most {MAX_EVENTS:,} events (GS1-EPCIS-Capture-Limit); "
            f"this one has {len(document.events):,}. Send it in parts."
        )
    capture_id = uuid.uuid4()
    await connection.execute(
        "INSERT INTO epcis_captures (capture_id, error_behaviour, actor, organization_id,"
        " created_at, running, event_count, stored_count, errors, document)"
        " VALUES (%s, %s, %s, %s, %s, true, %s, 0, '[]', %s)",
        (
            capture_id, behaviour.value, Jsonb(_actor(principal)), principal.organization_id,
            utcnow(), len(document.events), body,
        ),
    )  # fmt: skip
    return capture_id, document


async def capture_event(
    connection: Connection,
    directory: FacilityDirectory,
    principal: Principal,
    body: bytes,
    reader: ReaderConfig,
    *,
    xml: bool = False,
) -> Outcome:
    """`POST /epcis/events`: one event, captured while the request waits (in XML, a document
    of one event: the XML binding has no event on its own)."""
    ensure_may_capture(principal)
    document = read_xml_event(body) if xml else read_event(body)
    async with connection.transaction():
        outcome = await _capture(connection, directory, principal, document, 0, None, reader)
    if outcome.error is not None and not outcome.stored:
        raise _refusal(outcome.error)
    return outcome


class Jobs:
    """Runs capture jobs in this process; a job left running by a stopped process is taken
    up again at start (the job's row is locked while it runs: one runner per job)."""

    def __init__(self, directory: FacilityDirectory, reader: ReaderConfig) -> None:
        self._directory = directory
        self._reader = reader
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, db: Database, capture_id: uuid.UUID, document: Document | None = None) -> None:
        """`document`: the job's, as read when it was accepted (else read again from its row)."""
        task = asyncio.get_running_loop().create_task(
            self._run(db, capture_id, document), name="epcis capture"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def resume(self, db: Database) -> None:
        """Takes up the jobs left running, in the background: a start never waits on them (the
        database may be down, or its schema not yet current)."""
        task = asyncio.get_running_loop().create_task(self._resume(db), name="epcis resume")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resume(self, db: Database) -> None:
        assert db.pool is not None
        try:
            async with db.pool.connection() as connection:
                cursor = await connection.execute(
                    "SELECT capture_id FROM epcis_captures WHERE running ORDER BY created_at"
                )
                for (capture_id,) in await cursor.fetchall():
                    self.start(db, capture_id)
        except psycopg.Error as exc:
            log.warning("capture jobs left running are not taken up now: %s", exc)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)

    async def wait(self) -> None:
        """Until the jobs under way are done (for the CLI and tests)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def _run(self, db: Database, capture_id: uuid.UUID, document: Document | None) -> None:
        pool = db.pool
        assert pool is not None
        try:
            async with pool.connection() as connection:
                await run(connection, self._directory, capture_id, self._reader, document)
        except psycopg.OperationalError:
            # The database is out of reach: the job stays running, taken up at the next start.
            log.exception("capture job %s stopped; it runs again at the next start", capture_id)
        except Exception as exc:
            log.exception("capture job %s failed", capture_id)
            async with pool.connection() as connection:
                failure = {"message": f"the server could not run this job ({type(exc).__name__})"}
                await _finish(connection, capture_id, 0, [failure], rolled_back=True)


async def run(
    connection: Connection, directory: FacilityDirectory, capture_id: uuid.UUID,
    reader: ReaderConfig, document: Document | None = None,
) -> None:  # fmt: skip
    await connection.set_autocommit(True)
    failed: list[dict[str, Any]] | None = None
    try:
        async with connection.transaction():
            cursor = await connection.execute(
                "SELECT error_behaviour, actor, CASE WHEN %s THEN document END"
                " FROM epcis_captures WHERE capture_id = %s AND running FOR UPDATE SKIP LOCKED",
                (document is None, capture_id),
            )
            row = await cursor.fetchone()
            if row is None:
                return  # done, or running elsewhere
            behaviour, principal = ErrorBehaviour(row[0]), _principal(row[1])
            if document is None:
                document = read_document(bytes(row[2]))
            errors: list[dict[str, Any]] = []
            stored = 0
            for index in range(len(document.events)):
                outcome = await _capture(
                    connection, directory, principal, document, index, capture_id, reader
                )
                stored += outcome.stored
                if outcome.error is not None:
                    errors.append(outcome.error)
                    if not outcome.stored and behaviour is ErrorBehaviour.rollback:
                        raise _RolledBack(errors)
            await _finish(connection, capture_id, stored, errors)
    except _RolledBack as exc:
        failed = exc.errors
    if failed is not None:
        await _finish(connection, capture_id, 0, failed, rolled_back=True)


class _RolledBack(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("rolled back")
        self.errors = errors


async def _finish(
    connection: Connection,
    capture_id: uuid.UUID,
    stored: int,
    errors: list[dict[str, Any]],
    *,
    rolled_back: bool = False,
) -> None:
    await connection.execute(
        "UPDATE epcis_captures SET running = false, success = %s, stored_count = %s,"
        " errors = %s, finished_at = %s, document = NULL WHERE capture_id = %s",
        (not errors and not rolled_back, stored, Jsonb(errors), utcnow(), capture_id),
    )


async def _capture(
    connection: Connection,
    directory: FacilityDirectory,
    principal: Principal,
    document: Document,
    index: int,
    capture_id: uuid.UUID | None,
    reader: ReaderConfig,
) -> Outcome:
    event = captured.prepare(
        document.events[index], document.identified[index], document.namespaces
    )
    where = {"eventIndex": index, "eventID": event.event_id}
    try:
        site = await _site(connection, directory, principal, event)
    except ServiceError as exc:
        return Outcome(
            stored=False, event_id=event.event_id, error={**where, "message": exc.detail}
        )
    async with connection.transaction():
        if (first := await captured.stored(connection, event)) is not None:
            return Outcome(stored=False, duplicate=True, event_id=first)
        applied = await register.apply(connection, directory, principal, event, site, reader)
        pk = await captured.store(
            connection, event, capture_id=capture_id, principal=principal,
            facility_id=site.id, register_event_id=applied.register_event_id, now=utcnow(),
        )  # fmt: skip
    if pk is None:
        return Outcome(stored=False, duplicate=True, event_id=event.event_id)
    if applied.refusals:
        error = {
            **where,
            "message": "stored as captured; the register refused it: "
            + "; ".join(applied.refusals[:10]),
            "stored": True,
        }
        return Outcome(stored=True, event_id=event.event_id, error=error)
    return Outcome(stored=True, event_id=event.event_id)


async def _site(
    connection: Connection, directory: FacilityDirectory, principal: Principal, event: CapturedEvent
) -> Site:
    """Where it happened: the capturer's own site at the bizLocation (and the readPoint)."""
    glns = {gln for place in ("bizLocation", "readPoint") if (gln := event.gln_of(place))}
    if len(glns) > 1:
        sites = {(await acting_site(directory, connection, principal, gln)).id for gln in glns}
        if len(sites) > 1:
            raise ServiceError("bizLocation and readPoint name two different facilities.")
    return await acting_site(directory, connection, principal, next(iter(glns), None))


async def job(
    connection: Connection, principal: Principal, capture_id: uuid.UUID
) -> dict[str, Any]:
    cursor = await connection.execute(
        "SELECT capture_id, created_at, finished_at, running, success, error_behaviour,"
        " event_count, stored_count, errors, organization_id FROM epcis_captures"
        " WHERE capture_id = %s",
        (capture_id,),
    )
    row = await cursor.fetchone()
    if row is None or not (principal.reads_everything or row[9] == principal.organization_id):
        raise NotFound("No capture job with this id.")
    return {
        "captureID": str(row[0]),
        "createdAt": _text(row[1]),
        "finishedAt": _text(row[2]) if row[2] else None,
        "running": row[3],
        "success": bool(row[4]) if not row[3] else False,
        "captureErrorBehaviour": row[5],
        "eventCount": row[6],
        "storedCount": row[7],
        "errors": row[8],
    }


async def jobs(connection: Connection, principal: Principal) -> list[dict[str, Any]]:
    """The latest hundred jobs the caller may see, newest first."""
    cursor = await connection.execute(
        "SELECT capture_id FROM epcis_captures WHERE %s OR organization_id = %s"
        " ORDER BY created_at DESC LIMIT 100",
        (principal.reads_everything, principal.organization_id),
    )
    return [await job(connection, principal, row[0]) for row in await cursor.fetchall()]


def _text(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _actor(principal: Principal) -> dict[str, Any]:
    return msgspec.to_builtins(asdict(principal))  # type: ignore[no-any-return]


def _principal(actor: dict[str, Any]) -> Principal:
    return msgspec.convert(actor, Principal, strict=False)


def _refusal(error: dict[str, Any]) -> ServiceError:
    return InvalidInput(error["message"])
