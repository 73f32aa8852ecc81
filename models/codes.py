"""Reading GS1 codes as they arrive from scanners, phones and keyboards.

Accepted forms: element strings with GS (0x1D) separators, with or without a symbology identifier
(after `]d2`, `]Q3`, `]C1`, `]e0`, `]J1` only an element string); the bracketed human-readable
form `(01)…(21)…`; GS1 Digital Link URIs (any host and path prefix, the old convenience alphas
such as `/gtin/` included); a bare GTIN or SSCC.

Damaged input common at pharmacy counters is repaired, and every repair is reported as a
warning: surrounding whitespace and line ends, Persian or Arabic-Indic digits, text typed on a
Persian keyboard layout, GS sent as a substitute (`^`, `|`, `~`, `<GS>`, per ReaderConfig), and
lost GS separators when only one reading is possible (or only one is known to the register).

Validation is the GS1 Barcode Syntax Dictionary's (models.gs1_syntax): every AI's format and
linters (check digits, dates with DD 00 meaning the month's last day, …), repeats, and the
`req=`/`ex=` rules between AIs. Well-formed GS1 data that is no pack, case or place (a GDTI, a
GSRN, internal AIs alone, …) reads as ok, with its `kind` and what it `identifies`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from models.gs1 import InvalidKey, normalize_gtin, validate_sscc
from models.gs1_syntax import (
    GS,
    Field,
    GS1DataError,
    check_associations,
    lint,
    parse_bracketed,
    parse_element_string,
)
from models.gs1_syntax.dictionary import AIS, AIEntry, ai_at
from models.gs1_syntax.digital_link import is_digital_link, parse_digital_link
from models.gs1_syntax.linters import gs1_date
from models.reader_config import GS1_DEFAULTS, ReaderConfig
from models.translatable import Translatable, reason

__all__ = [
    "GS",
    "GS1_DEFAULTS",
    "AmbiguousCode",
    "CodeError",
    "PackCode",
    "ReadCode",
    "ReaderConfig",
    "parse_pack_code",
    "read_code",
]


# Persian (ISIRI 9147) keyboard: the character each key gives, unshifted and shifted, mapped back
# to the Latin character the scanner meant to type on a US layout.
_PERSIAN_KEYS = dict(
    zip(
        "ضصثقفغعهخحجچشسیبلاتنمکگظطزرذدپو",
        "qwertyuiop[]asdfghjkl;'zxcvbnm,",
        strict=True,
    )
)
# Shift+letter (capitals, as scanners send them). Shift+O and Shift+P give ASCII brackets, which
# cannot be told apart from real ones, so they are not mapped.
_PERSIAN_SHIFTED_KEYS = {
    "\u0652": "Q", "\u064c": "W", "\u064d": "E", "\u064b": "R", "\u064f": "T",
    "\u0650": "Y", "\u064e": "U", "\u0651": "I", "ؤ": "A", "ئ": "S", "ي": "D", "إ": "F",
    "أ": "G", "آ": "H", "ة": "J", "»": "K", "«": "L", "ك": "Z", "\u0653": "X", "ژ": "C",
    "\u0670": "V", "\u200c": "B", "\u0654": "N", "ء": "M",
}  # fmt: skip
_DIGITS = {
    **{chr(0x06F0 + i): str(i) for i in range(10)},
    **{chr(0x0660 + i): str(i) for i in range(10)},
}
_PERSIAN_LETTERS = frozenset(_PERSIAN_KEYS) | frozenset(_PERSIAN_SHIFTED_KEYS)


class CodeError(GS1DataError):
    """The code cannot be read; the message says which part is wrong and how."""


class AmbiguousCode(CodeError):
    def __init__(self, message: str, readings: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.readings = readings


@dataclass
class ReadCode:
    """A code as read: what it identifies, every AI, and what had to be repaired."""

    input: str
    ok: bool = False
    # pack | case | product | location, or GS1 data that identifies none of them: document,
    # returnable asset, individual asset, service relation, coupon, … internal, other
    kind: str | None = None
    identifies: str | None = None  # the kind in words: "a GDTI (253) document identifier"
    gtin: str | None = None
    serial: str | None = None
    lot: str | None = None
    expiry: date | None = None
    sscc: str | None = None
    gln: str | None = None
    ais: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    # When lost separators leave several readings: each of them, for a register lookup.
    candidates: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "ok": self.ok,
            "kind": self.kind,
            "identifies": None if self.identifies is None else str(self.identifies),
            "gtin": self.gtin,
            "serial": self.serial,
            "lot": self.lot,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "sscc": self.sscc,
            "gln": self.gln,
            "ais": self.ais,
            "warnings": self.warnings,
            "error": None if self.error is None else str(self.error),
        }


@dataclass(frozen=True)
class PackCode:
    gtin: str
    serial: str | None = None
    lot: str | None = None
    expiry: date | None = None


# Given a candidate reading of a code whose separators were lost, does the register know it?
KnownToRegister = Callable[[dict[str, str]], bool]


def read_code(
    text: str, config: ReaderConfig = GS1_DEFAULTS, *, known: KnownToRegister | None = None
) -> ReadCode:
    """Read one scanned code; never raises: a code that cannot be read has `ok` False and an
    `error` a person can act on."""
    result = ReadCode(input=text)
    try:
        normalized = _normalize(text, config.gs_substitutes, result.warnings)
        _take(result, _fields(normalized, result.warnings, known))
        result.ok = True
    except AmbiguousCode as exc:
        result.error = exc.reason
        result.candidates = exc.readings
    except GS1DataError as exc:
        result.error = exc.reason
    return result


def parse_pack_code(text: str, config: ReaderConfig = GS1_DEFAULTS) -> PackCode:
    """The pack identifiers in a code, or CodeError (for the event and verification paths)."""
    result = read_code(text, config)
    if not result.ok:
        raise CodeError(result.error or Translatable("unreadable code"))
    if result.gtin is None:
        raise CodeError(
            Translatable("no GTIN (AI 01) in the code; it is %(what)s", what=result.identifies)
        )
    return PackCode(result.gtin, result.serial, result.lot, result.expiry)


def _normalize(text: str, substitutes: tuple[str, ...], warnings: list[str]) -> str:
    value = text
    stripped = value.strip()
    if stripped != value:
        warnings.append("removed surrounding whitespace or line ends")
        value = stripped
    if not value:
        raise CodeError(Translatable("empty code"))
    if not _DIGITS.keys().isdisjoint(value):
        value = "".join(_DIGITS.get(c, c) for c in value)
        warnings.append("converted Persian or Arabic-Indic digits to ASCII digits")
    if not _PERSIAN_LETTERS.isdisjoint(value):
        value = "".join(_PERSIAN_SHIFTED_KEYS.get(c, _PERSIAN_KEYS.get(c, c)) for c in value)
        warnings.append(
            "converted text typed on a Persian keyboard layout: set the scanner's computer to "
            "the English (US) layout"
        )
    if value.startswith(")"):
        # Shift+9 and Shift+0 are swapped on the Persian layout.
        value = value.translate(str.maketrans("()", ")("))
        warnings.append("swapped brackets typed on a Persian keyboard layout")
    for substitute in substitutes:
        if substitute and substitute in value and not value.lower().startswith("http"):
            value = value.replace(substitute, GS)
            warnings.append(f"read {substitute!r} as the GS separator")
    return value


# Symbology identifiers (ISO/IEC 15424) of symbols that carry GS1 AI data: GS1-128, GS1 DataBar
# and composites, GS1 DataMatrix, GS1 QR Code, GS1 DotCode. What follows is an element string.
_GS1_SYMBOLOGIES = frozenset({"]C1", "]e0", "]d2", "]Q3", "]J1"})
_BARE_KEY_LENGTHS = frozenset({8, 12, 13, 14, 18})


def _fields(value: str, warnings: list[str], known: KnownToRegister | None) -> list[Field]:
    symbology = value[:3] if value.startswith("]") and len(value) >= 3 else ""
    body = value[len(symbology) :]
    if symbology in _GS1_SYMBOLOGIES:
        return _element_string(body, warnings, known)
    if is_digital_link(body):
        return parse_digital_link(body)
    if body.startswith("("):
        return parse_bracketed(body)
    if body.isdigit() and len(body) in _BARE_KEY_LENGTHS:
        return [_bare_key(body)]
    return _element_string(body, warnings, known)


def _bare_key(digits: str) -> Field:
    """A GTIN (EAN/UPC, ITF-14) or an SSCC as printed under a linear barcode, with no AI."""
    try:
        if len(digits) == 18:
            return ("00", validate_sscc(digits))
        return ("01", normalize_gtin(digits))
    except InvalidKey as exc:
        raise CodeError(reason(exc)) from exc


def _element_string(body: str, warnings: list[str], known: KnownToRegister | None) -> list[Field]:
    if GS in body:
        return parse_element_string(body)
    return _without_separators(body, warnings, known)


# The AIs found on medicine packs (EU FMD: product code, serial, lot, expiry; national codes).
PACK_AIS = frozenset({"01", "10", "11", "17", "21", "710", "711", "712", "713", "714", "715"})


def _without_separators(
    body: str, warnings: list[str], known: KnownToRegister | None
) -> list[Field]:
    """No GS in the string. Usually none was needed (the variable-length field is last) and
    the plain reading stands. When that reading is invalid, or is a product code without the
    serial a pack carries, the scanner probably lost the separators (a lot then swallows the
    serial behind it): look for the readings with a serial made of pack AIs; the register
    decides between several; a reading still ambiguous is an error, never a guess."""
    plain: list[Field] | None
    try:
        plain = parse_element_string(body)
    except GS1DataError as exc:
        plain, plain_error = None, exc.reason
    if plain is not None:
        ais = {ai for ai, _ in plain}
        plain_known = known is None or known(dict(plain))
        if ("21" in ais or "01" not in ais or not _splittable(plain)) and plain_known:
            return plain
    readings = [
        reading
        for reading in _readings(body)
        if {ai for ai, _ in reading} <= PACK_AIS
        and any(ai == "21" for ai, _ in reading)
        and len({ai for ai, _ in reading}) == len(reading)
    ]
    if known is not None and len(readings) > 1:
        registered = [r for r in readings if known(dict(r))]
        if not registered and plain is not None:
            return plain  # the register knows no reading: the plain one, reported as unknown
        readings = registered or readings
    if not readings:
        if plain is not None:
            return plain
        raise CodeError(plain_error)
    if len(readings) > 1:
        options = "; ".join(
            " ".join(f"({ai}){value}" for ai, value in reading) for reading in readings[:3]
        )
        raise AmbiguousCode(
            Translatable(
                "the GS separators are missing and the code can be read more than one way "
                "(%(options)s): set the scanner to transmit GS (FNC1), or type the code",
                options=options,
            ),
            [dict(reading) for reading in readings],
        )
    warnings.append("restored GS separators the scanner did not transmit")
    return readings[0]


def _splittable(fields: list[Field]) -> bool:
    """Could a variable-length value hide a serial behind a lost separator?"""
    return any("21" in value for ai, value in fields if AIS[ai].separator)


_MAX_READINGS = 64


def _readings(rest: str) -> list[list[Field]]:
    """Every way to cut `rest` into valid fields, as if no separator had been transmitted."""
    if not rest:
        return [[]]
    entry = ai_at(rest)
    if entry is None:
        return []
    value = rest[len(entry.ai) :]
    found: list[list[Field]] = []
    lengths = entry.lengths if entry.separator else (entry.max_length,)
    for length in lengths:
        if length > len(value) or not _lints(entry, value[:length]):
            continue
        for tail in _readings(value[length:]):
            found.append([(entry.ai, value[:length]), *tail])
            if len(found) >= _MAX_READINGS:
                return found
    return found


def _lints(entry: AIEntry, value: str) -> bool:
    try:
        lint(entry, value)
    except GS1DataError:
        return False
    return True


# GS1 data that identifies no pack, case or place: what it is, by the key it holds.
_OTHER_KINDS = (
    ("253", "document", Translatable("a GDTI (253) document identifier")),
    ("8003", "returnable asset", Translatable("a GRAI (8003) returnable asset identifier")),
    ("8004", "individual asset", Translatable("a GIAI (8004) individual asset identifier")),
    ("8017", "service relation", Translatable("a GSRN (8017) service provider number")),
    ("8018", "service relation", Translatable("a GSRN (8018) service recipient number")),
    ("255", "coupon", Translatable("a GCN (255) coupon number")),
    ("401", "consignment", Translatable("a GINC (401) consignment number")),
    ("402", "shipment", Translatable("a GSIN (402) shipment number")),
    ("8006", "trade item piece", Translatable("an ITIP (8006) piece of a trade item")),
    ("8010", "component", Translatable("a CPID (8010) component or part identifier")),
    ("8013", "model", Translatable("a GMN (8013) model number")),
)
_LOCATION_AIS = ("414", "417", "410", "411", "412", "413", "415", "416")


def _take(result: ReadCode, fields: list[Field]) -> None:
    ais = check_associations(fields)
    result.ais = ais
    if "01" in ais:
        result.gtin = ais["01"]
        result.serial = ais.get("21")
        result.lot = ais.get("10")
        result.kind = "pack" if result.serial else "product"
        result.identifies = (
            Translatable("a pack (GTIN %(gtin)s)", gtin=result.gtin)
            if result.serial
            else Translatable("a product (GTIN %(gtin)s)", gtin=result.gtin)
        )
        if "17" in ais:
            result.expiry = gs1_date(ais["17"])
    if "00" in ais:
        result.sscc = ais["00"]
        if result.kind is None:
            result.kind = "case"
            result.identifies = Translatable("a case (SSCC %(sscc)s)", sscc=result.sscc)
    for location_ai in _LOCATION_AIS:
        if location_ai in ais:
            result.gln = ais[location_ai]  # its check digit checked by the csum linter
            if result.kind is None:
                result.kind = "location"
                result.identifies = Translatable(
                    "a location (GLN %(gln)s, AI %(ai)s)", gln=result.gln, ai=location_ai
                )
            break
    if result.kind is None:
        result.kind, result.identifies = _other_kind(ais)


def _other_kind(ais: dict[str, str]) -> tuple[str, str]:
    for ai, kind, identifies in _OTHER_KINDS:
        if ai in ais:
            return kind, identifies
    listed = ", ".join(f"({ai})" for ai in ais)
    if all(len(ai) == 2 and ai.startswith("9") for ai in ais):
        return "internal", Translatable(
            "internal data only (%(ais)s), no GS1 identification key", ais=listed
        )
    return "other", Translatable("GS1 data without an identification key (%(ais)s)", ais=listed)
