"""The demo world's medicines have moved through the chain."""

import uuid
from typing import Any

from litestar.testing import AsyncTestClient

from app import demo, demo_supply
from app.demo_supply import PRODUCTS, demo_gtin
from tests.conftest import TEST_DATABASE, PgServer, database_at
from tests.helpers import facility_gln, headers_for


async def test_demo_packs_are_spread_along_the_chain(client: AsyncTestClient[Any]) -> None:
    inspector = await headers_for(client, "fdo-inspector")
    products = (await client.get("/api/products", headers=inspector)).json()
    assert {p["gtin"] for p in products} >= {demo_gtin(p.item) for p in PRODUCTS}
    assert any(p["name_fa"].startswith("قرص") for p in products)

    gtin = demo_gtin("101")
    csv = await client.get(f"/api/batches/{gtin}/AMX2601/packs.csv", headers=inspector)
    serials = [line.split(",")[1] for line in csv.text.splitlines()[1:]]
    states = []
    for serial in serials:
        pack = (await client.get(f"/api/packs/{gtin}/{serial}", headers=inspector)).json()
        holder = pack["holder"]
        where = "in transit" if holder["in_transit"] else holder["facility"]["gln"]
        states.append((pack["status"], where))
    assert ("dispensed", facility_gln("razi-pharmacy")) in states
    assert ("active", facility_gln("razi-pharmacy")) in states
    assert ("active", "in transit") in states
    assert ("active", facility_gln("darupakhsh")) in states
    assert ("dispensed", facility_gln("imamreza-hospital")) in states
    assert ("active", facility_gln("sina-darou")) in states  # still at the factory


async def test_the_demo_has_alerts_to_triage_and_a_pallet_to_ship(
    client: AsyncTestClient[Any],
) -> None:
    inspector = await headers_for(client, "fdo-inspector")
    alerts = (await client.get("/api/alerts", headers=inspector)).json()
    assert sorted(a["code"] for a in alerts) == ["cloned_code", "unknown_serial"]
    maker = await headers_for(client, "sina-darou")
    shipped = await client.post(
        "/api/events",
        json={
            "event_id": str(uuid.uuid4()),
            "action": "ship",
            "codes": [f"(00){demo_supply.DEMO_PALLET}"],
            "destination_gln": demo_supply.TEHRAN_HUB,
        },
        headers=maker,
    )
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["results"][0]["summary"] == {"ok": 20, "warning": 0, "refused": 0}


async def test_the_demo_products_are_under_their_owners_company_prefixes(
    client: AsyncTestClient[Any],
) -> None:
    inspector = await headers_for(client, "fdo-inspector")
    every_prefix = [
        prefix
        for organization in (await client.get("/api/organizations", headers=inspector)).json()
        for prefix in organization["company_prefixes"]
    ]
    assert set(every_prefix) >= {"62600099", "6260012"}
    for product in PRODUCTS:
        owner = await headers_for(client, product.owner)
        (own,) = (await client.get("/api/organizations", headers=owner)).json()
        under = [p for p in every_prefix if demo_gtin(product.item)[1:].startswith(p)]
        if own["kind"] == "importer":
            assert under == [], product  # made abroad: under no prefix held here
        else:
            assert len(under) == 1 and under[0] in own["company_prefixes"], product


async def test_seeding_again_restores_only_what_is_missing(
    pg_server: PgServer, test_database: str, client: AsyncTestClient[Any]
) -> None:
    """A complete demo world is recognised by one query (`serve --demo` restarts at once); a
    world missing anything is completed."""
    with pg_server.connect(TEST_DATABASE) as conn:
        conn.execute("DELETE FROM company_prefixes WHERE prefix = '6260012'")
        conn.execute(
            "UPDATE organizations SET name = 'Renamed by its admin' WHERE gln = %s",
            (demo.WORLD[0].gln,),
        )
    # As `darutrace demo seed` would, with a pool of its own: the running app keeps its own
    # (closing it would leave the app unable to write its access log, so to answer).
    await demo.seed_database(database_at(pg_server, test_database))
    inspector = await headers_for(client, "fdo-inspector")
    organizations = (await client.get("/api/organizations", headers=inspector)).json()
    assert "6260012" in {p for o in organizations for p in o["company_prefixes"]}
    assert "Renamed by its admin" in {o["name"] for o in organizations}  # existing rows kept
