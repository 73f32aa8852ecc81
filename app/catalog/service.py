"""Products and batches: registered by the manufacturer or importer that owns the product."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.principal import Principal
from app.errors import Conflict, InvalidInput, NotFound
from app.scoping import checked_key, scoped
from models.catalog import Batch, BatchOrigin, Product
from models.gs1 import normalize_gtin
from models.identity import Role

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
            "lot: 1 to 20 characters of GS1 CSET 82 (letters, digits and !\"%&'()*+,-./:;<=>?_).",
            field="lot",
        )
    return lot


async def create_product(session: AsyncSession, principal: Principal, data: NewProduct) -> Product:
    gtin = gtin_of(data.gtin)
    if not ATC_PATTERN.match(data.atc):
        raise InvalidInput("atc: an ATC code such as J01CA04.", field="atc")
    if data.pack_size < 1:
        raise InvalidInput("pack_size: at least 1.", field="pack_size")
    if await session.get(Product, gtin) is not None:
        raise Conflict(f"GTIN {gtin} is already registered.", field="gtin")
    product = Product(
        gtin=gtin,
        organization_id=principal.organization_id,
        irc=data.irc,
        name=data.name,
        name_fa=data.name_fa,
        generic_name=data.generic_name,
        form=data.form,
        strength=data.strength,
        pack_size=data.pack_size,
        atc=data.atc,
    )
    session.add(product)
    await session.commit()
    return product


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
        raise NotFound(f"No product with GTIN {gtin} registered by your organisation.")
    return product


async def create_batch(session: AsyncSession, principal: Principal, data: NewBatch) -> Batch:
    product = await owned_product(session, principal, data.gtin)
    lot = validate_lot(data.lot)
    if data.expiry <= data.manufactured_on:
        raise InvalidInput("expiry: must be after manufactured_on.", field="expiry")
    if data.quantity < 1:
        raise InvalidInput("quantity: at least 1.", field="quantity")
    if await session.get(Batch, (product.gtin, lot)) is not None:
        raise Conflict(f"Batch {lot} of GTIN {product.gtin} is already registered.", field="lot")
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
