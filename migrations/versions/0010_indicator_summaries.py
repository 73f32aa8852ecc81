"""indicator summaries (national indicators: flows per day, site, product and action; alerts
raised per day and open; stock per batch and site), backfilled from the history

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("indicator_flows", "indicator_alerts", "indicator_open_alerts", "indicator_stock")


def upgrade() -> None:
    op.create_table(
        "indicator_flows",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("facility_id", sa.Uuid(), nullable=False),
        sa.Column("gtin", sa.CHAR(14), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("packs", sa.BigInteger(), nullable=False),
        sa.Column("scans", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "facility_id", "gtin", "action", name=op.f("pk_indicator_flows")
        ),
    )
    op.create_table(
        "indicator_alerts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("facility_id", sa.Uuid(), nullable=False),
        sa.Column("gtin", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("raised", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "facility_id", "gtin", "code", name=op.f("pk_indicator_alerts")
        ),
    )
    op.create_table(
        "indicator_open_alerts",
        sa.Column("facility_id", sa.Uuid(), nullable=False),
        sa.Column("gtin", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("open", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "facility_id", "gtin", "code", name=op.f("pk_indicator_open_alerts")
        ),
    )
    op.create_table(
        "indicator_stock",
        sa.Column("gtin", sa.CHAR(14), nullable=False),
        sa.Column("lot", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("facility_id", sa.Uuid(), nullable=False),
        sa.Column("packs", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("gtin", "lot", "facility_id", name=op.f("pk_indicator_stock")),
    )
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)


# The summaries of the history recorded so far, by the rules of app/indicators/summaries.py as
# they are at this revision (a frozen copy: a later change of those rules is a later migration).
# bench/indicators.py runs them too, over generated history.
BACKFILL = (
    """
    INSERT INTO indicator_flows (day, facility_id, gtin, action, packs, scans)
    SELECT (event_time AT TIME ZONE 'Asia/Tehran')::date, facility_id, gtin, action,
           count(*) FILTER (WHERE outcome <> 'refused' AND status_after IS NOT NULL), count(*)
    FROM pack_events
    GROUP BY 1, 2, 3, 4
    """,
    """
    INSERT INTO indicator_flows (day, facility_id, gtin, action, packs, scans)
    SELECT (e.event_time AT TIME ZONE 'Asia/Tehran')::date, e.facility_id, p.gtin, 'commission',
           sum(p.packs), 0
    FROM (SELECT commission_event_id, gtin, count(*) AS packs FROM packs GROUP BY 1, 2) p
    JOIN events e ON e.event_id = p.commission_event_id
    GROUP BY 1, 2, 3
    """,
    """
    INSERT INTO indicator_alerts (day, facility_id, gtin, code, raised)
    SELECT (raised_at AT TIME ZONE 'Asia/Tehran')::date, facility_id, coalesce(gtin, ''), code,
           count(*)
    FROM alerts
    GROUP BY 1, 2, 3, 4
    """,
    """
    INSERT INTO indicator_open_alerts (facility_id, gtin, code, open)
    SELECT facility_id, coalesce(gtin, ''), code, count(*)
    FROM alerts WHERE status <> 'closed'
    GROUP BY 1, 2, 3
    """,
    """
    INSERT INTO indicator_stock (gtin, lot, facility_id, packs)
    SELECT gtin, lot, holder_id, count(*)
    FROM packs WHERE status IN ('active', 'locked') AND holder_id IS NOT NULL
    GROUP BY 1, 2, 3
    """,
)
