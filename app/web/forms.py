"""Reading the console's forms and filters: text fields into the types the services take, and a
refusal (the readers' or a service's) into words beside the field it concerns, in the page's
language. Every reader raises `InvalidInput(message, field=name)`, as the services do, so a
page has one way to send a form back: `refused(...)`."""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.response import Template

from app.errors import InvalidInput, ServiceError
from app.web.i18n import Language, language_of
from app.web.templating import TEHRAN, page
from app.web.vocabulary import N_
from models.identity import Role

E = TypeVar("E", bound=enum.Enum)
S = TypeVar("S")

FORM = ""  # where a problem that names no field is shown: above the form (or under it)
NOT_A_CHOICE = N_("Choose one of the listed values.")
NOT_A_DATE = N_("Not a date; pick one from the calendar (e.g. 2026-05-01).")
NOT_AN_ID = N_("Choose one from the list.")
NOT_A_NUMBER = N_("Not a whole number; type digits only (e.g. 100).")
REQUIRED = N_("Required: this field must not be empty.")
# Numbers and dates typed on a Persian keyboard (Persian or Arabic-Indic digits) are read too.
LATIN_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_FIELD_OF_PATH = re.compile(r"\$\.(\w+)")

ADMINS = frozenset({Role.admin})
ADMIN_READERS = frozenset({Role.admin, Role.inspector})  # inspectors read the identities
# The services' fixed messages (raised as plain text, with no value in them), translated as
# they are; a message that carries a value is raised as a `Translatable` instead.
SERVICE_MESSAGES = (
    N_("username: must not be empty."),
    N_("name: must not be empty."),
    N_("organization_id: no organisation with this id."),
    N_("facility_id: no facility with this id in the user's organisation."),
    N_("facility_id: no facility with this id that you manage."),
    N_("This device's key is already revoked."),
    N_("No device with this id."),
    N_("No user with this id."),
    N_("root_cause: say why it happened before closing the alert."),
    N_("alert_ids: choose at least one alert to close."),
    N_("No alert with this id."),
)


def text(form: Mapping[str, str], name: str) -> str | None:
    value = form.get(name, "").strip()
    return value or None


def required(form: Mapping[str, str], name: str) -> str:
    value = text(form, name)
    if value is None:
        raise InvalidInput(REQUIRED, field=name)
    return value


def all_required(form: Mapping[str, str], names: tuple[str, ...]) -> None:
    """Each of `names` filled in (the first empty one is refused)."""
    for name in names:
        required(form, name)


def choice(kind: type[E], value: str | None, field: str) -> E | None:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(NOT_A_CHOICE, field=field) from None


def required_choice(kind: type[E], form: Mapping[str, str], field: str) -> E:
    chosen = choice(kind, required(form, field), field)
    assert chosen is not None
    return chosen


def required_id(form: Mapping[str, str], field: str) -> uuid.UUID:
    chosen = identifier(required(form, field), field)
    assert chosen is not None
    return chosen


def whole(form: Mapping[str, str], field: str) -> int:
    digits = required(form, field).translate(LATIN_DIGITS)
    if not (digits.isascii() and digits.lstrip("-").isdigit()):
        raise InvalidInput(NOT_A_NUMBER, field=field)
    return int(digits)


def words(form: Mapping[str, str], field: str) -> list[str]:
    """A list typed in one field, separated by spaces or (Latin or Persian) commas."""
    return [part for part in re.split(r"[\s,،]+", form.get(field, "")) if part]


def identifier(value: str | None, field: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput(NOT_AN_ID, field=field) from None


def day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.translate(LATIN_DIGITS))
    except ValueError:
        raise InvalidInput(NOT_A_DATE, field=field) from None


def required_day(form: Mapping[str, str], field: str) -> date:
    chosen = day(required(form, field), field)
    assert chosen is not None
    return chosen


def moment(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.translate(LATIN_DIGITS))
    except ValueError:
        raise InvalidInput(NOT_A_DATE, field=field) from None


def start_of(day: date | None, *, following: bool = False) -> datetime | None:
    """The first moment of `day` in Tehran (of the day after, for an inclusive end)."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1 if following else 0), time(), TEHRAN)


def converted(shape: Mapping[str, Any], kind: type[S], fallback_field: str) -> S:
    """`shape` read by the API's own request struct (the same rules as its JSON body); a
    refusal names the field msgspec names (`fallback_field` when it names none)."""
    try:
        return msgspec.convert(shape, kind)
    except msgspec.ValidationError as exc:
        found = _FIELD_OF_PATH.search(str(exc))
        raise InvalidInput(str(exc), field=found[1] if found else fallback_field) from None


def status_of(error: ServiceError) -> int:
    """The status of a form sent back with its problem: 422 for plain bad input."""
    return error.status_code if error.status_code != 400 else InvalidInput.status_code


def problems_of(
    language: Language, error: ServiceError, advice: Mapping[str, str] | None = None
) -> dict[str, str]:
    """`{field: words}` for the form, in `language` (`FORM` when the error names no field).
    A page's `advice` for a field (what to do about bad input there) comes first, followed by
    the service's own words when they read in that language."""
    field = str(error.extra.get("field") or FORM)
    said = language.gettext(error.detail)
    hint = (advice or {}).get(field)
    if hint is None:
        return {field: said}
    understood = language.code == "en" or said != error.detail
    return {field: f"{language.gettext(hint)} {said}" if understood else language.gettext(hint)}


def refused(
    request: Request[Any, Any, Any],
    template: str,
    error: ServiceError,
    typed: Mapping[str, str],
    advice: Mapping[str, str] | None = None,
    **context: Any,
) -> Template:
    """The form again, as it was typed, with the problem beside its field (or above the form
    when it names none)."""
    return page(
        request, template, status_code=status_of(error), typed=typed,
        problems=problems_of(language_of(request), error, advice), **context,
    )  # fmt: skip
