"""GS1 AI data read and validated against the GS1 Barcode Syntax Dictionary: element strings
(GS-separated), their bracketed form, and the rules between AIs (`req=`, `ex=`, repeats, a
digital signature's serialised key). Digital Link URIs are in `digital_link`."""

from __future__ import annotations

import re

from models.gs1_syntax.dictionary import AIS, AIEntry, Component, ai_at, matches
from models.gs1_syntax.linters import CHARSET_LINTERS, LINTERS, Linter

GS = "\x1d"
Field = tuple[str, str]

# What people call the AIs met on medicines and their cases (the dictionary's titles otherwise).
NAMES = {
    "00": "SSCC", "01": "GTIN", "02": "GTIN of the contained trade items", "03": "MTO GTIN",
    "10": "lot", "11": "production date", "13": "packaging date", "15": "best-before date",
    "16": "sell-by date", "17": "expiry date", "21": "serial", "37": "count of trade items",
    "253": "GDTI", "255": "GCN", "414": "GLN", "417": "party GLN", "8003": "GRAI",
    "8004": "GIAI", "8006": "ITIP", "8017": "GSRN (provider)", "8018": "GSRN (recipient)",
}  # fmt: skip
# The same, as a noun phrase in a sentence ("a serial (AI 21) needs a GTIN (AI 01)").
_ARTICLED = {"00": "an SSCC", "01": "a GTIN", "21": "a serial", "10": "a lot",
             "17": "an expiry date", "8006": "an ITIP"}  # fmt: skip


class GS1DataError(ValueError):
    """The data breaks the GS1 syntax; the message says where and how."""


def describe(ai: str) -> str:
    """`AI (17) expiry date`: the AI and its name."""
    entry = AIS.get(ai)
    name = NAMES.get(ai) or (entry.title if entry else "")
    return f"AI ({ai}) {name}".rstrip()


def _noun(ai: str) -> str:
    if ai in _ARTICLED:
        return f"{_ARTICLED[ai]} (AI {ai})"
    if "n" in ai:
        return f"an AI {ai}"
    return describe(ai)


# Each component's linters, its character set's first (looked up once, not per value).
_CHECKS: dict[Component, tuple[Linter, ...]] = {
    component: (CHARSET_LINTERS[component.charset], *(LINTERS[x] for x in component.linters))
    for entry in AIS.values()
    for component in entry.components
}


def lint(entry: AIEntry, value: str) -> None:
    """Check one AI's value against its components and their linters."""
    ai = entry.ai
    if not value:
        raise GS1DataError(f"{describe(ai)} has no value")
    if len(value) < entry.min_length:
        raise GS1DataError(
            f"{describe(ai)}: {value!r} is too short ({entry.min_length} characters at least)"
        )
    if len(value) > entry.max_length:
        raise GS1DataError(
            f"{describe(ai)}: {value!r} is too long ({entry.max_length} characters at most)"
        )
    position = 0
    for component in entry.components:
        length = min(component.max, len(value) - position)
        if component.optional and length == 0:
            continue
        part = value[position : position + length]
        if length < component.min:
            raise GS1DataError(f"{describe(ai)}: {value!r} is too short")
        for linter in _CHECKS[component]:
            problem = linter(part)
            if problem:
                shown = value if part == value else f"{part!r} in {value!r}"
                raise GS1DataError(f"{describe(ai)}: {shown} {problem}")
        position += length


def parse_element_string(data: str) -> list[Field]:
    """The fields of GS-separated AI data (no symbology identifier)."""
    fields: list[Field] = []
    position = 0
    while position < len(data):
        entry = ai_at(data[position:])
        if entry is None:
            raise GS1DataError(f"no GS1 AI begins {data[position : position + 4]!r}")
        start = position + len(entry.ai)
        end = data.find(GS, start)
        end = len(data) if end == -1 else end
        if not entry.separator:
            end = min(end, start + entry.max_length)
        value = data[start:end]
        lint(entry, value)
        fields.append((entry.ai, value))
        position = end
        if position < len(data) and data[position] == GS:
            position += 1
    if not fields:
        raise GS1DataError("no AI data")
    return fields


_BRACKETED_AI = re.compile(r"\((\d{2,4})\)")


def parse_bracketed(text: str) -> list[Field]:
    """The bracketed form `(01)…(21)…`. A field starts at each `(AI)` of a known AI; any other
    bracket is part of a value (CSET 82 has `(` and `)`)."""
    starts = [m for m in _BRACKETED_AI.finditer(text) if m.group(1) in AIS]
    if not starts or starts[0].start() != 0:
        raise GS1DataError(
            f"not a bracketed element string: {text!r} must begin with an AI, as (01)"
        )
    fields = []
    for match, following in zip(starts, [*starts[1:], None], strict=True):
        value = text[match.end() : following.start() if following else len(text)]
        lint(AIS[match.group(1)], value)
        fields.append((match.group(1), value))
    return fields


def compose(fields: list[Field]) -> str:
    """The element string of `fields`: a GS after each variable-length value but the last."""
    parts = []
    for index, (ai, value) in enumerate(fields):
        parts.append(ai + value)
        if AIS[ai].separator and index < len(fields) - 1:
            parts.append(GS)
    return "".join(parts)


def _present(pattern: str, ais: set[str], itself: str) -> str | None:
    if "n" not in pattern:
        return pattern if pattern in ais and pattern != itself else None
    return next((ai for ai in sorted(ais) if ai != itself and matches(pattern, ai)), None)


def check_associations(fields: list[Field]) -> dict[str, str]:
    """The fields as one AI → value map, once they keep GS1's rules between AIs: an AI repeated
    only with the same value, no excluded pair, every required AI present, and a digital
    signature (8030) over a serialised key."""
    values: dict[str, str] = {}
    for ai, value in fields:
        if values.setdefault(ai, value) != value:
            raise GS1DataError(f"AI ({ai}) appears twice with different values")
    ais = set(values)
    for ai in sorted(ais):
        entry = AIS[ai]
        for pattern in entry.excludes:
            other = _present(pattern, ais, ai)
            if other is not None:
                raise GS1DataError(f"AI ({ai}) and AI ({other}) may not appear in the same code")
        for alternatives in entry.requires:
            if not any(all(_present(p, ais, ai) for p in group) for group in alternatives):
                needed = " or ".join(" with ".join(map(_noun, g)) for g in alternatives)
                raise GS1DataError(f"{_noun(ai)} needs {needed}")
    if "8030" in ais:
        for key in ("253", "255", "8003"):
            if key in ais and len(values[key]) == AIS[key].min_length:
                raise GS1DataError(
                    f"a digital signature (AI 8030) needs {describe(key)} with its serial part"
                )
    return values
