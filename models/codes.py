"""Reading a pack code as scanned: GS1 element strings (with GS separators, with or without a
symbology identifier), the bracketed human-readable form, GS1 Digital Link URIs and bare GTINs.
(The full reader, with damaged-input recovery, extends this.)"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import biip
from biip.gs1_messages import GS1Message

from models.gs1 import InvalidKey, normalize_gtin

SYMBOLOGY_ID = re.compile(r"^\][A-Za-z][0-9A-Za-z]")


class CodeError(ValueError):
    """The code cannot be read; the message says what is wrong."""


@dataclass(frozen=True)
class PackCode:
    gtin: str
    serial: str | None = None
    lot: str | None = None
    expiry: date | None = None


def parse_pack_code(text: str) -> PackCode:
    raw = text.strip()
    if not raw:
        raise CodeError("empty code")
    body = SYMBOLOGY_ID.sub("", raw)
    if body.isdigit() and len(body) in (8, 12, 13, 14):
        return PackCode(gtin=_gtin(body))
    values = _element_values(raw, body)
    if "01" not in values:
        raise CodeError("no GTIN (AI 01) in the code")
    expiry = values.get("17")
    return PackCode(
        gtin=_gtin(str(values["01"])),
        serial=_text(values.get("21")),
        lot=_text(values.get("10")),
        expiry=expiry if isinstance(expiry, date) else None,
    )


def _element_values(raw: str, body: str) -> dict[str, str | date]:
    try:
        message: GS1Message | None
        if body.startswith("("):
            message = GS1Message.parse_hri(body)
        else:
            result = biip.parse(body if body.lower().startswith("http") else raw)
            message = result.gs1_message or (
                result.gs1_digital_link_uri.as_gs1_message()
                if result.gs1_digital_link_uri
                else None
            )
            if message is None:
                raise CodeError(_first_error(result) or "not a GS1 code")
    except biip.ParseError as exc:
        raise CodeError(str(exc)) from exc
    values: dict[str, str | date] = {}
    for element in message.element_strings:
        values[element.ai.ai] = element.date if element.date is not None else element.value
    return values


def _first_error(result: biip.ParseResult) -> str | None:
    for name in ("gs1_message_error", "gs1_digital_link_uri_error", "gtin_error"):
        error = getattr(result, name, None)
        if error:
            return str(error)
    return None


def _gtin(value: str) -> str:
    try:
        return normalize_gtin(value)
    except InvalidKey as exc:
        raise CodeError(str(exc)) from exc


def _text(value: str | date | None) -> str | None:
    return value if isinstance(value, str) else None
