"""The register's own events (`/api/events`, the scanner, the console, serialization) seen as
GS1 EPCIS 2.0 events (as app/epcis/register_shapes.py maps them), so that a partner follows a
pack through one query interface whether its events came in as EPCIS or not. Read in plain SQL
from `events`, `pack_events`, `packs` (a commissioning is one event row for all its packs) and
`container_events`.

Listed is what happened: an event with a line or a case not refused (a refused line did not
happen), or a commissioning; its EPC lists hold those lines (not a line of another action
inside it, e.g. a pack found missing from a case on receipt) and the cases it moved whole, with
their packs listed one by one too (the register recorded each). Events an EPCIS capture drove
are listed once, as captured (`epcis_events.register_event_id`), not here.
"""

# ruff: noqa: S608 (statements are composed of this module's fragments; every value is a parameter)
from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote

import psycopg

from app.epcis.filters import (
    Cursor,
    EpcMatch,
    EventQuery,
    FoundEvent,
    Visibility,
    register_may_match,
)
from app.epcis.register_shapes import (
    DL,
    MOVES,
    SHAPES,
    Shape,
    Site,
    head,
    list_key,
    sgtin,
    sscc,
)
from models.events import BUSINESS_STEP, Action

Connection = psycopg.AsyncConnection[Any]

SOURCE = "r"  # the register's place in the total order of a page (Cursor.source)


# --- what a query's EPC and location filters name in the register -------------------------


@dataclass
class PackKeys:
    """Packs and cases named by EPC filters: exact keys, and ranges for patterns (a GTIN's
    digits so far, then a serial's start). Empty: nothing of the register."""

    packs: list[tuple[str, str]] = field(default_factory=list)
    pack_ranges: list[tuple[str, str, str]] = field(default_factory=list)  # low, high, serial
    cases: list[str] = field(default_factory=list)
    case_ranges: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.packs or self.pack_ranges or self.cases or self.case_ranges)

    @property
    def exact(self) -> bool:
        """Only exact keys: their events are found first, by key, however many events there are."""
        return not (self.pack_ranges or self.case_ranges)

    def matches_case(self, number: str) -> bool:
        return number in self.cases or any(lo <= number <= hi for lo, hi in self.case_ranges)


_PACK_PATH = f"{DL}/01/"
_CASE_PATH = f"{DL}/00/"
_INSTANCE = re.compile(r"(\d{14})/21/(.+)")


def pack_keys(matches: Iterable[EpcMatch]) -> PackKeys:
    keys = PackKeys()
    for match in matches:
        key = match.key
        if match.prefix and (_PACK_PATH.startswith(key) or _CASE_PATH.startswith(key)):
            # A pattern wider than one kind of key: all packs and/or all cases.
            if _PACK_PATH.startswith(key):
                keys.pack_ranges.append(("0" * 14, "9" * 14, ""))
            if _CASE_PATH.startswith(key):
                keys.case_ranges.append(("0" * 18, "9" * 18))
        elif key.startswith(_PACK_PATH):
            _add_pack(keys, key[len(_PACK_PATH) :], match.prefix)
        elif key.startswith(_CASE_PATH):
            digits = key[len(_CASE_PATH) :]
            if not match.prefix and len(digits) == 18 and digits.isdigit():
                keys.cases.append(digits)
            elif match.prefix and len(digits) <= 18 and (digits.isdigit() or not digits):
                keys.case_ranges.append((digits.ljust(18, "0"), digits.ljust(18, "9")))
    return keys


def _add_pack(keys: PackKeys, rest: str, prefix: bool) -> None:
    if not prefix:
        if (found := _INSTANCE.fullmatch(rest)) is not None:
            keys.packs.append((found[1], unquote(found[2])))
        return
    digits, slash, after = rest.partition("/")
    if not slash:
        if len(digits) <= 14 and (digits.isdigit() or not digits):
            keys.pack_ranges.append((digits.ljust(14, "0"), digits.ljust(14, "9"), ""))
        return
    if len(digits) != 14 or not digits.isdigit():
        return
    if "21/".startswith(after):  # `/01/G/`, `/01/G/2`, `/01/G/21`: every serial of G
        keys.pack_ranges.append((digits, digits, ""))
    elif after.startswith("21/"):
        keys.pack_ranges.append((digits, digits, unquote(after[3:])))


# --- the SQL --------------------------------------------------------------------------------


class _Params:
    """Named parameters for a statement being composed."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"%({name})s"


def _pack_condition(keys: PackKeys, alias: str, params: _Params) -> str:
    parts = []
    if keys.packs:
        gtins = params.add([g for g, _ in keys.packs])
        serials = params.add([s for _, s in keys.packs])
        parts.append(
            f"({alias}.gtin, {alias}.serial) IN "
            f"(SELECT * FROM unnest({gtins}::char(14)[], {serials}::text[]))"
        )
    for low, high, serial in keys.pack_ranges:
        condition = f"{alias}.gtin BETWEEN {params.add(low)} AND {params.add(high)}"
        if serial:
            start = params.add(serial)
            condition += f" AND left({alias}.serial, {params.add(len(serial))}) = {start}"
        parts.append(f"({condition})")
    return " OR ".join(parts) or "FALSE"


def _case_condition(keys: PackKeys, alias: str, params: _Params) -> str:
    parts = []
    if keys.cases:
        parts.append(f"{alias}.sscc = ANY({params.add(keys.cases)}::char(18)[])")
    for low, high in keys.case_ranges:
        parts.append(f"{alias}.sscc BETWEEN {params.add(low)} AND {params.add(high)}")
    return " OR ".join(parts) or "FALSE"


# A pack or packing's target case (the parent) is the case row with no reason: a case packed
# into it or out of it says "packed in …".
_PARENT_ROW = "(c.action IN ('pack', 'unpack') AND c.reason = '')"


def _candidates(keys: PackKeys, params: _Params, *, children: bool, parents: bool) -> str:
    """The (event, action) pairs whose EPC lists (`children`) or parent (`parents`) name one of
    `keys`: lines not refused, the packs commissioned, the cases moved or packed."""
    selects = []
    if children and (keys.packs or keys.pack_ranges):
        selects.append(
            "SELECT pe.event_id, pe.action::text FROM pack_events pe "
            f"WHERE pe.outcome <> 'refused' AND ({_pack_condition(keys, 'pe', params)})"
        )
        selects.append(
            "SELECT p.commission_event_id, 'commission' FROM packs p "
            f"WHERE {_pack_condition(keys, 'p', params)}"
        )
    if keys.cases or keys.case_ranges:
        role = (
            "TRUE" if children and parents else (f"NOT {_PARENT_ROW}" if children else _PARENT_ROW)
        )
        selects.append(
            "SELECT c.event_id, c.action::text FROM container_events c "
            f"WHERE c.outcome <> 'refused' AND {role} AND ({_case_condition(keys, 'c', params)})"
        )
    return " UNION ".join(selects)


# A commissioning's answer names its batch; other answers are not read (one of 10,000 codes is
# megabytes of JSON).
_COLUMNS = (
    "e.event_id, e.action, e.facility_id, e.destination_id, e.event_time, e.recorded_at, "
    "CASE WHEN e.action = 'commission' THEN e.response->>'gtin' END, "
    "CASE WHEN e.action = 'commission' THEN e.response->>'lot' END"
)
# What every listed event is: something happened (a commissioning, or a line or a case not
# refused).
_HAPPENED = (
    "(e.action = 'commission' "
    "OR EXISTS (SELECT 1 FROM pack_events pe WHERE pe.event_id = e.event_id "
    "AND pe.outcome <> 'refused') "
    "OR EXISTS (SELECT 1 FROM container_events c WHERE c.event_id = e.event_id "
    "AND c.outcome <> 'refused'))"
)
# Driven by an EPCIS capture: the query lists it as captured, not here.
_NOT_CAPTURED = "NOT EXISTS (SELECT 1 FROM epcis_events x WHERE x.register_event_id = e.event_id)"
# The eventID it was captured with.
CAPTURED_ID = (
    "(SELECT x.event_id FROM epcis_events x WHERE x.register_event_id = e.event_id "
    "ORDER BY x.id LIMIT 1)"
)
# An event naming the caller's products: its commissioning, or a line of it not refused.
_NAMES_PRODUCTS = (
    "(e.action = 'commission' AND e.response->>'gtin' = ANY({gtins}::text[])) "
    "OR EXISTS (SELECT 1 FROM pack_events pe WHERE pe.event_id = e.event_id "
    "AND pe.action = e.action AND pe.outcome <> 'refused' AND pe.gtin = ANY({gtins}::char(14)[]))"
)


@dataclass(frozen=True)
class _Header:
    event_id: uuid.UUID
    action: Action
    facility_id: uuid.UUID
    destination_id: uuid.UUID | None
    event_time: datetime
    recorded_at: datetime
    gtin: str | None  # a commissioning's batch
    lot: str | None
    captured_id: str | None = None  # the eventID of the EPCIS capture that drove it


def allowed_actions(query: EventQuery) -> list[Action]:
    """The register's actions whose EPCIS form meets the query's type, action, bizStep and
    disposition filters."""
    return [
        action
        for action, shape in SHAPES.items()
        if (query.event_types is None or shape.event_type in query.event_types)
        and (query.actions is None or shape.action in query.actions)
        and (query.biz_steps is None or _cbv(BUSINESS_STEP[action], "bizstep") & query.biz_steps)
        and (query.dispositions is None or _disposition_in(shape, query.dispositions))
    ]


def _disposition_in(shape: Shape, wanted: frozenset[str]) -> bool:
    return shape.disposition is not None and bool(_cbv(shape.disposition, "disp") & wanted)


def _cbv(word: str, vocabulary: str) -> set[str]:
    """A CBV value in the forms a query may give it: bare, CBV 2.0 URI, EPCIS 1.x URN."""
    return {
        word,
        f"https://ref.gs1.org/cbv/{'BizStep' if vocabulary == 'bizstep' else 'Disp'}-{word}",
        f"urn:epcglobal:cbv:{vocabulary}:{word}",
    }


async def find(
    connection: Connection, query: EventQuery, *, narrow: bool = False, captured: bool = False
) -> list[FoundEvent]:
    """Up to `query.per_page + 1` of the register's events that meet every filter of `query`,
    in its order, after its cursor, as EPCIS 2.0 events. `narrow`: the EPC lists hold only the
    EPCs the query's MATCH_epc / MATCH_anyEPC name (the per-EPC resource); otherwise whole.
    An event seen only because it names the caller's products lists only those products'
    packs. `captured`: also the events an EPCIS capture drove (which the query lists as
    captured), named by the eventID they were captured with: for the exports, which give a
    history whole. Raises ValueError for a cursor of the register whose key is not an event
    id."""
    actions = allowed_actions(query)
    if not _may_match(query) or not actions:
        return []
    params = _Params()
    where = [f"e.action = ANY({params.add([a.value for a in actions])})", _HAPPENED]
    if not captured:
        where.append(_NOT_CAPTURED)
    epc_keys = pack_keys([*(query.match_epc or ()), *(query.match_any_epc or ())])
    constraints = [
        (query.match_epc, True, False),
        (query.match_any_epc, True, True),
        (query.match_parent_id, False, True),
    ]
    exact_sets: list[set[tuple[uuid.UUID, str]]] = []
    for matches, children, parents in constraints:
        if matches is None:
            continue
        keys = pack_keys(matches)
        if keys.empty:
            return []
        if keys.exact:
            exact_sets.append(await _exact_candidates(connection, keys, children, parents))
        else:
            inner = _candidates(keys, params, children=children, parents=parents)
            where.append(f"(e.event_id, e.action::text) IN ({inner})")
    if exact_sets:
        found = set.intersection(*exact_sets)
        if not found:
            return []
        pairs = sorted(found)
        ids = params.add([event_id for event_id, _ in pairs])
        kinds = params.add([action for _, action in pairs])
        pairs_given = f"SELECT * FROM unnest({ids}::uuid[], {kinds}::text[])"
        where.append(f"(e.event_id, e.action::text) IN ({pairs_given})")
    if not await _where_filters(connection, query, params, where):
        return []
    time = "e.event_time" if query.order_by == "eventTime" else "e.recorded_at"
    if query.after is not None:
        where.append(_after(query.after, time, query.descending, params))
    direction = "DESC" if query.descending else "ASC"
    limit = params.add(query.per_page + 1)
    statement = (
        f"SELECT {_COLUMNS}, {CAPTURED_ID if captured else 'NULL'} FROM events e "
        f"WHERE {' AND '.join(where)} "
        f"ORDER BY {time} {direction}, e.event_id {direction} LIMIT {limit}"
    )
    rows = await (await connection.execute(statement, params.values)).fetchall()
    headers = [_Header(r[0], Action(r[1]), *r[2:9]) for r in rows]
    documents = await documents_of(
        connection, headers, query.visibility, epc_keys if narrow and not epc_keys.empty else None
    )
    by_event_time = query.order_by == "eventTime"
    return [
        FoundEvent(
            Cursor(h.event_time if by_event_time else h.recorded_at, SOURCE, str(h.event_id)),
            document,
        )
        for h, document in zip(headers, documents, strict=True)
    ]


async def event(
    connection: Connection, event_id: uuid.UUID, visibility: Visibility
) -> dict[str, Any] | None:
    """One register event as EPCIS (`/epcis/events/{eventID}`), if the caller may see it."""
    found = await find(
        connection,
        EventQuery(event_ids=frozenset({f"urn:uuid:{event_id}"}), visibility=visibility),
    )
    return found[0].document if found else None


def _may_match(query: EventQuery) -> bool:
    if not register_may_match(query) or query.match_any_epc_class:
        return False
    return not query.biz_transactions  # the register's events carry no business transactions


async def _exact_candidates(
    connection: Connection, keys: PackKeys, children: bool, parents: bool
) -> set[tuple[uuid.UUID, str]]:
    params = _Params()
    inner = _candidates(keys, params, children=children, parents=parents)
    if not inner:
        return set()
    rows = await (await connection.execute(inner, params.values)).fetchall()
    return {(row[0], row[1]) for row in rows}


async def _where_filters(
    connection: Connection, query: EventQuery, params: _Params, where: list[str]
) -> bool:
    """Add the time, location, source/destination, event id and visibility filters; False when
    no register event can meet them."""
    for bound, column, operator in (
        (query.ge_event_time, "e.event_time", ">="),
        (query.lt_event_time, "e.event_time", "<"),
        (query.ge_record_time, "e.recorded_at", ">="),
        (query.lt_record_time, "e.recorded_at", "<"),
    ):
        if bound is not None:
            where.append(f"{column} {operator} {params.add(bound)}")
    if query.event_ids is not None:
        ids = [found for text in query.event_ids if (found := _event_uuid(text)) is not None]
        if not ids:
            return False
        where.append(f"e.event_id = ANY({params.add(ids)}::uuid[])")
    if query.biz_locations is not None:
        sites = await _sites_matching(connection, query.biz_locations)
        if not sites:
            return False
        located = [a.value for a, shape in SHAPES.items() if shape.located]
        where.append(
            f"e.facility_id = ANY({params.add(sites)}::uuid[]) "
            f"AND e.action = ANY({params.add(located)})"
        )
    if query.read_points is not None:
        sites = await _sites_matching(connection, query.read_points)
        if not sites:
            return False
        where.append(f"e.facility_id = ANY({params.add(sites)}::uuid[])")
    for kinds, outgoing in ((query.sources, True), (query.destinations, False)):
        for kind, uris in kinds.items():
            sites = await _party_sites(connection, kind, uris)
            if not sites:
                return False
            where.append(_moved_condition(sites, params, outgoing=outgoing))
    visibility = query.visibility
    if not visibility.everything:
        own = params.add(list(visibility.facility_ids))
        gtins = params.add(list(visibility.gtins))
        names = _NAMES_PRODUCTS.format(gtins=gtins) if visibility.gtins else "FALSE"
        where.append(
            f"(e.facility_id = ANY({own}::uuid[]) OR e.destination_id = ANY({own}::uuid[]) "
            f"OR {names})"
        )
    return True


def _event_uuid(text: str) -> uuid.UUID | None:
    if not text.lower().startswith("urn:uuid:"):
        return None
    try:
        return uuid.UUID(text[len("urn:uuid:") :])
    except ValueError:
        return None


_SENDERS = (
    "SELECT f.id FROM jsonb_array_elements(e.response->'body'->'results') r "
    "JOIN facilities f ON f.gln = r->'received_from'->>'gln'"
)


def _moved_condition(sites: list[uuid.UUID], params: _Params, *, outgoing: bool) -> str:
    """Events whose sourceList (`outgoing`) or destinationList names one of `sites`."""
    ids = params.add(sites)
    moves = params.add([a.value for a in MOVES])
    if outgoing:
        return (
            f"((e.action = ANY({moves}) AND e.facility_id = ANY({ids}::uuid[])) "
            f"OR (e.action = 'receive' AND EXISTS ({_SENDERS} WHERE f.id = ANY({ids}::uuid[]))))"
        )
    return (
        f"((e.action = ANY({moves}) AND e.destination_id = ANY({ids}::uuid[])) "
        f"OR (e.action = 'receive' AND e.facility_id = ANY({ids}::uuid[])))"
    )


_SITE_PATH = f"{DL}/414/"
_PARTY_PATH = f"{DL}/417/"


async def _sites_matching(connection: Connection, matches: Sequence[EpcMatch]) -> list[uuid.UUID]:
    """The facilities whose location (`https://id.gs1.org/414/<gln>`) `matches` name."""
    return await _glns_matching(connection, matches, _SITE_PATH, "facilities")


async def _glns_matching(
    connection: Connection, matches: Sequence[EpcMatch], path: str, table: str
) -> list[uuid.UUID]:
    exact = [m.key[len(path) :] for m in matches if not m.prefix and m.key.startswith(path)]
    patterns = [
        _like_prefix(m.key[len(path) :] if m.key.startswith(path) else "")
        for m in matches
        if m.prefix and (m.key.startswith(path) or path.startswith(m.key))
    ]
    if not exact and not patterns:
        return []
    rows = await (
        await connection.execute(
            f"SELECT id FROM {table} WHERE gln = ANY(%s::text[]) OR gln LIKE ANY(%s::text[])",
            (exact, patterns),
        )
    ).fetchall()
    return [row[0] for row in rows]


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def _party_sites(connection: Connection, kind: str, uris: Iterable[str]) -> list[uuid.UUID]:
    """The facilities a source or destination of `kind` names: a location is a facility, an
    owning party every facility of the organisation."""
    matches = [EpcMatch(uri) for uri in uris]
    if kind == "location":
        return await _sites_matching(connection, matches)
    if kind == "owning_party":
        organizations = await _glns_matching(connection, matches, _PARTY_PATH, "organizations")
        rows = await (
            await connection.execute(
                "SELECT id FROM facilities WHERE organization_id = ANY(%s)", (organizations,)
            )
        ).fetchall()
        return [row[0] for row in rows]
    return []  # possessing_party and others: the register does not record them


def _after(cursor: Cursor, time: str, descending: bool, params: _Params) -> str:
    """The rows after `cursor` in the order (time, source, key), descending or not."""
    at = params.add(cursor.time)
    if cursor.source == SOURCE:
        key = params.add(uuid.UUID(cursor.key))
        return f"({time}, e.event_id) {'<' if descending else '>'} ({at}, {key})"
    # Another source's event at the same time comes before ours ("c" < "r") or after.
    ours_after = cursor.source < SOURCE
    if descending:
        return f"{time} {'<' if ours_after else '<='} {at}"
    return f"{time} {'>=' if ours_after else '>'} {at}"


# --- building the documents -----------------------------------------------------------------


_SITES = (
    "SELECT f.id, f.gln, o.gln FROM facilities f JOIN organizations o ON o.id = f.organization_id "
    "WHERE f.id = ANY(%s)"
)


async def sites(connection: Connection, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, Site]:
    wanted = list({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = await (await connection.execute(_SITES, (wanted,))).fetchall()
    return {row[0]: Site(row[1], row[2]) for row in rows}


_RECEIVED_FROM = """
SELECT DISTINCT e.event_id, f.id
FROM events e
CROSS JOIN LATERAL jsonb_array_elements(e.response->'body'->'results') r
JOIN facilities f ON f.gln = r->'received_from'->>'gln'
WHERE e.event_id = ANY(%s) AND e.action = 'receive'
"""


async def senders(
    connection: Connection, event_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The facilities each receipt received shipments from (as its answer named them)."""
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if event_ids:
        for event_id, site in await (
            await connection.execute(_RECEIVED_FROM, (list(event_ids),))
        ).fetchall():
            found[event_id].append(site)
    return found


_EXPIRIES = (
    "SELECT gtin, lot, expiry FROM batches "
    "WHERE (gtin, lot) IN (SELECT * FROM unnest(%s::char(14)[], %s::text[]))"
)


async def expiries(
    connection: Connection, batches: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], date]:
    wanted = sorted(set(batches))
    if not wanted:
        return {}
    rows = await (
        await connection.execute(_EXPIRIES, ([g for g, _ in wanted], [lot for _, lot in wanted]))
    ).fetchall()
    return {(row[0], row[1]): row[2] for row in rows}


@dataclass
class Contents:
    """What an event names: its packs (GTIN, serial), the cases it moved (or packed into the
    parent), and for packing the parent case."""

    packs: list[tuple[str, str]] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    parent: str | None = None


async def documents_of(
    connection: Connection,
    headers: Sequence[_Header],
    visibility: Visibility,
    narrowed_to: PackKeys | None,
) -> list[dict[str, Any]]:
    """The EPCIS documents of `headers`, with their EPC lists (only the EPCs `narrowed_to`
    names, if given)."""
    if not headers:
        return []
    contents = await _contents(connection, headers, narrowed_to)
    places = await sites(
        connection, [site for h in headers for site in (h.facility_id, h.destination_id)]
    )
    receipts = [h.event_id for h in headers if h.action is Action.receive]
    received = await senders(connection, receipts)
    places |= await sites(connection, [s for found in received.values() for s in found])
    batches = await expiries(
        connection, [(h.gtin, h.lot) for h in headers if h.gtin is not None and h.lot is not None]
    )
    documents = []
    for h in headers:
        inside = contents[h.event_id]
        if not visibility.everything and not (
            {h.facility_id, h.destination_id} & visibility.facility_ids
        ):
            # Seen for the caller's products only: nothing else of it.
            inside = Contents(
                [p for p in inside.packs if p[0] in visibility.gtins], [], inside.parent
            )
        ilmd = None
        if h.action is Action.commission and h.gtin is not None and h.lot is not None:
            ilmd = (h.lot, batches.get((h.gtin, h.lot)))
        document = head(
            h.event_id,
            h.action,
            h.event_time,
            h.recorded_at,
            places.get(h.facility_id),
            places.get(h.destination_id) if h.destination_id else None,
            [places[s] for s in received.get(h.event_id, []) if s in places],
            ilmd,
            inside.parent,
            h.captured_id,
        )
        document[list_key(h.action)] = [sscc(c) for c in inside.cases] + [
            sgtin(g, s) for g, s in inside.packs
        ]
        documents.append(document)
    return documents


_LINES = """
SELECT pe.event_id, pe.action, pe.gtin, pe.serial
FROM pack_events pe
WHERE pe.event_id = ANY({ids}::uuid[]) AND pe.outcome <> 'refused' {narrow}
ORDER BY pe.event_id, pe.gtin, pe.serial
"""
_COMMISSIONED = """
SELECT p.gtin, p.serial FROM packs p
WHERE p.gtin = {gtin} AND p.lot = {lot} AND p.commission_event_id = {event_id}
ORDER BY p.serial
"""
# Narrowed, by the packs' key alone: the batch's other packs (a million) are not read.
_COMMISSIONED_NAMED = """
SELECT p.gtin, p.serial FROM packs p
WHERE ({named}) AND p.commission_event_id = {event_id}
ORDER BY p.gtin, p.serial
"""
_CASES = """
SELECT c.event_id, c.action, c.sscc, c.reason
FROM container_events c
WHERE c.event_id = ANY({ids}::uuid[]) AND c.outcome <> 'refused' {narrow}
ORDER BY c.event_id, c.sscc
"""


async def _contents(
    connection: Connection, headers: Sequence[_Header], narrowed_to: PackKeys | None
) -> dict[uuid.UUID, Contents]:
    found = {h.event_id: Contents() for h in headers}
    actions = {h.event_id: h.action.value for h in headers}
    others = [h.event_id for h in headers if h.action is not Action.commission]
    if others:
        params = _Params()
        narrow = ""
        if narrowed_to is not None:
            narrow = f"AND ({_pack_condition(narrowed_to, 'pe', params)})"
        statement = _LINES.format(ids=params.add(others), narrow=narrow)
        for event_id, action, gtin, serial in await (
            await connection.execute(statement, params.values)
        ).fetchall():
            if action == actions[event_id]:  # not a line of another action inside the event
                found[event_id].packs.append((gtin, serial))
        params = _Params()
        statement = _CASES.format(ids=params.add(others), narrow="")
        for event_id, action, number, reason in await (
            await connection.execute(statement, params.values)
        ).fetchall():
            if action != actions[event_id]:
                continue
            contents = found[event_id]
            if action in ("pack", "unpack") and not reason:
                contents.parent = number
            elif narrowed_to is None or narrowed_to.matches_case(number):
                contents.cases.append(number)
    for h in headers:
        if h.action is not Action.commission or h.gtin is None:
            continue
        params = _Params()
        if narrowed_to is not None:
            named = _pack_condition(narrowed_to, "p", params)
            statement = _COMMISSIONED_NAMED.format(named=named, event_id=params.add(h.event_id))
        else:
            statement = _COMMISSIONED.format(
                gtin=params.add(h.gtin), lot=params.add(h.lot), event_id=params.add(h.event_id)
            )
        rows = await (await connection.execute(statement, params.values)).fetchall()
        found[h.event_id].packs = [(gtin, serial) for gtin, serial in rows]
    return found
