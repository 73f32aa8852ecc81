"""The application keeps facilities and credentials in memory; a test starts it again over a
database refilled with the demo world, and nothing one test made it remember reaches the next."""

from __future__ import annotations

from litestar import Litestar

from models.gs1 import with_check_digit
from tests.conftest import PgServer, client_for, fresh_database
from tests.helpers import event, headers_for, me, pack_code, register_batch

BRANCH_GLN = with_check_digit("626000777700")


async def test_a_facility_and_a_device_of_one_test_are_gone_in_the_next(
    app: Litestar, pg_server: PgServer, test_database: str
) -> None:
    async with client_for(app, fresh_database(pg_server, test_database)) as first:
        admin = await headers_for(first, "fdo-admin")
        warehouse = await me(first, await headers_for(first, "darupakhsh"))
        branch = await first.post(
            "/api/facilities",
            json={
                "gln": BRANCH_GLN,
                "organization_id": warehouse["organization_id"],
                "name": "Darupakhsh branch",
                "province": "Fars",
                "city": "Shiraz",
            },
            headers=admin,
        )
        assert branch.status_code == 201, branch.text
        maker = await headers_for(first, "sina-darou")
        gtin, _, serials = await register_batch(first, maker, count=1)
        shipped = await event(
            first, maker, "ship", [pack_code(gtin, serials[0])], destination_gln=BRANCH_GLN
        )
        assert shipped.json()["summary"]["ok"] == 1, shipped.text  # the branch is cached now
        device = await first.post(
            "/api/devices",
            json={"facility_id": branch.json()["id"], "name": "Branch scanner"},
            headers=admin,
        )
        assert device.status_code == 201, device.text
        scanner = {"X-API-Key": device.json()["api_key"]}
        assert (await first.get("/api/products", headers=scanner)).status_code == 200  # cached

    async with client_for(app, fresh_database(pg_server, test_database)) as second:
        maker = await headers_for(second, "sina-darou")
        gtin, _, serials = await register_batch(second, maker, count=1)
        shipped = await event(
            second, maker, "ship", [pack_code(gtin, serials[0])], destination_gln=BRANCH_GLN
        )
        assert shipped.status_code == 422, shipped.text
        assert f"no facility is registered with GLN {BRANCH_GLN}" in shipped.json()["detail"]
        assert (await second.get("/api/products", headers=scanner)).status_code == 401
