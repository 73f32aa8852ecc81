"""A recall's progress is kept as counts moved with the events (app/recalls/progress.py): after
receipts, returns, dispenses, undos, destroys and thefts of recalled packs, online and offline,
before and after the recall was issued, the API's and the console page's numbers per category
and per site are what counting the packs one by one gives; the migration's backfill makes the
same counts. The page names each site in the page's language."""

from __future__ import annotations

import importlib.util
import random
import re
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from app.recalls.service import CATEGORIES
from tests.conftest import TEST_DATABASE, PgServer
from tests.console import log_in
from tests.helpers import event, headers_for, pack_code
from tests.test_recalls import more_packs, recall_order
from tests.test_trace import HAFEZ, HOSPITAL, HUB, MASHHAD, PLANT, RAZI, spread

Client = AsyncTestClient[Any]
SUPPLIED = {"dispensed", "exported", "sample", "free_sample", "checked_out"}
_PACKS = """
SELECT p.status, p.status_at, p.transit_to_id IS NOT NULL, p.in_return,
       holder.organization_id, dest.organization_id, site.gln
FROM packs p
LEFT JOIN facilities holder ON holder.id = p.holder_id
LEFT JOIN facilities dest ON dest.id = p.transit_to_id
LEFT JOIN facilities site ON site.id = coalesce(p.transit_to_id, p.holder_id, p.status_facility_id)
WHERE p.gtin = %(gtin)s AND p.lot = %(lot)s
"""
_RECALL = """
SELECT pr.organization_id, r.issued_at FROM recalls r JOIN products pr ON pr.gtin = r.gtin
WHERE r.id = %s
"""
_KEPT = """
SELECT category, facility_id, packs FROM recall_progress
WHERE recall_id = %s AND packs <> 0 ORDER BY 1, 2
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
_ACTIONS = [
    "ship", "receive", "dispense", "undo", "return", "lock", "unlock", "destroy", "export",
    "stolen",
]  # fmt: skip


def _category(
    status: str,
    status_at: datetime,
    in_transit: bool,
    in_return: bool,
    holder_org: uuid.UUID | None,
    dest_org: uuid.UUID | None,
    owner: uuid.UUID,
    issued_at: datetime,
) -> str:
    """One pack's category, as the recall progress page explains its rows."""
    if status in ("destroyed", "stolen"):
        return status
    if status in SUPPLIED:
        return "supplied_before_recall" if status_at < issued_at else "supplied_after_recall"
    if in_transit:
        return "returning" if in_return or dest_org == owner else "in_transit"
    if holder_org == owner:
        return "at_owner"
    return "quarantined" if status == "locked" else "at_holder"


def counted(pg_server: PgServer, recall_id: str, gtin: str, lot: str) -> Counter[tuple[str, str]]:
    """Packs per (category, site GLN), from the packs one by one."""
    with pg_server.connect(TEST_DATABASE) as conn:
        owner, issued_at = conn.execute(_RECALL, (recall_id,)).fetchone() or (None, None)
        packs = conn.execute(_PACKS, {"gtin": gtin, "lot": lot}).fetchall()
    assert owner is not None
    return Counter(
        (_category(*pack[:6], owner=owner, issued_at=issued_at), pack[6]) for pack in packs
    )


def api_counts(body: dict[str, Any]) -> tuple[dict[str, int], Counter[tuple[str, str]]]:
    by_site = Counter(
        {
            (category, site["gln"]): packs
            for site in body["facilities"]
            for category, packs in site["packs"].items()
            if packs
        }
    )
    return {c: body["progress"][c] for c in CATEGORIES}, by_site


_SITE_ROW = re.compile(r'<tr data-gln="(\d{13})"[^>]*>(.*?)</tr>', re.S)
_CELL = re.compile(r'data-category="(\w+)" data-packs="(\d+)"')


def page_counts(html: str) -> tuple[dict[str, int], Counter[tuple[str, str]]]:
    """The numbers the progress part of the page shows: its categories table and its sites."""
    table = html.split('id="recall-categories"', 1)[1].split("</table>", 1)[0]
    totals = {c: int(n) for c, n in _CELL.findall(table) if c != "affected"}
    sites_table = html.split('id="recall-sites"', 1)[1].split("</table>", 1)[0]
    by_site: Counter[tuple[str, str]] = Counter()
    for gln, row in _SITE_ROW.findall(sites_table):
        for category, packs in _CELL.findall(row):
            if int(packs):
                by_site[(category, gln)] += int(packs)
    return totals, by_site


async def assert_progress_is_counted(
    client: Client, pg_server: PgServer, recall_id: str, gtin: str, lot: str, step: str
) -> set[str]:
    """The categories in play."""
    direct = counted(pg_server, recall_id, gtin, lot)
    totals = dict.fromkeys(CATEGORIES, 0)
    for (category, _), packs in direct.items():
        totals[category] += packs
    inspector = await headers_for(client, "fdo-inspector")
    body = (await client.get(f"/api/recalls/{recall_id}", headers=inspector)).json()
    assert api_counts(body) == (totals, direct), step
    assert body["progress"]["affected"] == sum(direct.values()), step
    html = (await client.get(f"/console/recalls/{recall_id}/progress?rows=all")).text
    assert page_counts(html) == (totals, direct), step
    return {category for category, _ in direct}


async def issue(client: Client, gtin: str, lot: str) -> str:
    inspector = await headers_for(client, "fdo-inspector")
    issued = await client.post("/api/recalls", json=recall_order(gtin, [lot]), headers=inspector)
    assert issued.status_code == 201, issued.text
    return str(issued.json()["id"])


async def ok(answer: Any, packs: int) -> None:
    assert answer.status_code == 200, answer.text
    assert answer.json()["summary"]["ok"] + answer.json()["summary"]["warning"] == packs, (
        answer.text
    )


async def test_progress_is_the_packs_counted_after_each_kind_of_event(
    client: Client, pg_server: PgServer
) -> None:
    """A recall issued while packs are spread, then every way a recalled pack moves."""
    await log_in(client, "fdo-inspector", language="en")
    gtin, lot, serials = await spread(client)
    codes = [pack_code(gtin, s) for s in serials]
    before_recall = (datetime.now().astimezone() - timedelta(minutes=5)).isoformat()
    recall_id = await issue(client, gtin, lot)
    seen = await assert_progress_is_counted(client, pg_server, recall_id, gtin, lot, "issued")
    maker, hub, razi, hafez, hospital = [
        await headers_for(client, user)
        for user in ("sina-darou", "darupakhsh", "razi-pharmacy", "hafez-pharmacy",
                     "imamreza-hospital")
    ]  # fmt: skip
    steps = [
        ("Hafez receives its packs in transit", hafez, "receive", codes[20:30], {}),
        ("Hafez returns them to the hub", hafez, "return", codes[20:25],
         {"destination_gln": HUB}),
        ("the hub receives the return", hub, "receive", codes[20:25], {}),
        ("Hafez returns to the plant", hafez, "return", codes[25:28],
         {"destination_gln": PLANT}),
        ("the plant receives", maker, "receive", codes[25:28], {}),
        ("Razi dispensed offline before the recall", razi, "dispense", codes[3:5],
         {"offline": True, "event_time": before_recall}),
        ("Razi dispensed offline after it", razi, "dispense", codes[5:8], {"offline": True}),
        ("Razi undoes one offline", razi, "undo", codes[5:6], {"offline": True}),
        ("Razi quarantines", razi, "lock", codes[8:12], {}),
        ("Razi destroys", razi, "destroy", codes[12:15], {}),
        ("the hospital reports a theft", hospital, "stolen", codes[31:33], {}),
        ("Mashhad exports offline", hub, "export", codes[38:39],
         {"facility_gln": MASHHAD, "offline": True}),
        ("Mashhad ships to Razi", hub, "ship", codes[35:38],
         {"facility_gln": MASHHAD, "destination_gln": RAZI}),
        ("Razi receives", razi, "receive", codes[35:38], {}),
    ]  # fmt: skip
    for step, who, action, batch, fields in steps:
        await ok(await event(client, who, action, batch, **fields), len(batch))
        seen |= await assert_progress_is_counted(client, pg_server, recall_id, gtin, lot, step)
    # Refused online: nothing moves.
    refused = await event(client, razi, "dispense", codes[15:16])
    assert refused.status_code == 409
    await assert_progress_is_counted(client, pg_server, recall_id, gtin, lot, "refused")
    assert seen == set(CATEGORIES)  # every category the page shows was in play


async def test_progress_of_a_recall_issued_after_supply_follows_random_events(
    client: Client, pg_server: PgServer
) -> None:
    """Packs supplied before the recall, packs commissioned into the recalled batch, and 40
    rounds of random events, online and offline, some told as having happened before the
    recall: the kept counts stay the packs counted, and the backfill makes them too."""
    await log_in(client, "fdo-inspector")
    gtin, lot, serials = await spread(client)  # Razi and the hospital have dispensed already
    maker = await headers_for(client, "sina-darou")
    before_recall = (datetime.now().astimezone() - timedelta(minutes=5)).isoformat()
    recall_id = await issue(client, gtin, lot)
    await assert_progress_is_counted(client, pg_server, recall_id, gtin, lot, "issued")
    serials += await more_packs(client, maker, gtin, lot)
    await assert_progress_is_counted(client, pg_server, recall_id, gtin, lot, "commissioned")

    chance = random.Random(18)  # reproducible
    recorded = 0
    for round_ in range(40):
        user, site = chance.choice(_ACTORS)
        action = chance.choice(_ACTIONS)
        codes = [pack_code(gtin, s) for s in chance.sample(serials, chance.randint(1, 8))]
        fields: dict[str, Any] = {"facility_gln": site, "offline": chance.random() < 0.5}
        if fields["offline"] and chance.random() < 0.5:
            fields["event_time"] = before_recall
        if action in ("ship", "return"):
            fields["destination_gln"] = chance.choice([g for _, g in _ACTORS if g != site])
        answer = await event(client, await headers_for(client, user), action, codes, **fields)
        assert answer.status_code < 500, answer.text
        recorded += answer.status_code == 200
        step = f"round {round_}: {action} {fields}"
        await assert_progress_is_counted(client, pg_server, recall_id, gtin, lot, step)
    assert recorded >= 15  # most rounds moved some packs, not only refusals
    assert _backfilled(pg_server, recall_id) == _kept(pg_server, recall_id)


def _kept(pg_server: PgServer, recall_id: str) -> list[tuple[Any, ...]]:
    with pg_server.connect(TEST_DATABASE) as conn:
        return conn.execute(_KEPT, (recall_id,)).fetchall()


def _backfilled(pg_server: PgServer, recall_id: str) -> list[tuple[Any, ...]]:
    (path,) = (Path(__file__).parents[1] / "migrations/versions").glob("*_recall_progress.py")
    spec = importlib.util.spec_from_file_location("recall_progress", path)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with pg_server.connect(TEST_DATABASE) as conn, conn.transaction(force_rollback=True):
        conn.execute("DELETE FROM recall_progress")
        for statement in migration.BACKFILL:
            conn.execute(statement)
        return conn.execute(_KEPT, (recall_id,)).fetchall()


# A recall waiting to hold pack writers off (progress._HOLD_WRITERS).
_RECALL_WAITING = """
SELECT count(*) > 0 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
WHERE c.relname = 'packs' AND l.mode = 'ExclusiveLock' AND NOT l.granted
"""


async def test_a_pack_change_in_flight_while_a_recall_is_issued_is_counted(
    client: Client, pg_server: PgServer
) -> None:
    """A transaction that locked a pack before the recall (as an event does, reading its batch
    as not recalled, so moving no count) and commits its change while the recall is being
    issued: the recall waits for it and counts the pack as changed."""
    await log_in(client, "fdo-inspector", language="en")
    gtin, lot, serials = await spread(client)
    in_flight = pg_server.connect(TEST_DATABASE)
    in_flight.autocommit = False
    key = (gtin, serials[5])  # active at Razi
    in_flight.execute("SELECT 1 FROM packs WHERE gtin = %s AND serial = %s FOR UPDATE", key)

    def commit_once_the_recall_waits() -> None:
        with pg_server.connect(TEST_DATABASE) as watcher:
            for _ in range(600):  # if the recall never waits, the counts below tell
                if watcher.execute(_RECALL_WAITING).fetchone() == (True,):
                    break
                time.sleep(0.05)
        in_flight.execute("UPDATE packs SET status = 'locked' WHERE gtin = %s AND serial = %s", key)
        in_flight.commit()

    committer = threading.Thread(target=commit_once_the_recall_waits)
    committer.start()
    try:
        recall_id = await issue(client, gtin, lot)
    finally:
        committer.join()
        in_flight.close()
    await assert_progress_is_counted(client, pg_server, recall_id, gtin, lot, "issued")
    assert counted(pg_server, recall_id, gtin, lot)[("quarantined", RAZI)] == 1


async def test_the_progress_page_names_sites_in_the_pages_language(client: Client) -> None:
    gtin, lot, _ = await spread(client)
    recall_id = await issue(client, gtin, lot)
    await log_in(client, "fdo-inspector", language="fa")
    persian = (await client.get(f"/console/recalls/{recall_id}?rows=all")).text
    sites = persian.split('id="recall-sites"', 1)[1].split("</table>", 1)[0]
    assert "داروخانه حافظ" in sites and "Hafez Pharmacy" not in sites
    awaiting = persian.split('id="recall-awaiting"', 1)[1].split("</table>", 1)[0]
    assert "داروخانه حافظ" in awaiting and "Hafez Pharmacy" not in awaiting
    client.cookies.set("darutrace_lang", "en")
    english = (await client.get(f"/console/recalls/{recall_id}?rows=all")).text
    sites = english.split('id="recall-sites"', 1)[1].split("</table>", 1)[0]
    assert "Hafez Pharmacy" in sites and "داروخانه حافظ" not in sites
