"""The GS1 Barcode Syntax Tests ("linters") the dictionary names, written from their published
definitions: each takes a component's value and returns what is wrong with it, or None.

Country and currency codes are checked against the ISO 3166 and ISO 4217 lists of pycountry
(loaded on first use). Linters over lists GS1 does not publish with the dictionary (UN/ECE package
types, coupon layouts) check the form only (length and characters, checked by the component);
`gcppos1/2` check what can be checked without the GS1 Company Prefix register (the prefix's first
digits are digits)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, timedelta

from models.translatable import Translatable

Linter = Callable[[str], str | None]

CSET_82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
CSET_39 = frozenset("#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
CSET_64 = frozenset("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
_DIGITS = frozenset("0123456789")
_GCP_MIN_LENGTH = 4


def check_digit(payload: str) -> int:
    """The GS1 mod-10 check digit of a numeric payload (weights 3, 1, … from the right)."""
    backwards = payload[::-1]
    total = 3 * sum(map(int, backwards[0::2])) + sum(map(int, backwards[1::2]))
    return (10 - total % 10) % 10


def _bad_char(value: str, allowed: frozenset[str], name: str) -> str | None:
    if allowed.issuperset(value):
        return None
    for position, char in enumerate(value):
        if char not in allowed:
            return Translatable(
                "has %(char)r at position %(position)s, not a %(name)s character",
                char=char, position=position + 1, name=name,
            )  # fmt: skip
    return None


def numeric(value: str) -> str | None:
    return _bad_char(value, _DIGITS, Translatable("digit"))


def cset82(value: str) -> str | None:
    return _bad_char(value, CSET_82, "GS1 CSET 82")


def cset39(value: str) -> str | None:
    return _bad_char(value, CSET_39, "GS1 CSET 39")


def cset64(value: str) -> str | None:
    padding = len(value) - len(value.rstrip("="))
    if padding > 2 or (padding and len(value) % 3):
        return Translatable("has wrong base64url padding")
    return _bad_char(value[: len(value) - padding], CSET_64, "GS1 CSET 64")


CHARSET_LINTERS: dict[str, Linter] = {"N": numeric, "X": cset82, "Y": cset39, "Z": cset64}


def csum(value: str) -> str | None:
    expected = check_digit(value[:-1])
    if value[-1] != str(expected):
        return Translatable("has a wrong check digit: expected %(expected)s", expected=expected)
    return None


_CSUMALPHA_PRIMES = (
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
    97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191,
    193, 197, 199, 211, 223, 227, 229, 233, 239, 241, 251, 257, 263, 269, 271, 277, 281, 283, 293,
    307, 311, 313, 317, 331, 337, 347, 349, 353, 359, 367, 373, 379, 383, 389, 397, 401, 409, 419,
    421, 431, 433, 439, 443, 449, 457, 461, 463, 467, 479, 487, 491, 499, 503, 509,
)  # fmt: skip
_CSET_32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_CSET_82_ORDER = sorted(CSET_82)


def csumalpha(value: str) -> str | None:
    """The check character pair of an alphanumeric key (GMN, MUDI)."""
    if len(value) < 2:
        return Translatable("is too short for its check character pair")
    body = value[:-2]
    total = (
        sum(
            _CSET_82_ORDER.index(char) * _CSUMALPHA_PRIMES[len(body) - 1 - position]
            for position, char in enumerate(body)
        )
        % 1021
    )
    expected = _CSET_32[total >> 5] + _CSET_32[total & 31]
    if value[-2:] != expected:
        return Translatable(
            "has a wrong check character pair: expected %(expected)s", expected=expected
        )
    return None


def _gcp(value: str) -> str | None:
    if len(value) < _GCP_MIN_LENGTH or not set(value[:_GCP_MIN_LENGTH]) <= _DIGITS:
        return Translatable("does not begin with a GS1 Company Prefix")
    return None


def gcppos2(value: str) -> str | None:
    return _gcp(value[1:])


def last_day(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def gs1_date(yymmdd: str, today: date | None = None) -> date:
    """A GS1 six-digit date: the century within -49 … +50 years of today; DD 00 is the month's
    last day. ValueError when it is no date."""
    year = int(yymmdd[:2])
    current = (today or date.today()).year
    century = current // 100 * 100
    full = century + year
    if full - current >= 51:
        full -= 100
    elif full - current <= -50:
        full += 100
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    if day == 0 and 1 <= month <= 12:
        day = last_day(full, month)
    return date(full, month, day)


def _date(value: str, length: int, day_zero: bool) -> str | None:
    form = ("YYYY" if length == 8 else "YY") + "MMDD"
    if len(value) != length or not value.isdigit():
        return Translatable("is not a date in %(form)s form", form=form)
    if value[-2:] == "00" and not day_zero:
        return Translatable("is not a date in %(form)s form (DD may not be 00 here)", form=form)
    try:
        if length == 8:
            year, month, day = int(value[:4]), int(value[4:6]), int(value[6:])
            if day == 0 and 1 <= month <= 12:
                day = last_day(year, month)
            date(year, month, day)
        else:
            gs1_date(value)
    except ValueError:
        if day_zero:
            return Translatable("is not a date in %(form)s form (DD may be 00)", form=form)
        return Translatable("is not a date in %(form)s form", form=form)
    return None


def _range(low: int, high: int, name: str) -> Linter:
    def lint(value: str) -> str | None:
        if not value.isdigit() or not low <= int(value) <= high:
            return Translatable("is not %(name)s", name=name)
        return None

    return lint


_HOUR = Translatable("an hour")
_MINUTE = Translatable("a minute")


def _hhmi(value: str) -> str | None:
    return _range(0, 23, _HOUR)(value[:2]) or _range(0, 59, _MINUTE)(value[2:])


def _one_of(allowed: str, name: str) -> Linter:
    def lint(value: str) -> str | None:
        return (
            None
            if len(value) == 1 and value in allowed
            else Translatable("is not %(name)s", name=name)
        )

    return lint


def _pieceoftotal(value: str) -> str | None:
    half = len(value) // 2
    piece, total = value[:half], value[half:]
    if not value or len(value) % 2 or not value.isdigit():
        return Translatable("is not a piece number and a total")
    if int(piece) == 0 or int(total) == 0:
        return Translatable("has a zero piece number or total")
    if int(piece) > int(total):
        return Translatable("has a piece number above the total")
    return None


def _posinseqslash(value: str) -> str | None:
    position, slash, end = value.partition("/")
    if not slash or not position.isdigit() or not end.isdigit():
        return Translatable("is not a position in a sequence (n/m)")
    if position[0] == "0" or end[0] == "0":
        return Translatable("has a number beginning with 0")
    if int(position) > int(end):
        return Translatable("has a position past the end of the sequence")
    return None


def _pcenc(value: str) -> str | None:
    position = value.find("%")
    while position != -1:
        if not all(c in "0123456789abcdefABCDEF" for c in value[position + 1 : position + 3]) or (
            position + 2 >= len(value)
        ):
            return Translatable(
                "has invalid percent-encoding at position %(position)s", position=position + 1
            )
        position = value.find("%", position + 3)
    return None


_IBAN_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _iban(value: str) -> str | None:
    if len(value) <= 4 or not set(value) <= _IBAN_CHARS or not value[:2].isalpha():
        return Translatable("is not an IBAN")
    if value[:2] not in _iso_codes("alpha2"):
        return Translatable("does not begin with an ISO 3166 country code")
    digits = "".join(str(int(c, 36)) for c in value[4:] + value[:4])
    return None if int(digits) % 97 == 1 else Translatable("has a wrong IBAN checksum")


@functools.cache
def _iso_codes(kind: str) -> frozenset[str]:
    import pycountry  # its lists load in milliseconds, but only codes with country data need them

    if kind == "numeric":
        return frozenset(c.numeric for c in pycountry.countries)
    if kind == "alpha2":
        return frozenset(c.alpha_2 for c in pycountry.countries)
    return frozenset(c.numeric for c in pycountry.currencies)


def _in_list(kind: str, name: str, also: frozenset[str] = frozenset()) -> Linter:
    def lint(value: str) -> str | None:
        return (
            None
            if value in also or value in _iso_codes(kind)
            else Translatable("is not %(name)s", name=name)
        )

    return lint


def _form_only(value: str) -> str | None:
    return None


LINTERS: dict[str, Linter] = {
    "csum": csum,
    "csumalpha": csumalpha,
    "gcppos1": _gcp,
    "gcppos2": gcppos2,
    "yymmd0": lambda v: _date(v, 6, day_zero=True),
    "yymmdd": lambda v: _date(v, 6, day_zero=False),
    "yyyymmd0": lambda v: _date(v, 8, day_zero=True),
    "yyyymmdd": lambda v: _date(v, 8, day_zero=False),
    "hhmi": _hhmi,
    "hh": _range(0, 23, _HOUR),
    "mi": _range(0, 59, _MINUTE),
    "ss": _range(0, 59, Translatable("a second")),
    "nonzero": lambda v: Translatable("may not be zero") if v and set(v) == {"0"} else None,
    "zero": lambda v: None if v == "0" else Translatable("must be 0"),
    "nozeroprefix": lambda v: Translatable("may not begin with 0") if v.startswith("0") else None,
    "hasnondigit": lambda v: None if not v.isdigit() else Translatable("must contain a non-digit"),
    "yesno": _one_of("01", Translatable("0 (no) or 1 (yes)")),
    "winding": _one_of("019", Translatable("a winding direction (0, 1 or 9)")),
    "iso5218": _one_of("0129", Translatable("an ISO/IEC 5218 sex code (0, 1, 2 or 9)")),
    "hyphen": lambda v: None if v and set(v) == {"-"} else Translatable("must be '-'"),
    "importeridx": lambda v: (
        None if len(v) == 1 and v in CSET_64 else Translatable("is not an importer index")
    ),
    "mediatype": lambda v: (
        None
        if v.isdigit() and (1 <= int(v) <= 10 or 80 <= int(v) <= 99)
        else Translatable("is not an AIDC media type")
    ),
    "latitude": _range(0, 1_800_000_000, Translatable("a latitude")),
    "longitude": _range(0, 3_600_000_000, Translatable("a longitude")),
    "pieceoftotal": _pieceoftotal,
    "posinseqslash": _posinseqslash,
    "pcenc": _pcenc,
    "iban": _iban,
    "iso3166": _in_list("numeric", Translatable("an ISO 3166 country code")),
    "iso3166999": _in_list(
        "numeric", Translatable("an ISO 3166 country code or 999"), frozenset({"999"})
    ),
    "iso3166alpha2": _in_list("alpha2", Translatable("an ISO 3166 alpha-2 country code")),
    "iso4217": _in_list("currency", Translatable("an ISO 4217 currency code")),
    # Code lists not published with the dictionary: the form is checked, not the list.
    "packagetype": _form_only,
    "couponcode": _form_only,
    "couponposoffer": _form_only,
}
