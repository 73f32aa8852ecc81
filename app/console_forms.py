"""Reading the console's forms and filters: text fields into the types the services take, and
a service's complaint into words beside the field it concerns, in the page's language."""

from __future__ import annotations

import enum
import re
import uuid
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from app.errors import InvalidInput, ServiceError
from app.web.i18n import Language
from app.web.templating import TEHRAN
from models.identity import Role

E = TypeVar("E", bound=enum.Enum)


def N_(message: str) -> str:
    return message


NOT_A_CHOICE = N_("Choose one of the listed values.")
NOT_A_DATE = N_("Not a date; pick one from the calendar (e.g. 2026-05-01).")
NOT_AN_ID = N_("Choose one from the list.")
REQUIRED = N_("This field is required.")


def text(form: dict[str, str], name: str) -> str | None:
    value = form.get(name, "").strip()
    return value or None


def required(form: dict[str, str], name: str) -> str:
    value = text(form, name)
    if value is None:
        raise InvalidInput(REQUIRED, field=name)
    return value


def choice(kind: type[E], value: str | None, field: str) -> E | None:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(NOT_A_CHOICE, field=field) from None


def required_choice(kind: type[E], form: dict[str, str], field: str) -> E:
    chosen = choice(kind, required(form, field), field)
    assert chosen is not None
    return chosen


def required_id(form: dict[str, str], field: str) -> uuid.UUID:
    chosen = identifier(required(form, field), field)
    assert chosen is not None
    return chosen


def words(form: dict[str, str], field: str) -> list[str]:
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
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(NOT_A_DATE, field=field) from None


def moment(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(NOT_A_DATE, field=field) from None


def start_of(day: date | None, *, following: bool = False) -> datetime | None:
    """The first moment of `day` in Tehran (of the day after, for an inclusive end)."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1 if following else 0), time(), TEHRAN)


ADMINS = frozenset({Role.admin})
ADMIN_READERS = frozenset({Role.admin, Role.inspector})  # inspectors read the identities
# The services' messages that name a value (and so cannot be in the catalogue as they are):
# the page's wording for their field, with the service's words after it.
IDENTITY_FALLBACKS = {
    ("gln", 422): N_("Not a valid GLN: 13 digits ending in a correct check digit."),
    ("gln", 409): N_("This GLN is already registered."),
    ("company_prefixes", 422): N_(
        "A GS1 company prefix is 4 to 12 digits, and one must not lie inside another."
    ),
    ("company_prefixes", 409): N_("This company prefix overlaps one held by another company."),
    ("username", 409): N_("This username is taken."),
    ("password", 422): N_("The password is too short."),
    ("role", 422): N_("This role does not fit the kind of the organisation."),
}
# The services' fixed messages, translated as they are.
SERVICE_MESSAGES = (
    N_("username: must not be empty."),
    N_("name: must not be empty."),
    N_("organization_id: no organisation with this id."),
    N_("facility_id: no facility with this id in the user's organisation."),
    N_("facility_id: no facility with this id that you manage."),
    N_("This device's key is already revoked."),
    N_("No device with this id."),
    N_("No user with this id."),
)


def failed(error: ServiceError) -> int:
    """The status of a form sent back with its problem: 422 for plain bad input."""
    return error.status_code if error.status_code != 400 else 422


def field_errors(
    language: Language,
    error: ServiceError,
    fallbacks: dict[tuple[str, int], str] | None = IDENTITY_FALLBACKS,
) -> dict[str, str]:
    """`{field: message}` for the form: the service's message if the catalogue translates it,
    else the page's wording for that field and status, else the message as the service wrote
    it (which names the value at fault); under the form (`""`) when it names no field."""
    field = str(error.extra.get("field") or "")
    known = language.gettext(error.detail)
    if known == error.detail and language.code != "en":
        fallback = (fallbacks or {}).get((field, error.status_code))
        if fallback:
            known = f"{language.gettext(fallback)} ({error.detail})"
    return {field: known}
