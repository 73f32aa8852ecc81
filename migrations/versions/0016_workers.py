"""several worker processes: rate-limit counts in an UNLOGGED table, and a notification on the
channel `darutrace_credentials` whenever what a cached credential stands for changes

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The payload names what to forget (`user:<id>`, `device:<id>`, `token:<jti>`) or `all`, for a
# change that touches every device of an organisation or facility. A trigger's NOTIFY belongs
# to the transaction of the change: it is delivered on commit, and never for a rollback.
NOTIFY = """
CREATE FUNCTION notify_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_ARGV[0] = 'token' THEN
        PERFORM pg_notify('darutrace_credentials', 'token:' || NEW.jti);
    ELSIF TG_ARGV[0] = 'all' THEN
        PERFORM pg_notify('darutrace_credentials', 'all');
    ELSE
        PERFORM pg_notify('darutrace_credentials', TG_ARGV[0] || ':' || OLD.id);
    END IF;
    RETURN NULL;
END $$
"""
TRIGGERS = {
    "users": ("UPDATE OR DELETE", "user"),
    "devices": ("UPDATE OR DELETE", "device"),
    "revoked_tokens": ("INSERT", "token"),
    "organizations": ("UPDATE OF kind OR DELETE", "all"),
    "facilities": ("UPDATE OF organization_id OR DELETE", "all"),
}


def upgrade() -> None:
    op.create_table(
        "rate_limit_counts",
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("client", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("window", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("rule", "client", "window", name=op.f("pk_rate_limit_counts")),
        prefixes=["UNLOGGED"],
    )
    op.create_index(
        op.f("ix_rate_limit_counts_expires"), "rate_limit_counts", ["expires"], unique=False
    )
    op.execute(NOTIFY)
    for table, (events, kind) in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {table}_credentials_changed AFTER {events} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION notify_credentials_changed('{kind}')"
        )


def downgrade() -> None:
    for table in TRIGGERS:
        op.execute(f"DROP TRIGGER {table}_credentials_changed ON {table}")
    op.execute("DROP FUNCTION notify_credentials_changed()")
    op.drop_index(op.f("ix_rate_limit_counts_expires"), table_name="rate_limit_counts")
    op.drop_table("rate_limit_counts")
