"""GS1 EPCIS 2.0 events as captured, their EPC lists one row per EPC, and the capture jobs

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-11 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("e", "c", "p", "i", "o", "Q", "C", "I", "O")


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "epcis_captures",
        sa.Column("capture_id", sa.Uuid(), nullable=False),
        sa.Column(
            "error_behaviour",
            sa.Enum(
                "rollback",
                "proceed",
                name="errorbehaviour",
                native_enum=False,
                length=8,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("actor", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("running", sa.Boolean(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("stored_count", sa.Integer(), nullable=False),
        sa.Column(
            "errors", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_epcis_captures_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("capture_id", name=op.f("pk_epcis_captures")),
    )
    # A document waits here only until its job has run: written once, read once, so not
    # compressed on the request's path.
    op.execute("ALTER TABLE epcis_captures ALTER COLUMN document SET STORAGE EXTERNAL")
    op.create_table(
        "epcis_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("event_id", text(length=500), nullable=False),
        sa.Column("hash_id", text(length=100), nullable=False),
        sa.Column("capture_id", sa.Uuid(), nullable=True),
        sa.Column("event_type", text(length=24), nullable=False),
        sa.Column("action", text(length=8), nullable=True),
        sa.Column("biz_step", text(length=500), nullable=True),
        sa.Column("disposition", text(length=500), nullable=True),
        sa.Column("read_point", text(length=500), nullable=True),
        sa.Column("biz_location", text(length=500), nullable=True),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_time_zone_offset", text(length=6), nullable=False),
        sa.Column("record_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", text(length=10), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("facility_id", sa.Uuid(), nullable=True),
        sa.Column("gtins", postgresql.ARRAY(sa.CHAR(length=14)), nullable=False),
        sa.Column("register_event_id", sa.Uuid(), nullable=True),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(["capture_id"], ["epcis_captures.capture_id"],
                                name=op.f("fk_epcis_events_capture_id_epcis_captures")),
        sa.ForeignKeyConstraint(["facility_id"], ["facilities.id"],
                                name=op.f("fk_epcis_events_facility_id_facilities")),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_epcis_events_organization_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_epcis_events_event_id")),
        sa.UniqueConstraint("hash_id", name=op.f("uq_epcis_events_hash_id")),
    )  # fmt: skip
    for column in (
        "capture_id", "biz_step", "disposition", "read_point", "biz_location",
        "organization_id", "facility_id", "register_event_id",
    ):  # fmt: skip
        op.create_index(op.f(f"ix_epcis_events_{column}"), "epcis_events", [column])
    op.create_index("ix_epcis_events_event_time", "epcis_events", ["event_time", "id"])
    op.create_index("ix_epcis_events_record_time", "epcis_events", ["record_time", "id"])
    op.create_index("ix_epcis_events_gtins", "epcis_events", ["gtins"], postgresql_using="gin")
    op.create_table(
        "epcis_epcs",
        sa.Column("event_pk", sa.BigInteger(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(*ROLES, name="epcrole", native_enum=False, length=1,
                    create_constraint=True),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("epc", text(length=500), nullable=False),
        sa.Column("key", text(length=500), nullable=False),
        sa.PrimaryKeyConstraint("event_pk", "role", "position", name=op.f("pk_epcis_epcs")),
    )  # fmt: skip
    op.create_index(
        "ix_epcis_epcs_key",
        "epcis_epcs",
        ["key", "event_pk"],
        postgresql_ops={"key": "text_pattern_ops"},
    )
    for table in ("epcis_events", "epcis_epcs"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_event_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_event_change()"
        )


def downgrade() -> None:
    op.drop_table("epcis_epcs")
    op.drop_table("epcis_events")
    op.drop_table("epcis_captures")
