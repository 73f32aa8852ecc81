"""Tracing packs and batches: where a batch's packs are now (distribution), every facility a
batch reached and every pharmacy or hospital that dispensed it (forward trace), and the steps
that brought one pack from its manufacturer or importer to where it is (backward trace).

Who sees what ("an organisation sees its own stock and events and nothing of another's;
inspectors see all"):
- inspectors and admins see everything;
- an organisation sees the packs in its own custody (held at one of its facilities, or in
  transit from or to one of them) and the events recorded at its own facilities (or shipping to
  them) — the owner of a batch included: once its packs are a distributor's stock, where they go
  next is the distributor's business, and the inspectors' to follow;
- a batch or pack the organisation has nothing of is reported as missing (404), like any other
  organisation's object. The pack's origin (the organisation that commissioned it, printed on the
  pack) is shown to whoever may trace the pack; the origin's facility only to its organisation.

Counts come from the pack state projection (`packs`, updated from events in the same
transaction), its custody groups per batch (`batch_custody`, kept in the same transaction) and
from the event log (`pack_events`, `events`), in plain SQL: a batch can hold a million packs."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from app.auth.principal import Principal
from app.catalog.service import gtin_of
from app.errors import NotFound
from app.scoping import ensure_pack_handled
from app.trace.places import (
    PLACE_FIELDS,
    PLACE_FROM,
    Connection,
    Organisation,
    Place,
    own_facilities,
    places,
    places_of,
)
from models.events import BUSINESS_STEP, Action

Scope = Literal["all", "own"]


@dataclass(frozen=True)
class Product:
    gtin: str
    name: str
    name_fa: str


@dataclass(frozen=True)
class BatchHeader:
    product: Product
    lot: str
    expiry: date
    owner: Organisation
    owner_id: uuid.UUID


# --- distribution -------------------------------------------------------------------------


@dataclass(frozen=True)
class HolderCount:
    facility: Place
    packs: int
    by_status: dict[str, int]


@dataclass(frozen=True)
class ProvinceCount:
    province: str
    packs: int
    by_status: dict[str, int]


@dataclass(frozen=True)
class TransitCount:
    from_facility: Place | None
    to_facility: Place | None
    packs: int
    by_status: dict[str, int]


@dataclass(frozen=True)
class Distribution:
    product: Product
    lot: str
    expiry: date
    owner: Organisation
    scope: Scope
    packs: int  # the packs counted below (all of the batch's, or those in the caller's custody)
    by_status: dict[str, int]
    held: int
    in_transit: int
    holders: list[HolderCount]  # most packs first
    provinces: list[ProvinceCount]  # of the holders; packs in transit are in `transit`
    transit: list[TransitCount]


_BATCH = """
SELECT b.organization_id, b.expiry, pr.name, pr.name_fa, o.gln, o.name, o.name_fa, o.kind
FROM batches b
JOIN products pr ON pr.gtin = b.gtin
JOIN organizations o ON o.id = b.organization_id
WHERE b.gtin = %s AND b.lot = %s
"""
# The batch's custody groups as kept with the packs (app/indicators/summaries.py; the nil UUID
# for no custody): a few thousand rows at most, where counting the packs read a million.
_DISTRIBUTION = """
SELECT status, nullif(holder_id, %(none)s)::text, nullif(transit_from_id, %(none)s)::text,
       nullif(transit_to_id, %(none)s)::text, packs
FROM batch_custody
WHERE gtin = %(gtin)s AND lot = %(lot)s AND packs > 0 {own}
"""
_OWN_CUSTODY = (
    "AND (holder_id = ANY(%(own)s) OR transit_from_id = ANY(%(own)s)"
    " OR transit_to_id = ANY(%(own)s))"
)
# The facilities of those groups, named in the statement rather than sent as a list of ids
# (sending 500 ids took longer than reading their places). Ids are read as text here: making
# a thousand UUID objects took longer than the statements.
_CUSTODY_PLACES = f"""
SELECT f.id::text, {PLACE_FIELDS} FROM {PLACE_FROM}
WHERE f.id IN (SELECT unnest(ARRAY[holder_id, transit_from_id, transit_to_id])
               FROM batch_custody
               WHERE gtin = %(gtin)s AND lot = %(lot)s AND packs > 0 {{own}})
"""  # noqa: S608 (constants only)
_IN_CUSTODY = "SELECT 1 FROM packs WHERE gtin = %(gtin)s AND lot = %(lot)s {own} LIMIT 1"


async def distribution(
    connection: Connection, principal: Principal, gtin: str, lot: str
) -> Distribution:
    header = await _batch(connection, gtin, lot)
    own = None if principal.reads_everything else await _own(connection, principal)
    query = _DISTRIBUTION.format(own=_OWN_CUSTODY if own is not None else "")
    params: dict[str, Any] = {
        "gtin": header.product.gtin, "lot": header.lot, "own": own, "none": uuid.UUID(int=0)
    }  # fmt: skip
    rows = await (await connection.execute(query, params)).fetchall()
    _ensure_involved(principal, header, bool(rows))

    custody_places = _CUSTODY_PLACES.format(own=_OWN_CUSTODY if own is not None else "")
    sites = places_of(await (await connection.execute(custody_places, params)).fetchall())
    by_status: Counter[str] = Counter()
    holders: dict[str, Counter[str]] = defaultdict(Counter)  # by facility id, as text
    transit: dict[tuple[str | None, str | None], Counter[str]] = defaultdict(Counter)
    for status, holder, source, destination, count in rows:
        by_status[status] += count
        if destination is not None or holder is None:
            transit[(source, destination)][status] += count
        else:
            holders[holder][status] += count
    provinces: dict[str, Counter[str]] = defaultdict(Counter)
    for holder, counts in holders.items():
        provinces[sites[holder].province].update(counts)
    held = sum(sum(c.values()) for c in holders.values())
    return Distribution(
        product=header.product,
        lot=header.lot,
        expiry=header.expiry,
        owner=header.owner,
        scope="all" if own is None else "own",
        packs=sum(by_status.values()),
        by_status=dict(by_status.most_common()),
        held=held,
        in_transit=sum(by_status.values()) - held,
        holders=sorted(
            (HolderCount(sites[h], c.total(), dict(c.most_common())) for h, c in holders.items()),
            key=lambda h: (-h.packs, h.facility.gln),
        ),
        provinces=sorted(
            (ProvinceCount(p, c.total(), dict(c.most_common())) for p, c in provinces.items()),
            key=lambda p: (-p.packs, p.province),
        ),
        transit=sorted(
            (
                TransitCount(
                    sites.get(s) if s else None,
                    sites.get(d) if d else None,
                    c.total(),
                    dict(c.most_common()),
                )
                for (s, d), c in transit.items()
            ),
            key=lambda t: -t.packs,
        ),
    )


# --- forward trace ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reached:
    facility: Place
    commissioned: int  # packs of the batch commissioned there
    received: int  # packs of the batch received there (each once, however often it arrived)
    first_at: datetime  # its first and last recorded step with the batch
    last_at: datetime


@dataclass(frozen=True)
class Dispenser:
    facility: Place
    dispensed: int  # packs of the batch dispensed there (and not undone)
    first_dispensed_at: datetime
    last_dispensed_at: datetime


@dataclass(frozen=True)
class BatchTrace:
    product: Product
    lot: str
    expiry: date
    owner: Organisation
    scope: Scope
    facilities: list[Reached]  # in the order the batch first reached them
    dispensers: list[Dispenser]  # most packs first


# Where the batch went, from the event log: commissioning (one event for many packs) and every
# recorded step of its packs (refused attempts changed nothing and are not steps). One pass over
# the product's pack events, kept to the batch by a semi-join on the packs' primary key, and
# grouped by facility only (no per-pack grouping: a million packs make millions of rows).
# Received means distinct packs that arrived: a pack scanned twice on receipt, or received there
# again later, is one pack; a receipt of a pack no longer active (recorded offline) did not bring
# it in, and a pack missing from its case on receipt is recorded as taken out of the case.
# The DISTINCT sorts the batch's pack events by facility and serial; serials compare bytewise
# ("C", the same equality as the database's deterministic collation), which is 10-25 % faster
# than the locale's comparison. Counting the receipts' distinct (facility, serial) pairs apart
# (a second semi-join) was faster only once the planner had statistics, and hashing those pairs
# only while they fit in work_mem (100,000 packs, not 1,000,000); see README, performance.
_FORWARD = """
WITH commissioned AS (
    SELECT c.facility_id, sum(b.packs) AS packs, min(c.event_time) AS first_at,
           max(c.event_time) AS last_at
    FROM (
        SELECT commission_event_id, count(*) AS packs FROM packs
        WHERE gtin = %(gtin)s AND lot = %(lot)s GROUP BY commission_event_id
    ) b
    JOIN events c ON c.event_id = b.commission_event_id
    WHERE TRUE {own_c}
    GROUP BY c.facility_id
), stepped AS (
    SELECT e.facility_id,
           count(DISTINCT e.serial COLLATE "C")
             FILTER (WHERE e.action = 'receive' AND e.status_before = 'active') AS received,
           min(e.event_time) AS first_at, max(e.event_time) AS last_at
    FROM pack_events e
    WHERE e.gtin = %(gtin)s AND e.outcome <> 'refused' {own_e}
      AND EXISTS (
          SELECT 1 FROM packs p WHERE p.gtin = e.gtin AND p.serial = e.serial AND p.lot = %(lot)s
      )
    GROUP BY e.facility_id
)
SELECT coalesce(s.facility_id, c.facility_id), coalesce(c.packs, 0)::int,
       coalesce(s.received, 0)::int, least(s.first_at, c.first_at),
       greatest(s.last_at, c.last_at)
FROM stepped s FULL JOIN commissioned c ON c.facility_id = s.facility_id
"""
# Who dispensed the batch, from the projection: packs now dispensed, by where and when that
# happened. An undone dispense is not counted; the same serial dispensed again elsewhere (a
# cloned code) is an alert, and in the pack's history.
_DISPENSERS = """
SELECT status_facility_id, count(*), min(status_at), max(status_at)
FROM packs
WHERE gtin = %(gtin)s AND lot = %(lot)s AND status = 'dispensed' {own}
GROUP BY status_facility_id
"""


async def batch_trace(
    connection: Connection, principal: Principal, gtin: str, lot: str
) -> BatchTrace:
    header = await _batch(connection, gtin, lot)
    own = None if principal.reads_everything else await _own(connection, principal)
    scoped = own is not None
    params: dict[str, Any] = {"gtin": header.product.gtin, "lot": header.lot, "own": own}
    forward = _FORWARD.format(
        own_c="AND c.facility_id = ANY(%(own)s)" if scoped else "",
        own_e="AND e.facility_id = ANY(%(own)s)" if scoped else "",
    )
    rows = await (await connection.execute(forward, params)).fetchall()
    dispensing = _DISPENSERS.format(own="AND status_facility_id = ANY(%(own)s)" if scoped else "")
    dispensed = await (await connection.execute(dispensing, params)).fetchall()
    involved = bool(rows)
    if not involved and scoped:  # packs on their way to the caller reached no one yet
        custody = _IN_CUSTODY.format(own=_OWN_CUSTODY)
        involved = await (await connection.execute(custody, params)).fetchone() is not None
    _ensure_involved(principal, header, involved)
    sites = await places(connection, [row[0] for row in rows] + [row[0] for row in dispensed])
    return BatchTrace(
        product=header.product,
        lot=header.lot,
        expiry=header.expiry,
        owner=header.owner,
        scope="own" if scoped else "all",
        facilities=sorted(
            (Reached(sites[r[0]], r[1], r[2], r[3], r[4]) for r in rows),
            key=lambda r: (r.first_at, r.facility.gln),
        ),
        dispensers=sorted(
            (Dispenser(sites[r[0]], r[1], r[2], r[3]) for r in dispensed),
            key=lambda d: (-d.dispensed, d.facility.gln),
        ),
    )


# --- backward trace -----------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    event_id: uuid.UUID
    action: str
    business_step: str
    event_time: datetime
    recorded_at: datetime
    facility: Place | None
    destination: Place | None
    outcome: str  # ok, or warning (recorded despite a conflict, e.g. offline)
    status_after: str | None
    offline: bool


@dataclass(frozen=True)
class Origin:
    organization: Organisation
    facility: Place | None  # shown to inspectors and to the organisation itself
    commissioned_at: datetime


@dataclass(frozen=True)
class Whereabouts:
    status: str
    in_transit: bool
    returning: bool  # in transit as a return, whatever the destination
    facility: Place | None  # the holder (for a decommissioned pack: where that happened)
    from_facility: Place | None
    to_facility: Place | None


@dataclass(frozen=True)
class PackTrace:
    product: Product
    serial: str
    lot: str
    expiry: date
    scope: Scope
    origin: Origin
    steps: list[Step]  # in the order they happened (event time), commissioning first
    now: Whereabouts | None  # None when the pack is in another organisation's custody


_PACK = """
SELECT p.lot, b.expiry, pr.name, pr.name_fa, p.status, p.holder_id, p.transit_from_id,
       p.transit_to_id, c.event_id, c.facility_id, c.event_time, c.recorded_at, p.in_return
FROM packs p
JOIN batches b ON b.gtin = p.gtin AND b.lot = p.lot
JOIN products pr ON pr.gtin = p.gtin
JOIN events c ON c.event_id = p.commission_event_id
WHERE p.gtin = %s AND p.serial = %s
"""
_STEPS = """
SELECT event_id, action, facility_id, destination_id, event_time, recorded_at, outcome,
       status_after, offline
FROM pack_events
WHERE gtin = %s AND serial = %s AND outcome <> 'refused'
ORDER BY version NULLS FIRST, recorded_at, event_time
"""


async def pack_trace(
    connection: Connection, principal: Principal, gtin: str, serial: str
) -> PackTrace:
    gtin = gtin_of(gtin)
    row = await (await connection.execute(_PACK, (gtin, serial))).fetchone()
    if row is None:
        raise NotFound(f"No pack {serial} of GTIN {gtin}.")
    (lot, expiry, name, name_fa, status, holder, source, destination) = row[0:8]
    commission_id, commission_site, commissioned_at, commission_recorded, returning = row[8:13]
    own = None if principal.reads_everything else set(await _own(connection, principal))

    def visible(*sites: uuid.UUID | None) -> bool:
        return own is None or any(site in own for site in sites if site is not None)

    events = await (await connection.execute(_STEPS, (gtin, serial))).fetchall()
    event_sites = [site for e in events for site in (e[2], e[3])]
    ensure_pack_handled(
        own, [commission_site, holder, source, destination, *event_sites], gtin, serial
    )
    events = [e for e in events if visible(e[2], e[3])]
    custody_visible = visible(holder, source, destination)
    sites = await places(
        connection,
        [commission_site, holder, source, destination, *(e[2] for e in events)]
        + [e[3] for e in events],
    )
    steps = [
        Step(
            event_id=commission_id,
            action=Action.commission.value,
            business_step=BUSINESS_STEP[Action.commission],
            event_time=commissioned_at,
            recorded_at=commission_recorded,
            facility=sites[commission_site],
            destination=None,
            outcome="ok",
            status_after="active",
            offline=False,
        )
    ]
    if not visible(commission_site):
        steps = []
    steps += [
        Step(
            event_id=e[0],
            action=e[1],
            business_step=BUSINESS_STEP[Action(e[1])],
            event_time=e[4],
            recorded_at=e[5],
            facility=sites.get(e[2]),
            destination=sites.get(e[3]) if e[3] else None,
            outcome=e[6],
            status_after=e[7],
            offline=e[8],
        )
        for e in events
    ]
    now = Whereabouts(
        status=status,
        in_transit=destination is not None,
        returning=returning,
        facility=sites.get(holder) if holder else None,
        from_facility=sites.get(source) if source else None,
        to_facility=sites.get(destination) if destination else None,
    )
    return PackTrace(
        product=Product(gtin, name, name_fa),
        serial=serial,
        lot=lot,
        expiry=expiry,
        scope="all" if own is None else "own",
        origin=Origin(
            organization=sites[commission_site].organization,
            facility=sites[commission_site] if visible(commission_site) else None,
            commissioned_at=commissioned_at,
        ),
        steps=steps,
        now=now if custody_visible else None,
    )


# --- shared -------------------------------------------------------------------------------


async def _batch(connection: Connection, gtin: str, lot: str) -> BatchHeader:
    gtin = gtin_of(gtin)
    row = await (await connection.execute(_BATCH, (gtin, lot))).fetchone()
    if row is None:
        raise NotFound(f"No batch {lot} of GTIN {gtin}.")
    return BatchHeader(
        product=Product(gtin, row[2], row[3]),
        lot=lot,
        expiry=row[1],
        owner=Organisation(*row[4:8]),
        owner_id=row[0],
    )


async def _own(connection: Connection, principal: Principal) -> list[uuid.UUID]:
    return await own_facilities(connection, principal.organization_id)


def _ensure_involved(principal: Principal, header: BatchHeader, found: bool) -> None:
    """A batch an organisation neither owns nor has handled is another organisation's: 404,
    worded as for a batch that does not exist."""
    if found or principal.may_read_organization(header.owner_id):
        return
    raise NotFound(f"No batch {header.lot} of GTIN {header.product.gtin}.")


# --- the batch's packs by state, and page by page -----------------------------------------

# Where an active pack is, by the kind of organisation holding it.
_STOCK_OF_KIND = {
    "manufacturer": "at_owner",
    "importer": "at_owner",
    "distributor": "in_warehouse",
    "pharmacy": "in_dispenser_stock",
    "hospital": "in_dispenser_stock",
}
STATES = (
    "at_owner",
    "in_warehouse",
    "in_dispenser_stock",
    "in_transit",
    "quarantined",
    "dispensed",
    "exported",
    "sample",
    "free_sample",
    "checked_out",
    "destroyed",
    "stolen",
)


def batch_states(found: Distribution) -> dict[str, int]:
    """The packs of a distribution by state, each counted once (the states add up to
    `found.packs`): saleable stock by the kind of site holding it, in transit, quarantined
    (locked), and every decommissioned status as it is."""
    states = dict.fromkeys(STATES, 0)

    def count(status: str, stock: str, packs: int) -> None:
        state = stock if status == "active" else ("quarantined" if status == "locked" else status)
        states[state] = states.get(state, 0) + packs

    for holder in found.holders:
        stock = _STOCK_OF_KIND.get(holder.facility.organization.kind, "in_warehouse")
        for status, packs in holder.by_status.items():
            count(status, stock, packs)
    for route in found.transit:
        for status, packs in route.by_status.items():
            count(status, "in_transit", packs)
    return states


@dataclass(frozen=True)
class BatchPack:
    serial: str
    status: str
    where: Place | None  # the holder, or the destination while in transit
    in_transit: bool
    status_at: datetime


# Keyset paging on the primary key: a page costs the same at the millionth pack as at the first.
_PACKS = """
SELECT serial, status, coalesce(transit_to_id, holder_id), transit_to_id IS NOT NULL, status_at
FROM packs
WHERE gtin = %(gtin)s AND lot = %(lot)s AND serial > %(after)s {own}
ORDER BY serial
LIMIT %(limit)s
"""


async def batch_packs(
    connection: Connection, principal: Principal, gtin: str, lot: str, after: str, limit: int
) -> list[BatchPack]:
    """The batch's packs after serial `after`, as many as the distribution counts for the caller:
    all of them for inspectors, those in its custody for an organisation."""
    header = await _batch(connection, gtin, lot)
    own = None if principal.reads_everything else await _own(connection, principal)
    query = _PACKS.format(own=_OWN_CUSTODY if own is not None else "")
    params = {"gtin": header.product.gtin, "lot": header.lot, "own": own, "after": after}
    rows = await (await connection.execute(query, params | {"limit": limit})).fetchall()
    if not rows and not after:
        _ensure_involved(principal, header, False)
    sites = await places(connection, (row[2] for row in rows))
    return [BatchPack(r[0], r[1], sites.get(r[2]) if r[2] else None, r[3], r[4]) for r in rows]


@dataclass(frozen=True)
class BatchStanding:
    owner_id: uuid.UUID
    overlay: str | None  # recalled or withdrawn, by a recall
    recall_id: uuid.UUID | None


async def batch_standing(connection: Connection, gtin: str, lot: str) -> BatchStanding:
    """Whose the batch is and whether a recall covers it; read after a scoped read of the batch
    (distribution, trace), which decides whether the caller may see it at all."""
    row = await (
        await connection.execute(
            "SELECT organization_id, overlay, recall_id FROM batches WHERE gtin = %s AND lot = %s",
            (gtin_of(gtin), lot),
        )
    ).fetchone()
    if row is None:
        raise NotFound(f"No batch {lot} of GTIN {gtin}.")
    return BatchStanding(row[0], row[1], row[2])
