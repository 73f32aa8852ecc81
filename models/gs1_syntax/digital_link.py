"""GS1 Digital Link URIs read as AI data, as the GS1 Digital Link standard (and GS1's Syntax
Engine) reads them: any stem before the rightmost primary key; the key and its qualifiers in
the path, in an order the dictionary's `dlpkey=` allows; data attributes in the query, where
an empty value, an unknown numeric AI, an AI that is no data attribute, or a key qualifier
(it belongs in the path) is an error, and non-numeric parameters are ignored."""

from __future__ import annotations

import re

from models.gs1_syntax import Field, GS1DataError, describe, lint
from models.gs1_syntax.dictionary import AIS, KEY_PATHS, AIEntry
from models.translatable import Translatable

_URI_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%"
)
_BAD_HOST_CHARACTERS = frozenset("_~?#@!$&'()*+,;=%")
_SCHEME = re.compile(r"^https?://", re.IGNORECASE)
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
# The deprecated "convenience alphas" GS1 Digital Link 1.0 allowed in place of the AIs.
CONVENIENCE_ALPHAS = {
    "cpid": "8010", "cpsn": "8011", "cpv": "22", "gcn": "255", "gdti": "253", "giai": "8004",
    "ginc": "401", "gln": "414", "glnx": "254", "gmn": "8013", "grai": "8003", "gsin": "402",
    "gsrn": "8018", "gsrnp": "8017", "gtin": "01", "itip": "8006", "lot": "10", "party": "417",
    "refno": "8020", "ser": "21", "srin": "8019", "sscc": "00",
}  # fmt: skip


def is_digital_link(text: str) -> bool:
    return _SCHEME.match(text) is not None


def _entry(segment: str) -> AIEntry | None:
    return AIS.get(CONVENIENCE_ALPHAS.get(segment, segment))


def _unescape(value: str, query: bool, ai: str) -> str:
    if query:
        value = value.replace("+", " ")
    decoded = _PERCENT.sub(lambda m: chr(int(m.group(1), 16)), value)
    if "\x00" in decoded:
        raise GS1DataError(
            Translatable("%(ai)s: the value holds an encoded NUL character", ai=describe(ai))
        )
    return decoded


def parse_digital_link(uri: str) -> list[Field]:
    bad = sorted(set(uri) - _URI_CHARACTERS)
    if bad:
        raise GS1DataError(
            Translatable(
                "not a GS1 Digital Link URI: %(character)r may not appear in a URI",
                character=bad[0],
            )
        )
    scheme = _SCHEME.match(uri)
    if scheme is None:
        raise GS1DataError(
            Translatable("not a GS1 Digital Link URI: it must begin with https:// or http://")
        )
    rest = uri[scheme.end() :].split("#", 1)[0]
    host, slash, path_and_query = rest.partition("/")
    if not host or not slash:
        raise GS1DataError(Translatable("not a GS1 Digital Link URI: it has no host and path"))
    if set(host) & _BAD_HOST_CHARACTERS:
        raise GS1DataError(
            Translatable("not a GS1 Digital Link URI: %(host)r is no host name", host=host)
        )
    path, _, query = path_and_query.partition("?")
    fields = _path(("/" + path).split("/")[1:])
    fields += _query(query, [ai for ai, _ in fields])
    seen: set[str] = set()
    for ai, _ in fields:
        if ai in seen:
            raise GS1DataError(Translatable("%(ai)s appears twice in the URI", ai=describe(ai)))
        seen.add(ai)
    return fields


def _path(segments: list[str]) -> list[Field]:
    """The fields after the stem: walking back from the end over /AI/value pairs of known AIs
    to the rightmost primary key."""
    key = None
    for index in range(len(segments) - 2, -1, -2):
        entry = _entry(segments[index])
        if entry is None:
            break
        if entry.qualifiers is not None:
            key = index
            break
    if key is None:
        raise GS1DataError(
            Translatable(
                "not a GS1 Digital Link URI: the path holds no GS1 primary key "
                "(as /01/ followed by a GTIN of 14 digits)"
            )
        )
    fields = []
    for index in range(key, len(segments), 2):
        entry = _entry(segments[index])
        assert entry is not None  # every pair after the key was walked over above
        raw = segments[index + 1]
        if not raw:
            raise GS1DataError(
                Translatable("%(ai)s: the path segment is empty", ai=describe(entry.ai))
            )
        value = _unescape(raw, query=False, ai=entry.ai)
        if entry.ai == "01" and value.isdigit() and len(value) in (8, 12, 13):
            raise GS1DataError(
                Translatable(
                    "AI (01) GTIN: a Digital Link path carries the GTIN as 14 digits, "
                    "%(padded)s rather than %(value)s",
                    padded=value.zfill(14), value=value,
                )
            )  # fmt: skip
        lint(entry, value)
        fields.append((entry.ai, value))
    sequence = tuple(ai for ai, _ in fields)
    if sequence not in KEY_PATHS:
        shown = "/".join(sequence)
        raise GS1DataError(
            Translatable(
                "the Digital Link path /%(path)s is not a primary key with its qualifiers in the "
                "order GS1 Digital Link allows (for a pack: /01/…/10/…/21/…)",
                path=shown,
            )
        )
    return fields


def _query(query: str, path: list[str]) -> list[Field]:
    fields = []
    for parameter in query.split("&"):
        name, equals, raw = parameter.partition("=")
        if not equals or not name.isdigit():
            continue  # not an AI: other query parameters are the resolver's business
        entry = AIS.get(name)
        if entry is None:
            raise GS1DataError(
                Translatable(
                    "the Digital Link query names AI (%(name)s), which is no GS1 AI", name=name
                )
            )
        if not raw:
            raise GS1DataError(
                Translatable(
                    "%(ai)s: the query parameter %(name)s= has no value",
                    ai=describe(name), name=name,
                )
            )  # fmt: skip
        if not entry.data_attribute:
            raise GS1DataError(
                Translatable("%(ai)s may not be a Digital Link query attribute", ai=describe(name))
            )
        for position in range(1, len(path) + 1):
            if (*path[:position], name, *path[position:]) in KEY_PATHS:
                raise GS1DataError(
                    Translatable(
                        "%(ai)s qualifies the key: it belongs in the Digital Link path "
                        "(/%(path)s/…), not in the query",
                        ai=describe(name), path="/".join((*path[:position], name)),
                    )
                )  # fmt: skip
        value = _unescape(raw, query=True, ai=name)
        lint(entry, value)
        fields.append((name, value))
    return fields
