"""The demo world's medicines: products (Iranian medicines, Persian names), batches, and packs
that have moved through the chain — in warehouses, in transit, at pharmacies, dispensed. Built
with the same services the API uses, so the demo obeys every rule. Idempotent: a product that
already exists is left alone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.principal import Principal
from app.catalog import service as catalog
from app.events import service as events
from app.facilities.directory import FacilityDirectory
from app.packs import commissioning
from models.catalog import BatchOrigin, Product
from models.containers import Container
from models.events import Action
from models.gs1 import with_check_digit
from models.identity import Facility, User
from models.packs import Pack


@dataclass(frozen=True)
class DemoProduct:
    owner: str  # username of the owning organisation's user
    item: str
    name: str
    name_fa: str
    generic_name: str
    form: str
    strength: str
    pack_size: int
    atc: str
    irc: str
    lots: tuple[tuple[str, date], ...]


# The GS1 company prefixes the demo's manufacturers hold (626 is GS1 Iran's prefix; the rest is
# invented). Pars Medical Import's medicines are made abroad: their GTINs are under 950 6000, the
# range GS1 uses in its own examples, which no organisation here holds.
COMPANY_PREFIXES = {"sina-darou": ("62600099",), "zagros-pharmed": ("6260012",)}
_GTIN_STEM = {
    "sina-darou": "0626000999",
    "zagros-pharmed": "0626001200",
    "pars-import": "0950600099",
}


def demo_gtin(item: str) -> str:
    """The GTIN of the demo product numbered `item` (under its owner's prefix)."""
    owner = next(product.owner for product in PRODUCTS if product.item == item)
    return with_check_digit(_GTIN_STEM[owner] + item)


PRODUCTS = (
    DemoProduct(
        "sina-darou",
        "101",
        "Amoxicillin 500 mg capsules",
        "کپسول آموکسی‌سیلین ۵۰۰ میلی‌گرم",
        "amoxicillin",
        "capsule",
        "500 mg",
        16,
        "J01CA04",
        "1228012345678901",
        (("AMX2601", date(2028, 3, 31)), ("AMX2602", date(2028, 9, 30))),
    ),
    DemoProduct(
        "sina-darou",
        "102",
        "Metformin 500 mg tablets",
        "قرص متفورمین ۵۰۰ میلی‌گرم",
        "metformin",
        "tablet",
        "500 mg",
        100,
        "A10BA02",
        "1228012345678902",
        (("MET2509", date(2027, 8, 31)),),
    ),
    DemoProduct(
        "zagros-pharmed",
        "103",
        "Atorvastatin 20 mg tablets",
        "قرص آتورواستاتین ۲۰ میلی‌گرم",
        "atorvastatin",
        "tablet",
        "20 mg",
        30,
        "C10AA05",
        "1228012345678903",
        (("ATV2604", date(2028, 4, 30)),),
    ),
    DemoProduct(
        "zagros-pharmed",
        "104",
        "Pantoprazole 40 mg tablets",
        "قرص پنتوپرازول ۴۰ میلی‌گرم",
        "pantoprazole",
        "gastro-resistant tablet",
        "40 mg",
        14,
        "A02BC02",
        "1228012345678904",
        (("PNT2511", date(2027, 11, 30)),),
    ),
    DemoProduct(
        "pars-import",
        "105",
        "Insulin glargine 100 IU/ml pens",
        "قلم انسولین گلارژین ۱۰۰ واحد",
        "insulin glargine",
        "solution for injection in pre-filled pen",
        "100 IU/ml",
        5,
        "A10AE04",
        "1228012345678905",
        (("GLA26B07", date(2027, 12, 31)),),
    ),
    DemoProduct(
        "pars-import",
        "106",
        "Salbutamol 100 mcg inhaler",
        "اسپری استنشاقی سالبوتامول ۱۰۰ میکروگرم",
        "salbutamol",
        "pressurised inhalation",
        "100 mcg/dose",
        1,
        "R03AC02",
        "1228012345678906",
        (("SAL2603", date(2028, 2, 29)),),
    ),
)
PACKS_PER_BATCH = 120


def demo_gln(n: int) -> str:
    # 626 is GS1 Iran's prefix; 0009999 an invented range for every demo location.
    return with_check_digit(f"6260009999{n:02d}")


TEHRAN_HUB, MASHHAD_HUB, SHIRAZ_HUB = demo_gln(55), demo_gln(56), demo_gln(57)
HUB_FOR = {
    "sina-darou": ("darupakhsh", TEHRAN_HUB),
    "pars-import": ("darupakhsh", TEHRAN_HUB),
    "zagros-pharmed": ("fars-pakhsh", SHIRAZ_HUB),
}


async def seed(session: AsyncSession) -> None:
    principals = await principals_by_username(session)
    directory = FacilityDirectory()
    facilities = {f.id: f.gln for f in (await session.exec(select(Facility))).all()}
    homes = {name: facilities[p.facility_id] for name, p in principals.items() if p.facility_id}
    for product in PRODUCTS:
        gtin = demo_gtin(product.item)
        if await session.get(Product, gtin) is not None:
            continue
        owner = principals[product.owner]
        await catalog.create_product(
            session,
            owner,
            catalog.NewProduct(
                gtin,
                product.name,
                product.name_fa,
                product.generic_name,
                product.form,
                product.strength,
                product.pack_size,
                product.atc,
                product.irc,
            ),
        )
        for lot, expiry in product.lots:
            origin = (
                BatchOrigin.imported if product.owner == "pars-import" else BatchOrigin.produced
            )
            await catalog.create_batch(
                session,
                owner,
                catalog.NewBatch(
                    gtin, lot, expiry, expiry - timedelta(days=3 * 365), 10_000, origin
                ),
            )
            await commissioning.commission(session, directory, owner, gtin, lot, PACKS_PER_BATCH)
            serials = await serials_of(session, gtin, lot)
            await _move(session, directory, principals, homes, product.owner, gtin, serials)
            await session.commit()
    if await session.get(Container, DEMO_PALLET) is None:
        await _incidents(session, directory, principals)
        await session.commit()


# At the factory, AMX2602's last 20 packs are packed in two cases on a pallet.
DEMO_CASES = (with_check_digit("06260009999000001"), with_check_digit("06260009999000002"))
DEMO_PALLET = with_check_digit("06260009999000100")


async def _incidents(
    session: AsyncSession, directory: FacilityDirectory, who: dict[str, Principal]
) -> None:
    """Cases and a pallet at the factory, and two alerts for the inspector: a pack dispensed
    at Razi Pharmacy scanned again at Hafez Pharmacy (a cloned code), and a serial nobody
    commissioned (a suspected counterfeit)."""
    gtin = demo_gtin("101")
    factory = [f"(01){gtin}(21){s}" for s in await serials_of(session, gtin, "AMX2602")][100:120]
    first = f"(01){gtin}(21){(await serials_of(session, gtin, 'AMX2601'))[0]}"
    steps = [
        ("sina-darou", Action.pack, factory[:10], f"(00){DEMO_CASES[0]}"),
        ("sina-darou", Action.pack, factory[10:], f"(00){DEMO_CASES[1]}"),
        ("sina-darou", Action.pack, [f"(00){c}" for c in DEMO_CASES], f"(00){DEMO_PALLET}"),
        ("hafez-pharmacy", Action.dispense, [first], None),
        ("ferdowsi-pharmacy", Action.dispense, [f"(01){gtin}(21)FAKE7KQ2M9XP"], None),
    ]
    for user, action, codes, container in steps:
        await events.record(
            await commissioning.driver_connection(session),
            directory,
            who[user],
            events.EventRequest(
                event_id=uuid.uuid4(), action=action, codes=codes, container=container
            ),
        )


async def _move(
    session: AsyncSession,
    directory: FacilityDirectory,
    who: dict[str, Principal],
    homes: dict[str, str],
    owner: str,
    gtin: str,
    serials: list[str],
) -> None:
    """Send most packs to a distributor and on to pharmacies and a hospital; dispense a few;
    leave some in transit and some at the factory."""
    codes = [f"(01){gtin}(21){serial}" for serial in serials]
    hub_user, hub = HUB_FOR[owner]
    mashhad_hub = MASHHAD_HUB
    steps: list[tuple[str, Action, list[str], str | None, str | None]] = [
        (owner, Action.ship, codes[:100], None, hub),
        (hub_user, Action.receive, codes[:100], hub, None),
        (hub_user, Action.ship, codes[:30], hub, homes["razi-pharmacy"]),
        ("razi-pharmacy", Action.receive, codes[:30], None, None),
        ("razi-pharmacy", Action.dispense, codes[:4], None, None),
        (hub_user, Action.ship, codes[30:45], hub, homes["naghshejahan-pharmacy"]),
        (hub_user, Action.ship, codes[45:75], hub, homes["hafez-pharmacy"]),
        ("hafez-pharmacy", Action.receive, codes[45:75], None, None),
        ("hafez-pharmacy", Action.dispense, codes[45:48], None, None),
    ]
    if hub_user == "darupakhsh":
        steps += [
            ("darupakhsh", Action.ship, codes[75:95], hub, mashhad_hub),
            ("darupakhsh", Action.receive, codes[75:95], mashhad_hub, None),
            ("darupakhsh", Action.ship, codes[75:85], mashhad_hub, homes["ferdowsi-pharmacy"]),
            ("ferdowsi-pharmacy", Action.receive, codes[75:85], None, None),
            ("ferdowsi-pharmacy", Action.dispense, codes[75:77], None, None),
            ("darupakhsh", Action.ship, codes[85:90], mashhad_hub, homes["imamreza-hospital"]),
            ("imamreza-hospital", Action.receive, codes[85:90], None, None),
            ("imamreza-hospital", Action.dispense, codes[85:86], None, None),
        ]
    start = datetime.now(UTC) - timedelta(days=6)
    for n, (user, action, batch_codes, at, to) in enumerate(steps):
        await events.record(
            await commissioning.driver_connection(session),
            directory,
            who[user],
            events.EventRequest(
                event_id=uuid.uuid4(),
                action=action,
                codes=batch_codes,
                facility_gln=at,
                destination_gln=to,
                event_time=start + timedelta(hours=6 * n),
            ),
        )


async def principals_by_username(session: AsyncSession) -> dict[str, Principal]:
    users = (await session.exec(select(User))).all()
    return {u.username: Principal.of_user(u) for u in users}


async def serials_of(session: AsyncSession, gtin: str, lot: str) -> list[str]:
    rows = await session.exec(
        select(Pack.serial).where(Pack.gtin == gtin, Pack.lot == lot).order_by(Pack.serial)
    )
    return list(rows.all())
