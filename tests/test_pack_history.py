"""A pack's chain of custody (GET /api/packs/{gtin}/{serial}/events) is refused to whoever
never handled the pack exactly as its trace is: 404, as for a pack that does not exist."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import event, facility_gln, headers_for, pack_code, register_batch

Client = AsyncTestClient[Litestar]


async def test_a_pack_the_caller_never_handled_is_404_like_its_trace(client: Client) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, _, serials = await register_batch(client, maker, count=1)
    pack, code = f"/api/packs/{gtin}/{serials[0]}", pack_code(gtin, serials[0])
    pharmacy = await headers_for(client, "razi-pharmacy")
    # Shipping a pack held elsewhere is refused: that is not handling it either.
    refused = await event(
        client, pharmacy, "ship", [code], destination_gln=facility_gln("sina-darou")
    )
    assert refused.json()["summary"]["refused"] == 1, refused.text

    history = await client.get(f"{pack}/events", headers=pharmacy)
    trace = await client.get(f"{pack}/trace", headers=pharmacy)
    assert history.status_code == trace.status_code == 404, (history.text, trace.text)
    assert history.json()["detail"] == trace.json()["detail"]
    assert history.json()["detail"] == f"No pack {serials[0]} of GTIN {gtin}."

    inspector = await headers_for(client, "fdo-inspector")
    seen = await client.get(f"{pack}/events", headers=inspector)
    assert seen.status_code == 200, seen.text
    assert [entry["action"] for entry in seen.json()] == ["commission", "ship"]

    shipped = await event(
        client,
        maker,
        "ship",
        [pack_code(gtin, serials[0])],
        destination_gln=facility_gln("darupakhsh"),
    )
    assert shipped.json()["summary"]["ok"] == 1, shipped.text
    warehouse = await headers_for(client, "darupakhsh")
    on_its_way = await client.get(f"{pack}/events", headers=warehouse)
    assert on_its_way.status_code == 200, on_its_way.text
    assert [entry["action"] for entry in on_its_way.json()] == ["ship"]
