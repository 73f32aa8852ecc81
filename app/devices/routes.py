"""/api/devices"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from app.auth.guards import EVERY_ROLE, ORGANIZATION_ROLES, allow
from app.dependencies import Caller, Runtime, Session
from app.devices import service
from models.identity import Device, Role

DEVICE_MANAGERS = ORGANIZATION_ROLES | {Role.admin}


class DeviceIn(msgspec.Struct):
    facility_id: uuid.UUID
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]


class DeviceOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    facility_id: uuid.UUID
    key_prefix: str
    created_at: datetime
    revoked_at: datetime | None


class IssuedDeviceOut(DeviceOut):
    api_key: str = ""


def device_out(device: Device) -> DeviceOut:
    return msgspec.convert(device, DeviceOut, from_attributes=True)


class DeviceController(Controller):
    path = "/api/devices"
    tags = ["identity"]  # noqa: RUF012
    opt = {"audit": "devices"}  # noqa: RUF012

    @post(
        "/",
        guards=[allow(DEVICE_MANAGERS)],
        summary="Register a scanner device; the API key is shown only in this response",
    )
    async def create(
        self, session: Session, principal: Caller, data: JSONBody[DeviceIn]
    ) -> IssuedDeviceOut:
        issued = await service.create(session, principal, data.facility_id, data.name)
        out = msgspec.convert(issued.device, IssuedDeviceOut, from_attributes=True)
        out.api_key = issued.api_key
        return out

    @get("/", guards=[allow(EVERY_ROLE)], summary="Devices the caller may see")
    async def index(
        self, session: Session, principal: Caller, facility_id: FromQuery[uuid.UUID | None] = None
    ) -> list[DeviceOut]:
        return [device_out(d) for d in await service.list_visible(session, principal, facility_id)]

    @get("/{device_id:uuid}", guards=[allow(EVERY_ROLE)], summary="One device")
    async def show(
        self, session: Session, principal: Caller, device_id: FromPath[uuid.UUID]
    ) -> DeviceOut:
        return device_out(await service.get(session, principal, device_id))

    @post(
        "/{device_id:uuid}/revoke",
        guards=[allow(DEVICE_MANAGERS)],
        status_code=200,
        summary="Revoke a device's API key",
    )
    async def revoke(
        self,
        session: Session,
        principal: Caller,
        runtime: Runtime,
        device_id: FromPath[uuid.UUID],
    ) -> DeviceOut:
        device = await service.revoke(session, principal, device_id)
        runtime.principals.clear()
        return device_out(device)
