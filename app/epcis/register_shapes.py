"""What each of the register's actions is as a GS1 EPCIS 2.0 event (CBV 2.0; the EU FMD states
as in reference/domain.md §2.9), and the identifiers it names, as GS1 Digital Link URIs:

| action      | type             | action  | bizStep         | disposition        | bizLocation |
|-------------|------------------|---------|-----------------|--------------------|-------------|
| commission  | ObjectEvent      | ADD     | commissioning   | active             | facility    |
| pack        | AggregationEvent | ADD     | packing         | in_progress        | facility    |
| unpack      | AggregationEvent | DELETE  | unpacking       | —                  | facility    |
| ship        | ObjectEvent      | OBSERVE | shipping        | in_transit         | — (moving)  |
| return      | ObjectEvent      | OBSERVE | shipping        | returned           | — (moving)  |
| export      | ObjectEvent      | OBSERVE | shipping        | in_transit         | — (leaves)  |
| receive     | ObjectEvent      | OBSERVE | receiving       | in_progress        | facility    |
| dispense    | ObjectEvent      | OBSERVE | dispensing      | dispensed          | facility    |
| undo        | ObjectEvent      | OBSERVE | decommissioning | active             | facility    |
| sample      | ObjectEvent      | OBSERVE | sampling        | inactive           | facility    |
| free_sample | ObjectEvent      | OBSERVE | sampling        | inactive           | facility    |
| check_out   | ObjectEvent      | OBSERVE | decommissioning | inactive           | facility    |
| lock        | ObjectEvent      | OBSERVE | holding         | non_sellable_other | facility    |
| unlock      | ObjectEvent      | OBSERVE | holding         | active             | facility    |
| stolen      | ObjectEvent      | OBSERVE | decommissioning | stolen             | — (unknown) |
| destroy     | ObjectEvent      | DELETE  | destroying      | destroyed          | facility    |

- bizStep is the register's own (models/events.py BUSINESS_STEP), so that both views of an
  event name the same step; the disposition says the state the objects are left in. Only
  destroying ends an identity (DELETE): every other decommission of the EU FMD can be undone
  (a sample, a free sample, a check-out are `inactive`: "decommissioned, may be reintroduced"),
  and a stolen pack still exists somewhere. An undo or unlock puts the pack back to `active`.
- readPoint is always the facility that recorded the event; bizLocation (where the objects are
  after it) is left out while they travel or are lost.
- Shipments and returns name the facility and its organisation as source (`location`,
  `owning_party`) and the destination's as destination; a receipt names itself as destination
  and, as source, the senders the register knew (the shipments addressed here).
- epcList (childEPCs for packing) holds what happened: every pack line not refused (a refused
  line did not happen; a line of another action inside the event, e.g. a pack found missing
  from a case on receipt, is not part of it) and the cases moved whole, with their packs also
  listed one by one (the register recorded each). An event every code of which was refused is
  not an event at all. Unknown codes recorded offline are listed: they are facts.
- Events the EPCIS capture drove are listed once, as captured (`epcis_events`), not as the
  register's (app/epcis/register_events.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from models.events import BUSINESS_STEP, Action

DL = "https://id.gs1.org"


@dataclass(frozen=True)
class Shape:
    event_type: str
    action: str
    disposition: str | None
    located: bool  # has a bizLocation (the objects are at the facility afterwards)


_OBJECT, _AGGREGATION = "ObjectEvent", "AggregationEvent"
SHAPES: dict[Action, Shape] = {
    Action.commission: Shape(_OBJECT, "ADD", "active", True),
    Action.pack: Shape(_AGGREGATION, "ADD", "in_progress", True),
    Action.unpack: Shape(_AGGREGATION, "DELETE", None, True),
    Action.ship: Shape(_OBJECT, "OBSERVE", "in_transit", False),
    Action.return_: Shape(_OBJECT, "OBSERVE", "returned", False),
    Action.export: Shape(_OBJECT, "OBSERVE", "in_transit", False),
    Action.receive: Shape(_OBJECT, "OBSERVE", "in_progress", True),
    Action.dispense: Shape(_OBJECT, "OBSERVE", "dispensed", True),
    Action.undo: Shape(_OBJECT, "OBSERVE", "active", True),
    Action.sample: Shape(_OBJECT, "OBSERVE", "inactive", True),
    Action.free_sample: Shape(_OBJECT, "OBSERVE", "inactive", True),
    Action.check_out: Shape(_OBJECT, "OBSERVE", "inactive", True),
    Action.lock: Shape(_OBJECT, "OBSERVE", "non_sellable_other", True),
    Action.unlock: Shape(_OBJECT, "OBSERVE", "active", True),
    Action.stolen: Shape(_OBJECT, "OBSERVE", "stolen", False),
    Action.destroy: Shape(_OBJECT, "DELETE", "destroyed", True),
}
MOVES = frozenset({Action.ship, Action.return_})
PACKING = frozenset({Action.pack, Action.unpack})


def sgtin(gtin: str, serial: str) -> str:
    return f"{DL}/01/{gtin}/21/{quote(serial, safe='')}"


def sscc(number: str) -> str:
    return f"{DL}/00/{number}"


def sgln(gln: str) -> str:
    return f"{DL}/414/{gln}"


def pgln(gln: str) -> str:
    return f"{DL}/417/{gln}"


def epcis_time(moment: datetime) -> str:
    """UTC, to the millisecond, as EPCIS events write times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Site:
    """A facility as events name it: its location GLN (AI 414), its organisation's party GLN
    (AI 417)."""

    gln: str
    organization_gln: str


def head(
    event_id: uuid.UUID,
    action: Action,
    event_time: datetime,
    recorded_at: datetime,
    facility: Site | None,
    destination: Site | None,
    received_from: Sequence[Site] = (),
    ilmd: tuple[str, date | None] | None = None,
    parent: str | None = None,
    captured_id: str | None = None,
) -> dict[str, Any]:
    """An event's EPCIS fields but its EPC lists (`epcList`, or `childEPCs` for packing);
    `captured_id`: the eventID of the EPCIS capture that drove it, its name then."""
    shape = SHAPES[action]
    document: dict[str, Any] = {
        "type": shape.event_type,
        "eventID": captured_id or f"urn:uuid:{event_id}",
        "eventTime": epcis_time(event_time),
        "eventTimeZoneOffset": "+00:00",
        "recordTime": epcis_time(recorded_at),
    }
    if shape.event_type == _AGGREGATION and parent is not None:
        document["parentID"] = sscc(parent)
    document |= {"action": shape.action, "bizStep": BUSINESS_STEP[action]}
    if shape.disposition is not None:
        document["disposition"] = shape.disposition
    if facility is not None:
        document["readPoint"] = {"id": sgln(facility.gln)}
        if shape.located:
            document["bizLocation"] = {"id": sgln(facility.gln)}
    if action in MOVES and facility is not None and destination is not None:
        document["sourceList"] = _parties("source", [facility])
        document["destinationList"] = _parties("destination", [destination])
    elif action is Action.receive and facility is not None:
        if received_from:
            document["sourceList"] = _parties("source", received_from)
        document["destinationList"] = _parties("destination", [facility])
    if ilmd is not None:
        lot, expiry = ilmd
        document["ilmd"] = {"cbvmda:lotNumber": lot}
        if expiry is not None:
            document["ilmd"]["cbvmda:itemExpirationDate"] = expiry.isoformat()
    return document


def list_key(action: Action) -> str:
    return "childEPCs" if SHAPES[action].event_type == _AGGREGATION else "epcList"


def _parties(role: str, places: Sequence[Site]) -> list[dict[str, str]]:
    listed = [{"type": "location", role: sgln(p.gln)} for p in places]
    parties = dict.fromkeys(p.organization_gln for p in places)
    return listed + [{"type": "owning_party", role: pgln(gln)} for gln in parties]
