"""Products and batches: registered by the manufacturer or importer that owns the product. A
manufacturer registers only GTINs under its own GS1 company prefixes; an importer registers
foreign GTINs (under no other organisation's prefix); a GTIN has one owner."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.principal import Principal
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.organizations import prefixes
from app.scoping import checked_key, scoped
from models.catalog import Batch, BatchOrigin, Product
from models.gs1 import normalize_gtin
from models.identity import Role
from models.translatable import Translatable

OWNER_ROLES = frozenset({Role.manufacturer, Role.importer})
# GS1 AI 10 (batch/lot): up to 20 characters of CSET 82.
LOT_PATTERN = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")
ATC_PATTERN = re.compile(r"^[A-Z]\d{2}([A-Z]([A-Z](\d{2})?)?)?$")


@dataclass(frozen=True)
class NewProduct:
    gtin: str
    name: str
    name_fa: str
    generic_name: str
    form: str
    strength: str
    pack_size: int
    atc: str
    irc: str


@dataclass(frozen=True)
class NewBatch:
    gtin: str
    lot: str
    expiry: date
    manufactured_on: date
    quantity: int
    origin: BatchOrigin


def gtin_of(value: str, field: str = "gtin") -> str:
    return checked_key(normalize_gtin, value, field)


def validate_lot(lot: str) -> str:
    if not LOT_PATTERN.match(lot):
        raise InvalidInput(
            Translatable(
                "lot: 1 to 20 characters of GS1 CSET 82 (letters, digits and %(marks)s).",
                marks="!\"%&'()*+,-./:;<=>?_",
            ),
            field="lot",
        )
    return lot


async def create_product(session: AsyncSession, principal: Principal, data: NewProduct) -> Product:
    gtin = gtin_of(data.gtin)
    if not ATC_PATTERN.match(data.atc):
        raise InvalidInput(Translatable("atc: an ATC code such as J01CA04."), field="atc")
    if data.pack_size < 1:
        raise InvalidInput(Translatable("pack_size: at least 1."), field="pack_size")
    irc = data.irc.strip()
    if not irc:
        raise InvalidInput(
            Translatable(
                "irc: the product's IRC (the national licence code) is required; no medicine is "
                "made or imported without one."
            ),
            field="irc",
        )
    await _ensure_not_registered(session, principal, gtin)
    await _ensure_may_register(session, principal, gtin)
    product = Product(
        gtin=gtin,
        organization_id=principal.organization_id,
        irc=irc,
        name=data.name,
        name_fa=data.name_fa,
        generic_name=data.generic_name,
        form=data.form,
        strength=data.strength,
        pack_size=data.pack_size,
        atc=data.atc,
    )
    session.add(product)
    await session.commit()  # registered by someone else a moment ago: 409 (app/integrity.py)
    return product


async def _ensure_not_registered(session: AsyncSession, principal: Principal, gtin: str) -> None:
    existing = await session.get(Product, gtin)
    if existing is None:
        return
    if existing.organization_id == principal.organization_id:
        raise Conflict(
            Translatable("GTIN %(gtin)s is already registered by your organisation.", gtin=gtin),
            field="gtin",
        )
    raise Conflict(
        Translatable(
            "GTIN %(gtin)s is already registered by another organisation; a GTIN has one owner "
            "in the register.",
            gtin=gtin,
        ),
        field="gtin",
    )


async def _ensure_may_register(session: AsyncSession, principal: Principal, gtin: str) -> None:
    """A GTIN under a company prefix belongs to the prefix's holder; a manufacturer registers
    only its own, an importer also GTINs under no prefix held here (foreign ones)."""
    holder = await prefixes.holder_of(session, gtin)
    if holder is not None and holder.organization_id == principal.organization_id:
        return
    if principal.role == Role.manufacturer:
        held = (await prefixes.of_organizations(session, [principal.organization_id]))[
            principal.organization_id
        ]
        if not held:
            raise Forbidden(
                Translatable(
                    "GTIN %(gtin)s: your organisation holds no GS1 company prefix yet, and a "
                    "manufacturer registers only GTINs under its own prefixes; ask an "
                    "administrator to record yours.",
                    gtin=gtin,
                ),
                field="gtin",
            )
        raise Forbidden(
            Translatable(
                "GTIN %(gtin)s is not under your organisation's GS1 company prefixes "
                "(%(prefixes)s); a manufacturer registers only its own GTINs. Products made "
                "abroad are registered by their importer.",
                gtin=gtin,
                prefixes=", ".join(held),
            ),
            field="gtin",
        )
    if holder is not None:
        raise Forbidden(
            Translatable(
                "GTIN %(gtin)s is under the GS1 company prefix %(prefix)s, which belongs to "
                "another organisation in the register; only that organisation registers it.",
                gtin=gtin,
                prefix=holder.prefix,
            ),
            field="gtin",
        )


async def list_products(session: AsyncSession) -> Sequence[Product]:
    """The product register is reference data every participant may read."""
    return (await session.exec(select(Product).order_by(col(Product.name)))).all()


async def get_product(session: AsyncSession, gtin: str) -> Product:
    product = await session.get(Product, gtin_of(gtin))
    if product is None:
        raise NotFound(f"No product with GTIN {gtin}.")
    return product


async def owned_product(session: AsyncSession, principal: Principal, gtin: str) -> Product:
    product = await session.get(Product, gtin_of(gtin))
    if product is None or product.organization_id != principal.organization_id:
        raise NotFound(
            Translatable(
                "No product with GTIN %(gtin)s registered by your organisation.", gtin=gtin
            )
        )
    return product


async def create_batch(session: AsyncSession, principal: Principal, data: NewBatch) -> Batch:
    product = await owned_product(session, principal, data.gtin)
    lot = validate_lot(data.lot)
    if data.expiry <= data.manufactured_on:
        raise InvalidInput(Translatable("expiry: must be after manufactured_on."), field="expiry")
    if data.quantity < 1:
        raise InvalidInput(Translatable("quantity: at least 1."), field="quantity")
    if await session.get(Batch, (product.gtin, lot)) is not None:
        raise Conflict(
            Translatable(
                "Batch %(lot)s of GTIN %(gtin)s is already registered.", lot=lot, gtin=product.gtin
            ),
            field="lot",
        )
    batch = Batch(
        gtin=product.gtin,
        lot=lot,
        organization_id=product.organization_id,
        expiry=data.expiry,
        manufactured_on=data.manufactured_on,
        quantity=data.quantity,
        origin=data.origin,
    )
    session.add(batch)
    await session.commit()
    return batch


async def get_batch(session: AsyncSession, principal: Principal, gtin: str, lot: str) -> Batch:
    """The owner and inspectors read a batch; to others it does not exist."""
    batch = await session.get(Batch, (gtin_of(gtin), lot))
    if batch is None or not principal.may_read_organization(batch.organization_id):
        raise NotFound(f"No batch {lot} of GTIN {gtin}.")
    return batch


async def list_batches(
    session: AsyncSession, principal: Principal, gtin: str | None
) -> Sequence[Batch]:
    statement = scoped(
        select(Batch).order_by(col(Batch.gtin), col(Batch.lot)), principal, Batch.organization_id
    )
    if gtin is not None:
        statement = statement.where(Batch.gtin == gtin_of(gtin))
    return (await session.exec(statement)).all()


async def batches_with_lot(
    session: AsyncSession, principal: Principal, lot: str
) -> Sequence[Batch]:
    """Every batch numbered `lot` the caller may see (a lot typed or scanned alone)."""
    statement = scoped(
        select(Batch).where(Batch.lot == lot).order_by(col(Batch.gtin)), principal,
        Batch.organization_id,
    )  # fmt: skip
    return (await session.exec(statement)).all()


_SERIALIZED = "SELECT lot, count(*)::int FROM packs WHERE gtin = %s AND lot = ANY(%s) GROUP BY lot"


async def serialized_counts(
    connection: psycopg.AsyncConnection[Any], gtin: str, lots: Sequence[str]
) -> dict[str, int]:
    """How many packs of each batch have been serialized."""
    cursor = await connection.execute(_SERIALIZED, (gtin, list(lots)))
    return {lot: count for lot, count in await cursor.fetchall()}


async def products_of(session: AsyncSession, principal: Principal) -> Sequence[Product]:
    """The products an organisation registered; every product for those who read everything."""
    statement = scoped(
        select(Product).order_by(col(Product.name)), principal, Product.organization_id
    )
    return (await session.exec(statement)).all()
