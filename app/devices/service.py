"""Scanner devices: an API key bound to one facility, shown once, stored hashed, revocable.
Admins manage every device; an organisation manages the devices at its own facilities."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.credentials import api_key_hash, new_api_key
from app.auth.principal import Principal
from app.errors import Conflict, InvalidInput, NotFound
from app.scoping import ensure_visible
from models.base import utcnow
from models.identity import Device, Facility, Role


@dataclass(frozen=True)
class IssuedDevice:
    device: Device
    api_key: str


def _manages(principal: Principal, facility: Facility) -> bool:
    return principal.role == Role.admin or facility.organization_id == principal.organization_id


async def create(
    session: AsyncSession, principal: Principal | None, facility_id: uuid.UUID, name: str
) -> IssuedDevice:
    """`principal` is None when called from the CLI (the operator of the machine)."""
    facility = await session.get(Facility, facility_id)
    if facility is None or (principal is not None and not _manages(principal, facility)):
        raise InvalidInput(
            "facility_id: no facility with this id that you manage.", field="facility_id"
        )
    if not name.strip():
        raise InvalidInput("name: must not be empty.", field="name")
    api_key = new_api_key()
    device = Device(
        name=name.strip(),
        facility_id=facility.id,
        key_hash=api_key_hash(api_key),
        key_prefix=api_key[:12],
    )
    session.add(device)
    await session.commit()
    return IssuedDevice(device=device, api_key=api_key)


async def _device_and_facility(
    session: AsyncSession, principal: Principal | None, device_id: uuid.UUID
) -> tuple[Device, Facility]:
    row = (
        await session.exec(
            select(Device, Facility)
            .join(Facility, Facility.id == Device.facility_id)  # type: ignore[arg-type]
            .where(Device.id == device_id)
        )
    ).first()
    if row is None:
        raise NotFound("No device with this id.")
    device, facility = row
    if principal is not None:
        ensure_visible(principal, facility.organization_id, "device")
    return device, facility


async def get(session: AsyncSession, principal: Principal, device_id: uuid.UUID) -> Device:
    device, _ = await _device_and_facility(session, principal, device_id)
    return device


async def list_visible(
    session: AsyncSession, principal: Principal, facility_id: uuid.UUID | None = None
) -> Sequence[Device]:
    statement = (
        select(Device)
        .join(Facility, Facility.id == Device.facility_id)  # type: ignore[arg-type]
        .order_by(col(Device.created_at))
    )
    if not principal.reads_everything:
        statement = statement.where(Facility.organization_id == principal.organization_id)
    if facility_id is not None:
        statement = statement.where(Device.facility_id == facility_id)
    return (await session.exec(statement)).all()


async def revoke(
    session: AsyncSession, principal: Principal | None, device_id: uuid.UUID
) -> Device:
    device, facility = await _device_and_facility(session, principal, device_id)
    if principal is not None and not _manages(principal, facility):
        raise NotFound("No device with this id.")
    if device.revoked_at is not None:
        raise Conflict("This device's key is already revoked.")
    device.revoked_at = utcnow()
    session.add(device)
    await session.commit()
    return device
