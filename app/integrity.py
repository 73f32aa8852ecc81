"""The database's refusals as the problems a person reads, in one place for every service: a row
that already exists is a 409 naming it (two registrations of one GLN racing past the services'
own checks), a reference to something that does not exist a 422 naming what is missing, a
missing value or a value a check constraint refuses a 422. Read from what PostgreSQL reports: the
constraint's name (deterministic, models/base.py) and the key in the error's detail.

The ORM's statements are translated as they fail (`raise_translated`, hooked into the engine),
so a console form shows the refusal beside its field as it shows any ServiceError; the app's
exception handler translates the rest (plain SQL on the hot paths)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import psycopg
from psycopg import errors
from sqlalchemy.engine import ExceptionContext

from app.errors import Conflict, InvalidInput, ServiceError
from app.web.vocabulary import N_
from models.translatable import Translatable

log = logging.getLogger("darutrace.integrity")

# "Key (gtin, lot)=(06260009990017, L1) already exists." / "… is not present in table "batches"."
_DETAIL = re.compile(
    r"Key (?:\((?P<columns>.+?)\)=\((?P<values>.*)\) )?(?:(?P<exists>already exists)"
    r'|is (?P<still>still referenced from|not present in) table "(?P<other>[^"]+)")'
)
# "update or delete on table "facilities" violates foreign key constraint …"
_FIRST_TABLE = re.compile(r'on table "(?P<table>[^"]+)"')


@dataclass(frozen=True)
class Refusal:
    """What the database refused: the constraint, the table, and the key named in its detail."""

    constraint: str
    table: str
    columns: tuple[str, ...]
    values: tuple[str, ...]
    # For a foreign key: the table referred to; or, when a row others refer to was to be
    # deleted or re-keyed (`still_referenced`), the table that refers to it.
    other_table: str
    still_referenced: bool

    @property
    def column(self) -> str:
        return ", ".join(self.columns)

    @property
    def key(self) -> str:
        if any("hash" in column for column in self.columns):
            return self.column  # a credential's hash is not repeated
        return ", ".join(self.values)

    def value(self, column: str) -> str:
        return dict(zip(self.columns, self.values, strict=False)).get(column, "")


def refusal_of(error: psycopg.Error) -> Refusal:
    diag = error.diag
    found = _DETAIL.match(diag.message_detail or "")
    listed = found["columns"] if found and found["columns"] else ""
    columns = tuple(c.strip() for c in listed.split(",")) if listed else ()
    values = tuple(found["values"].split(", ", len(columns) - 1)) if found and columns else ()
    table, other = diag.table_name or "", (found["other"] or "") if found else ""
    still = bool(found and found["still"] == "still referenced from")
    if still:
        # The table named in the detail refers; the refused change was to the table it refers to.
        first = _FIRST_TABLE.search(diag.message_primary or "")
        table = first["table"] if first else ""
    return Refusal(
        constraint=diag.constraint_name or "",
        table=table,
        columns=columns,
        values=values if len(values) == len(columns) else (),
        other_table=other,
        still_referenced=still,
    )


def translated(error: BaseException) -> ServiceError | None:
    """The ServiceError an integrity error (psycopg's, or SQLAlchemy's around it) means; None
    for any other error."""
    driver = getattr(error, "orig", None) or error
    if not isinstance(driver, psycopg.IntegrityError):
        return None
    refusal = refusal_of(driver)
    log.warning(
        "refused by %s on %s: %s", refusal.constraint, refusal.table, driver.diag.message_detail
    )
    if isinstance(driver, errors.UniqueViolation | errors.ExclusionViolation):
        return _exists(refusal)
    if isinstance(driver, errors.ForeignKeyViolation):
        return _still_referenced(refusal) if refusal.still_referenced else _missing(refusal)
    if isinstance(driver, errors.NotNullViolation):
        column = driver.diag.column_name or ""
        return InvalidInput(
            Translatable("%(column)s is required; nothing was saved.", column=column),
            field=column,
        )
    if isinstance(driver, errors.CheckViolation):
        # Not the detail: it lists the whole failing row (a user's password hash, say).
        return InvalidInput(
            Translatable(
                "A value is not allowed (%(constraint)s); nothing was saved.",
                constraint=refusal.constraint,
            )
        )
    return Conflict(
        Translatable(
            "The change conflicts with the register (%(constraint)s); nothing was saved.",
            constraint=refusal.constraint,
        )
    )


def raise_translated(context: ExceptionContext) -> None:
    """SQLAlchemy's `handle_error` hook: an integrity error leaves the ORM as its ServiceError
    (the original chained to it)."""
    problem = translated(context.original_exception)
    if problem is not None:
        raise problem


def refers_to_missing_facility(error: BaseException) -> bool:
    """A reference to a facility that does not exist: a copy of the facilities kept in memory
    (the events' directory) has outlived the rows it copied."""
    driver = getattr(error, "orig", None) or error
    if not isinstance(driver, errors.ForeignKeyViolation):
        return False
    refusal = refusal_of(driver)
    return refusal.other_table == "facilities" and not refusal.still_referenced


def _exists(refusal: Refusal) -> Conflict:
    value = refusal.value
    if refusal.constraint == "pk_products":
        said = Translatable(
            "A product with GTIN %(gtin)s is already registered.", gtin=value("gtin")
        )
        return Conflict(said, field="gtin")
    if refusal.constraint == "pk_batches":
        said = Translatable(
            "Batch %(lot)s of GTIN %(gtin)s is already registered.",
            lot=value("lot"),
            gtin=value("gtin"),
        )
        return Conflict(said, field="lot")
    if refusal.constraint == "uq_organizations_gln":
        said = Translatable(
            "An organisation with GLN %(gln)s is already registered.", gln=value("gln")
        )
        return Conflict(said, field="gln")
    if refusal.constraint == "uq_facilities_gln":
        said = Translatable("A facility with GLN %(gln)s is already registered.", gln=value("gln"))
        return Conflict(said, field="gln")
    if refusal.constraint == "uq_users_username":
        said = Translatable("The username '%(username)s' is taken.", username=value("username"))
        return Conflict(said, field="username")
    return Conflict(
        Translatable(
            "%(table)s (%(columns)s) %(key)s is already recorded; nothing was saved.",
            table=refusal.table,
            columns=refusal.column,
            key=refusal.key,
        )
    )


# A missing reference, by the table it refers to.
_MISSING = {
    "facilities": N_("%(column)s: no facility %(key)s is registered; nothing was saved."),
    "organizations": N_("%(column)s: no organisation %(key)s is registered; nothing was saved."),
    "products": N_("%(column)s: no product with GTIN %(key)s is registered; nothing was saved."),
    "batches": N_("%(column)s: no batch %(key)s is registered; nothing was saved."),
    "events": N_("%(column)s: no event %(key)s is recorded; nothing was saved."),
    "containers": N_("%(column)s: no case %(key)s was packed; nothing was saved."),
    "recalls": N_("%(column)s: no recall %(key)s was issued; nothing was saved."),
    "users": N_("%(column)s: no user %(key)s is registered; nothing was saved."),
}


def _missing(refusal: Refusal) -> InvalidInput:
    template = _MISSING.get(refusal.other_table)
    if template is None:
        said = Translatable(
            "%(column)s: %(key)s is not in %(other)s; nothing was saved.",
            column=refusal.column,
            key=refusal.key,
            other=refusal.other_table,
        )
    else:
        said = Translatable(template, column=refusal.column, key=refusal.key)
    return InvalidInput(said, field=refusal.column)


def _still_referenced(refusal: Refusal) -> Conflict:
    return Conflict(
        Translatable(
            "%(table)s %(key)s is still referred to by %(other)s; nothing was changed.",
            table=refusal.table,
            key=refusal.key,
            other=refusal.other_table,
        )
    )
