"""Alerts from verifications at the point of supply: a pharmacy or hospital that scans a pack
that is unknown (suspected falsified), stolen, recalled, withdrawn or expired raises an alert,
as a supply attempt would (checking the same pack again adds no second alert while the first is
open)."""

from __future__ import annotations

from typing import Any

import psycopg

from app.alerts.engine import AlertDraft, raise_alerts
from app.auth.principal import Principal
from app.facilities.directory import FacilityDirectory
from models.alerts import AlertCode
from models.base import utcnow
from models.identity import Role

Connection = psycopg.AsyncConnection[Any]
POINTS_OF_SUPPLY = frozenset({Role.pharmacy, Role.hospital})

_OWNER = """
SELECT coalesce((SELECT organization_id FROM batches WHERE gtin = %(gtin)s AND lot = %(lot)s),
                (SELECT organization_id FROM products WHERE gtin = %(gtin)s))
"""


def risk(status: str, overlays: list[str], has_product: bool) -> AlertCode | None:
    if status == "unknown":
        return AlertCode.unknown_serial if has_product else AlertCode.unknown_product
    if status == "stolen":
        return AlertCode.stolen_pack
    if "recalled" in overlays or "withdrawn" in overlays:
        return AlertCode.recalled_pack
    if "expired" in overlays:
        return AlertCode.expired_pack
    return None


async def alert_on_verification(
    connection: Connection,
    directory: FacilityDirectory,
    principal: Principal,
    code: AlertCode,
    pack: tuple[str, str, str | None],
    reason: str,
) -> None:
    if principal.role not in POINTS_OF_SUPPLY or principal.facility_id is None:
        return
    gtin, serial, lot = pack
    owner = await (await connection.execute(_OWNER, {"gtin": gtin, "lot": lot})).fetchone()
    draft = AlertDraft(
        code,
        f"verify: {reason}",
        principal.facility_id,
        gtin,
        serial,
        lot,
        owner_id=owner[0] if owner else None,
    )
    await raise_alerts(connection, directory, None, [draft], utcnow())
