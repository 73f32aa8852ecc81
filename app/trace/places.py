"""Facilities as traces and inventories show them: with their organisation, names in Persian and
English, and province. Read with plain SQL, a few dozen at a time."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

Connection = psycopg.AsyncConnection[Any]


@dataclass(frozen=True)
class Organisation:
    gln: str
    name: str
    name_fa: str
    kind: str


@dataclass(frozen=True)
class Place:
    gln: str
    name: str
    name_fa: str
    province: str
    city: str
    organization: Organisation


# A place's columns, as `places_of` reads them after the facility's id (or key).
PLACE_FIELDS = "f.gln, f.name, f.name_fa, f.province, f.city, o.gln, o.name, o.name_fa, o.kind"
PLACE_FROM = "facilities f JOIN organizations o ON o.id = f.organization_id"
_PLACES = f"SELECT f.id, {PLACE_FIELDS} FROM {PLACE_FROM} WHERE f.id = ANY(%s)"  # noqa: S608
_OWN = "SELECT id FROM facilities WHERE organization_id = %s"
_BY_GLN = "SELECT id, organization_id FROM facilities WHERE gln = %s"


async def places(connection: Connection, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, Place]:
    wanted = list({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = await (await connection.execute(_PLACES, (wanted,))).fetchall()
    return places_of(rows)


def places_of(rows: Iterable[Sequence[Any]]) -> dict[Any, Place]:
    """Rows of a key and `PLACE_FIELDS`, by key."""
    return {
        row[0]: Place(row[1], row[2], row[3], row[4], row[5], Organisation(*row[6:10]))
        for row in rows
    }


async def own_facilities(connection: Connection, organization_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await (await connection.execute(_OWN, (organization_id,))).fetchall()
    return [row[0] for row in rows]


async def facility_by_gln(connection: Connection, gln: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(facility id, organisation id), or None."""
    row = await (await connection.execute(_BY_GLN, (gln,))).fetchone()
    return (row[0], row[1]) if row else None
