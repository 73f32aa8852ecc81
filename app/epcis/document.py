"""Reading an EPCIS 2.0 JSON-LD document as captured: the rules of the standard's JSON schema
(types, required fields, the action each event type takes, URIs, times, namespaced extensions)
and every identifier read, each problem named by its JSON path. A document with any problem is
refused whole, before anything is stored."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from app.epcis.identifiers import Identifier, IdentifierError, parse_epc

MAX_PROBLEMS = 20
EVENT_TYPES = frozenset(
    {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent",
     "AssociationEvent"}
)  # fmt: skip
ACTIONS = frozenset({"ADD", "OBSERVE", "DELETE"})
_COMMON = frozenset(
    {"type", "eventID", "eventTime", "eventTimeZoneOffset", "recordTime", "errorDeclaration",
     "certificationInfo", "readPoint", "bizLocation", "bizStep", "disposition",
     "persistentDisposition", "bizTransactionList", "sourceList", "destinationList",
     "sensorElementList", "@context"}
)  # fmt: skip
FIELDS: dict[str, frozenset[str]] = {
    "ObjectEvent": _COMMON | {"action", "epcList", "quantityList", "ilmd"},
    "AggregationEvent": _COMMON | {"action", "parentID", "childEPCs", "childQuantityList"},
    "TransactionEvent": _COMMON | {"action", "parentID", "epcList", "quantityList"},
    "TransformationEvent": _COMMON
    | {
        "inputEPCList",
        "inputQuantityList",
        "outputEPCList",
        "outputQuantityList",
        "transformationID",
        "ilmd",
    },
    "AssociationEvent": _COMMON | {"action", "parentID", "childEPCs", "childQuantityList"},
}
# The identifier lists of each event type (read one by one), and its quantity lists.
EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_OFFSET = re.compile(r"^[+-](?:0\d|1[0-4]):[0-5]\d$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_PREFIXED = re.compile(r"^[A-Za-z_][\w.-]*:\S+$")
_UOM = re.compile(r"^[A-Z0-9]{2,3}$")
# Prefixes the EPCIS 2.0 context declares, usable without declaring them again.
STANDARD_PREFIXES = frozenset({"cbvmda", "epcis", "cbv", "gs1", "dcterms", "xsd", "rdfs", "owl"})


class DocumentError(ValueError):
    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__(problems[0]["message"] if problems else "invalid EPCIS document")
        self.problems = problems


# Each event's identifiers as read: list name → its EPCs; "parentID", "readPoint",
# "bizLocation" → a one-item list; a quantity list → the classes of its items.
Identified = dict[str, list[Identifier]]


@dataclass(frozen=True)
class Document:
    events: list[dict[str, Any]]
    identified: list[Identified]
    # Extension prefixes declared by the document's @context: prefix → namespace IRI.
    namespaces: dict[str, str]
    header: dict[str, Any]


class _Problems:
    def __init__(self) -> None:
        self.found: list[dict[str, str]] = []

    def add(self, path: str, message: str) -> None:
        if len(self.found) < MAX_PROBLEMS:
            self.found.append({"path": path, "message": message})

    @property
    def full(self) -> bool:
        return len(self.found) >= MAX_PROBLEMS


def read_document(body: bytes) -> Document:
    """The document's events, checked. Raises DocumentError naming the first problems."""
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise DocumentError([{"path": "$", "message": f"not JSON: {exc}"}]) from None
    return check_document(data)


def check_document(data: Any) -> Document:
    """An EPCIS 2.0 document as JSON decodes it, checked."""
    problems = _Problems()
    if not isinstance(data, dict):
        raise DocumentError([{"path": "$", "message": "an EPCISDocument must be a JSON object"}])
    if data.get("type") != "EPCISDocument":
        problems.add("$.type", 'must be "EPCISDocument"')
    if not isinstance(data.get("schemaVersion"), str) or not data["schemaVersion"].startswith("2."):
        problems.add("$.schemaVersion", 'required: "2.0" (EPCIS 2.0)')
    _datetime(data.get("creationDate"), "$.creationDate", problems, required=True)
    namespaces = namespaces_of(data.get("@context"), "$.@context", problems)
    body_ = data.get("epcisBody")
    events: list[Any] = []
    if not isinstance(body_, dict) or not isinstance(body_.get("eventList"), list):
        problems.add("$.epcisBody.eventList", "required: the list of events")
    else:
        events = body_["eventList"]
    header = data.get("epcisHeader", {})
    if not isinstance(header, dict):
        problems.add("$.epcisHeader", "must be an object")
        header = {}
    identified = []
    for index, event in enumerate(events):
        identified.append(
            check_event(event, f"$.epcisBody.eventList[{index}]", namespaces, problems)
        )
        if problems.full:
            break
    if problems.found:
        raise DocumentError(problems.found)
    return Document(events, identified, namespaces, header)


def read_event(body: bytes) -> Document:
    """One event as `POST /epcis/events` takes it (its own @context, if any)."""
    try:
        event = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise DocumentError([{"path": "$", "message": f"not JSON: {exc}"}]) from None
    problems = _Problems()
    namespaces = (
        namespaces_of(event.get("@context"), "$.@context", problems)
        if isinstance(event, dict)
        else {}
    )
    identified = check_event(event, "$", namespaces, problems)
    if problems.found:
        raise DocumentError(problems.found)
    return Document([event], [identified], namespaces, {})


def namespaces_of(context: Any, path: str, problems: _Problems) -> dict[str, str]:
    if context is None:
        problems.add(path, "required: the JSON-LD context of EPCIS 2.0")
        return {}
    entries = context if isinstance(context, list) else [context]
    namespaces: dict[str, str] = {}
    for index, entry in enumerate(entries):
        if isinstance(entry, dict):
            for prefix, iri in entry.items():
                if isinstance(iri, str):
                    namespaces[prefix] = iri
        elif not isinstance(entry, str):
            problems.add(f"{path}[{index}]", "a context is a URL or an object of prefixes")
    return namespaces


def check_event(
    event: Any, path: str, namespaces: Mapping[str, str], problems: _Problems
) -> Identified:
    found: Identified = {}
    if not isinstance(event, dict):
        problems.add(path, "an event must be a JSON object")
        return found
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        problems.add(f"{path}.type", "must be one of " + ", ".join(sorted(EVENT_TYPES)))
        return found
    for name in event:
        if name not in FIELDS[kind]:
            _extension_name(name, f"{path}.{name}", namespaces, problems, kind)
    _datetime(event.get("eventTime"), f"{path}.eventTime", problems, required=True)
    offset = event.get("eventTimeZoneOffset")
    if not isinstance(offset, str) or not _OFFSET.match(offset):
        problems.add(f"{path}.eventTimeZoneOffset", 'required: the offset, as "+03:30"')
    action = event.get("action")
    if kind == "TransformationEvent":
        pass
    elif action not in ACTIONS:
        problems.add(f"{path}.action", "required: ADD, OBSERVE or DELETE")
    if "eventID" in event:
        _uri(event["eventID"], f"{path}.eventID", problems)
    for name in ("readPoint", "bizLocation"):
        if name in event:
            _place(event[name], f"{path}.{name}", namespaces, problems, found, name)
    for name in ("bizStep", "disposition"):
        if name in event and not isinstance(event[name], str):
            problems.add(f"{path}.{name}", "must be a CBV word or a URI")
    _object_lists(event, path, problems, found)
    _quantities(event, path, problems, found)
    _typed_lists(event, path, problems)
    parent_required = kind in ("AggregationEvent", "AssociationEvent") and action != "OBSERVE"
    if parent_required and "parentID" not in event:
        problems.add(f"{path}.parentID", f"required in an {kind} with action {action}")
    if "parentID" in event:
        parent = _identifier(event["parentID"], f"{path}.parentID", problems)
        if parent is not None:
            found["parentID"] = [parent]
    if kind == "TransactionEvent" and not event.get("bizTransactionList"):
        problems.add(f"{path}.bizTransactionList", "required in a TransactionEvent")
    if "ilmd" in event:
        if kind == "ObjectEvent" and action != "ADD":
            problems.add(f"{path}.ilmd", "ILMD is only allowed with action ADD")
        elif not isinstance(event["ilmd"], dict):
            problems.add(f"{path}.ilmd", "must be an object")
    _error_declaration(event.get("errorDeclaration"), f"{path}.errorDeclaration", problems)
    _persistent(event.get("persistentDisposition"), f"{path}.persistentDisposition", problems)
    _sensors(event.get("sensorElementList"), f"{path}.sensorElementList", problems)
    return found


def _object_lists(
    event: Mapping[str, Any], path: str, problems: _Problems, found: Identified
) -> None:
    for name in EPC_LISTS:
        if name not in event:
            continue
        values = event[name]
        if not isinstance(values, list):
            problems.add(f"{path}.{name}", "must be a list of URIs")
            continue
        try:
            # The common case first, without a path built for every EPC of a long list.
            found[name] = [parse_epc(value) for value in values]
            continue
        except (IdentifierError, TypeError, AttributeError):
            pass
        read = found[name] = []
        for index, value in enumerate(values):
            identifier = _identifier(value, f"{path}.{name}[{index}]", problems)
            if identifier is not None:
                read.append(identifier)
            elif problems.full:
                return


def _quantities(
    event: Mapping[str, Any], path: str, problems: _Problems, found: Identified
) -> None:
    for name in QUANTITY_LISTS:
        if name not in event:
            continue
        values = event[name]
        if not isinstance(values, list):
            problems.add(f"{path}.{name}", "must be a list of quantities")
            continue
        classes = found[name] = []
        for index, item in enumerate(values):
            where = f"{path}.{name}[{index}]"
            if not isinstance(item, dict) or "epcClass" not in item:
                problems.add(where, "a quantity needs its epcClass")
                continue
            epc_class = _identifier(item["epcClass"], f"{where}.epcClass", problems)
            if epc_class is not None:
                classes.append(epc_class)
            quantity = item.get("quantity")
            if quantity is not None and (
                not isinstance(quantity, (int, float)) or isinstance(quantity, bool)
            ):
                problems.add(f"{where}.quantity", "must be a number")
            elif quantity is not None and quantity < 0:
                problems.add(f"{where}.quantity", "cannot be negative")
            uom = item.get("uom")
            if uom is not None and (not isinstance(uom, str) or not _UOM.match(uom)):
                problems.add(f"{where}.uom", "a UN/CEFACT unit code of 2 or 3 characters")
            if uom is not None and quantity is None:
                problems.add(f"{where}.quantity", "a uom needs its quantity")


_TYPED = {
    "bizTransactionList": ("bizTransaction", False),
    "sourceList": ("source", True),
    "destinationList": ("destination", True),
}


def _typed_lists(event: Mapping[str, Any], path: str, problems: _Problems) -> None:
    for name, (value_field, type_required) in _TYPED.items():
        if name not in event:
            continue
        items = event[name]
        if not isinstance(items, list):
            problems.add(f"{path}.{name}", "must be a list")
            continue
        for index, item in enumerate(items):
            where = f"{path}.{name}[{index}]"
            if not isinstance(item, dict):
                problems.add(where, "must be an object")
                continue
            if type_required and not isinstance(item.get("type"), str):
                problems.add(f"{where}.type", "required: the CBV type or a URI")
            elif "type" in item and not isinstance(item["type"], str):
                problems.add(f"{where}.type", "must be a CBV type or a URI")
            _uri(item.get(value_field), f"{where}.{value_field}", problems)


def _error_declaration(value: Any, path: str, problems: _Problems) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        problems.add(path, "must be an object")
        return
    _datetime(value.get("declarationTime"), f"{path}.declarationTime", problems, required=True)
    corrective = value.get("correctiveEventIDs", [])
    if not isinstance(corrective, list):
        problems.add(f"{path}.correctiveEventIDs", "must be a list of event IDs")
        return
    for index, item in enumerate(corrective):
        _uri(item, f"{path}.correctiveEventIDs[{index}]", problems)


def _persistent(value: Any, path: str, problems: _Problems) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or not set(value) <= {"set", "unset"}:
        problems.add(path, 'must be an object with "set" and/or "unset" lists')
        return
    for name, items in value.items():
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            problems.add(f"{path}.{name}", "must be a list of dispositions")


def _sensors(value: Any, path: str, problems: _Problems) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        problems.add(path, "must be a list of sensor elements")
        return
    for index, element in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(element, dict):
            problems.add(where, "must be an object")
            continue
        reports = element.get("sensorReport")
        if not isinstance(reports, list) or not reports:
            problems.add(f"{where}.sensorReport", "required: at least one sensor report")
            continue
        for number, report in enumerate(reports):
            if not isinstance(report, dict):
                problems.add(f"{where}.sensorReport[{number}]", "must be an object")
                continue
            for name in ("time", "startTime", "endTime"):
                if name in report:
                    _datetime(report[name], f"{where}.sensorReport[{number}].{name}", problems)
            for name in ("value", "minValue", "maxValue", "meanValue", "percValue"):
                item = report.get(name)
                if item is not None and not isinstance(item, (int, float)):
                    problems.add(f"{where}.sensorReport[{number}].{name}", "must be a number")
        metadata = element.get("sensorMetadata")
        if metadata is not None and not isinstance(metadata, dict):
            problems.add(f"{where}.sensorMetadata", "must be an object")


def _place(
    value: Any,
    path: str,
    namespaces: Mapping[str, str],
    problems: _Problems,
    found: Identified,
    name: str,
) -> None:
    if not isinstance(value, dict) or "id" not in value:
        problems.add(path, 'must be an object with its "id"')
        return
    place = _identifier(value["id"], f"{path}.id", problems)
    if place is not None:
        found[name] = [place]
    for name in value:
        if name != "id":
            _extension_name(name, f"{path}.{name}", namespaces, problems, "location")


def _identifier(value: Any, path: str, problems: _Problems) -> Identifier | None:
    if not isinstance(value, str):
        problems.add(path, "must be a URI (an EPC URN or a GS1 Digital Link)")
        return None
    try:
        return parse_epc(value)
    except IdentifierError as exc:
        problems.add(path, str(exc))
        return None


def _uri(value: Any, path: str, problems: _Problems) -> None:
    if not isinstance(value, str) or not _URI.match(value):
        problems.add(path, "required: a URI")


def _datetime(value: Any, path: str, problems: _Problems, *, required: bool = False) -> None:
    if value is None:
        if required:
            problems.add(path, "required: a date and time with its offset")
        return
    if parse_time(value) is None:
        problems.add(path, "must be a date and time with its offset, as 2026-01-31T08:00:00Z")


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _extension_name(
    name: str, path: str, namespaces: Mapping[str, str], problems: _Problems, where: str
) -> None:
    """A field the standard does not name must be an extension: a prefixed name whose prefix
    the document declares (or a full IRI)."""
    if name.startswith(("http://", "https://", "urn:")):
        return
    if not _PREFIXED.match(name):
        problems.add(path, f"not a field of an {where}; extensions need a namespace prefix")
        return
    prefix = name.split(":", 1)[0]
    if prefix not in namespaces and prefix not in STANDARD_PREFIXES:
        problems.add(path, f'the prefix "{prefix}" is not declared in the @context')
