"""The register's events by time, and the lines of one event: what reading them as EPCIS events
needs (an event's packs and cases by its id, events in time order for paging)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-11 11:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_events_event_time", "events", ["event_time", "event_id"]),
    ("ix_events_recorded_at", "events", ["recorded_at", "event_id"]),
    ("ix_pack_events_event_id", "pack_events", ["event_id"]),
    ("ix_container_events_event_id", "container_events", ["event_id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
