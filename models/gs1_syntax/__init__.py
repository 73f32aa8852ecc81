"""GS1 AI data read and validated against the GS1 Barcode Syntax Dictionary: element strings
(GS-separated), their bracketed form, and the rules between AIs (`req=`, `ex=`, repeats, a
digital signature's serialised key). Digital Link URIs are in `digital_link`."""

from __future__ import annotations

import functools
import re

from models.gs1_syntax.dictionary import AIS, AIEntry, Component, ai_at, matches
from models.gs1_syntax.linters import CHARSET_LINTERS, LINTERS, Linter
from models.translatable import Translatable, reason

GS = "\x1d"
Field = tuple[str, str]

# What people call the AIs met on medicines and their cases (the dictionary's titles otherwise).
NAMES: dict[str, str] = {
    "00": "SSCC", "01": "GTIN", "02": Translatable("GTIN of the contained trade items"),
    "03": "MTO GTIN", "10": Translatable("lot"), "11": Translatable("production date"),
    "13": Translatable("packaging date"), "15": Translatable("best-before date"),
    "16": Translatable("sell-by date"), "17": Translatable("expiry date"),
    "21": Translatable("serial"), "37": Translatable("count of trade items"),
    "253": "GDTI", "255": "GCN", "414": "GLN", "417": Translatable("party GLN"),
    "8003": "GRAI", "8004": "GIAI", "8006": "ITIP", "8017": Translatable("GSRN (provider)"),
    "8018": Translatable("GSRN (recipient)"),
}  # fmt: skip
# The same, as a noun phrase in a sentence ("a serial (AI 21) needs a GTIN (AI 01)").
_ARTICLED = {"00": Translatable("an SSCC"), "01": Translatable("a GTIN"),
             "21": Translatable("a serial"), "10": Translatable("a lot"),
             "17": Translatable("an expiry date"), "8006": Translatable("an ITIP")}  # fmt: skip


class GS1DataError(ValueError):
    """The data breaks the GS1 syntax; the message (a Translatable) says where and how."""

    @property
    def reason(self) -> str:
        return reason(self)


def describe(ai: str) -> str:
    """`AI (17) expiry date`: the AI and its name."""
    entry = AIS.get(ai)
    name = NAMES.get(ai) or (entry.title if entry else "")
    if not name:
        return Translatable("AI (%(ai)s)", ai=ai)
    return Translatable("AI (%(ai)s) %(name)s", ai=ai, name=name)


def _noun(ai: str) -> str:
    if ai in _ARTICLED:
        return Translatable("%(noun)s (AI %(ai)s)", noun=_ARTICLED[ai], ai=ai)
    if "n" in ai:
        return Translatable("an AI %(ai)s", ai=ai)
    return describe(ai)


# Each component's linters, its character set's first (looked up once, not per value).
_CHECKS: dict[Component, tuple[Linter, ...]] = {
    component: (CHARSET_LINTERS[component.charset], *(LINTERS[x] for x in component.linters))
    for entry in AIS.values()
    for component in entry.components
}


def lint(entry: AIEntry, value: str) -> None:
    """Check one AI's value against its components and their linters."""
    _lint_once(entry.ai, value)


# An event of 100,000 codes of one batch repeats its GTIN, lot and expiry in every code: each is
# checked once. Only values found valid are kept (a failure raises again, with its reason).
@functools.lru_cache(maxsize=1024)
def _lint_once(ai: str, value: str) -> None:
    _lint(AIS[ai], value)


def _lint(entry: AIEntry, value: str) -> None:
    ai = entry.ai
    if not value:
        raise GS1DataError(Translatable("%(ai)s has no value", ai=describe(ai)))
    if len(value) < entry.min_length:
        raise GS1DataError(
            Translatable(
                "%(ai)s: %(value)r is too short (%(length)s characters at least)",
                ai=describe(ai), value=value, length=entry.min_length,
            )
        )  # fmt: skip
    if len(value) > entry.max_length:
        raise GS1DataError(
            Translatable(
                "%(ai)s: %(value)r is too long (%(length)s characters at most)",
                ai=describe(ai), value=value, length=entry.max_length,
            )
        )  # fmt: skip
    position = 0
    for component in entry.components:
        length = min(component.max, len(value) - position)
        if component.optional and length == 0:
            continue
        part = value[position : position + length]
        if length < component.min:
            raise GS1DataError(
                Translatable("%(ai)s: %(value)r is too short", ai=describe(ai), value=value)
            )
        for linter in _CHECKS[component]:
            problem = linter(part)
            if problem:
                shown = (
                    value
                    if part == value
                    else Translatable("%(part)r in %(value)r", part=part, value=value)
                )
                raise GS1DataError(
                    Translatable(
                        "%(ai)s: %(value)s %(problem)s",
                        ai=describe(ai), value=shown, problem=problem,
                    )
                )  # fmt: skip
        position += length


def parse_element_string(data: str) -> list[Field]:
    """The fields of GS-separated AI data (no symbology identifier)."""
    fields: list[Field] = []
    position = 0
    while position < len(data):
        entry = ai_at(data[position:])
        if entry is None:
            raise GS1DataError(
                Translatable("no GS1 AI begins %(start)r", start=data[position : position + 4])
            )
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
        raise GS1DataError(Translatable("no AI data"))
    return fields


_BRACKETED_AI = re.compile(r"\((\d{2,4})\)")


def parse_bracketed(text: str) -> list[Field]:
    """The bracketed form `(01)…(21)…`. A field starts at each `(AI)` of a known AI; any other
    bracket is part of a value (CSET 82 has `(` and `)`)."""
    starts = [m for m in _BRACKETED_AI.finditer(text) if m.group(1) in AIS]
    if not starts or starts[0].start() != 0:
        raise GS1DataError(
            Translatable(
                "not a bracketed element string: %(text)r must begin with an AI, as (01)",
                text=text,
            )
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


def _present(pattern: str, ais: frozenset[str], itself: str) -> str | None:
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
            raise GS1DataError(
                Translatable("AI (%(ai)s) appears twice with different values", ai=ai)
            )
    ais = frozenset(values)
    _check_rules(ais)
    if "8030" in ais:
        for key in ("253", "255", "8003"):
            if key in ais and len(values[key]) == AIS[key].min_length:
                raise GS1DataError(
                    Translatable(
                        "a digital signature (AI 8030) needs %(key)s with its serial part",
                        key=describe(key),
                    )
                )
    return values


# The rules between AIs depend only on which AIs a code has: a few combinations in practice.
@functools.lru_cache(maxsize=256)
def _check_rules(ais: frozenset[str]) -> None:
    for ai in sorted(ais):
        entry = AIS[ai]
        for pattern in entry.excludes:
            other = _present(pattern, ais, ai)
            if other is not None:
                raise GS1DataError(
                    Translatable(
                        "AI (%(ai)s) and AI (%(other)s) may not appear in the same code",
                        ai=ai, other=other,
                    )
                )  # fmt: skip
        for alternatives in entry.requires:
            if not any(all(_present(p, ais, ai) for p in group) for group in alternatives):
                raise GS1DataError(
                    Translatable(
                        "%(noun)s needs %(needed)s", noun=_noun(ai), needed=_needed(alternatives)
                    )
                )


# How a `req=` rule's AIs are joined in a sentence (templates, filled by _joined).
_WITH = Translatable("%(left)s with %(right)s")
_OR = Translatable("%(left)s or %(right)s")


def _joined(parts: list[str], joint: Translatable) -> str:
    joined = parts[0]
    for part in parts[1:]:
        joined = Translatable(joint.template, left=joined, right=part)
    return joined


def _needed(alternatives: tuple[tuple[str, ...], ...]) -> str:
    """`a GTIN (AI 01) with a serial (AI 21) or an SSCC (AI 00)`: what a `req=` rule asks."""
    return _joined([_joined([_noun(ai) for ai in group], _WITH) for group in alternatives], _OR)
