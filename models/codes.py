"""Reading GS1 codes as they arrive from scanners, phones and keyboards.

Accepted forms: element strings with GS (0x1D) separators, with or without a symbology identifier
(`]d2`, `]Q3`, `]C1`, `]e0`, …); the bracketed human-readable form `(01)…(21)…`; GS1 Digital
Link URIs (any host and path prefix); a bare GTIN, SSCC or GLN.

Damaged input common at pharmacy counters is repaired, and every repair is reported as a
warning: surrounding whitespace and line ends, Persian or Arabic-Indic digits, text typed on a
Persian keyboard layout, GS sent as a substitute (`^`, `|`, `~`, `<GS>`), and lost GS separators
when only one reading is possible (or only one is known to the register).

Validation follows the GS1 General Specifications: check digits, AI lengths and character sets
(via biip's AI table), dates (YYMMDD, DD = 00 meaning the month's last day), duplicate AIs with
different values, and the pack's AI pairs (a serial or a lot needs a GTIN)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import biip
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_messages import GS1Message

from models.gs1 import InvalidKey, normalize_gtin, validate_gln, validate_sscc

GS = "\x1d"
DEFAULT_GS_SUBSTITUTES = ("<GS>", "^", "|", "~")
# What this installation reads as GS when no list is passed (DARUTRACE_GS_SUBSTITUTES).
_gs_substitutes: tuple[str, ...] = DEFAULT_GS_SUBSTITUTES


def set_gs_substitutes(values: Iterable[str]) -> None:
    global _gs_substitutes
    _gs_substitutes = tuple(v for v in values if v)


SYMBOLOGY_ID = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_MAX_READINGS = 64

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


class CodeError(ValueError):
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
    kind: str | None = None  # pack | case | product | location
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
            "gtin": self.gtin,
            "serial": self.serial,
            "lot": self.lot,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "sscc": self.sscc,
            "gln": self.gln,
            "ais": self.ais,
            "warnings": self.warnings,
            "error": self.error,
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
    text: str,
    *,
    gs_substitutes: Iterable[str] | None = None,
    known: KnownToRegister | None = None,
) -> ReadCode:
    """Read one scanned code; never raises: a code that cannot be read has `ok` False and an
    `error` a person can act on."""
    result = ReadCode(input=text)
    try:
        substitutes = _gs_substitutes if gs_substitutes is None else tuple(gs_substitutes)
        normalized = _normalize(text, substitutes, result.warnings)
        _read_into(result, normalized, known)
        result.ok = True
    except AmbiguousCode as exc:
        result.error = str(exc)
        result.candidates = exc.readings
    except CodeError as exc:
        result.error = str(exc)
    return result


def parse_pack_code(text: str) -> PackCode:
    """The pack identifiers in a code, or CodeError (for the event and verification paths)."""
    result = read_code(text)
    if not result.ok:
        raise CodeError(result.error or "unreadable code")
    if result.gtin is None:
        raise CodeError(f"no GTIN (AI 01) in the code; it identifies a {result.kind}")
    return PackCode(result.gtin, result.serial, result.lot, result.expiry)


def _normalize(text: str, substitutes: tuple[str, ...], warnings: list[str]) -> str:
    value = text
    stripped = value.strip()
    if stripped != value:
        warnings.append("removed surrounding whitespace or line ends")
        value = stripped
    if not value:
        raise CodeError("empty code")
    if any(c in _DIGITS for c in value):
        value = "".join(_DIGITS.get(c, c) for c in value)
        warnings.append("converted Persian or Arabic-Indic digits to ASCII digits")
    if any(c in _PERSIAN_KEYS or c in _PERSIAN_SHIFTED_KEYS for c in value):
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


def _read_into(result: ReadCode, value: str, known: KnownToRegister | None) -> None:
    symbology = SYMBOLOGY_ID.match(value)
    body = value[symbology.end() :] if symbology else value
    if body.lower().startswith(("http://", "https://")):
        _take(result, _digital_link(body))
    elif body.startswith("("):
        _take(result, _hri(body))
    elif body.isdigit() and GS not in body and len(body) in (8, 12, 13, 14, 18):
        _bare_key(result, body)
    else:
        _take(result, _element_string(body, result.warnings, known))


def _bare_key(result: ReadCode, digits: str) -> None:
    try:
        if len(digits) == 18:
            result.sscc, result.kind = validate_sscc(digits), "case"
            result.ais["00"] = digits
        else:
            result.gtin, result.kind = normalize_gtin(digits), "product"
            result.ais["01"] = result.gtin
    except InvalidKey as exc:
        raise CodeError(str(exc)) from exc


def _digital_link(uri: str) -> GS1Message:
    try:
        parsed = biip.parse(uri)
    except ValueError as exc:  # urllib's own errors (a bracket that opens no IPv6 host, …)
        raise CodeError(f"not a GS1 Digital Link URI: {exc}") from exc
    if parsed.gs1_digital_link_uri is None:
        raise CodeError(f"not a GS1 Digital Link URI: {parsed.gs1_digital_link_uri_error}")
    return parsed.gs1_digital_link_uri.as_gs1_message()


_BRACKETED_AI = re.compile(r"\((\d{2,4})\)")


def _hri(text: str) -> GS1Message:
    """The bracketed form. A field starts at each `(AI)` of a known AI; any other bracket is
    part of a value (CSET 82 has `(` and `)`), where biip's reader would drop the rest."""
    starts = [m for m in _BRACKETED_AI.finditer(text) if _known_ai(m.group(1))]
    if not starts or starts[0].start() != 0:
        raise CodeError(f"not a bracketed element string: {text!r} must begin with an AI, as (01)")
    fields = []
    for match, following in zip(starts, [*starts[1:], None], strict=True):
        value = text[match.end() : following.start() if following else len(text)]
        ai = match.group(1)
        try:
            alone = GS1Message.parse(ai + value)  # the field alone: its length and format
        except biip.ParseError as exc:
            raise CodeError(_explain(exc)) from exc
        if len(alone.element_strings) != 1:
            raise CodeError(f"AI ({ai}): {value!r} is longer than the AI's fixed length")
        fields.append((ai, value))
    try:
        return GS1Message.parse(_compose(fields))
    except biip.ParseError as exc:
        raise CodeError(_explain(exc)) from exc


def _known_ai(digits: str) -> bool:
    try:
        return GS1ApplicationIdentifier.extract(digits).ai == digits
    except biip.ParseError:
        return False


def _element_string(body: str, warnings: list[str], known: KnownToRegister | None) -> GS1Message:
    if GS in body:
        try:
            return GS1Message.parse(body)
        except biip.ParseError as exc:
            raise CodeError(_explain(exc)) from exc
    return _without_separators(body, warnings, known)


# The AIs found on medicine packs (EU FMD: product code, serial, lot, expiry; national codes).
PACK_AIS = frozenset({"01", "10", "11", "17", "21", "710", "711", "712", "713", "714", "715"})


def _without_separators(
    body: str, warnings: list[str], known: KnownToRegister | None
) -> GS1Message:
    """No GS in the string. Usually none was needed (the variable-length field is last) and
    the plain reading stands. When that reading is invalid, or is a product code without the
    serial a pack carries, the scanner probably lost the separators (a lot then swallows the
    serial behind it): look for the readings with a serial made of pack AIs; the register
    decides between several; a reading still ambiguous is an error, never a guess."""
    try:
        plain: GS1Message | None = GS1Message.parse(body)
    except biip.ParseError as exc:
        plain, plain_error = None, _explain(exc)
    if plain is not None:
        ais = {element.ai.ai for element in plain.element_strings}
        plain_known = known is None or known({e.ai.ai: e.value for e in plain.element_strings})
        if ("21" in ais or "01" not in ais or not _splittable(plain)) and plain_known:
            return plain
    readings = [
        reading
        for reading in _readings(body)
        if {ai for ai, _ in reading} <= PACK_AIS
        and any(ai == "21" for ai, _ in reading)
        and _valid(reading)
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
            "the GS separators are missing and the code can be read more than one way "
            f"({options}): set the scanner to transmit GS (FNC1), or type the code",
            [dict(reading) for reading in readings],
        )
    warnings.append("restored GS separators the scanner did not transmit")
    return GS1Message.parse(_compose(readings[0]))


def _splittable(message: GS1Message) -> bool:
    """Could a variable-length value hide a serial behind a lost separator?"""
    return any(
        "21" in element.value for element in message.element_strings if _variable(element.ai.ai)
    )


_DATE_AIS = {"11": "production date", "13": "packaging date", "15": "best-before date",
              "16": "sell-by date", "17": "expiry date"}  # fmt: skip
_PATTERN_FAILURE = re.compile(r"Failed to match '(\d+)(.*)' with GS1 AI \((\d+)\)")


def _explain(error: biip.ParseError) -> str:
    """biip's message, said in terms of the field when it is a malformed value."""
    failure = _PATTERN_FAILURE.search(str(error))
    if failure is None:
        return str(error)
    ai = failure.group(3)
    value = (failure.group(1) + failure.group(2))[len(ai) :]
    if ai in _DATE_AIS:
        return f"AI ({ai}) {_DATE_AIS[ai]} {value!r} is not a date in YYMMDD form (DD may be 00)"
    spec = GS1ApplicationIdentifier.extract(ai)
    return f"AI ({ai}) {spec.description}: {value!r} does not match its format {spec.format}"


def _compose(reading: list[tuple[str, str]]) -> str:
    parts = []
    for index, (ai, value) in enumerate(reading):
        parts.append(ai + value)
        if _variable(ai) and index < len(reading) - 1:
            parts.append(GS)
    return "".join(parts)


def _variable(ai: str) -> bool:
    return bool(GS1ApplicationIdentifier.extract(ai).separator_required)


def _readings(rest: str) -> list[list[tuple[str, str]]]:
    if not rest:
        return [[]]
    try:
        ai = GS1ApplicationIdentifier.extract(rest)
    except biip.ParseError:
        return []
    value = rest[len(ai.ai) :]
    pattern = re.compile(ai.pattern)
    found: list[list[tuple[str, str]]] = []
    lengths = range(len(value), 0, -1) if ai.separator_required else _fixed_lengths(ai)
    for length in lengths:
        if not pattern.match(ai.ai + value[:length]):
            continue
        for tail in _readings(value[length:]):
            found.append([(ai.ai, value[:length]), *tail])
            if len(found) >= _MAX_READINGS:
                return found
    return found


def _fixed_lengths(ai: GS1ApplicationIdentifier) -> list[int]:
    digits = re.findall(r"N(\d+)$", ai.format)
    return [int(digits[0])] if digits else []


def _valid(reading: list[tuple[str, str]]) -> bool:
    ais = [ai for ai, _ in reading]
    if len(set(ais)) != len(ais):
        return False
    try:
        message = GS1Message.parse(_compose(reading))
    except biip.ParseError:
        return False
    return all(not _key_error(element) for element in message.element_strings)


def _key_error(element: Any) -> str | None:
    for name in ("gtin_error", "sscc_error", "gln_error"):
        if getattr(element, name, None):
            return str(getattr(element, name))
    return None


# From the GS1 General Specifications' rules for AI combinations (the part that concerns the
# codes on medicines and their cases): AIs that may not appear together, and AIs that need another.
_EXCLUDED_PAIRS = (("01", "02"), ("01", "37"), ("01", "255"), ("21", "235"))
_REQUIRED = {
    "21": ("01", "a serial (AI 21) needs a GTIN (AI 01)"),
    "10": ("01", "a lot (AI 10) needs a GTIN (AI 01 or 02)"),
    "17": ("01", "an expiry date (AI 17) needs a GTIN (AI 01 or 02)"),
    "02": ("00", "a contained-trade-item GTIN (AI 02) needs an SSCC (AI 00)"),
    "37": ("02", "a count of trade items (AI 37) needs AI 02"),
}


def _check_pairs(ais: dict[str, str]) -> None:
    for first, second in _EXCLUDED_PAIRS:
        if first in ais and second in ais:
            raise CodeError(f"AI ({first}) and AI ({second}) may not appear in the same code")
    for ai, (needs, message) in _REQUIRED.items():
        alternatives = {needs, "02"} if needs == "01" else {needs}
        if ai in ais and not alternatives & ais.keys():
            raise CodeError(message)


def _take(result: ReadCode, message: GS1Message) -> None:
    for element in message.element_strings:
        ai, value = element.ai.ai, element.value
        if ai in result.ais and result.ais[ai] != value:
            raise CodeError(f"AI ({ai}) appears twice with different values")
        error = _key_error(element)
        if error:
            raise CodeError(f"AI ({ai}): {error}")
        result.ais[ai] = value
    ais = result.ais
    _check_pairs(ais)
    if "01" in ais:
        result.gtin = ais["01"]
        result.serial = ais.get("21")
        result.lot = ais.get("10")
        result.kind = "pack" if result.serial else "product"
    if "00" in ais:
        result.sscc, result.kind = ais["00"], result.kind or "case"
    for location_ai in ("414", "417", "410", "411", "412", "413", "415", "416"):
        if location_ai in ais:
            result.gln = validate_gln(ais[location_ai])
            result.kind = result.kind or "location"
            break
    for element in message.element_strings:
        if element.ai.ai == "17" and element.date is not None:
            result.expiry = element.date
    if result.kind is None:
        raise CodeError("the code holds no GTIN, SSCC or GLN")
