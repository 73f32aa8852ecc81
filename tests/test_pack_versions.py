"""A pack's history is the truth and its row a projection of it: after random concurrent
workloads, replaying every pack's history, in the order of its versions, through the pure
transition function gives back each recorded outcome and exactly the pack's row."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from app.events.transitions import Context, PackState, decide
from app.facilities.directory import Site
from models.events import Action, Outcome
from models.packs import PackStatus, pack_overlays
from tests.conftest import TEST_DATABASE, PgServer
from tests.helpers import event, facility_gln, headers_for, pack_code, register_batch

Connection = psycopg.Connection[tuple[Any, ...]]

MAKER, WAREHOUSE = "sina-darou", "darupakhsh"
PHARMACIES = ("razi-pharmacy", "hafez-pharmacy")
SITES = (MAKER, WAREHOUSE, *PHARMACIES)
# What each site may try; a pick may still be refused by the packs' state, which is the point.
ACTIONS = {
    MAKER: ("ship", "receive", "lock", "unlock", "return", "destroy", "undo"),
    WAREHOUSE: ("ship", "receive", "lock", "unlock", "return", "check_out", "undo", "stolen"),
    "razi-pharmacy": ("receive", "dispense", "undo", "return", "lock", "unlock", "ship"),
    "hafez-pharmacy": ("receive", "dispense", "undo", "return", "dispense", "ship"),
}


@pytest.fixture
def sql(pg_server: PgServer, database: object) -> Iterator[Connection]:
    with pg_server.connect(TEST_DATABASE) as connection:
        yield connection


async def _random_event(
    client: AsyncTestClient[Any],
    headers: dict[str, dict[str, str]],
    chooser: random.Random,
    codes: list[str],
) -> None:
    site = chooser.choice(SITES)
    action = chooser.choice(ACTIONS[site])
    fields: dict[str, Any] = {"offline": chooser.random() < 0.2}
    if action in ("ship", "return"):
        fields["destination_gln"] = facility_gln(chooser.choice([s for s in SITES if s != site]))
    picked = chooser.sample(codes, chooser.randint(1, 3))
    answer = await event(client, headers[site], action, picked, **fields)
    assert answer.status_code in (200, 409, 422), answer.text


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_replaying_each_history_gives_back_the_pack(
    client: AsyncTestClient[Any], sql: Connection, seed: int
) -> None:
    chooser = random.Random(seed)
    headers = {site: await headers_for(client, site) for site in SITES}
    gtin, _, serials = await register_batch(client, headers[MAKER], count=12)
    codes = [pack_code(gtin, serial) for serial in serials]
    shipped = await event(
        client, headers[MAKER], "ship", codes, destination_gln=facility_gln(WAREHOUSE)
    )
    assert shipped.status_code == 200, shipped.text
    for _ in range(8):  # rounds of events sent at once, racing for the same packs
        await asyncio.gather(*(_random_event(client, headers, chooser, codes) for _ in range(8)))

    sites = _sites(sql)
    replayed = 0
    for serial in serials:
        pack = _pack(sql, gtin, serial)
        history = _history(sql, gtin, serial)
        assert [line["version"] for line in history] == list(range(1, len(history) + 1))
        assert pack["version"] == len(history)
        state = PackState(
            status=PackStatus.active,
            holder_id=pack["commissioned_by"],
            transit_from_id=None,
            transit_to_id=None,
            status_facility_id=pack["commissioned_by"],
            status_at=pack["commissioned_at"],
        )
        for line in history:
            ctx = Context(
                action=Action(line["action"]),
                facility_id=line["facility_id"],
                destination_id=line["destination_id"],
                event_time=line["event_time"],
                offline=line["offline"],
                organization_id=sites[line["facility_id"]].organization_id,
                sites=sites,
            )
            overlays = pack_overlays(pack["expiry"], None, _day(ctx))
            decision = decide(replace(state, overlays=overlays), ctx)
            where = f"pack {serial} version {line['version']} ({line['action']})"
            assert decision.outcome is Outcome(line["outcome"]), where
            assert line["status_before"] == state.status.value, where
            assert line["status_after"] == decision.state.status.value, where
            state = replace(decision.state, overlays=frozenset())
            replayed += 1
        assert (
            state.status.value,
            state.holder_id,
            state.transit_from_id,
            state.transit_to_id,
            state.status_facility_id,
            state.status_at,
            state.returning,
        ) == (
            pack["status"],
            pack["holder_id"],
            pack["transit_from_id"],
            pack["transit_to_id"],
            pack["status_facility_id"],
            pack["status_at"],
            pack["in_return"],
        ), f"pack {serial}"
    assert replayed > len(serials) * 3  # the workload did make histories
    inspector = await headers_for(client, "fdo-inspector")
    listed = await client.get(f"/api/packs/{gtin}/{serials[0]}/events", headers=inspector)
    assert listed.status_code == 200, listed.text
    versions = [entry["version"] for entry in listed.json()]
    assert versions == list(range(len(versions))), "the API lists the history in version order"


def _day(ctx: Context) -> date:
    return ctx.event_time.date()


def _sites(sql: Connection) -> dict[uuid.UUID, Site]:
    rows = sql.execute("SELECT id, gln, name, organization_id FROM facilities").fetchall()
    return {row[0]: Site(*row) for row in rows}


def _pack(sql: Connection, gtin: str, serial: str) -> dict[str, Any]:
    cursor = sql.execute(
        """
        SELECT p.status, p.holder_id, p.transit_from_id, p.transit_to_id, p.status_facility_id,
               p.status_at, p.in_return, p.version, p.commissioned_at, c.facility_id
                 AS commissioned_by, b.expiry
        FROM packs p
        JOIN events c ON c.event_id = p.commission_event_id
        JOIN batches b ON b.gtin = p.gtin AND b.lot = p.lot
        WHERE p.gtin = %s AND p.serial = %s
        """,
        (gtin, serial),
    )
    row = cursor.fetchone()
    assert row is not None and cursor.description is not None
    return dict(zip([c.name for c in cursor.description], row, strict=True))


def _history(sql: Connection, gtin: str, serial: str) -> list[dict[str, Any]]:
    cursor = sql.execute(
        """
        SELECT version, action, facility_id, destination_id, event_time, offline, outcome,
               status_before, status_after
        FROM pack_events WHERE gtin = %s AND serial = %s ORDER BY version
        """,
        (gtin, serial),
    )
    assert cursor.description is not None
    names = [c.name for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
