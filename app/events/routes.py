"""POST /api/events: record what happened to packs (ship, receive, dispense, undo, …)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody

from app.auth.guards import allow
from app.dependencies import Access, Caller, Connection, Runtime
from app.events import service
from app.problems import PROBLEM_JSON
from models.events import Action, Outcome

Code = Annotated[str, msgspec.Meta(max_length=500)]
EVENT_ROLES = frozenset(role for roles in service.ALLOWED_ROLES.values() for role in roles)


class EventIn(msgspec.Struct):
    event_id: uuid.UUID
    action: Action
    codes: Annotated[list[Code], msgspec.Meta(max_length=service.MAX_CODES)]
    facility_gln: str | None = None
    destination_gln: str | None = None
    event_time: datetime | None = None
    offline: bool = False
    container: Code | None = None
    contents: Annotated[list[Code], msgspec.Meta(max_length=service.MAX_CODES)] | None = None


class Sender(msgspec.Struct):
    gln: str
    name: str


class CodeResult(msgspec.Struct):
    """One scanned code's result (a case's also has `sscc`, `packs`, `summary`, `issues`)."""

    code: str
    gtin: str | None
    serial: str | None
    outcome: Outcome
    status: str | None
    reason: str
    received_from: Annotated[
        Sender | None,
        msgspec.Meta(
            description="A receipt of a shipment addressed here: the facility it was shipped "
            "from. Absent for anything else."
        ),
    ] = None
    sscc: str | None = None
    packs: int | None = None
    summary: dict[str, int] | None = None
    issues: list[dict[str, Any]] | None = None  # the case's packs that were not simply ok


class EventOut(msgspec.Struct):
    event_id: str
    action: Action
    facility_gln: str
    destination_gln: str | None
    event_time: datetime
    offline: bool
    results: list[CodeResult]
    summary: dict[str, int]
    # A receipt checked against the packs found: missing from the cases, found beyond them.
    discrepancies: dict[str, list[dict[str, str]]] | None = None


RECORDED = {
    200: ResponseSpec(
        data_container=EventOut,
        description="Recorded: one result per code (some may be warnings or refused).",
        generate_examples=False,
    )
}


class EventController(Controller):
    path = "/api/events"
    tags = ["events"]  # noqa: RUF012
    opt = {"audit": "events"}  # noqa: RUF012

    @post(
        "/",
        guards=[allow(EVENT_ROLES, devices=True)],
        summary="Record an event; one result per code (ok / warning / refused)",
        status_code=200,
        responses=RECORDED,
    )
    async def record(
        self,
        connection: Connection,
        runtime: Runtime,
        principal: Caller,
        access: Access,
        data: JSONBody[EventIn],
    ) -> Response[dict[str, Any]]:
        request = event_request(data, runtime)
        answer = await service.record(connection, runtime.facilities, principal, request, access)
        return event_response(answer)


def event_request(data: EventIn, runtime: Runtime) -> service.EventRequest:
    """The service's request from the body as sent (the API and the console's counter alike)."""
    return service.EventRequest(
        event_id=data.event_id,
        action=data.action,
        codes=data.codes,
        facility_gln=data.facility_gln,
        destination_gln=data.destination_gln,
        event_time=data.event_time,
        offline=data.offline,
        container=data.container,
        contents=data.contents,
        reader=runtime.settings.reader,
    )


def event_response(answer: service.EventAnswer) -> Response[dict[str, Any]]:
    media_type = "application/json" if answer.status_code < 400 else PROBLEM_JSON
    return Response(answer.body, status_code=answer.status_code, media_type=media_type)
