"""the indicator flows kept per Jalali month as well as per day, so that a long period reads its
whole months from twelve rows a site and product a year, backfilled from the daily rows

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-13 10:00:00.000000
"""

from collections.abc import Sequence

import jdatetime
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indicator_flows_monthly",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("facility_id", sa.Uuid(), nullable=False),
        sa.Column("gtin", sa.CHAR(length=14), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("packs", sa.BigInteger(), nullable=False),
        sa.Column("scans", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month", "facility_id", "gtin", "action", name=op.f("pk_indicator_flows_monthly")
        ),
    )
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("indicator_flows_monthly")


# Each Jalali month from 1380 to 1480 (2001 to 2102) by its first and next first day, as
# app/indicators/months.py reckons them at this revision (jdatetime).
_MONTHS = ", ".join(
    f"('{jdatetime.date(y, m, 1).togregorian()}'::date,"
    f" '{jdatetime.date(y + m // 12, m % 12 + 1, 1).togregorian()}'::date)"
    for y in range(1380, 1481)
    for m in range(1, 13)
)
# The months of the daily rows as they stand.
BACKFILL = (
    f"""
    INSERT INTO indicator_flows_monthly (month, facility_id, gtin, action, packs, scans)
    SELECT m.first, s.facility_id, s.gtin, s.action, sum(s.packs), sum(s.scans)
    FROM indicator_flows s
    JOIN (VALUES {_MONTHS}) AS m(first, next) ON s.day >= m.first AND s.day < m.next
    GROUP BY 1, 2, 3, 4
    """,  # noqa: S608 (dates computed here)
)
