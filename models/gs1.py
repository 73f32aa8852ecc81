"""GS1 identification keys: check digits and normalisation (GTIN, GLN, SSCC)."""

from __future__ import annotations

from models.gs1_syntax.linters import check_digit
from models.translatable import Translatable


class InvalidKey(ValueError):
    """A GS1 key that is malformed or has a wrong check digit; the message says which."""


def _validate(value: str, name: str, length: int) -> str:
    value = value.strip()
    if not value.isascii() or not value.isdigit():
        raise InvalidKey(
            Translatable(
                "%(name)s must contain only digits 0-9, got %(value)r", name=name, value=value
            )
        )
    if len(value) != length:
        raise InvalidKey(
            Translatable(
                "%(name)s must be %(length)s digits, got %(got)s",
                name=name, length=length, got=len(value),
            )
        )  # fmt: skip
    expected = check_digit(value[:-1])
    if value[-1] != str(expected):
        raise InvalidKey(
            Translatable(
                "%(name)s %(value)s has a wrong check digit: expected %(expected)s",
                name=name, value=value, expected=expected,
            )
        )  # fmt: skip
    return value


def validate_gln(value: str) -> str:
    """A Global Location Number: 13 digits, the last a GS1 check digit."""
    return _validate(value, "GLN", 13)


def validate_sscc(value: str) -> str:
    """A Serial Shipping Container Code: 18 digits, the last a GS1 check digit."""
    return _validate(value, "SSCC", 18)


def normalize_gtin(value: str) -> str:
    """A GTIN-8/12/13/14, check digit validated, returned left-padded to 14 digits."""
    value = value.strip()
    if len(value) not in (8, 12, 13, 14):
        raise InvalidKey(
            Translatable("GTIN must be 8, 12, 13 or 14 digits, got %(got)s", got=len(value))
        )
    return _validate(value.zfill(14), "GTIN", 14)


def with_check_digit(payload: str) -> str:
    """Append the GS1 check digit to a key's payload (used to mint GLNs and SSCCs)."""
    return payload + str(check_digit(payload))
