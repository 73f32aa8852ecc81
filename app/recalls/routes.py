"""/api/recalls: issue a recall or withdrawal, follow its progress, acknowledge a notice."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from app.auth.guards import ORGANIZATION_ROLES, allow
from app.dependencies import Caller, Connection
from app.errors import InvalidInput
from app.recalls import service
from models.identity import Role
from models.recalls import RecallClass, RecallKind

Lot = Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
READERS = ORGANIZATION_ROLES | {Role.inspector, Role.admin}


class RecallIn(msgspec.Struct):
    gtin: str
    recall_class: RecallClass
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    instructions: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    deadline: date
    lots: Annotated[list[Lot], msgspec.Meta(max_length=500)] = msgspec.field(default_factory=list)
    whole_product: bool = False
    kind: RecallKind = RecallKind.recall


def order_of(data: RecallIn) -> service.RecallOrder:
    return service.RecallOrder(
        kind=data.kind,
        recall_class=data.recall_class,
        gtin=data.gtin,
        lots=data.lots,
        whole_product=data.whole_product,
        reason=data.reason,
        instructions=data.instructions,
        deadline=data.deadline,
    )


class RecallController(Controller):
    path = "/api/recalls"
    tags = ["recalls"]  # noqa: RUF012
    opt = {"audit": "recalls"}  # noqa: RUF012

    @post(
        "/",
        guards=[allow(service.ISSUERS)],
        summary="Issue a recall or withdrawal of batches or a whole product (inspectors)",
    )
    async def issue(
        self, connection: Connection, principal: Caller, data: JSONBody[RecallIn]
    ) -> dict[str, Any]:
        recall_id = await service.issue(connection, principal, order_of(data))
        return await service.recall_details(connection, principal, recall_id)

    @get("/", guards=[allow(READERS)], summary="Recalls you issued, own or were notified of")
    async def index(self, connection: Connection, principal: Caller) -> list[dict[str, Any]]:
        return await service.list_recalls(connection, principal)

    @get(
        "/{recall_id:uuid}",
        guards=[allow(READERS)],
        summary="A recall with its notices and progress (per category and per facility)",
    )
    async def show(
        self, connection: Connection, principal: Caller, recall_id: FromPath[uuid.UUID]
    ) -> dict[str, Any]:
        return await service.recall_details(connection, principal, recall_id)

    @get(
        "/{recall_id:uuid}/packs",
        guards=[allow(READERS)],
        summary="The affected packs and where each stands; page with `after=GTIN/SERIAL`",
    )
    async def packs(
        self,
        connection: Connection,
        principal: Caller,
        recall_id: FromPath[uuid.UUID],
        category: FromQuery[str | None] = None,
        after: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1000,
    ) -> list[dict[str, Any]]:
        start = None
        if after is not None:
            gtin, _, serial = after.partition("/")
            if not serial:
                raise InvalidInput("after: GTIN/SERIAL of the last pack of the previous page.")
            start = (gtin, serial)
        return await service.recall_packs(connection, principal, recall_id, category, start, limit)

    @post(
        "/{recall_id:uuid}/acknowledge",
        guards=[allow(ORGANIZATION_ROLES)],
        summary="Acknowledge your organisation's notices of a recall (all its facilities)",
        status_code=200,
    )
    async def acknowledge(
        self, connection: Connection, principal: Caller, recall_id: FromPath[uuid.UUID]
    ) -> list[dict[str, Any]]:
        return await service.acknowledge(connection, principal, recall_id)
