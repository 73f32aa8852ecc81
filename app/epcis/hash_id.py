"""The CBV 2.0 EPCIS event hash ID: `ni:///sha-256;<hex>?ver=CBV2.0` over the event's canonical
pre-hash string, computed straight from the compact JSON-LD event (no JSON-LD expansion).

The pre-hash string follows the order in which the reference implementation
(RalphTro/epcis-event-hash-generator) writes it, because the hash values GS1 publishes — the
worked examples of the CBV 2.0 standard — come from it, and they disagree with the standard's
own table and illustrated strings: first the fields of the canonical order (eventType, eventTime,
eventTimeZoneOffset, parentID, the EPC and quantity lists, action, transformationID, bizStep,
disposition, persistentDisposition, readPoint, bizLocation, sensorElementList), each list's
elements sorted, extensions of a standard field after its own fields; then every other field —
bizTransactionList, sourceList, destinationList, ilmd and the user extensions, each written with
its full namespace — sorted as whole strings (so destinationList comes before sourceList, and
an element of those lists is written type first). Nothing separates the pieces.

Left out: eventID, recordTime and errorDeclaration (about the record or a later declaration,
not about what happened), and certificationInfo, as OpenEPCIS does (the reference keeps it).

Where the reference implementation departs from the standard's text or depends on more than
the event, we follow the standard (on the reference's own JSON-LD examples, certificationInfo
aside, both write the same strings):
- a bare CBV term is expanded only in the fields that take one (the reference expands any value
  of the whole document that matches a term used anywhere in it);
- a list element's type always comes first (the reference follows the JSON key order, and
  fails on a document with a business transaction that has no type);
- timestamps round half up on the fourth decimal, as the standard says (the reference rounds
  half to even: .1425 gives .142 there, .143 here);
- JSON true/false are written true/false, as the XML form carries them (the reference: True);
- the EPCIS context's own prefixes (cbvmda, gs1, cbv, …) need no declaration in the document;
- numbers a float cannot hold exactly keep all their digits (the reference rounds them);
- a DL URI's characters that an EPC URN leaves bare are percent-encoded, so both forms agree,
  and a GRAI URN with a 12-digit company prefix converts (see hash_values)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from app.epcis.hash_values import (
    CBV,
    GS1_VOC,
    STANDARD_PREFIXES,
    canonical_time,
    canonical_value,
)

VERSION = "CBV2.0"

Namespaces = Mapping[str, str]
Render = Callable[[str, Any, Namespaces], str]

_LEFT_OUT = frozenset({"type", "eventID", "recordTime", "errorDeclaration", "certificationInfo"})
# JSON renderings of XML comments and text nodes carry no meaning, at any depth.
_IGNORED = frozenset({"rdfs:comment", "comment", "#text"})


def event_hash_id(event: dict[str, Any], context: Mapping[str, str] | None = None) -> str:
    """The event's hash ID. `context` maps the document's @context prefixes to namespace IRIs
    (see `namespaces_from_context`); the EPCIS context's own prefixes are known already, and an
    @context inside the event adds to (and overrides) the document's."""
    digest = hashlib.sha256(pre_hash_string(event, context).encode()).hexdigest()
    return f"ni:///sha-256;{digest}?ver={VERSION}"


def namespaces_from_context(context: object) -> dict[str, str]:
    """The prefix → namespace IRI pairs declared in a document's @context (a URL, a dict or a
    list of both); URLs name remote contexts and declare nothing here."""
    items = context if isinstance(context, list) else [context]
    namespaces: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        for prefix, definition in item.items():
            iri = definition.get("@id") if isinstance(definition, dict) else definition
            if isinstance(iri, str) and not prefix.startswith("@"):
                namespaces[prefix] = iri
    return namespaces


def pre_hash_string(event: Mapping[str, Any], context: Mapping[str, str] | None = None) -> str:
    """The canonical pre-hash string of one event (what `event_hash_id` hashes)."""
    namespaces: Namespaces = {**STANDARD_PREFIXES, **context} if context else STANDARD_PREFIXES
    if "@context" in event:  # an event sent on its own may carry its declarations itself
        namespaces = {**namespaces, **namespaces_from_context(event["@context"])}
    parts = [f"eventType={event.get('type', '')}"]
    for name, render in _EVENT_ORDER:
        if name in event:
            parts.append(render(name, event[name], namespaces))
    tail = [
        text
        for key, value in event.items()
        if key not in _ORDERED and key not in _LEFT_OUT and key not in _IGNORED
        and not key.startswith("@")
        for text in _tail(key, value, namespaces)
    ]  # fmt: skip
    parts.extend(sorted(tail))
    return "".join(parts)


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _key(key: str, namespaces: Namespaces) -> str:
    """An extension's name: {namespace}localName when its prefix is declared."""
    prefix, colon, local = key.partition(":")
    namespace = namespaces.get(prefix) if colon else None
    return key if namespace is None else f"{{{namespace}}}{local}"


def _generic(key: str, value: Any, namespaces: Namespaces) -> Iterator[str]:
    """A field outside the canonical order (ILMD, extensions): name=value, or the name followed
    by its sorted children; a list gives one such piece per element."""
    if isinstance(value, list):
        for item in value:
            yield from _generic(key, item, namespaces)
        return
    name = _key(key, namespaces)
    if isinstance(value, dict):
        yield name + "".join(sorted(_children(value, (), namespaces)))
    elif value is not None:
        text = canonical_value(value, namespaces)
        yield f"{name}={text}" if text else name


def _children(
    obj: Mapping[str, Any], known: tuple[str, ...], namespaces: Namespaces
) -> Iterator[str]:
    for key, value in obj.items():
        if key not in known and key not in _IGNORED:
            yield from _generic(key, value, namespaces)


def _values(vocabulary: str | None = None) -> Render:
    def render(name: str, value: Any, namespaces: Namespaces) -> str:
        if not isinstance(value, list):
            text = canonical_value(value, namespaces, vocabulary)
            return f"{name}={text}" if text else ""
        texts = (canonical_value(item, namespaces, vocabulary) for item in value)
        return "".join(sorted(f"{name}={text}" for text in texts if text))

    return render


def _times(name: str, value: Any, namespaces: Namespaces) -> str:
    texts = (canonical_time(item) for item in _items(value))
    return "".join(sorted(f"{name}={text}" for text in texts if text))


_plain = _values()


def _epcs(name: str, value: Any, namespaces: Namespaces) -> str:
    body = _plain("epc", value, namespaces)
    return name + body if body else ""


def _objects(fields: tuple[tuple[str, Render], ...]) -> Render:
    """Objects written under `name`: their fields in the given order, then their extensions
    sorted; several objects of the same name are sorted as whole strings."""
    known = tuple(field for field, _ in fields)

    def render_one(name: str, obj: Any, namespaces: Namespaces) -> str:
        if not isinstance(obj, dict):
            return _plain(name, obj, namespaces)
        body = "".join(
            render(field, obj[field], namespaces) for field, render in fields if field in obj
        )
        body += "".join(sorted(_children(obj, known, namespaces)))
        return name + body if body else ""

    def render(name: str, value: Any, namespaces: Namespaces) -> str:
        if not isinstance(value, list):
            return render_one(name, value, namespaces)
        return "".join(
            sorted(text for item in value if (text := render_one(name, item, namespaces)))
        )

    return render


def _list_of(element: str, render_elements: Render) -> Render:
    """A JSON list written as the list's name followed by its elements, each named `element`."""

    def render(name: str, value: Any, namespaces: Namespaces) -> str:
        body = render_elements(element, value, namespaces)
        return name + body if body else ""

    return render


def _typed_list(element: str, vocabulary: str) -> Render:
    """bizTransactionList, sourceList, destinationList: each element written as type then the
    identifier (as in the published examples), the elements sorted."""
    type_of = _values(vocabulary)

    def render_one(obj: Any, namespaces: Namespaces) -> str:
        if not isinstance(obj, dict):
            return ""
        return (
            type_of("type", obj.get("type"), namespaces)
            + _plain(element, obj.get(element), namespaces)
            + "".join(sorted(_children(obj, ("type", element), namespaces)))
        )

    def render(name: str, value: Any, namespaces: Namespaces) -> str:
        texts = sorted(text for item in _items(value) if (text := render_one(item, namespaces)))
        return name + "".join(texts) if texts else ""

    return render


_QUANTITY = _objects((("epcClass", _plain), ("quantity", _plain), ("uom", _plain)))
_PLACE = _objects((("id", _plain),))
_DISPOSITION = _values(CBV + "Disp-")

_SENSOR_METADATA = _objects(
    (
        ("time", _times),
        ("startTime", _times),
        ("endTime", _times),
        ("deviceID", _plain),
        ("deviceMetadata", _plain),
        ("rawData", _plain),
        ("dataProcessingMethod", _plain),
        ("bizRules", _plain),
    )
)
_SENSOR_REPORT = _objects(
    (
        ("type", _values(GS1_VOC)),
        ("exception", _values(GS1_VOC)),
        ("deviceID", _plain),
        ("deviceMetadata", _plain),
        ("rawData", _plain),
        ("dataProcessingMethod", _plain),
        ("time", _times),
        ("microorganism", _plain),
        ("chemicalSubstance", _plain),
        ("value", _plain),
        ("component", _values(CBV + "Comp-")),
        ("stringValue", _plain),
        ("booleanValue", _plain),
        ("hexBinaryValue", _plain),
        ("uriValue", _plain),
        ("minValue", _plain),
        ("maxValue", _plain),
        ("meanValue", _plain),
        ("sDev", _plain),
        ("percRank", _plain),
        ("percValue", _plain),
        ("uom", _plain),
        ("coordinateReferenceSystem", _plain),
    )
)
_SENSOR_ELEMENT = _objects((("sensorMetadata", _SENSOR_METADATA), ("sensorReport", _SENSOR_REPORT)))

_EVENT_ORDER: tuple[tuple[str, Render], ...] = (
    ("eventTime", _times),
    ("eventTimeZoneOffset", _plain),
    ("parentID", _plain),
    ("epcList", _epcs),
    ("inputEPCList", _epcs),
    ("childEPCs", _epcs),
    ("quantityList", _list_of("quantityElement", _QUANTITY)),
    ("childQuantityList", _list_of("quantityElement", _QUANTITY)),
    ("inputQuantityList", _list_of("quantityElement", _QUANTITY)),
    ("outputEPCList", _epcs),
    ("outputQuantityList", _list_of("quantityElement", _QUANTITY)),
    ("action", _plain),
    ("transformationID", _plain),
    ("bizStep", _values(CBV + "BizStep-")),
    ("disposition", _DISPOSITION),
    ("persistentDisposition", _objects((("set", _DISPOSITION), ("unset", _DISPOSITION)))),
    ("readPoint", _PLACE),
    ("bizLocation", _PLACE),
    ("sensorElementList", _list_of("sensorElement", _SENSOR_ELEMENT)),
)
_ORDERED = frozenset(name for name, _ in _EVENT_ORDER)

_TYPED_LISTS: Mapping[str, Render] = {
    "bizTransactionList": _typed_list("bizTransaction", CBV + "BTT-"),
    "sourceList": _typed_list("source", CBV + "SDT-"),
    "destinationList": _typed_list("destination", CBV + "SDT-"),
}


def _tail(key: str, value: Any, namespaces: Namespaces) -> Iterator[str]:
    render = _TYPED_LISTS.get(key)
    if render is None:
        yield from _generic(key, value, namespaces)
    elif text := render(key, value, namespaces):
        yield text
