"""Products, batches and serialization."""

from typing import Any

from litestar.testing import AsyncTestClient

from app.packs.serials import ALPHABET, LENGTH
from models.gs1 import with_check_digit
from tests.helpers import headers_for, register_batch

GTIN = with_check_digit("0626000999777")  # under Sina Darou's company prefix, 62600099
FOREIGN_GTIN = "09506000134352"  # under no prefix held in the register (GS1's example GTIN)
PRODUCT = {
    "gtin": GTIN,
    "name": "Metformin 500 mg",
    "name_fa": "متفورمین ۵۰۰",
    "generic_name": "metformin",
    "form": "tablet",
    "strength": "500 mg",
    "pack_size": 100,
    "atc": "A10BA02",
    "irc": "1234567890123456",
}


async def _count(client: AsyncTestClient[Any], headers: dict[str, str]) -> int:
    return len((await client.get("/api/products", headers=headers)).json())


async def test_product_gtin_is_validated_and_normalised(client: AsyncTestClient[Any]) -> None:
    maker = await headers_for(client, "sina-darou")
    before = await _count(client, maker)
    wrong = PRODUCT | {"gtin": GTIN[:-1] + str((int(GTIN[-1]) + 1) % 10)}
    response = await client.post("/api/products", json=wrong, headers=maker)
    assert response.status_code == 422
    assert response.json()["field"] == "gtin"
    assert "check digit" in response.json()["detail"]
    assert await _count(client, maker) == before

    thirteen = PRODUCT | {"gtin": GTIN[1:]}  # a GTIN-13 is stored as its GTIN-14
    response = await client.post("/api/products", json=thirteen, headers=maker)
    assert response.status_code == 201, response.text
    assert response.json()["gtin"] == GTIN
    again = await client.post("/api/products", json=PRODUCT, headers=maker)
    assert again.status_code == 409
    assert "already registered by your organisation" in again.json()["detail"]
    assert (await client.get(f"/api/products/{GTIN}", headers=maker)).json()["name_fa"] == (
        "متفورمین ۵۰۰"
    )


async def test_only_manufacturers_and_importers_register_products(
    client: AsyncTestClient[Any],
) -> None:
    for username in ("razi-pharmacy", "darupakhsh", "fdo-inspector", "fdo-admin"):
        headers = await headers_for(client, username)
        response = await client.post("/api/products", json=PRODUCT, headers=headers)
        assert response.status_code == 403, username
    importer = await headers_for(client, "pars-import")
    foreign = PRODUCT | {"gtin": FOREIGN_GTIN}
    assert (await client.post("/api/products", json=foreign, headers=importer)).status_code == 201
    maker = await headers_for(client, "sina-darou")
    assert (await client.post("/api/products", json=PRODUCT, headers=maker)).status_code == 201


async def test_a_manufacturer_registers_only_gtins_under_its_own_prefixes(
    client: AsyncTestClient[Any],
) -> None:
    sina = await headers_for(client, "sina-darou")
    before = await _count(client, sina)
    response = await client.post(
        "/api/products", json=PRODUCT | {"gtin": FOREIGN_GTIN}, headers=sina
    )
    assert response.status_code == 403, response.text
    assert response.json()["field"] == "gtin"
    assert (
        "not under your organisation's GS1 company prefixes (62600099)"
        in (response.json()["detail"])
    )
    zagros = await headers_for(client, "zagros-pharmed")
    response = await client.post("/api/products", json=PRODUCT, headers=zagros)  # Sina's GTIN
    assert response.status_code == 403
    assert "(6260012)" in response.json()["detail"]
    # A GTIN-12 beginning 6260012 is the GTIN-13 06260012…, not under Zagros Pharmed's prefix.
    upc = PRODUCT | {"gtin": with_check_digit("62600123456")}
    assert (await client.post("/api/products", json=upc, headers=zagros)).status_code == 403
    assert await _count(client, sina) == before


async def test_a_manufacturer_without_prefixes_is_told_to_ask_an_administrator(
    client: AsyncTestClient[Any],
) -> None:
    admin = await headers_for(client, "fdo-admin")
    maker, org_id = await _new_member(client, admin, "manufacturer", "kimia-darou")
    upc_gtin = with_check_digit("0001234500001")  # a GTIN-12 (UPC company prefix 012345)
    product = PRODUCT | {"gtin": upc_gtin[2:]}
    response = await client.post("/api/products", json=product, headers=maker)
    assert response.status_code == 403
    assert "holds no GS1 company prefix" in response.json()["detail"]
    assert "administrator" in response.json()["detail"]
    gtin8 = with_check_digit("9506000")  # licensed by itself: its prefix is 00000 + 9506000
    given = await client.patch(
        f"/api/organizations/{org_id}",
        json={"company_prefixes": ["0012345", "000009506000"]},
        headers=admin,
    )
    assert given.status_code == 200, given.text
    response = await client.post("/api/products", json=product, headers=maker)
    assert response.status_code == 201, response.text
    assert response.json()["gtin"] == upc_gtin
    response = await client.post("/api/products", json=PRODUCT | {"gtin": gtin8}, headers=maker)
    assert response.status_code == 201, response.text
    assert response.json()["gtin"] == gtin8.zfill(14)
    other8 = PRODUCT | {"gtin": with_check_digit("9506001")}
    assert (await client.post("/api/products", json=other8, headers=maker)).status_code == 403


async def test_an_importer_registers_a_foreign_gtin_only_with_an_irc(
    client: AsyncTestClient[Any],
) -> None:
    importer = await headers_for(client, "pars-import")
    before = await _count(client, importer)
    foreign = PRODUCT | {"gtin": FOREIGN_GTIN}
    without = {k: v for k, v in foreign.items() if k != "irc"}
    for body in (without, foreign | {"irc": "   "}):
        response = await client.post("/api/products", json=body, headers=importer)
        assert response.status_code == 422, response.text
        assert response.json()["field"] == "irc"
        assert "IRC (the national licence code) is required" in response.json()["detail"]
    response = await client.post("/api/products", json=PRODUCT, headers=importer)
    assert response.status_code == 403  # Sina Darou's GTIN is not foreign
    assert "belongs to another organisation" in response.json()["detail"]
    assert await _count(client, importer) == before
    response = await client.post("/api/products", json=foreign, headers=importer)
    assert response.status_code == 201, response.text
    assert response.json()["irc"] == PRODUCT["irc"]


async def test_a_gtin_is_registered_by_one_organisation(client: AsyncTestClient[Any]) -> None:
    admin = await headers_for(client, "fdo-admin")
    first = await headers_for(client, "pars-import")
    second, _ = await _new_member(client, admin, "importer", "alborz-import")
    foreign = PRODUCT | {"gtin": FOREIGN_GTIN}
    assert (await client.post("/api/products", json=foreign, headers=first)).status_code == 201
    response = await client.post("/api/products", json=foreign, headers=second)
    assert response.status_code == 409
    assert response.json()["field"] == "gtin"
    assert "already registered by another organisation" in response.json()["detail"]


async def _new_member(
    client: AsyncTestClient[Any], admin: dict[str, str], kind: str, username: str
) -> tuple[dict[str, str], str]:
    """A new organisation of `kind` (no company prefixes) with one user; (headers, org id)."""
    gln = with_check_digit("6260007777" + str(len(username)).zfill(2))
    org = await client.post(
        "/api/organizations",
        json={"gln": gln, "name": username, "name_fa": username, "kind": kind},
        headers=admin,
    )
    assert org.status_code == 201, org.text
    user = await client.post(
        "/api/users",
        json={
            "username": username,
            "password": "correct horse battery",
            "role": kind,
            "organization_id": org.json()["id"],
        },
        headers=admin,
    )
    assert user.status_code == 201, user.text
    return await headers_for(client, username), org.json()["id"]


async def test_bad_atc_and_pack_size_are_422(client: AsyncTestClient[Any]) -> None:
    maker = await headers_for(client, "sina-darou")
    for change, field in (({"atc": "XYZ"}, "atc"), ({"pack_size": 0}, "pack_size")):
        response = await client.post("/api/products", json=PRODUCT | change, headers=maker)
        assert response.status_code == 422
        assert response.json()["field"] == field


async def test_batch_rules(client: AsyncTestClient[Any]) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, lot, _ = await register_batch(client, maker)
    base = {
        "gtin": gtin,
        "lot": "B2",
        "expiry": "2028-01-31",
        "manufactured_on": "2026-01-01",
        "quantity": 100,
        "origin": "produced",
    }
    cases = [
        ({"expiry": "2025-12-31"}, 422, "after manufactured_on"),
        ({"lot": "LOT WITH SPACE"}, 422, "CSET 82"),
        ({"lot": "ÄÖ"}, 422, "CSET 82"),
        ({"lot": "X" * 21}, 422, "lot: must be at most 20 characters long"),
        ({"quantity": 0}, 422, "quantity"),
        ({"lot": lot}, 409, "already registered"),
        ({"origin": "smuggled"}, 422, "origin: 'smuggled' is not one of"),
    ]
    for change, status, words in cases:
        response = await client.post("/api/batches", json=base | change, headers=maker)
        assert response.status_code == status, (change, response.text)
        assert words in response.json()["detail"], (change, response.text)
    other = await headers_for(client, "zagros-pharmed")
    response = await client.post("/api/batches", json=base, headers=other)
    assert response.status_code == 404  # another organisation's product does not exist for you
    assert (await client.get(f"/api/batches/{gtin}/{lot}", headers=other)).status_code == 404
    inspector = await headers_for(client, "fdo-inspector")
    assert (await client.get(f"/api/batches/{gtin}/{lot}", headers=inspector)).status_code == 200


async def test_serialization_makes_unguessable_unique_serials(client: AsyncTestClient[Any]) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, lot, serials = await register_batch(client, maker, quantity=5000, count=3000)
    assert len(set(serials)) == 3000
    assert all(len(s) == LENGTH and set(s) <= set(ALPHABET) for s in serials)
    assert not set("01IOYZ") & set("".join(serials))
    more = await client.post(
        f"/api/batches/{gtin}/{lot}/packs", json={"count": 2000}, headers=maker
    )
    assert more.status_code == 201
    assert more.json()["commissioned"] == 2000
    batch = (await client.get(f"/api/batches/{gtin}/{lot}", headers=maker)).json()
    assert batch["commissioned"] == 5000

    csv = await client.get(f"/api/batches/{gtin}/{lot}/packs.csv", headers=maker)
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == "gtin,serial,lot,status"
    assert len(lines) == 5001
    assert len({line.split(",")[1] for line in lines[1:]}) == 5000


async def test_serialization_limits(client: AsyncTestClient[Any]) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, lot, _ = await register_batch(client, maker, quantity=10)
    path = f"/api/batches/{gtin}/{lot}/packs"
    response = await client.post(path, json={"count": 11}, headers=maker)
    assert response.status_code == 409
    assert "quantity of 10" in response.json()["detail"]
    for count in (0, 1_000_001):
        response = await client.post(path, json={"count": count}, headers=maker)
        assert response.status_code == 422
    other = await headers_for(client, "zagros-pharmed")
    assert (await client.post(path, json={"count": 1}, headers=other)).status_code == 404
    pharmacy = await headers_for(client, "razi-pharmacy")
    assert (await client.post(path, json={"count": 1}, headers=pharmacy)).status_code == 403
    unknown_lot = f"/api/batches/{gtin}/NOPE/packs"
    assert (await client.post(unknown_lot, json={"count": 1}, headers=maker)).status_code == 422
    batch = (await client.get(f"/api/batches/{gtin}/{lot}", headers=maker)).json()
    assert batch["commissioned"] == 0


def test_guessing_a_serial_is_far_below_the_limits() -> None:
    from app.packs.serials import guess_probability

    assert guess_probability(100_000_000) < 1e-9  # our target, with 100 million packs per GTIN
    assert guess_probability(10_000_000) < 1e-4 / 1_000_000  # EU FMD requires < 1/10,000
