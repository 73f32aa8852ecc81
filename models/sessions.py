"""Console sessions: a person logged in through the web pages. The browser holds a random token
in an HttpOnly cookie; the database holds only its hash, so a copy of the table logs nobody in."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import timestamp_field


class WebSession(SQLModel, table=True):
    __tablename__ = "web_sessions"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    started_at: datetime = timestamp_field()
    last_seen_at: datetime = timestamp_field()
    ended_at: datetime | None = timestamp_field(nullable=True)
    client_address: str | None = Field(default=None, max_length=64)
