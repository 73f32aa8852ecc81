"""EPCIS XML capture (1.2, as most installed level-4 systems still send it, and 2.0): the
document is mapped onto the EPCIS 2.0 JSON-LD form, member for member, and then checked and
captured as a JSON document is. Its problems are named by the XPath of the XML element, so the
sender can find them in what it sent. DTDs (and so entities, internal or external) are refused."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from app.epcis.document import STANDARD_PREFIXES, Document, DocumentError, check_document

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
EPCIS_NAMESPACES = frozenset({"urn:epcglobal:epcis:xsd:1", "urn:epcglobal:epcis:xsd:2"})
MEDIA_TYPES = frozenset({"application/xml", "text/xml"})
# Namespaces the EPCIS 2.0 context already names: their elements keep its prefixes.
KNOWN_PREFIXES = {
    "urn:epcglobal:cbv:mda": "cbvmda",
    "urn:epcglobal:cbv:mda:": "cbvmda",
    "https://gs1.org/voc/": "gs1",
}
EVENT_KINDS = frozenset(
    {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent",
     "AssociationEvent", "QuantityEvent"}
)  # fmt: skip
_TEXT = frozenset(
    {"eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "action", "bizStep",
     "disposition", "parentID", "transformationID", "certificationInfo"}
)  # fmt: skip
_EPC_LISTS = frozenset({"epcList", "childEPCs", "inputEPCList", "outputEPCList"})
_QUANTITY_LISTS = frozenset(
    {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"}
)
_PARTY_LISTS = {"sourceList": "source", "destinationList": "destination"}
# Members of an EPCIS element that hold no value of their own (1.2 keeps later fields there).
_WRAPPERS = frozenset({"extension", "baseExtension"})
_SENSOR_NUMBERS = frozenset(
    {"value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"}
)
_INTEGER = re.compile(r"^[+-]?\d+$")
_JSON_PATH = re.compile(r"^\$\.epcisBody\.eventList\[(\d+)\](.*)$")
_MEMBER, _INDEX = re.compile(r"\.([^.\[]+)"), re.compile(r"\[(\d+)\]")


def read_xml_document(body: bytes) -> tuple[Document, dict[str, Any]]:
    """The document checked, and its EPCIS 2.0 JSON form (what is kept as captured)."""
    root, prefixes = _parse(body)
    converter = _Converter(prefixes)
    data, events = converter.document(root)
    try:
        return check_document(data), data
    except DocumentError as exc:
        raise DocumentError([_located(p, events, prefixes) for p in exc.problems]) from None


def read_xml_event(body: bytes) -> Document:
    document, _ = read_xml_document(body)
    if len(document.events) != 1:
        raise DocumentError(
            [{"path": "/EPCISDocument/EPCISBody/EventList",
              "message": f"one event is captured here, this document has {len(document.events)}; "
              "send documents of many events to /epcis/capture"}]
        )  # fmt: skip
    return document


def _parse(body: bytes) -> tuple[Element, dict[str, str]]:
    prefixes: dict[str, str] = {}
    try:
        parser = iterparse(io.BytesIO(body), events=("start-ns",), forbid_dtd=True)
        for _, (prefix, uri) in parser:
            prefixes.setdefault(uri, prefix)
        root: Element = parser.root  # type: ignore[attr-defined]
    except ParseError as exc:
        line, column = exc.position
        raise DocumentError(
            [{"path": "/", "message": f"not well-formed XML (line {line}, column {column})"}]
        ) from None
    except DefusedXmlException:
        raise DocumentError(
            [{"path": "/", "message": "a DTD or an entity declaration is not accepted"}]
        ) from None
    uri, name = _split(root.tag)
    if name != "EPCISDocument" or uri not in EPCIS_NAMESPACES:
        raise DocumentError(
            [{"path": f"/{name}", "message": "the root must be an EPCISDocument of the "
              "namespace urn:epcglobal:epcis:xsd:1 (EPCIS 1.2) or urn:epcglobal:epcis:xsd:2"}]
        )  # fmt: skip
    return root, prefixes


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        uri, _, name = tag[1:].partition("}")
        return uri, name
    return "", tag


def _text(element: Element) -> str:
    return (element.text or "").strip()


@dataclass
class _Event:
    element: Element
    xpath: str


@dataclass
class _Converter:
    prefixes: dict[str, str]  # namespace → the prefix the document declared
    used: dict[str, str] = field(default_factory=dict)  # prefix → namespace, for the @context
    # JSON path → XPath of what was converted, when asked for (naming a problem).
    track: Callable[[str, str], None] | None = None

    def document(self, root: Element) -> tuple[dict[str, Any], list[_Event]]:
        events = list(self._events(root))
        context: list[Any] = [CONTEXT]
        data: dict[str, Any] = {
            "@context": context,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": root.get("creationDate"),
            "epcisBody": {
                "eventList": [self.event(e.element, f"$.epcisBody.eventList[{i}]", e.xpath)
                              for i, e in enumerate(events)]
            },
        }  # fmt: skip
        version = root.get("schemaVersion", "")
        if version not in ("1.0", "1.1", "1.2", "2.0"):
            data["schemaVersion"] = version or None
        if self.used:
            context.append(dict(self.used))
        return data, events

    def _events(self, root: Element) -> Iterator[_Event]:
        body = next((c for c in root if _split(c.tag) == ("", "EPCISBody")), None)
        listed = None
        if body is not None:
            listed = next((c for c in body if _split(c.tag) == ("", "EventList")), None)
        if listed is None:
            raise DocumentError(
                [{"path": "/EPCISDocument/EPCISBody/EventList", "message": "required: the events"}]
            )
        base = "/EPCISDocument/EPCISBody/EventList"
        for element, xpath in _children(listed, base, self._name):
            name = _split(element.tag)[1]
            if name == "extension":
                yield from (_Event(e, x) for e, x in _children(element, xpath, self._name))
            else:
                yield _Event(element, xpath)

    def event(self, element: Element, path: str, xpath: str) -> dict[str, Any]:
        kind = _split(element.tag)[1]
        self._note(path, xpath)
        if kind not in EVENT_KINDS:
            return {"type": kind}
        event: dict[str, Any] = {"type": "ObjectEvent" if kind == "QuantityEvent" else kind}
        quantity: dict[str, Any] = {}
        for child, where in _members(element, xpath, self._name):
            uri, name = _split(child.tag)
            member = f"{path}.{name}"
            self._note(member, where)
            if uri:
                self._extension(event, child, path, where)
            elif kind == "QuantityEvent" and name in ("epcClass", "quantity"):
                quantity[name] = _number(_text(child)) if name == "quantity" else _text(child)
            elif name in _TEXT:
                event[name] = _text(child)
            elif name in _EPC_LISTS:
                event[name] = [_text(e) for e, x in self._items(child, where, member)]
            elif name in _QUANTITY_LISTS:
                event[name] = [self._quantity(q) for q, _ in self._items(child, where, member)]
            elif name in ("readPoint", "bizLocation"):
                event[name] = self._object(child, member, where, {"id"})
            elif name == "bizTransactionList":
                event[name] = [
                    self._typed(b, "bizTransaction") for b, _ in self._items(child, where, member)
                ]
            elif name in _PARTY_LISTS:
                event[name] = [
                    self._typed(p, _PARTY_LISTS[name]) for p, _ in self._items(child, where, member)
                ]
            elif name == "ilmd":
                event[name] = self._object(child, member, where, set())
            elif name == "errorDeclaration":
                event[name] = self._declaration(child, member, where)
            elif name == "persistentDisposition":
                words = {k: [_text(c) for c in child if _split(c.tag) == ("", k)]
                         for k in ("set", "unset")}  # fmt: skip
                event[name] = {k: v for k, v in words.items() if v}
            elif name == "sensorElementList":
                event[name] = [self._sensor(s) for s, _ in self._items(child, where, member)]
            else:
                event[name] = _text(child)  # not an EPCIS member: the check names it
        if kind == "QuantityEvent":
            event["action"] = "OBSERVE"
            event["quantityList"] = [quantity]
        return event

    def _items(self, element: Element, xpath: str, path: str) -> Iterator[tuple[Element, str]]:
        for index, (item, where) in enumerate(_children(element, xpath, self._name)):
            self._note(f"{path}[{index}]", where)
            yield item, where

    def _quantity(self, element: Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in element:
            name = _split(child.tag)[1]
            out[name] = _number(_text(child)) if name == "quantity" else _text(child)
        return out

    def _typed(self, element: Element, member: str) -> dict[str, Any]:
        typed = {"type": element.get("type")} if element.get("type") else {}
        return typed | {member: _text(element)}

    def _object(self, element: Element, path: str, xpath: str, names: set[str]) -> dict[str, Any]:
        """readPoint, bizLocation, ilmd: their own members and the extensions they carry."""
        out: dict[str, Any] = {}
        for child, where in _members(element, xpath, self._name):
            uri, name = _split(child.tag)
            self._note(f"{path}.{name}", where)
            if uri:
                self._extension(out, child, path, where)
            else:
                out[name] = _text(child) if name in names or not list(child) else self.value(child)
        return out

    def _declaration(self, element: Element, path: str, xpath: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child, where in _members(element, xpath, self._name):
            uri, name = _split(child.tag)
            self._note(f"{path}.{name}", where)
            if uri:
                self._extension(out, child, path, where)
            elif name == "correctiveEventIDs":
                out[name] = [_text(c) for c in child]
            else:
                out[name] = _text(child)
        return out

    def _sensor(self, element: Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in element:
            uri, name = _split(child.tag)
            if uri:
                self._extension(out, child, "", "")
                continue
            fields = {k: _sensor_value(k, v) for k, v in child.attrib.items()}
            if name == "sensorReport":
                out.setdefault("sensorReport", []).append(fields)
            else:
                out[name] = fields
        return out

    def _extension(self, into: dict[str, Any], element: Element, path: str, xpath: str) -> None:
        """A user extension keeps its namespace (declared in the @context) and its name."""
        name = self._name(element.tag)
        value = self.value(element)
        if name in into:
            into[name] = (into[name] if isinstance(into[name], list) else [into[name]]) + [value]
        else:
            into[name] = value
        if path:
            self._note(f"{path}.{name}", xpath)

    def value(self, element: Element) -> Any:
        children = list(element)
        if not children and not element.attrib:
            return _text(element)
        out: dict[str, Any] = {}
        for attribute, text in element.attrib.items():
            out[self._name(attribute, default=element.tag)] = text
        for child in children:
            self._extension(out, child, "", "")
        if _text(element):
            out["#text"] = _text(element)
        return out

    def _name(self, tag: str, default: str = "") -> str:
        uri, name = _split(tag)
        if not uri:
            uri = _split(default)[0]
            if not uri:
                return name
        prefix = KNOWN_PREFIXES.get(uri) or self.prefixes.get(uri) or "ext"
        if prefix in STANDARD_PREFIXES and KNOWN_PREFIXES.get(uri) != prefix:
            prefix = f"{prefix}x"
        while self.used.get(prefix, uri) != uri:
            prefix += "x"
        if uri not in KNOWN_PREFIXES:
            self.used[prefix] = uri
        return f"{prefix}:{name}"

    def _note(self, path: str, xpath: str) -> None:
        if self.track is not None:
            self.track(path, xpath)


def _children(
    element: Element, xpath: str, name_of: Callable[[str], str]
) -> Iterator[tuple[Element, str]]:
    """Each child with its XPath (`name[n]`, n counting the children of that name)."""
    seen: dict[str, int] = {}
    for child in element:
        name = name_of(child.tag)
        seen[name] = seen.get(name, 0) + 1
        yield child, f"{xpath}/{name}[{seen[name]}]"


def _members(
    element: Element, xpath: str, name_of: Callable[[str], str]
) -> Iterator[tuple[Element, str]]:
    """The element's members, those kept in its `extension`/`baseExtension` included."""
    for child, where in _children(element, xpath, name_of):
        if _split(child.tag) in {("", w) for w in _WRAPPERS}:
            yield from _members(child, where, name_of)
        else:
            yield child, where


def _number(text: str) -> Any:
    try:
        return int(text) if _INTEGER.match(text) else float(text)
    except ValueError:
        return text  # the check refuses it, naming the element


def _sensor_value(name: str, text: str) -> Any:
    if name in _SENSOR_NUMBERS:
        return _number(text)
    if name == "booleanValue":
        return text.strip() in ("true", "1")
    return text


def _located(
    problem: dict[str, str], events: list[_Event], prefixes: dict[str, str]
) -> dict[str, str]:
    """A problem named by the XPath of the element it is about (the JSON path, if none)."""
    path = problem["path"]
    where = {"$.creationDate": "/EPCISDocument/@creationDate",
             "$.schemaVersion": "/EPCISDocument/@schemaVersion"}.get(path)  # fmt: skip
    matched = _JSON_PATH.match(path)
    if matched and int(matched[1]) < len(events):
        index = int(matched[1])
        found: dict[str, str] = {}
        converter = _Converter(prefixes, track=found.__setitem__)
        event = events[index]
        converter.event(event.element, f"$.epcisBody.eventList[{index}]", event.xpath)
        prefix = max((p for p in found if path == p or path.startswith((p + ".", p + "["))),
                     key=len, default=None)  # fmt: skip
        if prefix is not None:
            where = found[prefix] + _xpath_tail(path[len(prefix) :])
    return {"path": where or path, "message": problem["message"]}


def _xpath_tail(tail: str) -> str:
    """`.quantity` → `/quantity`, `[0]` → `[1]`: what is left of a JSON path, as XPath."""
    return _INDEX.sub(lambda m: f"[{int(m[1]) + 1}]", _MEMBER.sub(r"/\1", tail))
