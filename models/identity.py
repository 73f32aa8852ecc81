"""Who takes part: organisations, their facilities, their users and their scanner devices."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import enum_column, timestamp_field

# Re-exported: the tables and the code that uses them name the kinds and roles from here.
from models.roles import OrganizationKind as OrganizationKind
from models.roles import Role as Role


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    gln: str = Field(sa_type=sa.CHAR(13), unique=True)
    name: str = Field(max_length=200)
    name_fa: str = Field(max_length=200)
    kind: OrganizationKind = Field(sa_type=enum_column(OrganizationKind))
    created_at: datetime = timestamp_field()


class CompanyPrefix(SQLModel, table=True):
    """A GS1 company prefix an organisation holds (4 to 12 digits, set by an administrator):
    the GTINs beginning with it, after the indicator digit, are that organisation's to register.
    No two organisations' prefixes overlap (the service keeps to that)."""

    __tablename__ = "company_prefixes"

    prefix: str = Field(primary_key=True, max_length=12)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    created_at: datetime = timestamp_field()


class Facility(SQLModel, table=True):
    __tablename__ = "facilities"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    gln: str = Field(sa_type=sa.CHAR(13), unique=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    name: str = Field(max_length=200)
    name_fa: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=500)
    province: str = Field(max_length=100)
    city: str = Field(max_length=100)
    created_at: datetime = timestamp_field()


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(max_length=80, unique=True)
    password_hash: str = Field(max_length=200)
    role: Role = Field(sa_type=enum_column(Role))
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    facility_id: uuid.UUID | None = Field(default=None, foreign_key="facilities.id")
    is_active: bool = True
    created_at: datetime = timestamp_field()


class Device(SQLModel, table=True):
    """A scanner station. Its API key is shown once; we keep only a SHA-256 of it (the key is
    256 random bits, so a fast hash is as safe as a slow one and costs nothing per request)."""

    __tablename__ = "devices"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=120)
    facility_id: uuid.UUID = Field(foreign_key="facilities.id", index=True)
    key_hash: str = Field(sa_type=sa.CHAR(64), unique=True)
    key_prefix: str = Field(max_length=12)
    created_at: datetime = timestamp_field()
    revoked_at: datetime | None = timestamp_field(nullable=True)


class RevokedToken(SQLModel, table=True):
    """Tokens ended by logout before their expiry (rows can be purged once `expires_at` passes)."""

    __tablename__ = "revoked_tokens"

    jti: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = timestamp_field()


class LoginFailure(SQLModel, table=True):
    """Recent failed logins of one username (`user:<name>`) or one client address
    (`ip:<address>`), and until when logging in is refused for it (back-off). Rows are forgotten
    an hour after their last failure; a successful login deletes its username's row."""

    __tablename__ = "login_failures"

    key: str = Field(primary_key=True, max_length=200)
    failures: int
    last_failure_at: datetime = timestamp_field(index=True)
    blocked_until: datetime | None = timestamp_field(nullable=True)
