"""Each recall's progress kept as counts (`recall_progress`: packs per recall, category and
facility), moved in the transaction of every pack update and commissioning that touches a
recalled batch, so that the progress page reads a few hundred rows however many packs a recall
reaches. A pack's category is decided by one CASE (`category_case`), the same for the counts
kept here and for the paged list of packs (migration 0019's backfill holds a frozen copy)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg

if TYPE_CHECKING:
    from app.events.rows import PackUpdate

Connection = psycopg.AsyncConnection[Any]

SUPPLIED = ("dispensed", "exported", "sample", "free_sample", "checked_out")
_SUPPLIED = "('" + "', '".join(SUPPLIED) + "')"
# No facility (a pack tied to none) is the nil UUID here, as the column is in the primary key.
NIL = uuid.UUID(int=0)


def category_case(owner: str, supplied_before: str) -> str:
    """The category of a pack `p` (its status, custody and `in_return`), `holder` and `dest`
    its holder's and destination's facilities; `owner` names the product owner's organisation
    and `supplied_before` says whether the pack was supplied before the recall was issued."""
    return f"""
       CASE
         WHEN p.status = 'destroyed' THEN 'destroyed'
         WHEN p.status = 'stolen' THEN 'stolen'
         WHEN {supplied_before} THEN 'supplied_before_recall'
         WHEN p.status IN {_SUPPLIED} THEN 'supplied_after_recall'
         WHEN p.transit_to_id IS NOT NULL AND (p.in_return OR dest.organization_id = {owner})
           THEN 'returning'
         WHEN p.transit_to_id IS NOT NULL THEN 'in_transit'
         WHEN holder.organization_id = {owner} THEN 'at_owner'
         WHEN p.status = 'locked' THEN 'quarantined'
         ELSE 'at_holder'
       END"""


def supplied_before(issued_at: str) -> str:
    return f"p.status IN {_SUPPLIED} AND p.status_at < {issued_at}"


# Where a pack is tied: the facility it is on its way to, its holder, or where it was supplied
# or destroyed.
WHERE = "coalesce(p.transit_to_id, p.holder_id, p.status_facility_id)"

# Packs moved between groups, as (batch, state, +n or -n) rows; only the batches under a recall
# count, each in its recall. Grouped first (one row per key, as ON CONFLICT needs) and upserted
# in key order, so that concurrent events queue on a shared row instead of deadlocking.
_MOVE = f"""
INSERT INTO recall_progress AS s (recall_id, category, facility_id, packs)
SELECT b.recall_id,
       {category_case("pr.organization_id", supplied_before("r.issued_at"))},
       coalesce(p.where_id, '{NIL}'::uuid), sum(p.delta)
FROM unnest(%s::char(14)[], %s::text[], %s::text[], %s::timestamptz[], %s::uuid[], %s::uuid[],
            %s::uuid[], %s::bool[], %s::bigint[])
     AS p(gtin, lot, status, status_at, where_id, holder_id, transit_to_id, in_return, delta)
JOIN batches b ON b.gtin = p.gtin AND b.lot = p.lot
JOIN recalls r ON r.id = b.recall_id
JOIN products pr ON pr.gtin = r.gtin
LEFT JOIN facilities holder ON holder.id = p.holder_id
LEFT JOIN facilities dest ON dest.id = p.transit_to_id
GROUP BY 1, 2, 3
HAVING sum(p.delta) <> 0
ORDER BY 1, 2, 3
ON CONFLICT (recall_id, category, facility_id) DO UPDATE SET packs = s.packs + excluded.packs
"""  # noqa: S608 (constants only)
_RECALLED = "SELECT 1 FROM batches WHERE gtin = %s AND lot = %s AND recall_id IS NOT NULL"
# A new recall's counts, from its packs as they are, with every writer of packs held off until
# the recall commits (EXCLUSIVE lets plain reads through; events and commissioning wait): an
# event in flight read the batch as not recalled and moves no count, so it must be done before
# the packs are counted; one that starts later waits, then reads the batch as recalled and moves
# the counts itself. Events take their pack locks before reading whether the batch is recalled,
# and a statement waiting for a table lock takes its snapshot once it has the lock.
_HOLD_WRITERS = "LOCK TABLE packs IN EXCLUSIVE MODE"
_COUNT_RECALL = f"""
INSERT INTO recall_progress (recall_id, category, facility_id, packs)
SELECT %(recall)s, c.category, c.where_id, sum(c.packs)
FROM (SELECT {category_case("%(owner)s", "p.supplied_before")} AS category,
             coalesce(p.where_id, '{NIL}'::uuid) AS where_id, p.packs
      FROM (SELECT p.status, p.supplied_before, p.holder_id, p.transit_to_id, p.in_return,
                   p.where_id, count(*) AS packs
            FROM (SELECT p.status, p.holder_id, p.transit_to_id, p.in_return,
                         {WHERE} AS where_id,
                         {supplied_before("%(issued_at)s")} AS supplied_before
                  FROM packs p
                  WHERE p.gtin = %(gtin)s AND p.lot = ANY(%(lots)s::text[])) p
            GROUP BY 1, 2, 3, 4, 5, 6) p
      LEFT JOIN facilities holder ON holder.id = p.holder_id
      LEFT JOIN facilities dest ON dest.id = p.transit_to_id) c
GROUP BY 1, 2, 3
"""  # noqa: S608


async def count_recall(
    connection: Connection,
    recall_id: uuid.UUID,
    gtin: str,
    lots: Sequence[str],
    owner_id: uuid.UUID,
    issued_at: datetime,
) -> None:
    """The counts of a recall just issued (in its transaction, after its batches are marked)."""
    await connection.execute(_HOLD_WRITERS)
    await connection.execute(
        _COUNT_RECALL,
        {"recall": recall_id, "gtin": gtin, "lots": list(lots), "owner": owner_id,
         "issued_at": issued_at},
    )  # fmt: skip


# A pack's state as far as its category and facility depend on it.
_Key = tuple[
    str, str, str, datetime | None, uuid.UUID | None, uuid.UUID | None, uuid.UUID | None, bool
]


async def move(connection: Connection, changed: Sequence[PackUpdate]) -> None:
    """What pack updates move between a recall's categories and facilities: each pack of a
    recalled batch from its locked row to its new state. One statement, none if no such pack
    moved (most events: no recall; a pack put in a case; a line in its history only)."""
    deltas: Counter[_Key] = Counter()
    for update in changed:
        pack, state = update.pack, update.state
        if pack.overlay is None:  # no recall (read once the pack was locked; see _HOLD_WRITERS)
            continue
        before = _key(pack.gtin, pack.lot, pack.status.value, pack.status_at, pack.holder_id,
                      pack.transit_to_id, pack.status_facility_id, pack.returning)  # fmt: skip
        after = _key(pack.gtin, pack.lot, state.status.value, state.status_at, state.holder_id,
                     state.transit_to_id, state.status_facility_id, state.returning)  # fmt: skip
        if before != after:
            deltas[before] -= 1
            deltas[after] += 1
    await _move(connection, deltas)


async def count_commissioned(
    connection: Connection, gtin: str, lot: str, facility_id: uuid.UUID, count: int
) -> None:
    """`count` new packs of a batch, active at the site that serialized them: counted if the
    batch is recalled already (commissioning holds the batch's row locked, as issuing does, so
    this reads what is committed). Most batches are not: then nothing is written."""
    recalled = await (await connection.execute(_RECALLED, (gtin, lot))).fetchone()
    if recalled is not None:
        key = _key(gtin, lot, "active", None, facility_id, None, facility_id, False)
        await _move(connection, Counter({key: count}))


def _key(
    gtin: str,
    lot: str,
    status: str,
    status_at: datetime | None,
    holder_id: uuid.UUID | None,
    transit_to_id: uuid.UUID | None,
    status_facility_id: uuid.UUID | None,
    returning: bool,
) -> _Key:
    """Only what decides the category: the time only of a supplied pack, whether it travels as
    a return only in transit."""
    return (
        gtin, lot, status, status_at if status in SUPPLIED else None,
        transit_to_id or holder_id or status_facility_id, holder_id, transit_to_id,
        returning and transit_to_id is not None,
    )  # fmt: skip


async def _move(connection: Connection, deltas: Counter[_Key]) -> None:
    rows = [(*key, delta) for key, delta in deltas.items() if delta]
    if rows:
        columns = [list(column) for column in zip(*rows, strict=True)]
        await connection.execute(_MOVE, columns)
