"""What the database refuses reaches a person as a problem: two registrations of one GTIN,
organisation GLN, facility GLN or username that both get past the services' own checks (both
requests at their INSERT at once) get one 201 and one 409 naming what exists, never a 500, and
nothing of the loser is saved; a reference to a facility that is gone is a 422. And the
references no foreign key checks (those of packs and pack_events, models/packs.py) all exist
after every kind of event.

The races run against a real `darutrace serve` (concurrent requests on their own connections):
the test locks the table against inserts (reads go on), waits until both requests wait at their
INSERT, then lets them go."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
from litestar.testing import AsyncTestClient

from app.errors import ServiceError
from app.integrity import translated
from models.gs1 import with_check_digit
from tests.conftest import TEST_DATABASE, PgServer
from tests.helpers import LOGINS, event, facility_gln, headers_for, me, pack_code, register_batch
from tests.scan_server import live_server

__all__ = ["live_server"]  # the fixture

PATIENCE = 120  # seconds for both requests to reach their INSERT on a loaded machine
NEW_GLN = with_check_digit("626000777800")
OWN_GTIN = with_check_digit("0626000998700")  # under Sina Darou's company prefix 62600099
_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


@contextmanager
def inserts_held(pg_server: PgServer, table: str) -> Iterator[Callable[[int], None]]:
    """`table` locked against inserts until the block ends; the callable waits until `n`
    requests wait at their INSERT into it."""
    with (
        pg_server.connect(TEST_DATABASE) as holder,
        pg_server.connect(TEST_DATABASE) as watcher,
        holder.transaction(),
    ):
        holder.execute(f"LOCK TABLE {table} IN SHARE MODE")

        def until_waiting(n: int) -> None:
            deadline = time.monotonic() + PATIENCE
            while True:
                row = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND query LIKE %s",
                    (f"INSERT INTO {table} %",),
                ).fetchone()
                if row and row[0] >= n:
                    return
                assert time.monotonic() < deadline, f"{n} requests never waited at the INSERT"
                time.sleep(0.05)

        yield until_waiting


def race(
    pg_server: PgServer, table: str, send: Callable[[int], httpx.Response]
) -> tuple[httpx.Response, httpx.Response]:
    """`send(0)` and `send(1)` at once, both held at their INSERT into `table` until both are
    there; their answers, the lower status first."""
    with ThreadPoolExecutor(2) as pool, inserts_held(pg_server, table) as until_waiting:
        sent = [pool.submit(send, n) for n in (0, 1)]
        until_waiting(2)
    first, second = sorted((future.result() for future in sent), key=lambda r: r.status_code)
    return first, second


def api_login(server: str, username: str) -> dict[str, str]:
    body = {"username": username, "password": LOGINS[username].password}
    answer = httpx.post(f"{server}/api/auth/login", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def post(server: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{server}{path}", json=body, headers=headers, timeout=PATIENCE * 2)


def assert_refused_as_existing(answer: httpx.Response, field: str, *named: str) -> None:
    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["field"] == field, problem
    for words in named:
        assert words in problem["detail"], problem


def count(pg_server: PgServer, query: str, *params: object) -> int:
    with pg_server.connect(TEST_DATABASE) as connection:
        row = connection.execute(query, params).fetchone()
    assert row is not None
    return int(row[0])  # type: ignore[call-overload]


def test_two_registrations_of_one_organisation(pg_server: PgServer, live_server: str) -> None:
    admin = api_login(live_server, "fdo-admin")
    prefixes = ("6260077", "6260078")

    def register(n: int) -> httpx.Response:
        body = {"gln": NEW_GLN, "name": f"Racing maker {n}", "name_fa": f"سازنده {n}",
                "kind": "manufacturer", "company_prefixes": [prefixes[n]]}  # fmt: skip
        return post(live_server, "/api/organizations", body, admin)

    won, lost = race(pg_server, "organizations", register)
    assert won.status_code == 201, won.text
    assert_refused_as_existing(
        lost, "gln", f"An organisation with GLN {NEW_GLN} is already registered."
    )
    winner = won.json()
    assert count(pg_server, "SELECT count(*) FROM organizations WHERE gln = %s", NEW_GLN) == 1
    # The loser's company prefix was not kept either.
    held = count(
        pg_server,
        "SELECT count(*) FROM company_prefixes WHERE prefix = ANY(%s)",
        list(prefixes),
    )
    assert held == 1 and winner["company_prefixes"] in ([prefixes[0]], [prefixes[1]])


def test_two_registrations_of_one_facility(pg_server: PgServer, live_server: str) -> None:
    admin = api_login(live_server, "fdo-admin")
    organization = httpx.get(
        f"{live_server}/api/auth/me", headers=api_login(live_server, "darupakhsh"), timeout=30
    ).json()["organization_id"]

    def register(n: int) -> httpx.Response:
        body = {"gln": NEW_GLN, "organization_id": organization, "name": f"Branch {n}",
                "province": "Fars", "city": "Shiraz"}  # fmt: skip
        return post(live_server, "/api/facilities", body, admin)

    won, lost = race(pg_server, "facilities", register)
    assert won.status_code == 201, won.text
    assert_refused_as_existing(lost, "gln", f"A facility with GLN {NEW_GLN} is already registered.")
    assert count(pg_server, "SELECT count(*) FROM facilities WHERE gln = %s", NEW_GLN) == 1


def test_two_users_of_one_username(pg_server: PgServer, live_server: str) -> None:
    admin = api_login(live_server, "fdo-admin")
    organization = httpx.get(
        f"{live_server}/api/auth/me", headers=api_login(live_server, "razi-pharmacy"), timeout=30
    ).json()["organization_id"]

    def create(n: int) -> httpx.Response:
        body = {"username": "racing-user", "password": f"long-enough-{n}", "role": "pharmacy",
                "organization_id": organization}  # fmt: skip
        return post(live_server, "/api/users", body, admin)

    won, lost = race(pg_server, "users", create)
    assert won.status_code == 201, won.text
    assert_refused_as_existing(lost, "username", "The username 'racing-user' is taken.")
    assert count(pg_server, "SELECT count(*) FROM users WHERE username = 'racing-user'") == 1


def test_two_registrations_of_one_gtin(pg_server: PgServer, live_server: str) -> None:
    maker = api_login(live_server, "sina-darou")

    def register(n: int) -> httpx.Response:
        body = {"gtin": OWN_GTIN, "name": f"Racing capsules {n}", "name_fa": "کپسول",
                "generic_name": "amoxicillin", "form": "capsule", "strength": "500 mg",
                "pack_size": 16, "atc": "J01CA04", "irc": f"IRC-RACE-{n}"}  # fmt: skip
        return post(live_server, "/api/products", body, maker)

    won, lost = race(pg_server, "products", register)
    assert won.status_code == 201, won.text
    assert_refused_as_existing(
        lost, "gtin", f"A product with GTIN {OWN_GTIN} is already registered."
    )
    stored = count(
        pg_server,
        "SELECT count(*) FROM products WHERE gtin = %s AND name = %s",
        OWN_GTIN,
        won.json()["name"],
    )
    assert stored == 1


def console_session(server: str, username: str) -> httpx.Client:
    session = httpx.Client(base_url=server, timeout=PATIENCE * 2, cookies={"darutrace_lang": "en"})
    form = session.get("/console/login")
    logged_in = session.post(
        "/console/login",
        data={
            "username": username,
            "password": LOGINS[username].password,
            "next": "/console",
            "_csrf_token": csrf_token(form.text),
        },
    )
    assert logged_in.status_code in (302, 303), logged_in.text
    return session


def csrf_token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "no form with a CSRF token"
    return found[1]


def test_the_console_form_shows_the_race_lost_beside_its_field(
    pg_server: PgServer, live_server: str
) -> None:
    page = "/console/admin/facilities"
    admins = [console_session(live_server, "fdo-admin") for _ in range(2)]
    organization = httpx.get(
        f"{live_server}/api/auth/me", headers=api_login(live_server, "darupakhsh"), timeout=30
    ).json()["organization_id"]
    tokens = [
        csrf_token(admin.get(f"{page}?organization_id={organization}").text) for admin in admins
    ]

    def register(n: int) -> httpx.Response:
        return admins[n].post(
            page,
            data={
                "gln": NEW_GLN,
                "organization_id": organization,
                "name": f"Branch {n}",
                "province": "Fars",
                "city": "Shiraz",
                "_csrf_token": tokens[n],
            },
        )

    try:
        won, lost = race(pg_server, "facilities", register)
    finally:
        for admin in admins:
            admin.close()
    assert won.status_code == 303, won.text
    assert lost.status_code == 409, lost.text
    assert "text/html" in lost.headers["content-type"]
    assert f"A facility with GLN {NEW_GLN} is already registered." in lost.text
    assert 'value="Branch' in lost.text  # the form again, as it was typed
    assert count(pg_server, "SELECT count(*) FROM facilities WHERE gln = %s", NEW_GLN) == 1


async def test_a_facility_gone_behind_the_servers_back_is_a_422_naming_it(
    client: AsyncTestClient[Any], pg_server: PgServer
) -> None:
    """A facility the events' directory still remembers after its row went away (as a restore of
    an older backup does): the database refuses the reference, the request is a 422 naming the
    missing facility and changes nothing, and the next request reads the facilities again."""
    admin = await headers_for(client, "fdo-admin")
    warehouse = await me(client, await headers_for(client, "darupakhsh"))
    branch = await client.post(
        "/api/facilities",
        json={
            "gln": NEW_GLN,
            "organization_id": warehouse["organization_id"],
            "name": "Short-lived branch",
            "province": "Fars",
            "city": "Shiraz",
        },
        headers=admin,
    )
    assert branch.status_code == 201, branch.text
    maker = await headers_for(client, "sina-darou")
    gtin, _, serials = await register_batch(client, maker, count=1)
    codes = [pack_code(gtin, serials[0])]
    # Refused for its time, after the destination was looked up (and remembered).
    future = await event(
        client, maker, "ship", codes, destination_gln=NEW_GLN, event_time="2099-01-01T00:00:00Z"
    )
    assert future.status_code == 422 and "event_time" in future.json()["detail"], future.text
    with pg_server.connect(TEST_DATABASE) as connection:
        connection.execute("DELETE FROM facilities WHERE gln = %s", (NEW_GLN,))

    event_id = str(uuid.uuid4())
    shipped = await client.post(
        "/api/events",
        json={"event_id": event_id, "action": "ship", "codes": codes, "destination_gln": NEW_GLN},
        headers=maker,
    )
    assert shipped.status_code == 422, shipped.text
    problem = shipped.json()
    assert problem["field"] == "destination_id", problem
    assert f"no facility {branch.json()['id']} is registered" in problem["detail"], problem
    assert count(pg_server, "SELECT count(*) FROM events WHERE event_id = %s", event_id) == 0
    held_by_maker = count(
        pg_server,
        "SELECT count(*) FROM packs p JOIN facilities f ON f.id = p.holder_id"
        " WHERE p.gtin = %s AND p.serial = %s AND f.gln = %s",
        gtin,
        serials[0],
        facility_gln("sina-darou"),
    )
    assert held_by_maker == 1

    again = await client.post(
        "/api/events",
        json={
            "event_id": str(uuid.uuid4()),
            "action": "ship",
            "codes": codes,
            "destination_gln": NEW_GLN,
        },
        headers=maker,
    )
    assert again.status_code == 422, again.text
    assert f"no facility is registered with GLN {NEW_GLN}" in again.json()["detail"]


def _missing(table: str, column: str, referred: str, key: str) -> str:
    return (
        f"SELECT '{table}.{column}', {column}::text FROM {table} r WHERE {column} IS NOT NULL"
        f" AND NOT EXISTS (SELECT 1 FROM {referred} x WHERE x.{key} = r.{column})"
    )


# Every reference of packs and pack_events, which no key checks (models/packs.py), and what the
# keys of the events rows stand in for: a pack event's facility and destination are its event's.
UNKEYED = [
    "SELECT 'packs.(gtin, lot)', p.gtin || '/' || p.lot FROM packs p WHERE NOT EXISTS"
    " (SELECT 1 FROM batches b WHERE b.gtin = p.gtin AND b.lot = p.lot)",
    *(
        _missing("packs", column, "facilities", "id")
        for column in ("holder_id", "transit_from_id", "transit_to_id", "status_facility_id")
    ),
    *(
        _missing("packs", column, "events", "event_id")
        for column in ("commission_event_id", "last_event_id")
    ),
    _missing("packs", "container_sscc", "containers", "sscc"),
    _missing("pack_events", "event_id", "events", "event_id"),
    "SELECT 'pack_events: not its event''s sites', pe.event_id::text FROM pack_events pe"
    " JOIN events e USING (event_id) WHERE pe.facility_id <> e.facility_id"
    " OR pe.destination_id IS DISTINCT FROM e.destination_id",
]


async def test_every_reference_of_packs_and_pack_events_exists_after_every_kind_of_event(
    client: AsyncTestClient[Any], pg_server: PgServer
) -> None:
    maker = await headers_for(client, "sina-darou")
    hub = await headers_for(client, "darupakhsh")
    pharmacy = await headers_for(client, "razi-pharmacy")
    gtin, _, serials = await register_batch(client, maker, count=8)
    codes = [pack_code(gtin, serial) for serial in serials]
    case, new_case = (f"(00){with_check_digit(f'06260009{n:09d}')}" for n in (41, 42))
    unknown = pack_code(gtin, "NEVERMADE1")

    async def ok(who: dict[str, str], action: str, sent: list[str], **fields: Any) -> None:
        answer = await event(client, who, action, sent, **fields)
        assert answer.status_code == 200, answer.text

    await ok(maker, "ship", codes[:6], destination_gln=facility_gln("darupakhsh"))
    await ok(hub, "receive", codes[:6])
    await ok(hub, "pack", codes[:4], container=case)
    await ok(hub, "ship", [case], destination_gln=facility_gln("razi-pharmacy"))
    await ok(pharmacy, "receive", [case])
    await ok(pharmacy, "unpack", [codes[0]], container=case)
    await ok(pharmacy, "dispense", codes[:2])
    await ok(pharmacy, "undo", codes[1:2])
    await ok(pharmacy, "return", codes[1:2], destination_gln=facility_gln("darupakhsh"))
    await ok(hub, "lock", codes[4:5])
    await ok(maker, "destroy", codes[6:7])
    refused = await event(client, pharmacy, "dispense", [unknown])
    assert refused.status_code == 422, refused.text  # recorded: an unknown serial
    refused = await event(client, maker, "pack", codes[4:5], container=new_case)
    assert refused.status_code == 409, refused.text  # recorded, naming a case never made

    with pg_server.connect(TEST_DATABASE) as connection:
        missing = [row for query in UNKEYED for row in connection.execute(query).fetchall()]
        pack_events = connection.execute(
            "SELECT count(*) FROM pack_events WHERE gtin = %s", (gtin,)
        ).fetchone()
    assert missing == []
    assert pack_events and pack_events[0] >= 20  # the workload was recorded


def refused(pg_server: PgServer, statement: str) -> ServiceError:
    """What `statement` (refused by PostgreSQL, rolled back) says to a person."""
    with pg_server.connect(TEST_DATABASE) as connection:
        try:
            with connection.transaction():
                connection.execute(statement)
        except psycopg.IntegrityError as exc:
            problem = translated(exc)
            assert problem is not None
            return problem
    raise AssertionError(f"not refused: {statement}")


def test_each_kind_of_refusal_says_what_it_is(pg_server: PgServer, database: object) -> None:
    facility = "(SELECT id FROM facilities ORDER BY gln LIMIT 1)"
    columns = "gln, organization_id, name, name_fa, address, province, city, created_at"
    taken = refused(
        pg_server,
        f"INSERT INTO facilities (id, {columns}) SELECT gen_random_uuid(), {columns}"
        f" FROM facilities WHERE id = {facility}",
    )
    assert (taken.status_code, taken.extra["field"]) == (409, "gln")
    assert "A facility with GLN 626000999" in taken.detail

    missing = refused(
        pg_server,
        "UPDATE batches SET gtin = '00000000000000' WHERE (gtin, lot) IN (SELECT gtin, lot"
        " FROM batches b WHERE NOT EXISTS (SELECT 1 FROM recall_batches r WHERE r.gtin = b.gtin"
        " AND r.lot = b.lot) LIMIT 1)",
    )
    assert (missing.status_code, missing.extra["field"]) == (422, "gtin")
    assert (
        missing.detail
        == "gtin: no product with GTIN 00000000000000 is registered; nothing was saved."
    )

    referred = refused(pg_server, f"DELETE FROM facilities WHERE id = {facility}")
    assert referred.status_code == 409
    assert referred.detail.startswith("facilities ") and "still referred to by" in referred.detail

    absent = refused(pg_server, "UPDATE products SET name = NULL")
    assert (absent.status_code, absent.extra["field"]) == (422, "name")

    unfit = refused(pg_server, "UPDATE batches SET origin = 'stolen'")
    assert unfit.status_code == 422 and "ck_batches_batchorigin" in unfit.detail


async def test_commissioning_at_a_facility_gone_is_a_422_and_makes_no_pack(
    client: AsyncTestClient[Any], pg_server: PgServer
) -> None:
    """The same through the ORM: commissioning writes its event (refused) before any pack."""
    admin = await headers_for(client, "fdo-admin")
    maker = await headers_for(client, "sina-darou")
    plant = await client.post(
        "/api/facilities",
        json={
            "gln": NEW_GLN,
            "organization_id": (await me(client, maker))["organization_id"],
            "name": "Short-lived plant",
            "province": "Tehran",
            "city": "Tehran",
        },
        headers=admin,
    )
    assert plant.status_code == 201, plant.text
    gtin, lot, _ = await register_batch(client, maker, quantity=10)
    path = f"/api/batches/{gtin}/{lot}/packs"
    too_many = await client.post(path, json={"count": 11, "facility_gln": NEW_GLN}, headers=maker)
    assert too_many.status_code == 409, too_many.text  # the plant was looked up (and remembered)
    with pg_server.connect(TEST_DATABASE) as connection:
        connection.execute("DELETE FROM facilities WHERE gln = %s", (NEW_GLN,))

    made = await client.post(path, json={"count": 5, "facility_gln": NEW_GLN}, headers=maker)
    assert made.status_code == 422, made.text
    assert made.json()["field"] == "facility_id"
    assert f"no facility {plant.json()['id']} is registered" in made.json()["detail"]
    assert count(pg_server, "SELECT count(*) FROM packs WHERE gtin = %s", gtin) == 0
    assert count(pg_server, "SELECT commissioned FROM batches WHERE gtin = %s", gtin) == 0

    again = await client.post(path, json={"count": 5, "facility_gln": NEW_GLN}, headers=maker)
    assert again.status_code == 422, again.text
    assert f"{NEW_GLN} is not one of your organisation's facilities" in again.json()["detail"]
