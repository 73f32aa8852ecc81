"""Events as captured: the row of each (the fields queries filter on, its JSON less its EPC lists)
and its EPCs one row each, written once and never changed; read back whole or, for one EPC's
history, with only that EPC in its lists."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from app.auth.principal import Principal
from app.epcis.document import EPC_LISTS, Identified, parse_time
from app.epcis.hash_id import event_hash_id
from app.epcis.identifiers import Identifier, to_digital_link
from models.epcis import EpcRole

Connection = psycopg.AsyncConnection[Any]

ROLE_OF_LIST: dict[str, EpcRole] = {
    "epcList": EpcRole.epc,
    "childEPCs": EpcRole.child,
    "inputEPCList": EpcRole.input,
    "outputEPCList": EpcRole.output,
    "parentID": EpcRole.parent,
    "quantityList": EpcRole.quantity,
    "childQuantityList": EpcRole.child_quantity,
    "inputQuantityList": EpcRole.input_quantity,
    "outputQuantityList": EpcRole.output_quantity,
}
LIST_OF_ROLE = {role: name for name, role in ROLE_OF_LIST.items() if name in EPC_LISTS}
# CBV words (business steps, dispositions, source/destination and transaction types, error
# reasons) may come bare (`shipping`), as the CBV 2.0 URI or as the EPCIS 1.2 URN; they are
# read bare, so that a query for one finds all three.
_CBV_FORMS = tuple(
    form
    for vocabulary, urn in (("BizStep", "bizstep"), ("Disp", "disp"), ("SDT", "sdt"),
                            ("BTT", "btt"), ("ER", "er"))
    for form in (f"https://ref.gs1.org/cbv/{vocabulary}-", f"urn:epcglobal:cbv:{urn}:")
)  # fmt: skip
_COPY_FROM = 500
_COPY = "COPY epcis_epcs (event_pk, role, position, epc, key) FROM STDIN"
_COPY_CHUNK = 20_000


@dataclass(frozen=True)
class CapturedEvent:
    event_id: str
    hash_id: str
    event_type: str
    action: str | None
    biz_step: str | None
    disposition: str | None
    read_point: str | None
    biz_location: str | None
    event_time: datetime
    event_time_zone_offset: str
    gtins: list[str]
    document: dict[str, Any]  # less its EPC lists
    epcs: list[tuple[str, int, str, str]]  # role, position, EPC as sent, its key
    identified: Identified

    def gln_of(self, place: str) -> str | None:
        found = self.identified.get(place)
        return found[0].gln if found else None


def cbv_word(value: str | None) -> str | None:
    if value is None:
        return None
    for form in _CBV_FORMS:
        if value.startswith(form):
            return value[len(form) :]
    return value


def key_of(identifier: Identifier) -> str:
    return identifier.text if identifier.kind == "other" else to_digital_link(identifier)


def prepare(
    event: Mapping[str, Any], identified: Identified, namespaces: Mapping[str, str]
) -> CapturedEvent:
    hash_id = event_hash_id(dict(event), namespaces)
    event_time = parse_time(event["eventTime"])
    assert event_time is not None  # checked when the document was read
    epcs: list[tuple[str, int, str, str]] = []
    gtins: set[str] = set()
    for name, found in identified.items():
        role = ROLE_OF_LIST.get(name)
        if role is None:
            continue
        for position, identifier in enumerate(found):
            epcs.append((role.value, position, identifier.text, key_of(identifier)))
            if identifier.gtin:
                gtins.add(identifier.gtin)
    document = {name: value for name, value in event.items() if name not in EPC_LISTS}
    document.pop("recordTime", None)  # the repository's to set
    # An event sent without an eventID is known by its hash ID, as the standard suggests.
    document.setdefault("eventID", hash_id)
    places = {
        name: key_of(identified[name][0])
        for name in ("readPoint", "bizLocation")
        if identified.get(name)
    }
    return CapturedEvent(
        event_id=document["eventID"],
        hash_id=hash_id,
        event_type=event["type"],
        action=event.get("action"),
        biz_step=cbv_word(event.get("bizStep")),
        disposition=cbv_word(event.get("disposition")),
        read_point=places.get("readPoint"),
        biz_location=places.get("bizLocation"),
        event_time=event_time.astimezone(UTC),
        event_time_zone_offset=event["eventTimeZoneOffset"],
        gtins=sorted(gtins),
        document=document,
        epcs=epcs,
        identified=identified,
    )


_INSERT = """
INSERT INTO epcis_events (event_id, hash_id, capture_id, event_type, action, biz_step,
    disposition, read_point, biz_location, event_time, event_time_zone_offset, record_time,
    actor_kind, actor_id, organization_id, facility_id, gtins, register_event_id, document)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT DO NOTHING
RETURNING id
"""


async def store(
    connection: Connection,
    event: CapturedEvent,
    *,
    capture_id: uuid.UUID | None,
    principal: Principal,
    facility_id: uuid.UUID | None,
    register_event_id: uuid.UUID | None,
    now: datetime,
) -> int | None:
    """The event's row id, or None when an event of the same eventID or hash ID is stored
    already (a document sent again changes nothing)."""
    cursor = await connection.execute(
        _INSERT,
        (
            event.event_id, event.hash_id, capture_id, event.event_type, event.action,
            event.biz_step, event.disposition, event.read_point, event.biz_location,
            event.event_time, event.event_time_zone_offset, now, principal.kind, principal.id,
            principal.organization_id, facility_id, event.gtins, register_event_id,
            Jsonb(event.document),
        ),
    )  # fmt: skip
    row = await cursor.fetchone()
    if row is None:
        return None
    await _store_epcs(connection, row[0], event.epcs)
    return int(row[0])


async def stored(connection: Connection, event: CapturedEvent) -> str | None:
    """The eventID of the event stored already under this eventID or with this hash ID."""
    cursor = await connection.execute(
        "SELECT event_id FROM epcis_events WHERE event_id = %s OR hash_id = %s LIMIT 1",
        (event.event_id, event.hash_id),
    )
    row = await cursor.fetchone()
    return None if row is None else str(row[0])


async def _store_epcs(
    connection: Connection, event_pk: int, epcs: Sequence[tuple[str, int, str, str]]
) -> None:
    if not epcs:
        return
    if len(epcs) < _COPY_FROM:
        await connection.execute(
            "INSERT INTO epcis_epcs (event_pk, role, position, epc, key)"
            " SELECT %s, * FROM unnest(%s::varchar[], %s::int[], %s::varchar[], %s::varchar[])",
            (event_pk, *map(list, zip(*epcs, strict=True))),
        )
        return
    # Text COPY of lines joined here, not a row at a time through psycopg. URIs hold no
    # whitespace (read_document checked them); a backslash is COPY's escape.
    async with connection.cursor() as cursor, cursor.copy(_COPY) as copy:
        for start in range(0, len(epcs), _COPY_CHUNK):
            await copy.write(
                "".join(
                    f"{event_pk}\t{role}\t{position}\t{_escaped(epc)}\t{_escaped(key)}\n"
                    for role, position, epc, key in epcs[start : start + _COPY_CHUNK]
                )
            )


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\") if "\\" in text else text


async def documents(
    connection: Connection,
    rows: Iterable[tuple[int, dict[str, Any], datetime]],
    narrow_to: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The events of these rows (id, document, record time) as EPCIS JSON, their EPC lists put
    back in order. `narrow_to`: keys of the only EPCs to list (one EPC's history: an event of
    100,000 packs is not sent whole to ask about one of them)."""
    rows = list(rows)
    ids = [row[0] for row in rows]
    if narrow_to is None:
        cursor = await connection.execute(
            "SELECT event_pk, role, epc FROM epcis_epcs WHERE event_pk = ANY(%s)"
            " AND role IN ('e', 'c', 'i', 'o') ORDER BY event_pk, role, position",
            (ids,),
        )
    else:
        cursor = await connection.execute(
            "SELECT event_pk, role, epc FROM epcis_epcs WHERE key = ANY(%s)"
            " AND event_pk = ANY(%s) AND role IN ('e', 'c', 'i', 'o')"
            " ORDER BY event_pk, role, position",
            (list(narrow_to), ids),
        )
    lists: dict[int, dict[str, list[str]]] = {}
    for event_pk, role, epc in await cursor.fetchall():
        lists.setdefault(event_pk, {}).setdefault(LIST_OF_ROLE[EpcRole(role)], []).append(epc)
    answers = []
    for event_pk, document, record_time in rows:
        answer = dict(document)
        answer.update(lists.get(event_pk, {}))
        answer["recordTime"] = _time_text(record_time)
        answers.append(answer)
    return answers


def _time_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
