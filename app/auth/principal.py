"""Who is calling: a logged-in user or a scanner device, with the role and organisation that
decide what they may see."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from models.identity import Role, User


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "device"]
    id: uuid.UUID
    name: str
    role: Role
    organization_id: uuid.UUID
    facility_id: uuid.UUID | None
    token_id: str | None = None
    token_expires_at: datetime | None = None

    @classmethod
    def of_user(
        cls, user: User, token_id: str | None = None, token_expires_at: datetime | None = None
    ) -> Principal:
        return cls(
            kind="user",
            id=user.id,
            name=user.username,
            role=user.role,
            organization_id=user.organization_id,
            facility_id=user.facility_id,
            token_id=token_id,
            token_expires_at=token_expires_at,
        )

    @property
    def reads_everything(self) -> bool:
        """Inspectors read every organisation's data; admins manage every identity."""
        return self.role in (Role.inspector, Role.admin)

    def may_read_organization(self, organization_id: uuid.UUID) -> bool:
        return self.reads_everything or organization_id == self.organization_id
