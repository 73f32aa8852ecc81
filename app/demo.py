"""The demo world: the Food and Drug Organization, manufacturers, an importer, distributors,
pharmacies and a hospital in five provinces, with a user per organisation and a scanner device
per facility. Seeding is idempotent. Demo credentials are public by design: never use them on a
real deployment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import demo_supply
from app.auth.credentials import API_KEY_PREFIX, api_key_hash, hash_password
from app.db.database import Database
from app.organizations import prefixes
from models.identity import Device, Facility, Organization, OrganizationKind, Role, User

T = TypeVar("T")


@dataclass(frozen=True)
class DemoFacility:
    gln: str
    name: str
    name_fa: str
    province: str
    city: str
    address: str


@dataclass(frozen=True)
class DemoOrganization:
    gln: str
    name: str
    name_fa: str
    kind: OrganizationKind
    facilities: tuple[DemoFacility, ...]
    users: tuple[tuple[str, Role], ...]
    company_prefixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Role
    organization: str
    facility_gln: str


@dataclass(frozen=True)
class DemoDevice:
    name: str
    api_key: str
    facility_gln: str
    organization: str


_gln = demo_supply.demo_gln


def _site(n: int, name: str, name_fa: str, province: str, city: str, address: str) -> DemoFacility:
    return DemoFacility(_gln(n), name, name_fa, province, city, address)


K = OrganizationKind
WORLD: tuple[DemoOrganization, ...] = (
    DemoOrganization(
        _gln(1),
        "Food and Drug Organization",
        "سازمان غذا و دارو",
        K.regulator,
        (
            _site(
                51,
                "FDO Headquarters",
                "ستاد سازمان غذا و دارو",
                "Tehran",
                "Tehran",
                "Fakhr-e Razi St, Enghelab Sq",
            ),
        ),
        (("fdo-admin", Role.admin), ("fdo-inspector", Role.inspector)),
    ),
    DemoOrganization(
        _gln(2),
        "Sina Darou Pharmaceutical",
        "داروسازی سینا دارو",
        K.manufacturer,
        (
            _site(
                52,
                "Sina Darou Plant",
                "کارخانه سینا دارو",
                "Tehran",
                "Tehran",
                "Km 12 Karaj Special Road",
            ),
        ),
        (("sina-darou", Role.manufacturer),),
        demo_supply.COMPANY_PREFIXES["sina-darou"],
    ),
    DemoOrganization(
        _gln(3),
        "Zagros Pharmed",
        "زاگرس فارمد",
        K.manufacturer,
        (
            _site(
                53,
                "Zagros Pharmed Plant",
                "کارخانه زاگرس فارمد",
                "Isfahan",
                "Isfahan",
                "Morchekhort Industrial Zone",
            ),
        ),
        (("zagros-pharmed", Role.manufacturer),),
        demo_supply.COMPANY_PREFIXES["zagros-pharmed"],
    ),
    DemoOrganization(
        _gln(4),
        "Pars Medical Import",
        "واردات دارویی پارس",
        K.importer,
        (
            _site(
                54,
                "Pars Import Bonded Warehouse",
                "انبار گمرکی پارس",
                "Tehran",
                "Tehran",
                "Imam Khomeini Airport Cargo",
            ),
        ),
        (("pars-import", Role.importer),),
    ),
    DemoOrganization(
        _gln(5),
        "Daru Pakhsh Distribution",
        "شرکت پخش دارو پخش",
        K.distributor,
        (
            _site(
                55,
                "Daru Pakhsh Tehran Hub",
                "مرکز پخش تهران",
                "Tehran",
                "Tehran",
                "Shahid Lashgari Highway",
            ),
            _site(
                56,
                "Daru Pakhsh Mashhad Hub",
                "مرکز پخش مشهد",
                "Razavi Khorasan",
                "Mashhad",
                "Toos Industrial Zone",
            ),
        ),
        (("darupakhsh", Role.distributor),),
    ),
    DemoOrganization(
        _gln(6),
        "Fars Pharmaceutical Distribution",
        "پخش دارویی فارس",
        K.distributor,
        (
            _site(
                57,
                "Fars Distribution Shiraz",
                "انبار پخش شیراز",
                "Fars",
                "Shiraz",
                "Bozorgrah-e Amir Kabir",
            ),
        ),
        (("fars-pakhsh", Role.distributor),),
    ),
    DemoOrganization(
        _gln(7),
        "Dr. Razi Pharmacy",
        "داروخانه دکتر رازی",
        K.pharmacy,
        (
            _site(
                61,
                "Dr. Razi Pharmacy",
                "داروخانه دکتر رازی",
                "Tehran",
                "Tehran",
                "Valiasr St, No. 1204",
            ),
        ),
        (("razi-pharmacy", Role.pharmacy),),
    ),
    DemoOrganization(
        _gln(8),
        "Naghsh-e Jahan Pharmacy",
        "داروخانه نقش جهان",
        K.pharmacy,
        (
            _site(
                62,
                "Naghsh-e Jahan Pharmacy",
                "داروخانه نقش جهان",
                "Isfahan",
                "Isfahan",
                "Chaharbagh-e Abbasi St",
            ),
        ),
        (("naghshejahan-pharmacy", Role.pharmacy),),
    ),
    DemoOrganization(
        _gln(9),
        "Hafez Pharmacy",
        "داروخانه حافظ",
        K.pharmacy,
        (_site(63, "Hafez Pharmacy", "داروخانه حافظ", "Fars", "Shiraz", "Zand Blvd"),),
        (("hafez-pharmacy", Role.pharmacy),),
    ),
    DemoOrganization(
        _gln(10),
        "Ferdowsi Pharmacy",
        "داروخانه فردوسی",
        K.pharmacy,
        (
            _site(
                64,
                "Ferdowsi Pharmacy",
                "داروخانه فردوسی",
                "Razavi Khorasan",
                "Mashhad",
                "Imam Reza St",
            ),
        ),
        (("ferdowsi-pharmacy", Role.pharmacy),),
    ),
    DemoOrganization(
        _gln(11),
        "Imam Reza Hospital",
        "بیمارستان امام رضا",
        K.hospital,
        (
            _site(
                65,
                "Imam Reza Hospital Pharmacy",
                "داروخانه بیمارستان امام رضا",
                "Razavi Khorasan",
                "Mashhad",
                "Ebn-e Sina St",
            ),
        ),
        (("imamreza-hospital", Role.hospital),),
    ),
)


def demo_password(username: str) -> str:
    return f"{username}-demo"


def demo_api_key(facility_gln: str) -> str:
    return f"{API_KEY_PREFIX}demo_{facility_gln}"


def logins() -> list[DemoLogin]:
    return [
        DemoLogin(username, demo_password(username), role, org.name, org.facilities[0].gln)
        for org in WORLD
        for username, role in org.users
    ]


def devices() -> list[DemoDevice]:
    return [
        DemoDevice(f"{site.name} scanner", demo_api_key(site.gln), site.gln, org.name)
        for org in WORLD
        for site in org.facilities
    ]


async def seed(session: AsyncSession) -> None:
    """Create whatever of the demo world is missing; existing rows are left as they are."""
    if await _complete(session):
        return  # a restart of `serve --demo`: one query, not one a row
    for demo_org in WORLD:
        organization = await _one(session, Organization, Organization.gln == demo_org.gln)
        if organization is None:
            organization = Organization(
                gln=demo_org.gln, name=demo_org.name, name_fa=demo_org.name_fa, kind=demo_org.kind
            )
            session.add(organization)
            await session.flush()
        await _hold_prefixes(session, organization, demo_org.company_prefixes)
        home: Facility | None = None
        for site in demo_org.facilities:
            facility = await _one(session, Facility, Facility.gln == site.gln)
            if facility is None:
                facility = Facility(organization_id=organization.id, **site.__dict__)
                session.add(facility)
                await session.flush()
            home = home or facility
            key = demo_api_key(site.gln)
            if await _one(session, Device, Device.key_hash == api_key_hash(key)) is None:
                session.add(
                    Device(
                        name=f"{site.name} scanner",
                        facility_id=facility.id,
                        key_hash=api_key_hash(key),
                        key_prefix=key[:12],
                    )
                )
        for username, role in demo_org.users:
            if await _one(session, User, User.username == username) is None:
                session.add(
                    User(
                        username=username,
                        password_hash=hash_password(demo_password(username)),
                        role=role,
                        organization_id=organization.id,
                        facility_id=home.id if home else None,
                    )
                )
    await session.commit()
    await demo_supply.seed(session)


_COMPLETE = sa.text("""
SELECT (SELECT count(*) FROM organizations WHERE gln = ANY(:organizations)) = :n_organizations
   AND (SELECT count(*) FROM company_prefixes WHERE prefix = ANY(:prefixes)) = :n_prefixes
   AND (SELECT count(*) FROM facilities WHERE gln = ANY(:facilities)) = :n_facilities
   AND (SELECT count(*) FROM devices WHERE key_hash = ANY(:devices)) = :n_devices
   AND (SELECT count(*) FROM users WHERE username = ANY(:users)) = :n_users
   AND (SELECT count(*) FROM products WHERE gtin = ANY(:products)) = :n_products
""")


async def _complete(session: AsyncSession) -> bool:
    """Whether every row the demo world seeds is there already."""
    wanted = {
        "organizations": [org.gln for org in WORLD],
        "prefixes": [prefix for org in WORLD for prefix in org.company_prefixes],
        "facilities": [site.gln for org in WORLD for site in org.facilities],
        "devices": [api_key_hash(device.api_key) for device in devices()],
        "users": [login.username for login in logins()],
        "products": [demo_supply.demo_gtin(product.item) for product in demo_supply.PRODUCTS],
    }
    counts = {f"n_{name}": len(set(values)) for name, values in wanted.items()}
    connection = await session.connection()
    return bool((await connection.execute(_COMPLETE, {**wanted, **counts})).scalar())


async def _hold_prefixes(
    session: AsyncSession, organization: Organization, company_prefixes: tuple[str, ...]
) -> None:
    """The demo's prefixes added to those the organisation holds, by the service's rules."""
    held = (await prefixes.of_organizations(session, [organization.id]))[organization.id]
    if not set(company_prefixes) <= set(held):
        wanted = prefixes.validated([*held, *company_prefixes])
        await prefixes.replace(session, organization, wanted)


async def _one(
    session: AsyncSession, model: type[T], condition: ColumnElement[bool] | bool
) -> T | None:
    return (await session.exec(select(model).where(condition))).first()


async def seed_database(db: Database) -> None:
    """Seed through a pool of its own (for the CLI and the test suite, outside a running app)."""
    await db.open_pool()
    try:
        async with db.session() as session:
            await seed(session)
    finally:
        await db.close_pool()
