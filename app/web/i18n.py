"""Languages of the console: Persian (the default, right to left) and English. Messages are
written in English in the templates and the code, and translated by the gettext catalogue
`locale/fa/LC_MESSAGES/messages.po` (extracted with Babel: see `scripts/messages.sh`). The
catalogue is read once, on the first page in Persian."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from litestar import Request

from models.translatable import Translatable

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGE_COOKIE = "darutrace_lang"
DEFAULT = "fa"
LANGUAGES = ("fa", "en")
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@dataclass(frozen=True)
class Language:
    code: str
    direction: str
    name: str  # in itself, for the switch

    @property
    def other(self) -> Language:
        return ENGLISH if self.code == "fa" else PERSIAN

    def digits(self, text: str) -> str:
        """Persian digits on Persian pages; codes never go through here."""
        return text.translate(_PERSIAN_DIGITS) if self.code == "fa" else text

    def gettext(self, message: str) -> str:
        if self.code == "en" or not message:
            return message
        if isinstance(message, Translatable):  # a service's message: words and values apart
            return message.render(self.gettext)
        return persian_catalogue().get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if self.code == "en":
            return singular if n == 1 else plural
        return persian_catalogue().get(singular if n == 1 else plural) or (
            singular if n == 1 else plural
        )


PERSIAN = Language("fa", "rtl", "فارسی")
ENGLISH = Language("en", "ltr", "English")
_BY_CODE = {"fa": PERSIAN, "en": ENGLISH}


def language_of(request: Request[Any, Any, Any]) -> Language:
    """The language chosen with the switch (a cookie), else the first of ours the browser's
    `Accept-Language` names, else Persian."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in _BY_CODE:
        return _BY_CODE[chosen]
    for code in _accepted(request.headers.get("accept-language", "")):
        if code in _BY_CODE:
            return _BY_CODE[code]
    return _BY_CODE[DEFAULT]


def _accepted(header: str) -> list[str]:
    weighted: list[tuple[float, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            weighted.append((-quality + index * 1e-6, tag.split("-")[0].lower()))
    return [code for _, code in sorted(weighted)]


@functools.cache
def persian_catalogue() -> dict[str, str]:
    with (LOCALE_DIR / "fa" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale="fa")
    translated: dict[str, str] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        for msgid, msgstr in zip(ids, strings, strict=False):
            if msgid and msgstr:
                translated[str(msgid)] = str(msgstr)
    return translated
