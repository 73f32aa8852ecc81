"""The GS1 Barcode Syntax Dictionary (gs1-syntax-dictionary.txt, vendored from GS1's Barcode
Syntax Engine under the Apache License 2.0, see LICENSE here) read into one table of AIs: each
AI's components and their linters, whether a separator must follow it, the AIs it requires
(`req=`) and excludes (`ex=`), and, for the Digital Link primary keys, their qualifier paths."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property

CHARSETS = frozenset("NXYZ")
_COMPONENT = re.compile(r"^(\[)?([NXYZ])(\.\.)?(\d+)(\])?((?:,\w+)*)$")


@dataclass(frozen=True, slots=True)
class Component:
    charset: str  # N digits, X CSET 82, Y CSET 39, Z base64url (CSET 64)
    min: int
    max: int
    optional: bool
    linters: tuple[str, ...]


@dataclass(frozen=True)
class AIEntry:
    ai: str
    separator: bool  # a GS (FNC1) must follow the value unless it ends the data
    data_attribute: bool  # may be a Digital Link query attribute
    components: tuple[Component, ...]
    # Each `req=`: alternatives, each a group of AIs or patterns (`31nn`) all of which must occur.
    requires: tuple[tuple[tuple[str, ...], ...], ...]
    excludes: tuple[str, ...]  # AIs or patterns that may not occur with this one
    # Digital Link primary key: its alternative qualifier sequences (() for none); None: no key.
    qualifiers: tuple[tuple[str, ...], ...] | None
    title: str

    @cached_property
    def min_length(self) -> int:
        return sum(c.min for c in self.components if not c.optional)

    @cached_property
    def max_length(self) -> int:
        return sum(c.max for c in self.components)

    @cached_property
    def lengths(self) -> range:
        """Every length a value may have, longest first."""
        return range(self.max_length, self.min_length - 1, -1)


def matches(pattern: str, ai: str) -> bool:
    """Does `ai` match a dictionary pattern such as `31nn` or `394n` (or an AI itself)?"""
    return len(pattern) == len(ai) and all(p in ("n", a) for p, a in zip(pattern, ai, strict=True))


def _components(tokens: list[str]) -> tuple[Component, ...]:
    components = []
    for token in tokens:
        match = _COMPONENT.match(token)
        if match is None:
            raise ValueError(f"GS1 syntax dictionary: bad component {token!r}")
        opened, charset, variable, length, _, linters = match.groups()
        components.append(
            Component(
                charset=charset,
                min=1 if variable else int(length),
                max=int(length),
                optional=bool(opened),
                linters=tuple(x for x in linters.split(",") if x),
            )
        )
    return tuple(components)


def _expand(ais: str) -> list[str]:
    if "-" not in ais:
        return [ais]
    first, last = ais.split("-")
    return [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]


def _entries(text: str) -> dict[str, AIEntry]:
    table: dict[str, AIEntry] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        spec, _, title = line.partition("#")
        tokens = spec.split()
        ais, rest = tokens[0], tokens[1:]
        flags = rest.pop(0) if rest and rest[0][0] not in CHARSETS | {"["} else ""
        parts = [t for t in rest if "=" not in t and t != "dlpkey"]
        attributes = [t for t in rest if t not in parts]
        requires, excludes, qualifiers = [], [], None
        for attribute in attributes:
            name, _, value = attribute.partition("=")
            if name == "req":
                requires.append(tuple(tuple(group.split("+")) for group in value.split(",")))
            elif name == "ex":
                excludes += value.split(",")
            elif name == "dlpkey":
                qualifiers = tuple(tuple(seq.split(",")) if seq else () for seq in value.split("|"))
        components = _components(parts)
        for ai in _expand(ais):
            table[ai] = AIEntry(
                ai=ai,
                separator="*" not in flags,
                data_attribute="?" in flags,
                components=components,
                requires=tuple(requires),
                excludes=tuple(excludes),
                qualifiers=qualifiers,
                title=title.strip(),
            )
    return table


def _read() -> str:
    path = os.path.join(os.path.dirname(__file__), "gs1-syntax-dictionary.txt")
    with open(path, encoding="utf-8") as file:
        return file.read()


AIS: dict[str, AIEntry] = _entries(_read())


def ai_at(data: str) -> AIEntry | None:
    """The AI that `data` begins with (AIs are prefix-free: at most one matches)."""
    for length in (2, 3, 4):
        entry = AIS.get(data[:length])
        if entry is not None and len(data) >= length:
            return entry
    return None


def _key_paths() -> frozenset[tuple[str, ...]]:
    """Every valid Digital Link path: a primary key then any ordered subset of one of its
    qualifier sequences (`dlpkey=22,10,21` allows 01, 01/22, 01/10, 01/22/21, …)."""
    paths: set[tuple[str, ...]] = set()
    for entry in AIS.values():
        for sequence in entry.qualifiers or ():
            subsets: list[tuple[str, ...]] = [()]
            for qualifier in sequence:
                subsets += [(*s, qualifier) for s in subsets]
            paths.update((entry.ai, *s) for s in subsets)
    return frozenset(paths)


KEY_PATHS = _key_paths()
