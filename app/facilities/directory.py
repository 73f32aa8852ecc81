"""Facilities as the hot paths need them (events name where they happen and where packs go):
read with plain SQL and kept in memory, since they are few and rarely change. Only facilities
that exist are cached, so one registered a moment ago is found at once; renames show within
`ttl` seconds (at once in the process that made them)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from app.auth.principal import Principal
from app.errors import InvalidInput
from app.scoping import checked_key
from models.gs1 import validate_gln

_SELECT = "SELECT id, gln, name, organization_id FROM facilities WHERE "


@dataclass(frozen=True)
class Site:
    id: uuid.UUID
    gln: str
    name: str
    organization_id: uuid.UUID

    @property
    def label(self) -> str:
        return f"{self.name} ({self.gln})"


class FacilityDirectory:
    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._by_id: dict[uuid.UUID, tuple[float, Site]] = {}
        self._by_gln: dict[str, tuple[float, Site]] = {}

    async def by_id(
        self, connection: psycopg.AsyncConnection[Any], site_id: uuid.UUID
    ) -> Site | None:
        cached = self._by_id.get(site_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        return await self._load(connection, "id = %s", site_id)

    async def by_gln(self, connection: psycopg.AsyncConnection[Any], gln: str) -> Site | None:
        cached = self._by_gln.get(gln)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        return await self._load(connection, "gln = %s", gln)

    async def sites(
        self, connection: psycopg.AsyncConnection[Any], ids: Iterable[uuid.UUID | None]
    ) -> dict[uuid.UUID, Site]:
        sites = {}
        for site_id in {i for i in ids if i is not None}:
            site = await self.by_id(connection, site_id)
            if site is not None:
                sites[site_id] = site
        return sites

    def clear(self) -> None:
        self._by_id.clear()
        self._by_gln.clear()

    async def _load(
        self, connection: psycopg.AsyncConnection[Any], condition: str, value: object
    ) -> Site | None:
        row = await (await connection.execute(_SELECT + condition, (value,))).fetchone()
        if row is None:
            return None
        site = Site(*row)
        until = time.monotonic() + self.ttl
        self._by_id[site.id] = (until, site)
        self._by_gln[site.gln] = (until, site)
        return site


async def acting_site(
    directory: FacilityDirectory,
    connection: psycopg.AsyncConnection[Any],
    principal: Principal,
    facility_gln: str | None,
) -> Site:
    """Where the caller acts: a device's own facility; for a user, the facility named in the
    request (one of their organisation's) or else their home facility."""
    if principal.kind == "device" or facility_gln is None:
        home = (
            await directory.by_id(connection, principal.facility_id)
            if principal.facility_id
            else None
        )
        if home is None:
            raise InvalidInput(
                "facility_gln: you have no home facility; say where this happens.",
                field="facility_gln",
            )
        if facility_gln is not None and facility_gln.strip() != home.gln:
            raise InvalidInput(
                f"facility_gln: this device belongs to facility {home.gln}.", field="facility_gln"
            )
        return home
    gln = checked_key(validate_gln, facility_gln, "facility_gln")
    found = await directory.by_gln(connection, gln)
    if found is None or found.organization_id != principal.organization_id:
        raise InvalidInput(
            f"facility_gln: {gln} is not one of your organisation's facilities.",
            field="facility_gln",
        )
    return found


async def registered_site(
    directory: FacilityDirectory, connection: psycopg.AsyncConnection[Any], gln: str, field: str
) -> Site:
    """Any registered facility (a shipment's destination may belong to anyone)."""
    gln = checked_key(validate_gln, gln, field)
    found = await directory.by_gln(connection, gln)
    if found is None:
        raise InvalidInput(f"{field}: no facility is registered with GLN {gln}.", field=field)
    return found
