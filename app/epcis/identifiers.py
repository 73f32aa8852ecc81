"""Identifiers in EPCIS events, in both forms EPCIS 2.0 allows for GS1 keys: the EPC URNs of the
GS1 Tag Data Standard (`urn:epc:id:sgtin:0614141.112345.400`: no check digit, the company prefix
split off by a dot, some characters of a serial percent-escaped) and GS1 Digital Link URIs on any
host (`https://id.gs1.org/01/00614141123452/21/400`: check digits included). Any other URI is an
identifier EPCIS allows too; it reads as kind "other" and is kept as it came.

Digital Link URIs are read by the project's reader (models.gs1_syntax.digital_link), check digits
computed by its linter. The commonest EPC, an SGTIN, also has a path of its own (a compiled regex
and a cached check digit): a commissioning event repeats one GTIN in 100,000 EPCs, and each EPC
may cost a few microseconds only. Whatever that path does not take, the full reader reads.

Writing a URN needs the length of the key's GS1 company prefix, which the key does not tell: see
`company_prefix_length`. Compare identifiers by their keys (`to_digital_link` gives the canonical
form), never by the text of a URN."""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from models.gs1 import with_check_digit
from models.gs1_syntax import GS1DataError, check_associations, describe, lint
from models.gs1_syntax.dictionary import AIS
from models.gs1_syntax.digital_link import CONVENIENCE_ALPHAS, is_digital_link, parse_digital_link
from models.gs1_syntax.linters import check_digit
from models.translatable import Translatable, reason

__all__ = [
    "EPCFormat",
    "Identifier",
    "IdentifierError",
    "Kind",
    "PrefixLength",
    "company_prefix_length",
    "parse_epc",
    "render",
    "rule_of_thumb",
    "to_digital_link",
    "to_urn",
]

# lgtin: a GTIN's lot (an EPC class); gtin: a GTIN as a class, without lot.
Kind = Literal["sgtin", "sscc", "sgln", "lgtin", "gtin", "pgln", "grai", "giai", "other"]
# The length of the GS1 company prefix a key begins with, given the key's characters from where
# its company prefix begins: a GTIN-14 or an SSCC without its first digit (indicator, extension
# digit), a GRAI without its leading 0, a GLN or a GIAI whole.
PrefixLength = Callable[[str], int]

CANONICAL_STEM = "https://id.gs1.org"


class IdentifierError(ValueError):
    """An identifier that is no valid EPC URN or GS1 Digital Link URI although it looks like one,
    or no URI at all; the message (a Translatable) names it and says what to change."""

    @property
    def reason(self) -> str:
        return reason(self)


@dataclass(frozen=True)
class Identifier:
    """An identifier as read: its kind and GS1 keys (a GTIN as 14 digits, check digits
    included; serial, lot and extension unescaped), and `text` as it was sent ("" for one the
    register makes). A GRAI is held as its 14 digits and its serial; a GLN extension of "0" in a
    URN is no extension. An SGTIN read from a Digital Link with a lot keeps that lot."""

    kind: Kind
    text: str = ""
    gtin: str | None = None
    serial: str | None = None
    lot: str | None = None
    sscc: str | None = None
    gln: str | None = None
    extension: str | None = None
    grai: str | None = None
    giai: str | None = None

    @property
    def is_class(self) -> bool:
        """A class of objects (a GTIN, a GTIN's lot), as in a quantity element's epcClass."""
        return self.kind in ("lgtin", "gtin")


_new = object.__new__


def _sgtin(text: str, gtin: str, serial: str) -> Identifier:
    # The dataclass's own __init__ sets each of its ten fields through object.__setattr__ (it is
    # frozen): about 3 µs, more than reading the EPC. The fields left out keep their defaults.
    identifier = _new(Identifier)
    fields = identifier.__dict__
    fields["kind"] = "sgtin"
    fields["text"] = text
    fields["gtin"] = gtin
    fields["serial"] = serial
    return identifier


# The fast paths' forms: serials of characters that need no escape (as nearly all are).
_URN_SGTIN = re.compile(
    r"urn:epc:id:sgtin:([0-9]{4,12})\.([0-9]{1,9})\.([A-Za-z0-9!'()*+,\-.:;=_]{1,20})"
)
_DL_SGTIN = re.compile(
    r"(?i:https?)://[A-Za-z0-9.\-]+(?::[0-9]+)?(?:/[A-Za-z0-9\-._~]+)*?"
    r"/01/([0-9]{14})/21/([A-Za-z0-9\-._]{1,20})"
)


@functools.lru_cache(maxsize=1024)
def _gtin(company_prefix: str, item_reference: str) -> str:
    """The GTIN-14 of an SGTIN URN's first two parts (the indicator digit leads the item
    reference)."""
    return with_check_digit(item_reference[0] + company_prefix + item_reference[1:])


@functools.lru_cache(maxsize=1024)
def _check_digit_ok(key: str) -> bool:
    return check_digit(key[:-1]) == int(key[-1])


def parse_epc(text: str) -> Identifier:
    """Read an identifier of an EPCIS event: an EPC URN, a GS1 Digital Link URI, or any other
    URI (kind "other"). IdentifierError when it is a malformed URN or Digital Link, or no URI."""
    match = _URN_SGTIN.fullmatch(text)
    if match is not None:
        company_prefix, item_reference, serial = match.groups()
        if len(company_prefix) + len(item_reference) == 13:
            return _sgtin(text, _gtin(company_prefix, item_reference), serial)
    else:
        match = _DL_SGTIN.fullmatch(text)
        if match is not None and _check_digit_ok(match[1]):
            return _sgtin(text, match[1], match[2])
    if text[:8].lower() == "urn:epc:":
        return _parse_urn(text)
    if is_digital_link(text) and _names_gs1_key(text):
        return _parse_digital_link(text)
    if _URI.fullmatch(text) is None:
        raise _error(
            text,
            Translatable(
                "not a URI: EPCIS names objects by URIs such as urn:epc:id:sgtin:… or "
                "https://id.gs1.org/01/…/21/…"
            ),
        )
    return Identifier(kind="other", text=text)


_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\x00-\x20\x7f]+")


def _error(text: str, problem: str) -> IdentifierError:
    return IdentifierError(Translatable("%(epc)s: %(problem)s", epc=text or '""', problem=problem))


# --- EPC URNs --------------------------------------------------------------------------------

_URN_HEAD = re.compile(r"urn:epc:(id|class|idpat):([a-z]+):", re.IGNORECASE)
_DIGITS = re.compile(r"[0-9]*")
# What a URN writes percent-escaped in a serial, lot or extension (GS1 Tag Data Standard); the
# other characters of GS1's character set 82 stand for themselves.
_URN_ESCAPES = {'"': "%22", "%": "%25", "&": "%26", "/": "%2F", "<": "%3C", ">": "%3E", "?": "%3F"}
_URN_ESCAPING = str.maketrans(_URN_ESCAPES)
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")

ITEM_REFERENCE = Translatable("item reference")
SERIAL_REFERENCE = Translatable("serial reference")
LOCATION_REFERENCE = Translatable("location reference")
PARTY_REFERENCE = Translatable("party reference")
ASSET_TYPE = Translatable("asset type")


def _parse_urn(text: str) -> Identifier:
    head = _URN_HEAD.match(text)
    reader = _URN_READERS.get((head[1].lower(), head[2].lower())) if head else None
    if head is None or reader is None:
        return Identifier(kind="other", text=text)  # an EPC scheme the register does not read
    return reader(text, text[head.end() :])


def _parts(text: str, body: str, form: str, numeric: bool = False) -> list[str]:
    """The dot-separated parts of a URN's body, as many as `form` has (unless all are numbers,
    the last, a serial or lot, may hold dots of its own)."""
    count = form.count(".") + 1
    parts = body.split(".", -1 if numeric else count - 1)
    if len(parts) != count:
        raise _error(
            text,
            Translatable(
                "this EPC URN is written %(form)s, in %(count)s parts separated by dots; "
                "got %(got)s",
                form=form, count=count, got=len(parts),
            ),
        )  # fmt: skip
    return parts


def _company_prefix(text: str, company_prefix: str) -> None:
    if _DIGITS.fullmatch(company_prefix) is None:
        raise _error(
            text,
            Translatable(
                "the company prefix must be digits 0-9, got %(value)r", value=company_prefix
            ),
        )
    if not 4 <= len(company_prefix) <= 12:
        raise _error(
            text,
            Translatable(
                "the company prefix must have 4 to 12 digits, got %(got)s", got=len(company_prefix)
            ),
        )


def _numbers(text: str, company_prefix: str, reference: str, total: int, part: str) -> None:
    if _DIGITS.fullmatch(company_prefix) is None or _DIGITS.fullmatch(reference) is None:
        given = company_prefix + "." + reference
        raise _error(
            text,
            Translatable(
                "the company prefix and %(part)s must be digits 0-9, got %(value)r",
                part=part, value=given,
            ),
        )  # fmt: skip
    _company_prefix(text, company_prefix)
    if len(company_prefix) + len(reference) != total:
        raise _error(
            text,
            Translatable(
                "the company prefix and %(part)s must have %(total)s digits together, "
                "got %(got)s",
                part=part, total=total, got=len(company_prefix) + len(reference),
            ),
        )  # fmt: skip


def _unescaped(text: str, raw: str, ai: str) -> str:
    """A serial, lot or extension of a URN, its escapes undone."""
    for char in raw:
        if char in _URN_ESCAPES and char != "%":
            raise _urn_escape_error(text, ai, char)
    value = _PERCENT_ESCAPE.sub(lambda m: chr(int(m[1], 16)), raw)
    if "%" in _PERCENT_ESCAPE.sub("", raw):
        raise _urn_escape_error(text, ai, "%")
    return value


def _urn_escape_error(text: str, ai: str, char: str) -> IdentifierError:
    return _error(
        text,
        Translatable(
            "%(ai)s: an EPC URN writes %(char)r as %(escape)s",
            ai=describe(ai), char=char, escape=_URN_ESCAPES[char],
        ),
    )  # fmt: skip


def _linted(text: str, ai: str, value: str) -> str:
    try:
        lint(AIS[ai], value)
    except GS1DataError as exc:
        raise _error(text, exc.reason) from exc
    return value


def _urn_gtin(text: str, company_prefix: str, item_reference: str) -> str:
    _numbers(text, company_prefix, item_reference, 13, ITEM_REFERENCE)
    return _gtin(company_prefix, item_reference)


def _urn_sgtin(text: str, body: str) -> Identifier:
    company_prefix, item_reference, serial = _parts(
        text, body, "urn:epc:id:sgtin:CompanyPrefix.ItemReference.Serial"
    )
    gtin = _urn_gtin(text, company_prefix, item_reference)
    serial = _linted(text, "21", _unescaped(text, serial, "21"))
    return Identifier(kind="sgtin", text=text, gtin=gtin, serial=serial)


def _urn_lgtin(text: str, body: str) -> Identifier:
    company_prefix, item_reference, lot = _parts(
        text, body, "urn:epc:class:lgtin:CompanyPrefix.ItemReference.Lot"
    )
    gtin = _urn_gtin(text, company_prefix, item_reference)
    lot = _linted(text, "10", _unescaped(text, lot, "10"))
    return Identifier(kind="lgtin", text=text, gtin=gtin, lot=lot)


def _urn_gtin_pattern(text: str, body: str) -> Identifier:
    company_prefix, item_reference, rest = _parts(
        text, body, "urn:epc:idpat:sgtin:CompanyPrefix.ItemReference.*"
    )
    if item_reference == "*" or rest != "*":
        return Identifier(kind="other", text=text)  # a wider or narrower pattern than a GTIN
    return Identifier(kind="gtin", text=text, gtin=_urn_gtin(text, company_prefix, item_reference))


def _urn_sscc(text: str, body: str) -> Identifier:
    company_prefix, serial_reference = _parts(
        text, body, "urn:epc:id:sscc:CompanyPrefix.SerialReference", numeric=True
    )
    _numbers(text, company_prefix, serial_reference, 17, SERIAL_REFERENCE)
    sscc = with_check_digit(serial_reference[0] + company_prefix + serial_reference[1:])
    return Identifier(kind="sscc", text=text, sscc=sscc)


def _urn_sgln(text: str, body: str) -> Identifier:
    company_prefix, location_reference, extension = _parts(
        text, body, "urn:epc:id:sgln:CompanyPrefix.LocationReference.Extension"
    )
    _numbers(text, company_prefix, location_reference, 12, LOCATION_REFERENCE)
    gln = with_check_digit(company_prefix + location_reference)
    if extension == "0":
        return Identifier(kind="sgln", text=text, gln=gln)
    extension = _linted(text, "254", _unescaped(text, extension, "254"))
    return Identifier(kind="sgln", text=text, gln=gln, extension=extension)


def _urn_pgln(text: str, body: str) -> Identifier:
    company_prefix, party_reference = _parts(
        text, body, "urn:epc:id:pgln:CompanyPrefix.PartyReference", numeric=True
    )
    _numbers(text, company_prefix, party_reference, 12, PARTY_REFERENCE)
    return Identifier(
        kind="pgln", text=text, gln=with_check_digit(company_prefix + party_reference)
    )


def _urn_grai(text: str, body: str) -> Identifier:
    company_prefix, asset_type, serial = _parts(
        text, body, "urn:epc:id:grai:CompanyPrefix.AssetType.Serial"
    )
    _numbers(text, company_prefix, asset_type, 12, ASSET_TYPE)
    grai = with_check_digit("0" + company_prefix + asset_type)
    serial = _unescaped(text, serial, "8003")
    _linted(text, "8003", grai + serial)
    return Identifier(kind="grai", text=text, grai=grai, serial=serial or None)


def _urn_giai(text: str, body: str) -> Identifier:
    company_prefix, asset_reference = _parts(
        text, body, "urn:epc:id:giai:CompanyPrefix.IndividualAssetReference"
    )
    _company_prefix(text, company_prefix)
    giai = _linted(text, "8004", company_prefix + _unescaped(text, asset_reference, "8004"))
    return Identifier(kind="giai", text=text, giai=giai)


_URN_READERS: dict[tuple[str, str], Callable[[str, str], Identifier]] = {
    ("id", "sgtin"): _urn_sgtin,
    ("class", "lgtin"): _urn_lgtin,
    ("idpat", "sgtin"): _urn_gtin_pattern,
    ("id", "sscc"): _urn_sscc,
    ("id", "sgln"): _urn_sgln,
    ("id", "pgln"): _urn_pgln,
    ("id", "grai"): _urn_grai,
    ("id", "giai"): _urn_giai,
}


# --- GS1 Digital Link URIs -------------------------------------------------------------------


def _names_gs1_key(uri: str) -> bool:
    """Does the path hold a GS1 primary key followed by a value? Other web URIs are identifiers
    of kind "other", not Digital Link URIs gone wrong."""
    path = uri.split("#", 1)[0].split("?", 1)[0]
    segments = path.split("/")[3:]  # after "https:", "" and the host
    for segment in segments[:-1]:
        entry = AIS.get(CONVENIENCE_ALPHAS.get(segment, segment))
        if entry is not None and entry.qualifiers is not None:
            return True
    return False


def _parse_digital_link(text: str) -> Identifier:
    try:
        fields = parse_digital_link(text)
        ais = check_associations(fields)
    except GS1DataError as exc:
        raise _error(text, exc.reason) from exc
    key, value = fields[0]  # the path begins with the primary key
    if key == "01" and "235" not in ais:
        gtin, serial, lot = value, ais.get("21"), ais.get("10")
        if serial is not None:
            return Identifier(kind="sgtin", text=text, gtin=gtin, serial=serial, lot=lot)
        if lot is not None:
            return Identifier(kind="lgtin", text=text, gtin=gtin, lot=lot)
        return Identifier(kind="gtin", text=text, gtin=gtin)
    if key == "00":
        return Identifier(kind="sscc", text=text, sscc=value)
    if "7040" in ais:
        return Identifier(kind="other", text=text)  # a GS1 UIC extension has no EPC
    if key == "414":
        return Identifier(kind="sgln", text=text, gln=value, extension=ais.get("254"))
    if key == "417":
        return Identifier(kind="pgln", text=text, gln=value)
    if key == "8003":
        return Identifier(kind="grai", text=text, grai=value[:14], serial=value[14:] or None)
    if key == "8004":
        return Identifier(kind="giai", text=text, giai=value)
    return Identifier(kind="other", text=text)


# --- Writing identifiers ---------------------------------------------------------------------


def _required(value: str | None) -> str:
    if value is None:
        raise ValueError("an identifier of this kind lacks one of its keys")
    return value


def _dl_escaped(value: str) -> str:
    """Percent-encoded but for the unreserved characters of RFC 3986, as GS1's Syntax Engine
    writes Digital Link URIs."""
    return quote(value, safe="")


def to_digital_link(identifier: Identifier) -> str:
    """The canonical GS1 Digital Link URI (`https://id.gs1.org`, the finest key only: an SGTIN
    without its lot, no query). An identifier of kind "other" as it came."""
    kind = identifier.kind
    if kind == "sgtin":
        gtin, serial = _required(identifier.gtin), _required(identifier.serial)
        return f"{CANONICAL_STEM}/01/{gtin}/21/{_dl_escaped(serial)}"
    if kind == "sscc":
        return f"{CANONICAL_STEM}/00/{_required(identifier.sscc)}"
    if kind == "sgln":
        uri = f"{CANONICAL_STEM}/414/{_required(identifier.gln)}"
        if identifier.extension is not None:
            uri += f"/254/{_dl_escaped(identifier.extension)}"
        return uri
    if kind == "lgtin":
        gtin, lot = _required(identifier.gtin), _required(identifier.lot)
        return f"{CANONICAL_STEM}/01/{gtin}/10/{_dl_escaped(lot)}"
    if kind == "gtin":
        return f"{CANONICAL_STEM}/01/{_required(identifier.gtin)}"
    if kind == "pgln":
        return f"{CANONICAL_STEM}/417/{_required(identifier.gln)}"
    if kind == "grai":
        grai = _required(identifier.grai) + _dl_escaped(identifier.serial or "")
        return f"{CANONICAL_STEM}/8003/{grai}"
    if kind == "giai":
        return f"{CANONICAL_STEM}/8004/{_dl_escaped(_required(identifier.giai))}"
    return identifier.text


def to_urn(identifier: Identifier, prefix_length: PrefixLength) -> str:
    """The EPC URN (pure identity; EPC class for a lot; EPC pattern for a GTIN), its company
    prefix as long as `prefix_length` says. An identifier of kind "other" as it came."""
    kind = identifier.kind
    if kind in ("sgtin", "lgtin", "gtin"):
        gtin = _required(identifier.gtin)
        company_prefix, item_reference = _split(identifier, gtin[1:], 12, prefix_length)
        numbers = f"{company_prefix}.{gtin[0]}{item_reference}"
        if kind == "sgtin":
            return f"urn:epc:id:sgtin:{numbers}.{_urn_escaped(_required(identifier.serial))}"
        if kind == "lgtin":
            return f"urn:epc:class:lgtin:{numbers}.{_urn_escaped(_required(identifier.lot))}"
        return f"urn:epc:idpat:sgtin:{numbers}.*"
    if kind == "sscc":
        sscc = _required(identifier.sscc)
        company_prefix, serial_reference = _split(identifier, sscc[1:], 16, prefix_length)
        return f"urn:epc:id:sscc:{company_prefix}.{sscc[0]}{serial_reference}"
    if kind in ("sgln", "pgln"):
        gln = _required(identifier.gln)
        company_prefix, reference = _split(identifier, gln, 12, prefix_length)
        if kind == "pgln":
            return f"urn:epc:id:pgln:{company_prefix}.{reference}"
        extension = _urn_escaped(identifier.extension or "0")
        return f"urn:epc:id:sgln:{company_prefix}.{reference}.{extension}"
    if kind == "grai":
        grai = _required(identifier.grai)
        company_prefix, asset_type = _split(identifier, grai[1:], 12, prefix_length)
        if identifier.serial is None:
            return f"urn:epc:idpat:grai:{company_prefix}.{asset_type}.*"
        serial = _urn_escaped(identifier.serial)
        return f"urn:epc:id:grai:{company_prefix}.{asset_type}.{serial}"
    if kind == "giai":
        giai = _required(identifier.giai)
        company_prefix, asset_reference = _split(identifier, giai, len(giai), prefix_length)
        return f"urn:epc:id:giai:{company_prefix}.{_urn_escaped(asset_reference)}"
    return identifier.text


def _split(
    identifier: Identifier, key: str, digits: int, prefix_length: PrefixLength
) -> tuple[str, str]:
    """The company prefix of `key` (its characters from where the prefix begins) and the
    reference after it, up to `digits` (the check digit left out)."""
    length = prefix_length(key)
    if not 4 <= length <= min(12, digits) or _DIGITS.fullmatch(key[:length]) is None:
        raise _error(
            identifier.text or to_digital_link(identifier),
            Translatable(
                "a company prefix of %(length)s digits does not fit %(key)s",
                length=length, key=key,
            ),
        )  # fmt: skip
    return key[:length], key[length:digits]


def _urn_escaped(value: str) -> str:
    return value.translate(_URN_ESCAPING)


# --- Company prefix lengths ------------------------------------------------------------------

RULE_OF_THUMB_LENGTH = 7
_GTIN8_SPACE = "00000"


def rule_of_thumb(key: str) -> int:
    """A company prefix length for a key under no prefix the register knows. GS1 publishes the
    lengths it has issued (its GCP length table), which the register does not hold: 7 digits,
    the length of the company prefixes in GS1's own EPC examples (0614141, 4012345) and in the
    demo's 626 (GS1 Iran) range (6260012); 12 digits in the GTIN-8 range (00000…), where GS1
    licenses GTIN-8s one by one and the register holds each as a 12-digit prefix
    (app/organizations/prefixes.py). A wrong guess moves only the dot of the URN: the key, its
    check digit and its Digital Link stay the same."""
    return 12 if key.startswith(_GTIN8_SPACE) else RULE_OF_THUMB_LENGTH


def company_prefix_length(known: Iterable[str] = ()) -> PrefixLength:
    """A `PrefixLength` that knows the company prefixes in `known` (the register's, as
    company_prefixes holds them: 4 to 12 digits, none inside another, compared with a GTIN's
    digits after its indicator as prefixes.holder_of does) and falls back on `rule_of_thumb`."""
    held = frozenset(known)
    lengths = sorted({len(prefix) for prefix in held}, reverse=True)

    def length(key: str) -> int:
        for candidate in lengths:
            if key[:candidate] in held:
                return candidate
        return rule_of_thumb(key)

    return length


# --- Answers ---------------------------------------------------------------------------------


class EPCFormat(enum.StrEnum):
    """The `GS1-EPC-Format` header of the EPCIS 2.0 REST binding: how the answer writes EPCs."""

    NO_PREFERENCE = "No_Preference"
    ALWAYS_GS1_DIGITAL_LINK = "Always_GS1_Digital_Link"
    ALWAYS_EPC_URN = "Always_EPC_URN"
    NEVER_TRANSLATES = "Never_Translates"

    @classmethod
    def from_header(cls, value: str | None) -> EPCFormat:
        """The header's value (its case ignored); absent, Always_GS1_Digital_Link, as the
        binding says. ValueError on any other value."""
        if value is None or not value.strip():
            return cls.ALWAYS_GS1_DIGITAL_LINK
        for member in cls:
            if member.value.lower() == value.strip().lower():
                return member
        raise ValueError(
            Translatable(
                "GS1-EPC-Format: %(value)r is none of %(values)s",
                value=value, values=", ".join(member.value for member in cls),
            )
        )  # fmt: skip


def render(text: str, fmt: EPCFormat, prefix_length: PrefixLength) -> str:
    """An identifier as stored (as it was captured), written for an answer in `fmt`. Only an
    identifier in the other form is translated: a Digital Link URI on its own host stays as it
    came when Digital Link is asked for, a URN keeps its company prefix when URNs are. No
    preference and Never_Translates keep what was captured. The register's own events are
    recorded with canonical Digital Link URIs (`to_digital_link`)."""
    if fmt is EPCFormat.ALWAYS_GS1_DIGITAL_LINK:
        if text[:8].lower() != "urn:epc:":
            return text
        return to_digital_link(parse_epc(text))
    if fmt is EPCFormat.ALWAYS_EPC_URN:
        if not is_digital_link(text):
            return text
        return to_urn(parse_epc(text), prefix_length)
    return text
