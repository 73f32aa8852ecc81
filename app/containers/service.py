"""Reading a case or pallet (SSCC): what is in it (cases within pallets, and their packs),
where it is (held at a site, or in transit between two), and what happened to it. Visible to
inspectors and to the organisations that packed, hold, carry or handled it; to anyone else it
does not exist (404, worded as for an unknown SSCC)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from app.auth.principal import Principal
from app.errors import NotFound
from app.scoping import checked_key
from models.gs1 import validate_sscc

Connection = psycopg.AsyncConnection[Any]
MAX_PACKS_LISTED = 500  # per case; the count is always whole

_SITE = "f.gln, f.name, f.name_fa, f.province, f.city, f.organization_id"
_CASE = f"""
SELECT c.sscc, c.organization_id, c.parent_sscc, c.created_at, c.transit_to_id IS NOT NULL,
       {_SITE.replace("f.", "h.")}, {_SITE.replace("f.", "s.")}, {_SITE.replace("f.", "t.")}
FROM containers c
LEFT JOIN facilities h ON h.id = c.holder_id
LEFT JOIN facilities s ON s.id = c.transit_from_id
LEFT JOIN facilities t ON t.id = c.transit_to_id
WHERE c.sscc = %s
"""  # noqa: S608
_TREE = """
WITH RECURSIVE tree(sscc, parent_sscc, depth) AS (
    SELECT sscc, parent_sscc, 0 FROM containers WHERE sscc = %s
    UNION ALL
    SELECT c.sscc, c.parent_sscc, tree.depth + 1
    FROM containers c JOIN tree ON c.parent_sscc = tree.sscc
)
SELECT t.sscc, t.parent_sscc, count(p.serial)::int
FROM tree t LEFT JOIN packs p ON p.container_sscc = t.sscc
GROUP BY t.sscc, t.parent_sscc, t.depth
ORDER BY t.depth, t.sscc
"""
_PACKS = """
SELECT container_sscc, gtin, serial, status FROM (
    SELECT container_sscc, gtin, serial, status,
           row_number() OVER (PARTITION BY container_sscc ORDER BY gtin, serial) AS n
    FROM packs WHERE container_sscc = ANY(%s::char(18)[])
) listed WHERE n <= %s ORDER BY gtin, serial
"""
_HISTORY = f"""
SELECT e.event_id, e.action, e.event_time, e.packs, e.outcome, e.reason,
       {_SITE}, {_SITE.replace("f.", "d.")}
FROM container_events e
JOIN facilities f ON f.id = e.facility_id
LEFT JOIN facilities d ON d.id = e.destination_id
WHERE e.sscc = %s
ORDER BY e.event_time, e.event_id
"""  # noqa: S608


@dataclass
class CaseNode:
    sscc: str
    pack_count: int  # packs directly in this case
    packs: list[dict[str, str]] = field(default_factory=list)  # the first MAX_PACKS_LISTED
    cases: list[CaseNode] = field(default_factory=list)

    @property
    def total_packs(self) -> int:
        return self.pack_count + sum(case.total_packs for case in self.cases)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sscc": self.sscc,
            "pack_count": self.pack_count,
            "total_packs": self.total_packs,
            "packs": self.packs,
            "cases": [case.as_dict() for case in self.cases],
        }


@dataclass(frozen=True)
class CaseEvent:
    event_id: uuid.UUID
    action: str
    event_time: datetime
    packs: int
    outcome: str
    reason: str
    facility: dict[str, Any]
    destination: dict[str, Any] | None


@dataclass(frozen=True)
class CaseView:
    sscc: str
    parent_sscc: str | None
    packed_at: datetime
    in_transit: bool
    holder: dict[str, Any] | None  # where it is, when not in transit
    source: dict[str, Any] | None  # in transit: from …
    destination: dict[str, Any] | None  # … to
    contents: CaseNode
    history: list[CaseEvent]


def _site(row: tuple[Any, ...] | list[Any]) -> dict[str, Any] | None:
    gln, name, name_fa, province, city, organization_id = row
    if gln is None:
        return None
    return {"gln": gln, "name": name, "name_fa": name_fa, "province": province, "city": city,
            "organization_id": organization_id}  # fmt: skip


async def case_view(connection: Connection, principal: Principal, sscc: str) -> CaseView:
    sscc = checked_key(validate_sscc, sscc, "sscc")
    row = await (await connection.execute(_CASE, (sscc,))).fetchone()
    if row is None:
        raise NotFound(f"No case or pallet with SSCC {sscc}.")
    holder, source, destination = _site(row[5:11]), _site(row[11:17]), _site(row[17:23])
    history = await _history(connection, sscc)
    involved = {row[1]} | {
        site["organization_id"]
        for site in (holder, source, destination, *(e.facility for e in history),
                     *(e.destination for e in history))
        if site is not None
    }  # fmt: skip
    if not principal.reads_everything and principal.organization_id not in involved:
        raise NotFound(f"No case or pallet with SSCC {sscc}.")
    return CaseView(
        sscc=sscc,
        parent_sscc=row[2].strip() if row[2] else None,
        packed_at=row[3],
        in_transit=row[4],
        holder=None if row[4] else holder,
        source=source if row[4] else None,
        destination=destination if row[4] else None,
        contents=await _contents(connection, sscc),
        history=history,
    )


async def _contents(connection: Connection, sscc: str) -> CaseNode:
    rows = await (await connection.execute(_TREE, (sscc,))).fetchall()
    nodes = {case.strip(): CaseNode(case.strip(), count) for case, _, count in rows}
    for case, parent, _ in rows:
        if parent is not None and parent.strip() in nodes and case.strip() != sscc:
            nodes[parent.strip()].cases.append(nodes[case.strip()])
    packs = await connection.execute(_PACKS, (list(nodes), MAX_PACKS_LISTED))
    for case, gtin, serial, status in await packs.fetchall():
        nodes[case.strip()].packs.append({"gtin": gtin.strip(), "serial": serial, "status": status})
    return nodes[sscc]


async def _history(connection: Connection, sscc: str) -> list[CaseEvent]:
    rows = await (await connection.execute(_HISTORY, (sscc,))).fetchall()
    return [
        CaseEvent(
            event_id=r[0],
            action=r[1],
            event_time=r[2],
            packs=r[3],
            outcome=r[4],
            reason=r[5],
            facility=_site(r[6:12]) or {},
            destination=_site(r[12:18]),
        )
        for r in rows
    ]
