"""How each value is written in the CBV 2.0 canonical pre-hash string: EPC URNs and GS1 Digital
Link URIs become the constrained canonical DL URI (https://id.gs1.org/…, finest key level only,
no query string), old CBV URNs and CURIEs become web URIs, times become UTC with milliseconds,
numbers lose their trailing zeros.

This normalisation is the hash's own (the reference implementation's rules, including its choice
of which keys it recognises), so it is kept apart from the capture's identifier parsing."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache, lru_cache

from models.gs1_syntax.linters import check_digit

CANONICAL_DL = "https://id.gs1.org/"

CBV = "https://ref.gs1.org/cbv/"
GS1_VOC = "https://gs1.org/voc/"

# The prefixes the EPCIS 2.0 context itself declares: a document may use them without declaring
# them again, and the XML form of the same event would carry the full namespace.
STANDARD_PREFIXES: Mapping[str, str] = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": CBV,
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": GS1_VOC,
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}

_OLD_CBV_URNS = (
    ("urn:epcglobal:cbv:bizstep:", CBV + "BizStep-"),
    ("urn:epcglobal:cbv:disp:", CBV + "Disp-"),
    ("urn:epcglobal:cbv:btt:", CBV + "BTT-"),
    ("urn:epcglobal:cbv:sdt:", CBV + "SDT-"),
    ("urn:epcglobal:cbv:er:", CBV + "ER-"),
)

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?", re.ASCII
)

# One character of an EPC URN component (TDS): a %-escape or a character allowed bare.
_URN_CHAR = r"(?:%[0-9A-Fa-f]{2}|[!'()*+,.0-9:;=A-Za-z_-])"
_CPI_CHAR = r"(?:%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa]|[0-9A-Z-])"


@cache
def _urn_text(longest: int) -> re.Pattern[str]:
    return re.compile(f"{_URN_CHAR}{{1,{longest}}}")


_CPI_REFERENCE = re.compile(f"{_CPI_CHAR}{{1,24}}")

# DL values: CSET 82 without "/" (it separates path segments), or %-escapes.
_DL_TEXT = re.compile(r"(?:%[0-9A-Fa-f]{2}|[!\"%&'()*+,.0-9:;<=>?A-Z_a-z-])*")
_DL_ENCODE = str.maketrans(
    {"!": "%21", "(": "%28", ")": "%29", "*": "%2A", "+": "%2B", ",": "%2C", ":": "%3A"}
)


def _encode(text: str) -> str:
    """The percent-encoding a DL URI needs for characters an EPC URN leaves bare."""
    return text if text.isalnum() else text.translate(_DL_ENCODE)


def _is_urn_text(text: str, longest: int) -> bool:
    """Whether `text` is 1 to `longest` characters of an EPC URN component (most serials are
    plain letters and digits, checked without the regular expression)."""
    if text.isascii() and text.isalnum():
        return 0 < len(text) <= longest
    return _urn_text(longest).fullmatch(text) is not None


def canonical_value(
    value: object, namespaces: Mapping[str, str], vocabulary: str | None = None
) -> str:
    """A field's value as the pre-hash string writes it ("" when it contributes nothing).

    `vocabulary` is the web-URI stem of a CBV field (BizStep-, Disp-, …): a bare JSON-LD term
    such as "commissioning" is written as that stem followed by the term."""
    if not isinstance(value, str):
        if isinstance(value, bool):
            # The xsd:boolean lexical form, which the XML form of the event carries.
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return canonical_number(repr(value))
        return ""
    text = value.strip()
    if ":" not in text:
        if not text:
            return ""
        if vocabulary is not None:
            return vocabulary + text
        return canonical_number(text) if _NUMBER.fullmatch(text) else text
    prefix, _, local = text.partition(":")
    namespace = namespaces.get(prefix)
    if namespace is not None:
        text = namespace + local
    if text.startswith("urn:epc:"):
        return epc_urn_to_dl(text) or text
    if text.startswith(("https://", "http://")):
        return canonical_dl(text) or text
    if text.startswith("urn:epcglobal:cbv:"):
        for old, new in _OLD_CBV_URNS:
            if text.startswith(old):
                return new + text[len(old) :]
    return text


def canonical_number(text: str) -> str:
    """A decimal number without leading "+", leading zeros or trailing zeros ("1.50" → "1.5",
    "600.0" → "600"), written as Python writes the float (as the reference implementation does),
    except where a float would lose digits: those are kept exact so that two different long
    numbers never collapse into one."""
    number = float(text)
    exact = Decimal(text)
    if not math.isfinite(number) or abs(exact.adjusted()) > 100:
        return text
    if exact == exact.to_integral_value():
        return str(int(exact))
    written = repr(number)
    if Decimal(written) == exact:
        return written
    return format(exact.normalize(), "f")


def canonical_time(text: str) -> str:
    """An xsd:dateTimeStamp in UTC with exactly three decimals, rounded half up on the fourth
    (CBV 2.0: 11:04:03.1415Z → 11:04:03.142Z). Text that is not a timestamp is kept as it is."""
    text = text.strip() if isinstance(text, str) else ""
    match = _TIME.fullmatch(text)
    if match is None:
        return text
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    digits = (fraction or "") + "0000"
    milliseconds = int(digits[:3]) + (digits[3] >= "5")
    zone = UTC
    if offset not in (None, "Z"):
        sign = -1 if offset[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[-2:])))
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=zone
        )
        utc = (moment + timedelta(milliseconds=milliseconds)).astimezone(UTC)
    except (ValueError, OverflowError):
        return text
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


# EPC URNs (TDS 2.x) → canonical DL.


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _company_split(prefix: str, reference: str, total: int) -> bool:
    return (
        _digits(prefix)
        and 6 <= len(prefix) <= 12
        and (reference == "" or _digits(reference))
        and len(prefix) + len(reference) == total
    )


@lru_cache(maxsize=4096)
def _gtin(prefix: str, item: str) -> str | None:
    """GTIN-14 of an SGTIN/LGTIN/ITIP/UPUI company prefix and item reference (indicator first)."""
    if not _company_split(prefix, item, 13) or not item:
        return None
    payload = item[0] + prefix + item[1:]
    return payload + str(check_digit(payload))


@lru_cache(maxsize=4096)
def _gln(prefix: str, location: str) -> str | None:
    """GLN of an SGLN's company prefix and location reference (few facilities, many events)."""
    if not _company_split(prefix, location, 12):
        return None
    return _with_check_digit(prefix + location)


def _with_check_digit(payload: str) -> str:
    return payload + str(check_digit(payload))


def _sgtin(fields: str) -> str | None:
    prefix, _, rest = fields.partition(".")
    item, _, serial = rest.partition(".")
    gtin = _gtin(prefix, item)
    if gtin is None or not _is_urn_text(serial, 20):
        return None
    return f"{CANONICAL_DL}01/{gtin}/21/{_encode(serial)}"


def _sscc(fields: str) -> str | None:
    prefix, _, serial = fields.partition(".")
    if not _company_split(prefix, serial, 17) or not serial:
        return None
    return f"{CANONICAL_DL}00/{_with_check_digit(serial[0] + prefix + serial[1:])}"


def _sgln(fields: str) -> str | None:
    prefix, _, rest = fields.partition(".")
    location, _, extension = rest.partition(".")
    gln = _gln(prefix, location)
    if gln is None or not _is_urn_text(extension, 20):
        return None
    if extension == "0":
        return f"{CANONICAL_DL}414/{gln}"
    return f"{CANONICAL_DL}414/{gln}/254/{_encode(extension)}"


def _grai(fields: str) -> str | None:
    prefix, _, rest = fields.partition(".")
    asset, _, serial = rest.partition(".")
    if not _company_split(prefix, asset, 12) or not _is_urn_text(serial, 16):
        return None
    return f"{CANONICAL_DL}8003/{_with_check_digit('0' + prefix + asset)}{_encode(serial)}"


def _unchecked(ai: str, longest: int) -> Callable[[str], str | None]:
    """GIAI and GINC: company prefix then free text, no check digit."""

    def convert(fields: str) -> str | None:
        prefix, _, reference = fields.partition(".")
        if not (_digits(prefix) and 6 <= len(prefix) <= 12):
            return None
        if not _is_urn_text(reference, longest - len(prefix)):
            return None
        return f"{CANONICAL_DL}{ai}/{prefix}{_encode(reference)}"

    return convert


def _numeric(ai: str, digits: int) -> Callable[[str], str | None]:
    """GSRN, GSRN-P, GSIN, PGLN: company prefix and a numeric reference, check digit added."""

    def convert(fields: str) -> str | None:
        prefix, _, reference = fields.partition(".")
        if not _company_split(prefix, reference, digits):
            return None
        return f"{CANONICAL_DL}{ai}/{_with_check_digit(prefix + reference)}"

    return convert


def _gdti(fields: str) -> str | None:
    prefix, _, rest = fields.partition(".")
    document, _, serial = rest.partition(".")
    if not _company_split(prefix, document, 12) or not _is_urn_text(serial, 17):
        return None
    return f"{CANONICAL_DL}253/{_with_check_digit(prefix + document)}{_encode(serial)}"


def _sgcn(fields: str) -> str | None:
    prefix, _, rest = fields.partition(".")
    coupon, _, serial = rest.partition(".")
    if not _company_split(prefix, coupon, 12) or not (_digits(serial) and len(serial) <= 12):
        return None
    return f"{CANONICAL_DL}255/{_with_check_digit(prefix + coupon)}{serial}"


def _cpi(fields: str) -> str | None:
    prefix, _, rest = fields.partition(".")
    reference, _, serial = rest.rpartition(".")
    if not (_digits(prefix) and 6 <= len(prefix) <= 12) or not _CPI_REFERENCE.fullmatch(reference):
        return None
    if not (_digits(serial) and len(serial) <= 12):
        return None
    return f"{CANONICAL_DL}8010/{_encode(prefix + reference)}/8011/{serial}"


def _itip(fields: str) -> str | None:
    parts = fields.split(".", 4)
    if len(parts) != 5:
        return None
    prefix, item, piece, total, serial = parts
    gtin = _gtin(prefix, item)
    if gtin is None or not (len(piece) == len(total) == 2 and _digits(piece + total)):
        return None
    if not _is_urn_text(serial, 20):
        return None
    return f"{CANONICAL_DL}8006/{gtin}{piece}{total}/21/{_encode(serial)}"


def _with_gtin(ai: str, longest: int) -> Callable[[str], str | None]:
    """UPUI (235) and LGTIN (10): a GTIN and one qualifier."""

    def convert(fields: str) -> str | None:
        prefix, _, rest = fields.partition(".")
        item, _, text = rest.partition(".")
        gtin = _gtin(prefix, item)
        if gtin is None or not _is_urn_text(text, longest):
            return None
        return f"{CANONICAL_DL}01/{gtin}/{ai}/{_encode(text)}"

    return convert


def _grai_class(fields: str) -> str | None:
    prefix, _, asset = fields[:-2].partition(".")
    if not fields.endswith(".*") or not _company_split(prefix, asset, 12):
        return None
    return f"{CANONICAL_DL}8003/{_with_check_digit('0' + prefix + asset)}"


def _company_class(ai: str) -> Callable[[str], str | None]:
    """GDTI and SGCN patterns: the 13-digit key without serial."""

    def convert(fields: str) -> str | None:
        prefix, _, reference = fields[:-2].partition(".")
        if not fields.endswith(".*") or not _company_split(prefix, reference, 12):
            return None
        return f"{CANONICAL_DL}{ai}/{_with_check_digit(prefix + reference)}"

    return convert


def _cpi_class(fields: str) -> str | None:
    prefix, _, reference = fields[:-2].partition(".")
    if not fields.endswith(".*") or not (_digits(prefix) and 6 <= len(prefix) <= 12):
        return None
    if not _CPI_REFERENCE.fullmatch(reference):
        return None
    return f"{CANONICAL_DL}8010/{_encode(prefix + reference)}"


def _itip_class(fields: str) -> str | None:
    parts = fields.split(".")
    if len(parts) != 5 or parts[4] != "*":
        return None
    prefix, item, piece, total, _ = parts
    gtin = _gtin(prefix, item)
    if gtin is None or not (len(piece) == len(total) == 2 and _digits(piece + total)):
        return None
    return f"{CANONICAL_DL}8006/{gtin}{piece}{total}"


def _gtin_class(fields: str) -> str | None:
    parts = fields.split(".")
    if len(parts) != 3 or parts[2] != "*":
        return None
    gtin = _gtin(parts[0], parts[1])
    return None if gtin is None else f"{CANONICAL_DL}01/{gtin}"


_EPC_SCHEMES: Mapping[str, Callable[[str], str | None]] = {
    "id:sgtin": _sgtin,
    "id:sscc": _sscc,
    "id:sgln": _sgln,
    "id:grai": _grai,
    "id:giai": _unchecked("8004", 30),
    "id:gsrn": _numeric("8018", 17),
    "id:gsrnp": _numeric("8017", 17),
    "id:gdti": _gdti,
    "id:cpi": _cpi,
    "id:sgcn": _sgcn,
    "id:ginc": _unchecked("401", 30),
    "id:gsin": _numeric("402", 16),
    "id:itip": _itip,
    "id:upui": _with_gtin("235", 28),
    "id:pgln": _numeric("417", 12),
    "class:lgtin": _with_gtin("10", 20),
    "idpat:sgtin": _gtin_class,
    "idpat:upui": _gtin_class,
    "idpat:grai": _grai_class,
    "idpat:gdti": _company_class("253"),
    "idpat:sgcn": _company_class("255"),
    "idpat:cpi": _cpi_class,
    "idpat:itip": _itip_class,
}


def epc_urn_to_dl(urn: str) -> str | None:
    """The canonical DL URI of an EPC URN, EPC class URN or EPC pattern URN of a GS1 key, or None
    when the URN is not one (unknown scheme, wrong digit counts, bad characters)."""
    if urn.startswith("urn:epc:id:sgtin:"):  # by far the most frequent
        return _sgtin(urn[17:])
    kind, _, rest = urn[8:].partition(":")
    scheme, _, fields = rest.partition(":")
    convert = _EPC_SCHEMES.get(f"{kind}:{scheme}")
    return None if convert is None else convert(fields)


# GS1 Digital Link URIs → constrained canonical DL.

_PRIMARY_KEYS: Mapping[str, str] = {
    **{ai: ai for ai in ("00", "01", "253", "255", "401", "402", "414", "417")},
    **{ai: ai for ai in ("8003", "8004", "8006", "8010", "8017", "8018")},
    "sscc": "00",
    "gtin": "01",
    "gdti": "253",
    "gcn": "255",
    "ginc": "401",
    "gsin": "402",
    "gln": "414",
    "party": "417",
    "grai": "8003",
    "giai": "8004",
    "itip": "8006",
    "cpid": "8010",
    "gsrnp": "8017",
    "gsrn": "8018",
}
_QUALIFIER_NAMES = {"cpv": "22", "lot": "10", "ser": "21"}

_DIGITS = {"00": 18, "402": 17, "414": 13, "417": 13, "8017": 18, "8018": 18}
_KEY_PATTERNS: Mapping[str, re.Pattern[str]] = {
    **{ai: re.compile(rf"[0-9]{{{n}}}") for ai, n in _DIGITS.items()},
    "01": re.compile(r"[0-9]{14}"),
    "8006": re.compile(r"[0-9]{18}"),
    "253": re.compile(r"[0-9]{13}" + _DL_TEXT.pattern),
    "255": re.compile(r"[0-9]{13,25}"),
    "401": _DL_TEXT,
    "8003": re.compile(r"[0-9]{14}" + _DL_TEXT.pattern),
    "8004": _DL_TEXT,
    "8010": re.compile(r"(?:%2[3Ff]|[#0-9A-Z-])*"),
}
_SERIAL_COMPONENT = re.compile(r"[0-9]{1,12}")
# The key qualifiers each key may have, in the order a DL URI must give them.
_QUALIFIERS: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "01": (("22", "10", "21"), ("235",)),
    "8006": (("22", "10", "21"),),
    "414": (("254",),),
    "8010": (("8011",),),
}


def _in_order(names: list[str], ai: str) -> bool:
    for allowed in _QUALIFIERS.get(ai, ((),)):
        positions = [allowed.index(name) for name in names if name in allowed]
        if len(positions) == len(names) and positions == sorted(set(positions)):
            return True
    return False


# The most frequent form, a GTIN-14 and serial at the root of the path, read in one match; it
# gives what the general reading below would.
_SGTIN_LINK = re.compile(
    r"https?://[^/?#]*/(?:01|gtin)/([0-9]{14})/(?:21|ser)/([!\"%&'()*+,.0-9:;<=>A-Z_a-z-]+)/?(?:[?#].*)?",
    re.DOTALL,
)


def canonical_dl(uri: str) -> str | None:
    """The constrained canonical form of a GS1 Digital Link URI on any host: https://id.gs1.org,
    AI numbers instead of short names, GTIN padded to 14 digits, query string and CPV dropped,
    only the finest identification level kept. None when the URI is not a GS1 DL URI."""
    common = _SGTIN_LINK.fullmatch(uri)
    if common is not None:
        return f"{CANONICAL_DL}01/{common[1]}/21/{_encode(common[2])}"
    path = uri[uri.index("//") + 2 :].split("?", 1)[0].split("#", 1)[0]
    segments = path.split("/")[1:]
    for start in range(len(segments) - 1):
        ai = _PRIMARY_KEYS.get(segments[start])
        value = segments[start + 1]
        if ai is not None and len(value) > 4 and _digits(value[:4]):
            break
    else:
        return None
    key = _encode(segments[start + 1])
    rest = segments[start + 2 :]
    if rest and rest[-1] == "":
        rest.pop()
    if len(rest) % 2:
        return None
    rest[::2] = [_QUALIFIER_NAMES.get(name, name) for name in rest[::2]]
    if ai == "01" and _digits(key) and len(key) in (8, 12, 13):
        key = key.zfill(14)
    if not _KEY_PATTERNS[ai].fullmatch(key):
        return None
    if not _in_order(rest[::2], ai):
        return None
    # Only the finest level of identification stays: a serial drops the lot; the CPV goes.
    qualifiers = dict(zip(rest[::2], rest[1::2], strict=True))
    qualifiers.pop("22", None)
    if "21" in qualifiers:
        qualifiers.pop("10", None)
    tail = ""
    for qualifier, text in qualifiers.items():
        encoded = _encode(text)
        pattern = _SERIAL_COMPONENT if qualifier == "8011" else _DL_TEXT
        if not encoded or not pattern.fullmatch(encoded):
            return None
        tail = f"/{qualifier}/{encoded}"
    return f"{CANONICAL_DL}{ai}/{key}{tail}"
