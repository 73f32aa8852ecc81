"""A pack history recorded as users record it, for the EPCIS views of the register: serialized,
packed into a case, shipped to a distributor, received by the case's SSCC, shipped on to a
pharmacy, received there, one pack dispensed (with a refused line: a code of no pack)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.testing import AsyncTestClient

from models.gs1 import with_check_digit
from tests.helpers import event, facility_gln, headers_for, pack_code, register_batch

DL = "https://id.gs1.org"
UNKNOWN_SERIAL = "NOSUCHPACK1"  # scanned at the counter, refused: no such pack was made


@dataclass(frozen=True)
class History:
    gtin: str
    lot: str
    serials: list[str]  # six packs: the first four packed into `case`
    case: str
    expiry: str
    # In the order they happened: commission, pack, ship, receive, ship on, receive, dispense.
    event_ids: list[str]

    def epc(self, index: int) -> str:
        return f"{DL}/01/{self.gtin}/21/{self.serials[index]}"

    @property
    def case_epc(self) -> str:
        return f"{DL}/00/{self.case}"


def sgln(username: str) -> str:
    return f"{DL}/414/{facility_gln(username)}"


async def record_history(client: AsyncTestClient[Any], item: str = "151") -> History:
    maker = await headers_for(client, "sina-darou")
    warehouse = await headers_for(client, "darupakhsh")
    pharmacy = await headers_for(client, "razi-pharmacy")
    expiry = "2028-06-30"
    gtin, lot, _ = await register_batch(client, maker, item=item, expiry=expiry)
    done = await client.post(f"/api/batches/{gtin}/{lot}/packs", json={"count": 6}, headers=maker)
    assert done.status_code == 201, done.text
    ids = [done.json()["event_id"]]
    csv = await client.get(f"/api/batches/{gtin}/{lot}/packs.csv", headers=maker)
    serials = sorted(line.split(",")[1] for line in csv.text.splitlines()[1:])
    case = with_check_digit(f"06260009{int(item):09d}")
    codes = [pack_code(gtin, s) for s in serials]

    async def step(headers: dict[str, str], action: str, scanned: list[str], **fields: Any) -> Any:
        answer = await event(client, headers, action, scanned, **fields)
        assert answer.status_code == 200, answer.text
        ids.append(answer.json()["event_id"])
        return answer.json()

    await step(maker, "pack", codes[:4], container=f"(00){case}")
    await step(maker, "ship", [f"(00){case}"], destination_gln=facility_gln("darupakhsh"))
    await step(warehouse, "receive", [f"(00){case}"])
    await step(warehouse, "ship", [f"(00){case}"], destination_gln=facility_gln("razi-pharmacy"))
    await step(pharmacy, "receive", [f"(00){case}"])
    dispensed = await step(pharmacy, "dispense", [codes[0], pack_code(gtin, UNKNOWN_SERIAL)])
    assert dispensed["summary"] == {"ok": 1, "warning": 0, "refused": 1}, dispensed
    return History(gtin, lot, serials, case, expiry, ids)
