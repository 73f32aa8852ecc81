"""/api/products and /api/batches (including serialization and the serial list)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Stream

from app.auth.guards import EVERY_ROLE, allow
from app.catalog import downloads, service
from app.dependencies import Caller, Connection, Runtime, Session
from app.labels.layouts import MAX_LABELS
from app.packs import commissioning
from models.catalog import Batch, BatchOrigin, Product
from models.identity import Role

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
OWNERS = service.OWNER_ROLES


class ProductIn(msgspec.Struct):
    gtin: str
    name: Text
    name_fa: Text
    generic_name: Text
    form: Short
    strength: Short
    pack_size: int
    atc: Annotated[str, msgspec.Meta(max_length=10)]
    # Required; left out, the service says why a product needs one.
    irc: Annotated[str, msgspec.Meta(max_length=40)] = ""


class ProductOut(msgspec.Struct):
    gtin: str
    name: str
    name_fa: str
    generic_name: str
    form: str
    strength: str
    pack_size: int
    atc: str
    irc: str
    created_at: datetime


class BatchIn(msgspec.Struct):
    gtin: str
    lot: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    expiry: date
    manufactured_on: date
    quantity: int
    origin: BatchOrigin


class BatchOut(msgspec.Struct):
    gtin: str
    lot: str
    expiry: date
    manufactured_on: date
    quantity: int
    origin: BatchOrigin
    commissioned: int
    created_at: datetime


class CommissionIn(msgspec.Struct):
    count: int
    facility_gln: str | None = None


class CommissionOut(msgspec.Struct):
    commissioned: int
    gtin: str
    lot: str
    event_id: str


def product_out(product: Product) -> ProductOut:
    return msgspec.convert(product, ProductOut, from_attributes=True)


def batch_out(batch: Batch) -> BatchOut:
    return msgspec.convert(batch, BatchOut, from_attributes=True)


class ProductController(Controller):
    path = "/api/products"
    tags = ["products and batches"]  # noqa: RUF012
    opt = {"audit": "products"}  # noqa: RUF012

    @post("/", guards=[allow(OWNERS)], summary="Register a product (manufacturer or importer)")
    async def create(
        self, session: Session, principal: Caller, data: JSONBody[ProductIn]
    ) -> ProductOut:
        new = service.NewProduct(**msgspec.structs.asdict(data))
        return product_out(await service.create_product(session, principal, new))

    @get("/", guards=[allow(EVERY_ROLE, devices=True)], summary="The product register")
    async def index(self, session: Session) -> list[ProductOut]:
        return [product_out(p) for p in await service.list_products(session)]

    @get("/{gtin:str}", guards=[allow(EVERY_ROLE, devices=True)], summary="One product")
    async def show(self, session: Session, gtin: FromPath[str]) -> ProductOut:
        return product_out(await service.get_product(session, gtin))


class BatchController(Controller):
    path = "/api/batches"
    tags = ["products and batches"]  # noqa: RUF012
    opt = {"audit": "batches"}  # noqa: RUF012

    @post("/", guards=[allow(OWNERS)], summary="Register a batch of one of your products")
    async def create(
        self, session: Session, principal: Caller, data: JSONBody[BatchIn]
    ) -> BatchOut:
        new = service.NewBatch(**msgspec.structs.asdict(data))
        return batch_out(await service.create_batch(session, principal, new))

    @get("/", guards=[allow({Role.inspector, Role.admin} | OWNERS)], summary="Batches you may see")
    async def index(
        self, session: Session, principal: Caller, gtin: FromQuery[str | None] = None
    ) -> list[BatchOut]:
        return [batch_out(b) for b in await service.list_batches(session, principal, gtin)]

    @get(
        "/{gtin:str}/{lot:str}",
        guards=[allow({Role.inspector, Role.admin} | OWNERS)],
        summary="One batch",
    )
    async def show(
        self, session: Session, principal: Caller, gtin: FromPath[str], lot: FromPath[str]
    ) -> BatchOut:
        return batch_out(await service.get_batch(session, principal, gtin, lot))

    @post(
        "/{gtin:str}/{lot:str}/packs",
        guards=[allow(OWNERS, devices=True)],
        summary="Serialize: commission `count` packs with random serials (up to 1,000,000)",
    )
    async def commission(
        self,
        session: Session,
        runtime: Runtime,
        principal: Caller,
        gtin: FromPath[str],
        lot: FromPath[str],
        data: JSONBody[CommissionIn],
    ) -> CommissionOut:
        done = await commissioning.commission(
            session, runtime.facilities, principal, gtin, lot, data.count, data.facility_gln
        )
        return CommissionOut(done.count, service.gtin_of(gtin), lot, str(done.event_id))

    @get(
        "/{gtin:str}/{lot:str}/packs.csv",
        guards=[allow({Role.inspector, Role.admin} | OWNERS)],
        summary="The batch's serial list as CSV (streamed)",
        media_type="text/csv",
    )
    async def serials(
        self,
        session: Session,
        principal: Caller,
        runtime: Runtime,
        gtin: FromPath[str],
        lot: FromPath[str],
    ) -> Stream:
        return await downloads.serials(session, principal, runtime, gtin, lot)

    @get(
        "/{gtin:str}/{lot:str}/labels.pdf",
        guards=[allow({Role.inspector, Role.admin} | OWNERS)],
        summary="Pack labels as a PDF, streamed (A4 sheets of 24 or one label a page for rolls)",
        media_type="application/pdf",
    )
    async def labels(
        self,
        session: Session,
        connection: Connection,
        principal: Caller,
        runtime: Runtime,
        gtin: FromPath[str],
        lot: FromPath[str],
        symbology: FromQuery[Literal["datamatrix", "qr", "both"]] = "datamatrix",
        layout: FromQuery[Literal["a4", "roll"]] = "a4",
        offset: FromQuery[int] = 0,
        limit: FromQuery[int] = MAX_LABELS,
    ) -> Stream:
        return await downloads.labels(
            session, connection, principal, runtime, gtin, lot,
            symbology=symbology, layout=layout, offset=offset, limit=limit,
        )  # fmt: skip
