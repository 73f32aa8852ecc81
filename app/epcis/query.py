"""The EPCIS 2.0 query interface over both sources of events: those captured as EPCIS, and the
register's own (`/api/events`, the scanner, the console) seen as EPCIS. Each source answers a
page in the one total order (time, source, row), and the two pages are merged."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import msgspec
import psycopg

from app.auth.principal import Principal
from app.epcis import captured, register_events
from app.epcis.captured import cbv_word, key_of
from app.epcis.document import EVENT_TYPES, parse_time
from app.epcis.filters import Cursor, EpcMatch, EventQuery, FoundEvent, Visibility
from app.epcis.identifiers import IdentifierError, parse_epc
from app.epcis.register_shapes import SHAPES
from app.errors import InvalidInput
from models.events import Action

Connection = psycopg.AsyncConnection[Any]
MAX_PER_PAGE = 1_000
_SPLIT = re.compile(r"[|,]")
_BTT = r"^(https://ref\.gs1\.org/cbv/(BTT|SDT)-|urn:epcglobal:cbv:(btt|sdt):)"
_MATCHES = {
    "MATCH_epc": ("match_epc", ("e", "c")),
    "MATCH_anyEPC": ("match_any_epc", ("e", "c", "p", "i", "o")),
    "MATCH_parentID": ("match_parent_id", ("p",)),
    "MATCH_inputEPC": ("match_input_epc", ("i",)),
    "MATCH_outputEPC": ("match_output_epc", ("o",)),
    "MATCH_epcClass": ("match_epc_class", ("Q", "C")),
    "MATCH_anyEPCClass": ("match_any_epc_class", ("Q", "C", "I", "O")),
}
_ROLES = {field: roles for field, roles in _MATCHES.values()}


async def visibility(connection: Connection, principal: Principal) -> Visibility:
    if principal.reads_everything:
        return Visibility()
    cursor = await connection.execute(
        "SELECT array(SELECT id FROM facilities WHERE organization_id = %(o)s),"
        " array(SELECT gtin FROM products WHERE organization_id = %(o)s)",
        {"o": principal.organization_id},
    )
    row = await cursor.fetchone()
    assert row is not None
    return Visibility(principal.organization_id, frozenset(row[0]), frozenset(row[1]))


def parse(parameters: Mapping[str, Sequence[str]], seen: Visibility) -> EventQuery:
    """The standard query parameters; an unknown or malformed one is a 422 naming it."""
    values: dict[str, Any] = {"visibility": seen}
    for name, given in parameters.items():
        items = [item for text in given for item in _SPLIT.split(text) if item]
        if name == "eventType":
            unknown = set(items) - EVENT_TYPES
            if unknown:
                raise _bad(name, f"not an event type: {', '.join(sorted(unknown))}")
            values["event_types"] = frozenset(items)
        elif name in ("GE_eventTime", "LT_eventTime", "GE_recordTime", "LT_recordTime"):
            moment = parse_time(given[-1])
            if moment is None:
                raise _bad(name, "a date and time with its offset, as 2026-01-31T08:00:00Z")
            values[_snake(name)] = moment
        elif name == "EQ_action":
            values["actions"] = frozenset(items)
        elif name in ("EQ_bizStep", "EQ_disposition"):
            words = frozenset(word for item in items if (word := cbv_word(item)))
            values["biz_steps" if name == "EQ_bizStep" else "dispositions"] = words
        elif name in ("EQ_bizLocation", "EQ_readPoint", "WD_bizLocation", "WD_readPoint"):
            field = "biz_locations" if name.endswith("bizLocation") else "read_points"
            values[field] = _matches(name, items, within=name.startswith("WD_"))
        elif name in _MATCHES:
            values[_MATCHES[name][0]] = _matches(name, items)
        elif name.startswith("EQ_bizTransaction_"):
            values.setdefault("biz_transactions", {})[name[18:]] = frozenset(items)
        elif name.startswith("EQ_source_"):
            values.setdefault("sources", {})[name[10:]] = frozenset(items)
        elif name.startswith("EQ_destination_"):
            values.setdefault("destinations", {})[name[15:]] = frozenset(items)
        elif name == "EQ_eventID":
            values["event_ids"] = frozenset(items)
        elif name == "orderBy":
            if given[-1] not in ("eventTime", "recordTime"):
                raise _bad(name, "eventTime or recordTime")
            values["order_by"] = given[-1]
        elif name == "orderDirection":
            if given[-1] not in ("ASC", "DESC"):
                raise _bad(name, "ASC or DESC")
            values["descending"] = given[-1] == "DESC"
        elif name in ("perPage", "eventCountLimit"):
            values[name] = _count(name, given[-1])
        elif name == "nextPageToken":
            values["after"] = _cursor(given[-1])
        elif name not in ("GS1-EPC-Format",):
            raise _bad(name, "not a query parameter of EPCIS 2.0 that this repository knows")
    per_page = min(values.pop("perPage", 30), values.pop("eventCountLimit", MAX_PER_PAGE))
    values.setdefault("descending", False)
    return EventQuery(per_page=min(per_page, MAX_PER_PAGE), **values)


async def find(
    connection: Connection, query: EventQuery, *, narrow: bool = False
) -> tuple[list[dict[str, Any]], Cursor | None]:
    """A page of events, and where the next page starts (None: this was the last)."""
    found = await _captured(connection, query, narrow) + await register_events.find(
        connection, query, narrow=narrow
    )
    found.sort(key=lambda item: _order(item.cursor), reverse=query.descending)
    page = found[: query.per_page]
    more = len(found) > query.per_page
    return [item.document for item in page], page[-1].cursor if more and page else None


def token(cursor: Cursor) -> str:
    raw = msgspec.json.encode([cursor.time.isoformat(), cursor.source, cursor.key])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _order(cursor: Cursor) -> tuple[datetime, str, str]:
    return cursor.time, cursor.source, cursor.key


async def _captured(connection: Connection, query: EventQuery, narrow: bool) -> list[FoundEvent]:
    where, params = _conditions(query)
    time_column = "record_time" if query.order_by == "recordTime" else "event_time"
    direction = "DESC" if query.descending else "ASC"
    sql = (
        f"SELECT id, document, record_time, {time_column} FROM epcis_events e"  # noqa: S608 (constants)
        f" WHERE {' AND '.join(where) or 'true'}"
        f" ORDER BY {time_column} {direction}, id {direction} LIMIT %(limit)s"
    )
    params["limit"] = query.per_page + 1
    rows = await (await connection.execute(sql, params)).fetchall()
    keys = _exact_keys(query) if narrow else None
    documents = await captured.documents(
        connection, [(row[0], row[1], row[2]) for row in rows], keys
    )
    return [
        FoundEvent(Cursor(row[3], "c", f"{row[0]:020d}"), document)
        for row, document in zip(rows, documents, strict=True)
    ]


def _conditions(query: EventQuery) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    seen = query.visibility
    if not seen.everything:
        where.append(
            "(e.organization_id = %(org)s OR e.facility_id = ANY(%(sites)s)"
            " OR e.gtins && %(gtins)s::char(14)[])"
        )
        params.update(org=seen.organization_id, sites=list(seen.facility_ids),
                      gtins=list(seen.gtins))  # fmt: skip
    for column, value in (
        ("event_type", query.event_types), ("action", query.actions),
        ("biz_step", query.biz_steps), ("disposition", query.dispositions),
        ("event_id", query.event_ids),
    ):  # fmt: skip
        if value is not None:
            where.append(f"e.{column} = ANY(%({column})s)")
            params[column] = list(value)
    for column, op, moment in (
        ("event_time", ">=", query.ge_event_time), ("event_time", "<", query.lt_event_time),
        ("record_time", ">=", query.ge_record_time), ("record_time", "<", query.lt_record_time),
    ):  # fmt: skip
        if moment is not None:
            name = f"{column}_{'ge' if op == '>=' else 'lt'}"
            where.append(f"e.{column} {op} %({name})s")
            params[name] = moment
    for column, matches in (("biz_location", query.biz_locations),
                            ("read_point", query.read_points)):  # fmt: skip
        if matches is not None:
            where.append(_match_sql(f"e.{column}", column, matches, params))
    for field, roles in _ROLES.items():
        matches = getattr(query, field)
        if matches is not None:
            condition = _match_sql("x.key", field, matches, params)
            where.append(
                f"e.id IN (SELECT x.event_pk FROM epcis_epcs x WHERE {condition}"  # noqa: S608 (constants)
                f" AND x.role = ANY(%({field}_roles)s))"
            )
            params[f"{field}_roles"] = list(roles)
    for number, (kind, lists) in enumerate(
        [("bizTransactionList", query.biz_transactions), ("sourceList", query.sources),
         ("destinationList", query.destinations)]
    ):  # fmt: skip
        value_field = {"bizTransactionList": "bizTransaction", "sourceList": "source",
                       "destinationList": "destination"}[kind]  # fmt: skip
        for index, (type_, wanted) in enumerate(lists.items()):
            name = f"t{number}_{index}"
            where.append(
                f"EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(e.document->'{kind}',"  # noqa: S608 (constants)
                f" '[]')) t WHERE regexp_replace(t->>'type', '{_BTT}', '') = %({name})s"
                f" AND t->>'{value_field}' = ANY(%({name}_values)s))"
            )
            params[name] = cbv_word(type_)
            params[f"{name}_values"] = list(wanted)
    if query.after is not None:
        where.append(_after_sql(query, params))
    return where, params


def _after_sql(query: EventQuery, params: dict[str, Any]) -> str:
    after = query.after
    assert after is not None
    column = "e.record_time" if query.order_by == "recordTime" else "e.event_time"
    params["after_time"] = after.time
    beyond = "<" if query.descending else ">"
    if after.source == "c":
        params["after_id"] = int(after.key)
        return (
            f"({column} {beyond} %(after_time)s OR ({column} = %(after_time)s"
            f" AND e.id {beyond} %(after_id)s))"
        )
    # The register's events come after the captured ones at the same time.
    return f"{column} {'<=' if query.descending else '>'} %(after_time)s"


def _match_sql(column: str, name: str, matches: Sequence[EpcMatch], params: dict[str, Any]) -> str:
    exact = [m.key for m in matches if not m.prefix]
    prefixes = [m.key for m in matches if m.prefix]
    parts = []
    if exact:
        params[f"{name}_exact"] = exact
        parts.append(f"{column} = ANY(%({name}_exact)s)")
    for index, prefix in enumerate(prefixes):
        params[f"{name}_p{index}"] = prefix.replace("\\", "\\\\").replace("%", "\\%") + "%"
        parts.append(f"{column} LIKE %({name}_p{index})s")
    return "(" + " OR ".join(parts) + ")"


def _exact_keys(query: EventQuery) -> list[str] | None:
    matches = query.match_epc or query.match_any_epc
    if not matches or any(m.prefix for m in matches):
        return None
    return [m.key for m in matches]


def _matches(name: str, items: Sequence[str], *, within: bool = False) -> tuple[EpcMatch, ...]:
    found = []
    for item in items:
        pattern = item.endswith("*")
        text = item[:-1] if pattern else item
        if text.startswith("urn:epc:idpat:"):
            found.append(_pattern(name, item))
            continue
        try:
            identifier = parse_epc(text)
        except IdentifierError as exc:
            raise _bad(name, str(exc)) from None
        key = key_of(identifier)
        found.append(EpcMatch(key, prefix=pattern or within))
    return tuple(found)


def _pattern(name: str, item: str) -> EpcMatch:
    """`urn:epc:idpat:sgtin:CP.IR.*`: every pack of one GTIN."""
    try:
        identifier = parse_epc(item)
    except IdentifierError as exc:
        raise _bad(name, str(exc)) from None
    if not identifier.gtin:
        raise _bad(name, f"{item}: only SGTIN patterns of one GTIN are supported")
    return EpcMatch(f"https://id.gs1.org/01/{identifier.gtin}/21/", prefix=True)


def _count(name: str, text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise _bad(name, "a whole number from 1")
    return int(text)


def _cursor(text: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        moment, source, key = msgspec.json.decode(raw)
        return Cursor(datetime.fromisoformat(moment).astimezone(UTC), source, key)
    except (ValueError, TypeError, msgspec.DecodeError):
        raise _bad("nextPageToken", "not a token this repository gave") from None


def _snake(name: str) -> str:
    prefix, field = name.split("_", 1)
    return f"{prefix.lower()}_{'event_time' if field == 'eventTime' else 'record_time'}"


def _bad(name: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{name}: {problem}.", field=name)


def with_visibility(query: EventQuery, seen: Visibility) -> EventQuery:
    return replace(query, visibility=seen)


def event_key(event_id: str) -> uuid.UUID | None:
    """The register's event behind an `urn:uuid:` eventID, if it is one."""
    if not event_id.startswith("urn:uuid:"):
        return None
    try:
        return uuid.UUID(event_id[9:])
    except ValueError:
        return None


async def register_values(connection: Connection, column: str, seen: Visibility) -> list[str]:
    """The vocabulary values the register's own events use (as the register writes them)."""
    sites = None if seen.everything else list(seen.facility_ids)
    if column == "biz_step":
        sql = "SELECT DISTINCT business_step FROM events WHERE %(all)s OR facility_id = ANY(%(s)s)"
    elif column in ("biz_location", "read_point"):
        sql = (
            "SELECT 'https://id.gs1.org/414/' || f.gln FROM facilities f WHERE EXISTS"
            " (SELECT 1 FROM events e WHERE e.facility_id = f.id)"
            " AND (%(all)s OR f.id = ANY(%(s)s))"
        )
    else:
        sql = "SELECT DISTINCT action FROM events WHERE %(all)s OR facility_id = ANY(%(s)s)"
    cursor = await connection.execute(sql, {"all": sites is None, "s": sites or []})
    values = [value for (value,) in await cursor.fetchall()]
    if column != "disposition":
        return values
    shapes = (SHAPES.get(Action(action)) for action in values)
    return sorted({shape.disposition for shape in shapes if shape and shape.disposition})
