"""The batch custody summary (`batch_custody`) that the batch distribution reads: after any
sequence of events it holds what counting the packs gives, and its migration's backfill makes
the same rows from the packs."""

from __future__ import annotations

import importlib.util
import random
import uuid
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import TEST_DATABASE, PgServer
from tests.helpers import event, headers_for, pack_code
from tests.test_trace import HAFEZ, HOSPITAL, HUB, MASHHAD, PLANT, RAZI, spread

_KEPT = """
SELECT status, nullif(holder_id, %(none)s), nullif(transit_from_id, %(none)s),
       nullif(transit_to_id, %(none)s), packs
FROM batch_custody
WHERE gtin = %(gtin)s AND lot = %(lot)s AND packs <> 0 ORDER BY 1, 2, 3, 4
"""
_COUNTED = """
SELECT status, holder_id, transit_from_id, transit_to_id, count(*) FROM packs
WHERE gtin = %(gtin)s AND lot = %(lot)s GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
"""
# Who acts where: (user, facility GLN).
_ACTORS = [
    ("sina-darou", PLANT),
    ("darupakhsh", HUB),
    ("darupakhsh", MASHHAD),
    ("razi-pharmacy", RAZI),
    ("hafez-pharmacy", HAFEZ),
    ("imamreza-hospital", HOSPITAL),
]
_ACTIONS = ["ship", "receive", "dispense", "undo", "return", "lock", "unlock", "destroy"]


def _rows(pg_server: PgServer, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with pg_server.connect(TEST_DATABASE) as conn:
        return conn.execute(query, params).fetchall()


def _backfilled(pg_server: PgServer, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    (path,) = (Path(__file__).parents[1] / "migrations/versions").glob("*_batch_custody.py")
    spec = importlib.util.spec_from_file_location("batch_custody", path)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with pg_server.connect(TEST_DATABASE) as conn, conn.transaction(force_rollback=True):
        conn.execute("DELETE FROM batch_custody")
        for statement in migration.BACKFILL:
            conn.execute(statement)
        return conn.execute(_KEPT, params).fetchall()


async def test_the_kept_custody_is_the_packs_counted_after_random_events(
    client: AsyncTestClient[Any], pg_server: PgServer
) -> None:
    gtin, lot, serials = await spread(client)
    params = {"gtin": gtin, "lot": lot, "none": uuid.UUID(int=0)}
    assert _rows(pg_server, _KEPT, params) == _rows(pg_server, _COUNTED, params)
    chance = random.Random(12)  # reproducible
    recorded = 0
    for _ in range(40):
        user, site = chance.choice(_ACTORS)
        action = chance.choice(_ACTIONS)
        codes = [pack_code(gtin, s) for s in chance.sample(serials, chance.randint(1, 12))]
        fields: dict[str, Any] = {"facility_gln": site}
        if action in ("ship", "return"):
            fields["destination_gln"] = chance.choice([g for _, g in _ACTORS if g != site])
        answer = await event(client, await headers_for(client, user), action, codes, **fields)
        assert answer.status_code < 500, answer.text
        recorded += answer.status_code == 200
        assert _rows(pg_server, _KEPT, params) == _rows(pg_server, _COUNTED, params), action
    assert recorded >= 10  # most rounds moved some packs, not only refusals
    assert _backfilled(pg_server, params) == _rows(pg_server, _COUNTED, params)
