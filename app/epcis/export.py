"""A pack's or a batch's history as one EPCIS 2.0 `EPCISDocument`, written as it is read: a
batch of a million packs is one commissioning event listing a million EPCs, so no event (nor
the document) is held whole; rows come from a server-side cursor and leave in chunks.

Scoped as the register's own views of the same history: the pack's as its chain of custody
(`GET /api/packs/{gtin}/{serial}/events`), the batch's as its trace (`…/trace`): inspectors see
every event; an organisation the events at its own facilities (or shipped to them), and a pack
or batch it never handled (nor owns) is missing (404). Each event lists the EPCs of this pack
or batch, not the other packs and cases it named (those are other histories, maybe other
organisations'); a packing names its case as the parent. An event an EPCIS capture drove is
in the history too (the query lists it as captured instead), named by its captured eventID."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from app.auth.principal import Principal
from app.catalog.service import gtin_of
from app.epcis import register_events as register
from app.epcis import register_shapes as shapes
from app.epcis.filters import EpcMatch, EventQuery, Visibility
from app.errors import NotFound
from app.scoping import ensure_pack_handled
from app.trace.places import own_facilities
from models.base import utcnow
from models.events import Action

Connection = register.Connection

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
MEDIA_TYPE = "application/ld+json"
_CHUNK = 64 * 1024  # bytes gathered before a chunk leaves
_ROWS = 5_000  # rows fetched from the server-side cursor at a time
_PAGE = 500  # a pack's events read at a time


@dataclass(frozen=True)
class Export:
    filename: str
    chunks: AsyncIterator[bytes]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Writer:
    """The document's text, gathered into chunks of about `_CHUNK` bytes."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._events = 0

    def write(self, text: str) -> bytes | None:
        self._parts.append(text)
        self._size += len(text)
        return self.flush() if self._size >= _CHUNK else None

    def flush(self) -> bytes | None:
        if not self._parts:
            return None
        chunk = "".join(self._parts).encode()
        self._parts, self._size = [], 0
        return chunk

    def opening(self) -> bytes | None:
        document = {
            "@context": CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": shapes.epcis_time(utcnow()),
        }
        return self.write(_json(document)[:-1] + ',"epcisBody":{"eventList":[')

    def event_start(self, head: dict[str, Any], list_key: str) -> bytes | None:
        """An event's fields, then its EPC list left open for `epc`."""
        self._epcs = 0
        separator = "," if self._events else ""
        self._events += 1
        return self.write(f'{separator}{_json(head)[:-1]},"{list_key}":[')

    def epc(self, uri: str) -> bytes | None:
        # The URIs are percent-encoded ASCII: nothing in them needs escaping.
        separator = "," if self._epcs else ""
        self._epcs += 1
        return self.write(f'{separator}"{uri}"')

    def event_end(self) -> bytes | None:
        return self.write("]}")

    def closing(self) -> bytes | None:
        self.write("]}}")
        return self.flush()


# --- a pack ---------------------------------------------------------------------------------

_PACK = """
SELECT c.facility_id, p.holder_id, p.transit_from_id, p.transit_to_id
FROM packs p JOIN events c ON c.event_id = p.commission_event_id
WHERE p.gtin = %s AND p.serial = %s
"""
_PACK_SITES = """
SELECT facility_id, destination_id FROM pack_events
WHERE gtin = %s AND serial = %s AND outcome <> 'refused'
"""


async def pack_export(
    connection: Connection, principal: Principal, gtin: str, serial: str
) -> Export:
    """The pack's events as EPCIS, oldest first; 404 (before anything is written) for a pack
    the caller may not trace."""
    gtin = gtin_of(gtin)
    row = await (await connection.execute(_PACK, (gtin, serial))).fetchone()
    if row is None:
        raise NotFound(f"No pack {serial} of GTIN {gtin}.")
    visibility = Visibility()
    if not principal.reads_everything:
        own = await own_facilities(connection, principal.organization_id)
        lines = await (await connection.execute(_PACK_SITES, (gtin, serial))).fetchall()
        ensure_pack_handled(set(own), [*row, *(s for line in lines for s in line)], gtin, serial)
        visibility = Visibility(principal.organization_id, frozenset(own))
    query = EventQuery(
        match_epc=(EpcMatch(shapes.sgtin(gtin, serial)),),
        order_by="eventTime",
        descending=False,
        per_page=_PAGE,
        visibility=visibility,
    )
    return Export(f"{gtin}-{serial}-epcis.jsonld", _pack_chunks(connection, query))


async def _pack_chunks(connection: Connection, query: EventQuery) -> AsyncIterator[bytes]:
    writer = _Writer()
    async with connection.transaction():
        await connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        if (chunk := writer.opening()) is not None:
            yield chunk
        while True:
            page = await register.find(connection, query, narrow=True, captured=True)
            for found in page[: query.per_page]:
                document = dict(found.document)
                key = "childEPCs" if "childEPCs" in document else "epcList"
                epcs = document.pop(key)
                for chunk in _event(writer, document, key, epcs):
                    yield chunk
            if len(page) <= query.per_page:
                break
            query = replace(query, after=page[query.per_page - 1].cursor)
    if (chunk := writer.closing()) is not None:
        yield chunk


def _event(writer: _Writer, head: dict[str, Any], key: str, epcs: Iterable[str]) -> list[bytes]:
    chunks = [writer.event_start(head, key), *(writer.epc(e) for e in epcs), writer.event_end()]
    return [chunk for chunk in chunks if chunk is not None]


# --- a batch --------------------------------------------------------------------------------

_BATCH = "SELECT organization_id, expiry FROM batches WHERE gtin = %s AND lot = %s"
_INVOLVED = """
SELECT EXISTS (
    SELECT 1 FROM packs p WHERE p.gtin = %(gtin)s AND p.lot = %(lot)s
      AND (p.holder_id = ANY(%(own)s) OR p.transit_from_id = ANY(%(own)s)
           OR p.transit_to_id = ANY(%(own)s))
) OR EXISTS (
    SELECT 1 FROM pack_events pe
    WHERE pe.gtin = %(gtin)s AND pe.outcome <> 'refused'
      AND (pe.facility_id = ANY(%(own)s) OR pe.destination_id = ANY(%(own)s))
      AND EXISTS (SELECT 1 FROM packs p
                  WHERE p.gtin = pe.gtin AND p.serial = pe.serial AND p.lot = %(lot)s)
)
"""
# Every line of the batch's history in event-time order, one event's lines together: the
# commissionings from the packs (one event for many), every other step from the packs' lines
# (not the refused ones, nor lines of another action inside an event). One pass over the
# product's lines kept to the batch by a semi-join on the packs' key, as the batch trace does.
_BATCH_LINES = """
WITH lines AS (
    SELECT pe.event_id, pe.action::text AS action, pe.serial, pe.container_sscc
    FROM pack_events pe
    WHERE pe.gtin = %(gtin)s AND pe.outcome <> 'refused'
      AND EXISTS (SELECT 1 FROM packs p
                  WHERE p.gtin = pe.gtin AND p.serial = pe.serial AND p.lot = %(lot)s)
    UNION ALL
    SELECT p.commission_event_id, 'commission', p.serial, NULL
    FROM packs p WHERE p.gtin = %(gtin)s AND p.lot = %(lot)s
)
SELECT e.event_id, e.action, e.facility_id, e.destination_id, e.event_time, e.recorded_at,
       l.serial, l.container_sscc, {captured}
FROM lines l
JOIN events e ON e.event_id = l.event_id AND e.action = l.action
WHERE TRUE {own}
ORDER BY e.event_time, e.event_id, l.serial COLLATE "C"
"""
_OWN_EVENTS = "AND (e.facility_id = ANY(%(own)s) OR e.destination_id = ANY(%(own)s))"


async def batch_export(
    connection: Connection, principal: Principal | None, gtin: str, lot: str
) -> Export:
    """The batch's events as EPCIS, oldest first; `principal` None: the operator at the command
    line, who sees everything. 404 (before anything is written) for a batch the caller may not
    trace."""
    gtin = gtin_of(gtin)
    row = await (await connection.execute(_BATCH, (gtin, lot))).fetchone()
    if row is None:
        raise NotFound(f"No batch {lot} of GTIN {gtin}.")
    owner, expiry = row
    own: list[uuid.UUID] | None = None
    if principal is not None and not principal.reads_everything:
        own = await own_facilities(connection, principal.organization_id)
        if not principal.may_read_organization(owner):
            params = {"gtin": gtin, "lot": lot, "own": own}
            involved = await (await connection.execute(_INVOLVED, params)).fetchone()
            if not (involved and involved[0]):
                raise NotFound(f"No batch {lot} of GTIN {gtin}.")
    return Export(f"{gtin}-{lot}-epcis.jsonld", _batch_chunks(connection, gtin, lot, expiry, own))


async def _batch_chunks(
    connection: Connection, gtin: str, lot: str, expiry: date, own: list[uuid.UUID] | None
) -> AsyncIterator[bytes]:
    writer = _Writer()
    places: dict[uuid.UUID, shapes.Site] = {}
    statement = _BATCH_LINES.format(
        own=_OWN_EVENTS if own is not None else "", captured=register.CAPTURED_ID
    )
    async with connection.transaction():
        await connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        if (chunk := writer.opening()) is not None:
            yield chunk
        current: uuid.UUID | None = None
        async with connection.cursor(name="epcis_batch_export") as cursor:
            await cursor.execute(statement, {"gtin": gtin, "lot": lot, "own": own})
            while rows := await cursor.fetchmany(_ROWS):
                for row in rows:
                    event_id, kind, facility, destination, at, recorded, serial, case = row[:8]
                    if event_id != current:
                        if current is not None and (chunk := writer.event_end()) is not None:
                            yield chunk
                        current, action = event_id, Action(kind)
                        head = await _head(
                            connection, places, event_id, action, (facility, destination),
                            (at, recorded), (lot, expiry), case, row[8],
                        )  # fmt: skip
                        key = shapes.list_key(action)
                        if (chunk := writer.event_start(head, key)) is not None:
                            yield chunk
                    if (chunk := writer.epc(shapes.sgtin(gtin, serial))) is not None:
                        yield chunk
        if current is not None and (chunk := writer.event_end()) is not None:
            yield chunk
    if (chunk := writer.closing()) is not None:
        yield chunk


async def _head(
    connection: Connection,
    places: dict[uuid.UUID, shapes.Site],
    event_id: uuid.UUID,
    action: Action,
    where: tuple[uuid.UUID, uuid.UUID | None],
    when: tuple[Any, Any],
    batch: tuple[str, date],
    case: str | None,
    captured_id: str | None,
) -> dict[str, Any]:
    received: list[uuid.UUID] = []
    if action is Action.receive:
        received = (await register.senders(connection, [event_id])).get(event_id, [])
    missing = [site for site in (*where, *received) if site is not None and site not in places]
    places |= await register.sites(connection, missing)
    facility, destination = where
    return shapes.head(
        event_id,
        action,
        when[0],
        when[1],
        places.get(facility),
        places.get(destination) if destination else None,
        [places[s] for s in received if s in places],
        batch if action is Action.commission else None,
        case if action in shapes.PACKING else None,
        captured_id,
    )
