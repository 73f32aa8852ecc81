"""Recalls and withdrawals: an inspector names batches (or a whole product); every pack of them
gets the `recalled` / `withdrawn` overlay at once (it is the batch's overlay, one update however
many packs), supplying them is refused from then on, every current holder and every pharmacy or
hospital that supplied packs of them before gets a notice to acknowledge, and progress follows
each pack until all are accounted for, and every notice until it is acknowledged."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from app.auth.principal import Principal
from app.catalog.service import gtin_of
from app.errors import Conflict, InvalidInput, NotFound
from app.recalls import progress
from models.base import utcnow
from models.identity import Role
from models.recalls import RecallClass, RecallKind
from models.translatable import Translatable

Connection = psycopg.AsyncConnection[Any]

# Where each affected pack stands: at a holder (saleable), in transit to one, quarantined
# (locked) at a holder, returning (sent back as a return, to whichever facility, or shipped to
# the product owner's), at the owner's facilities (returned, or never shipped), destroyed,
# supplied (dispensed, exported, sampled, checked out) before or after the recall, stolen. A pack
# is accounted for once its fate under the recall is settled; `at_holder` and `in_transit` packs
# are still saleable stock in the chain, stolen packs are lost.
CATEGORIES = (
    "at_holder",
    "in_transit",
    "quarantined",
    "returning",
    "at_owner",
    "destroyed",
    "supplied_before_recall",
    "supplied_after_recall",
    "stolen",
)
UNACCOUNTED = frozenset({"at_holder", "in_transit", "stolen"})
SUPPLIED = "('" + "', '".join(progress.SUPPLIED) + "')"
HELD = "('active', 'locked')"
DISPENSERS = "('pharmacy', 'hospital')"

# The packs are named by GTIN and lots as values, not by a join to the recall's rows, so that the
# planner sees how many there are (a join through a just-written recall_batches row is
# estimated at a handful of packs and planned as a nested loop: 45 s instead of 1 s at a
# million packs).
_CATEGORY = progress.category_case("%(owner)s", "p.supplied_before")
_SUPPLIED_BEFORE = f"p.status IN {SUPPLIED} AND p.status_at < %(issued_at)s"
_RECALLED = "p.gtin = %(gtin)s AND p.lot = ANY(%(lots)s::text[])"
_CATEGORISED = f"""
SELECT p.gtin, p.serial, p.lot, p.status, p.status_at,
       {progress.WHERE} AS where_id, {_CATEGORY} AS category
FROM (SELECT *, {_SUPPLIED_BEFORE} AS supplied_before FROM packs p WHERE {_RECALLED}) p
LEFT JOIN facilities holder ON holder.id = p.holder_id
LEFT JOIN facilities dest ON dest.id = p.transit_to_id
"""  # noqa: S608 (composed of constants only, like the ones below)
# The kept counts of a recall (app/recalls/progress.py), with their facilities; a group that
# emptied stays as a 0 row.
_PROGRESS = """
SELECT c.category, f.gln, f.name, f.name_fa, f.province, o.name AS organization,
       o.name_fa AS organization_fa, c.packs
FROM recall_progress c
LEFT JOIN facilities f ON f.id = c.facility_id
LEFT JOIN organizations o ON o.id = f.organization_id
WHERE c.recall_id = %(recall)s AND c.packs <> 0
  AND (%(organization)s::uuid IS NULL OR f.organization_id = %(organization)s::uuid)
"""
_PACKS = f"""
SELECT c.gtin, c.serial, c.lot, c.status, c.status_at, c.category,
       f.gln AS facility_gln, f.name AS facility_name, f.province
FROM ({_CATEGORISED}) c
LEFT JOIN facilities f ON f.id = c.where_id
WHERE (%(category)s::text IS NULL OR c.category = %(category)s::text)
  AND (%(organization)s::uuid IS NULL OR f.organization_id = %(organization)s::uuid)
  AND (c.gtin, c.serial) > (%(after_gtin)s, %(after_serial)s)
ORDER BY c.gtin, c.serial
LIMIT %(limit)s
"""  # noqa: S608
# Who is told: every facility holding affected packs (or to which they are on their way), and
# every pharmacy or hospital that supplied some before the recall, so that the patients who got
# them can be reached (class I above all); one notice per facility, saying how many packs it
# held and how many it supplied, from when to when.
_NOTIFY = f"""
INSERT INTO recall_notices (recall_id, facility_id, organization_id, packs_at_notice,
                            packs_supplied, first_supplied_at, last_supplied_at, notified_at)
SELECT %(recall)s, f.id, f.organization_id, part.held, part.supplied, part.first_supplied,
       part.last_supplied, %(now)s
FROM (SELECT CASE WHEN status IN {HELD} THEN coalesce(transit_to_id, holder_id)
                  ELSE status_facility_id END AS site,
             count(*) FILTER (WHERE status IN {HELD}) AS held,
             count(*) FILTER (WHERE status IN {SUPPLIED}) AS supplied,
             min(status_at) FILTER (WHERE status IN {SUPPLIED}) AS first_supplied,
             max(status_at) FILTER (WHERE status IN {SUPPLIED}) AS last_supplied
      FROM packs
      WHERE gtin = %(gtin)s AND lot = ANY(%(lots)s::text[])
        AND (status IN {HELD} OR status IN {SUPPLIED})
      GROUP BY 1) part
JOIN facilities f ON f.id = part.site
JOIN organizations o ON o.id = f.organization_id
WHERE part.held > 0 OR o.kind IN {DISPENSERS}
"""  # noqa: S608
_NOTICES = """
SELECT f.gln, f.name, f.name_fa, o.name AS organization, o.name_fa AS organization_fa,
       n.organization_id, n.packs_at_notice,
       n.packs_supplied, n.first_supplied_at, n.last_supplied_at, n.notified_at,
       n.acknowledged_at
FROM recall_notices n
JOIN facilities f ON f.id = n.facility_id
JOIN organizations o ON o.id = n.organization_id
WHERE n.recall_id = %(recall)s
  AND (%(organization)s::uuid IS NULL OR n.organization_id = %(organization)s::uuid)
ORDER BY f.gln
"""
_RECALL = """
SELECT r.id, r.kind, r.recall_class, r.gtin, r.whole_product, r.reason, r.instructions,
       r.deadline, r.issued_at, pr.name AS product, pr.name_fa AS product_fa,
       pr.organization_id AS owner_id,
       array_agg(rb.lot ORDER BY rb.lot) AS lots
FROM recalls r
JOIN products pr ON pr.gtin = r.gtin
JOIN recall_batches rb ON rb.recall_id = r.id
WHERE r.id = %s
GROUP BY r.id, pr.gtin
"""


@dataclass(frozen=True)
class RecallOrder:
    kind: RecallKind
    recall_class: RecallClass
    gtin: str
    lots: Sequence[str]
    whole_product: bool
    reason: str
    instructions: str
    deadline: date


async def issue(connection: Connection, principal: Principal, order: RecallOrder) -> uuid.UUID:
    gtin = gtin_of(order.gtin)
    if order.whole_product == bool(order.lots):
        raise InvalidInput(
            "lots: name the recalled batches, or set whole_product (not both).", field="lots"
        )
    now = utcnow()
    if order.deadline < now.date():
        raise InvalidInput("deadline: in the past.", field="deadline")
    recall_id = uuid.uuid4()
    async with connection.transaction():
        product = await (
            await connection.execute(
                "SELECT organization_id FROM products WHERE gtin = %s", (gtin,)
            )
        ).fetchone()
        if product is None:
            raise InvalidInput(f"gtin: no product with GTIN {gtin} is registered.", field="gtin")
        # Locked, so that two recalls of one batch at once cannot both pass the check below.
        cursor = await connection.execute(
            "SELECT lot, recall_id FROM batches WHERE gtin = %s"
            " AND (%s OR lot = ANY(%s)) ORDER BY lot FOR UPDATE",
            (gtin, order.whole_product, list(order.lots)),
        )
        batches = dict(await cursor.fetchall())
        missing = sorted(set(order.lots) - batches.keys())
        if missing:
            raise InvalidInput(f"lots: no batch {', '.join(missing)} of GTIN {gtin}.", field="lots")
        if not batches:
            raise InvalidInput(f"gtin: product {gtin} has no batches to recall.", field="gtin")
        already = sorted(lot for lot, recall in batches.items() if recall is not None)
        if already:
            raise Conflict(
                Translatable(
                    "batch %(lots)s of GTIN %(gtin)s is already recalled.",
                    lots=", ".join(already), gtin=gtin,
                )
            )  # fmt: skip
        await connection.execute(
            "INSERT INTO recalls (id, kind, recall_class, gtin, whole_product, reason,"
            " instructions, deadline, issued_by, issued_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                recall_id,
                order.kind.value,
                order.recall_class.value,
                gtin,
                order.whole_product,
                order.reason,
                order.instructions,
                order.deadline,
                principal.id,
                now,
            ),
        )
        await connection.execute(
            "INSERT INTO recall_batches (recall_id, gtin, lot) SELECT %s, %s, unnest(%s::text[])",
            (recall_id, gtin, sorted(batches)),
        )
        overlay = "recalled" if order.kind is RecallKind.recall else "withdrawn"
        await connection.execute(
            "UPDATE batches SET overlay = %s, recall_id = %s WHERE gtin = %s AND lot = ANY(%s)",
            (overlay, recall_id, gtin, sorted(batches)),
        )
        await connection.execute(
            _NOTIFY, {"recall": recall_id, "now": now, "gtin": gtin, "lots": sorted(batches)}
        )
        # Last: from here to COMMIT, events and commissioning wait (see progress._HOLD_WRITERS).
        await progress.count_recall(connection, recall_id, gtin, sorted(batches), product[0], now)
    return recall_id


# A notice not yet acknowledged, as progress lists it.
_WHO = ("gln", "name", "name_fa", "organization", "organization_fa", "packs_at_notice",
        "packs_supplied")  # fmt: skip


async def recall_details(
    connection: Connection, principal: Principal, recall_id: uuid.UUID
) -> dict[str, Any]:
    """The recall, its notices and its progress, as far as the caller may see them: inspectors
    and the product's owner see everything; a holder sees its own facilities."""
    recall = await _visible_recall(connection, principal, recall_id)
    scope = _holder_scope(principal, recall)
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(_PROGRESS, {"recall": recall_id, "organization": scope})
        rows = await cursor.fetchall()
        await cursor.execute(_NOTICES, {"recall": recall_id, "organization": scope})
        notices = await cursor.fetchall()
    totals = dict.fromkeys(CATEGORIES, 0)
    by_facility: dict[str | None, dict[str, Any]] = {}
    for row in rows:
        totals[row["category"]] += row["packs"]
        site = by_facility.setdefault(
            row["gln"],
            {
                "gln": row["gln"],
                "name": row["name"],
                "name_fa": row["name_fa"],
                "organization": row["organization"],
                "organization_fa": row["organization_fa"],
                "province": row["province"],
                "packs": dict.fromkeys(CATEGORIES, 0),
            },
        )
        site["packs"][row["category"]] += row["packs"]
    unaccounted = _unaccounted(totals)
    recall.pop("owner_id")
    shown = [_notice(n) for n in notices]
    return {
        **recall,
        "progress": {
            "affected": sum(totals.values()),
            **totals,
            "unaccounted_for": unaccounted,
            "all_accounted_for": unaccounted == 0,
            # Holders and dispensers told of the recall who have not yet said they have seen it.
            "awaiting_acknowledgement": [
                {k: n[k] for k in _WHO} for n in shown if n["acknowledged_at"] is None
            ],
        },
        "facilities": sorted(by_facility.values(), key=lambda s: s["gln"] or ""),
        "notices": shown,
    }


async def reach(
    connection: Connection, recall_id: uuid.UUID, province: str | None = None
) -> tuple[int, int]:
    """(packs accounted for, packs affected) of a recall, counted as its progress counts them;
    with `province`, only the packs tied to the province's sites (inspectors' national view)."""
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(_RECALL, (recall_id,))
        recall = await cursor.fetchone()
        if recall is None:
            raise NotFound("No recall with this id.")
        await cursor.execute(_PROGRESS, {"recall": recall_id, "organization": None})
        rows = await cursor.fetchall()
    totals = dict.fromkeys(CATEGORIES, 0)
    for row in rows:
        if province is None or row["province"] == province:
            totals[row["category"]] += row["packs"]
    affected = sum(totals.values())
    return affected - _unaccounted(totals), affected


def _unaccounted(totals: dict[str, int]) -> int:
    return sum(totals[c] for c in UNACCOUNTED)


def _notice(row: dict[str, Any]) -> dict[str, Any]:
    """A notice as shown: the facility, its part (packs it held, packs it supplied before the
    recall and when), and its acknowledgement."""
    return {
        "gln": row["gln"],
        "name": row["name"],
        "name_fa": row["name_fa"],
        "organization": row["organization"],
        "organization_fa": row["organization_fa"],
        "packs_at_notice": row["packs_at_notice"],
        "packs_supplied": row["packs_supplied"],
        "first_supplied_at": row["first_supplied_at"],
        "last_supplied_at": row["last_supplied_at"],
        "notified_at": row["notified_at"],
        "acknowledged_at": row["acknowledged_at"],
    }


async def recall_packs(
    connection: Connection,
    principal: Principal,
    recall_id: uuid.UUID,
    category: str | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    if category is not None and category not in CATEGORIES:
        raise InvalidInput(f"category: one of {', '.join(CATEGORIES)}.", field="category")
    recall = await _visible_recall(connection, principal, recall_id)
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            _PACKS,
            _packs_of(recall)
            | {
                "category": category,
                "organization": _holder_scope(principal, recall),
                "after_gtin": after[0] if after else "",
                "after_serial": after[1] if after else "",
                "limit": limit,
            },
        )
        return await cursor.fetchall()


async def list_recalls(connection: Connection, principal: Principal) -> list[dict[str, Any]]:
    """Inspectors see every recall; an organisation those of its products and those it was
    notified of."""
    everything = principal.reads_everything
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            """
            SELECT r.id, r.kind, r.recall_class, r.gtin, pr.name AS product, r.whole_product,
                   r.deadline, r.issued_at,
                   (SELECT array_agg(lot ORDER BY lot) FROM recall_batches
                    WHERE recall_id = r.id) AS lots,
                   (SELECT count(*) FROM recall_notices n WHERE n.recall_id = r.id
                      AND n.organization_id = %(org)s AND n.acknowledged_at IS NULL)
                     AS awaiting_my_acknowledgement
            FROM recalls r JOIN products pr ON pr.gtin = r.gtin
            WHERE %(everything)s OR pr.organization_id = %(org)s
               OR EXISTS (SELECT 1 FROM recall_notices n
                          WHERE n.recall_id = r.id AND n.organization_id = %(org)s)
            ORDER BY r.issued_at DESC
            """,
            {"everything": everything, "org": principal.organization_id},
        )
        return await cursor.fetchall()


async def acknowledge(
    connection: Connection, principal: Principal, recall_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The caller's organisation acknowledges the notices of all its facilities."""
    await _visible_recall(connection, principal, recall_id)
    cursor = await connection.execute(
        "UPDATE recall_notices SET acknowledged_at = %s, acknowledged_by = %s"
        " WHERE recall_id = %s AND organization_id = %s AND acknowledged_at IS NULL"
        " RETURNING facility_id",
        (utcnow(), principal.id, recall_id, principal.organization_id),
    )
    if not await cursor.fetchall():
        pending = await (
            await connection.execute(
                "SELECT count(*) FROM recall_notices WHERE recall_id = %s AND organization_id = %s",
                (recall_id, principal.organization_id),
            )
        ).fetchone()
        if not pending or pending[0] == 0:
            raise Conflict("Your organisation has no notice of this recall to acknowledge.")
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            _NOTICES, {"recall": recall_id, "organization": principal.organization_id}
        )
        return [_notice(n) for n in await cursor.fetchall()]


async def _visible_recall(
    connection: Connection, principal: Principal, recall_id: uuid.UUID
) -> dict[str, Any]:
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(_RECALL, (recall_id,))
        recall = await cursor.fetchone()
    if recall is None:
        raise NotFound("No recall with this id.")
    if principal.reads_everything or recall["owner_id"] == principal.organization_id:
        return recall
    notified = await (
        await connection.execute(
            "SELECT 1 FROM recall_notices WHERE recall_id = %s AND organization_id = %s",
            (recall_id, principal.organization_id),
        )
    ).fetchone()
    if notified is None:
        raise NotFound("No recall with this id.")
    return recall


def _packs_of(recall: dict[str, Any]) -> dict[str, Any]:
    """The parameters naming a recall's packs in _CATEGORISED."""
    return {
        "gtin": recall["gtin"],
        "lots": recall["lots"],
        "owner": recall["owner_id"],
        "issued_at": recall["issued_at"],
    }


def _holder_scope(principal: Principal, recall: dict[str, Any]) -> uuid.UUID | None:
    """None: everything; else only the caller's organisation's facilities."""
    if principal.reads_everything or recall["owner_id"] == principal.organization_id:
        return None
    return principal.organization_id


ISSUERS = frozenset({Role.inspector})


_MY_NOTICES = """
SELECT r.id AS recall_id, r.kind, r.recall_class, r.gtin, r.reason, r.instructions, r.deadline,
       r.issued_at, pr.name AS product, pr.name_fa AS product_fa,
       (SELECT array_agg(lot ORDER BY lot) FROM recall_batches WHERE recall_id = r.id) AS lots,
       f.gln, f.name, f.name_fa, n.packs_at_notice, n.packs_supplied, n.notified_at,
       n.acknowledged_at
FROM recall_notices n
JOIN recalls r ON r.id = n.recall_id
JOIN products pr ON pr.gtin = r.gtin
JOIN facilities f ON f.id = n.facility_id
WHERE n.organization_id = %(organization)s
ORDER BY n.acknowledged_at IS NOT NULL, r.issued_at DESC, f.gln
"""


async def notices_of(connection: Connection, principal: Principal) -> list[dict[str, Any]]:
    """The recalls the caller's organisation was notified of, newest first and those awaiting
    its acknowledgement before the rest, each with its notices (one per facility of the
    organisation) and whether all are acknowledged."""
    async with connection.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(_MY_NOTICES, {"organization": principal.organization_id})
        rows = await cursor.fetchall()
    recalls: dict[uuid.UUID, dict[str, Any]] = {}
    for row in rows:
        recall = recalls.setdefault(
            row["recall_id"],
            {key: row[key] for key in ("recall_id", "kind", "recall_class", "gtin", "reason",
                                       "instructions", "deadline", "issued_at", "product",
                                       "product_fa", "lots")} | {"notices": []},
        )  # fmt: skip
        recall["notices"].append(
            {key: row[key] for key in ("gln", "name", "name_fa", "packs_at_notice",
                                       "packs_supplied", "notified_at", "acknowledged_at")}
        )  # fmt: skip
    for recall in recalls.values():
        recall["acknowledged"] = all(n["acknowledged_at"] for n in recall["notices"])
    return list(recalls.values())
