"""Products, batches and serialization."""

from typing import Any

from litestar.testing import AsyncTestClient

from app.packs.serials import ALPHABET, LENGTH
from models.gs1 import with_check_digit
from tests.helpers import headers_for, register_batch

GTIN = with_check_digit("0626000999777")
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
    assert (await client.post("/api/products", json=PRODUCT, headers=maker)).status_code == 409
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
    assert (await client.post("/api/products", json=PRODUCT, headers=importer)).status_code == 201


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
