"""/api/alerts: what the alert engine raised, filtered, and its triage."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from app.alerts import service
from app.auth.guards import ORGANIZATION_ROLES, allow
from app.dependencies import Caller, Connection
from models.alerts import AlertCode, AlertStatus, RootCause, Severity
from models.identity import Role

READERS = ORGANIZATION_ROLES | {Role.inspector, Role.admin}
TRIAGERS = ORGANIZATION_ROLES | {Role.inspector}


class StatusChange(msgspec.Struct):
    status: AlertStatus
    root_cause: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    root_cause_kind: RootCause | None = None


class BulkClose(msgspec.Struct):
    alert_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=500)]
    root_cause_kind: RootCause | None = None
    root_cause: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class AlertController(Controller):
    path = "/api/alerts"
    tags = ["alerts"]  # noqa: RUF012
    opt = {"audit": "alerts"}  # noqa: RUF012

    @get("/", guards=[allow(READERS)], summary="Alerts that involve you (inspectors: all)")
    async def index(
        self,
        connection: Connection,
        principal: Caller,
        status: FromQuery[AlertStatus | None] = None,
        code: FromQuery[AlertCode | None] = None,
        severity: FromQuery[Severity | None] = None,
        gtin: FromQuery[str | None] = None,
        lot: FromQuery[str | None] = None,
        serial: FromQuery[str | None] = None,
        facility_gln: FromQuery[str | None] = None,
        before: FromQuery[datetime | None] = None,
        before_id: FromQuery[uuid.UUID | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        province: FromQuery[str | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
    ) -> list[dict[str, Any]]:
        wanted = service.AlertFilter(
            status, code, severity, gtin, lot, serial, facility_gln, before, before_id, limit,
            province, since, until,
        )  # fmt: skip
        return await service.list_alerts(connection, principal, wanted)

    @post(
        "/close",
        guards=[allow(TRIAGERS)],
        summary="Close several alerts with one root cause (all or none)",
        status_code=200,
    )
    async def close_many(
        self, connection: Connection, principal: Caller, data: JSONBody[BulkClose]
    ) -> dict[str, list[uuid.UUID]]:
        closed = await service.close_many(
            connection, principal, data.alert_ids, data.root_cause_kind, data.root_cause,
            data.note,
        )  # fmt: skip
        return {"closed": closed}

    @get("/{alert_id:uuid}", guards=[allow(READERS)], summary="One alert and its triage trail")
    async def show(
        self, connection: Connection, principal: Caller, alert_id: FromPath[uuid.UUID]
    ) -> dict[str, Any]:
        return await service.get_alert(connection, principal, alert_id)

    @post(
        "/{alert_id:uuid}/status",
        guards=[allow(TRIAGERS)],
        summary="Move an alert to investigating or closed (closing needs a root cause)",
        status_code=200,
    )
    async def change(
        self,
        connection: Connection,
        principal: Caller,
        alert_id: FromPath[uuid.UUID],
        data: JSONBody[StatusChange],
    ) -> dict[str, Any]:
        return await service.change_status(
            connection, principal, alert_id, data.status, data.root_cause, data.note,
            data.root_cause_kind,
        )  # fmt: skip
