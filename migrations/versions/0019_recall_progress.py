"""kept counts of each recall's packs by category and facility (the recall progress),
backfilled from the packs of the recalls issued so far

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-12 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recall_progress",
        sa.Column("recall_id", sa.Uuid(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("facility_id", sa.Uuid(), nullable=False),
        sa.Column("packs", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recall_id"], ["recalls.id"], name=op.f("fk_recall_progress_recall_id_recalls")
        ),
        sa.PrimaryKeyConstraint(
            "recall_id", "category", "facility_id", name=op.f("pk_recall_progress")
        ),
    )
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("recall_progress")


# Every recall's packs as they stand, categorised as app/recalls/progress.py does at this
# revision (a frozen copy of its rule); no facility is the nil UUID.
BACKFILL = (
    """
    INSERT INTO recall_progress (recall_id, category, facility_id, packs)
    SELECT c.recall_id, c.category, c.where_id, sum(c.packs)
    FROM (SELECT p.recall_id,
                 CASE
                   WHEN p.status = 'destroyed' THEN 'destroyed'
                   WHEN p.status = 'stolen' THEN 'stolen'
                   WHEN p.supplied_before THEN 'supplied_before_recall'
                   WHEN p.status IN ('dispensed', 'exported', 'sample', 'free_sample',
                                     'checked_out') THEN 'supplied_after_recall'
                   WHEN p.transit_to_id IS NOT NULL
                        AND (p.in_return OR dest.organization_id = p.owner_id) THEN 'returning'
                   WHEN p.transit_to_id IS NOT NULL THEN 'in_transit'
                   WHEN holder.organization_id = p.owner_id THEN 'at_owner'
                   WHEN p.status = 'locked' THEN 'quarantined'
                   ELSE 'at_holder'
                 END AS category,
                 coalesce(p.where_id, '00000000-0000-0000-0000-000000000000'::uuid) AS where_id,
                 p.packs
          FROM (SELECT rb.recall_id, pr.organization_id AS owner_id, p.status, p.holder_id,
                       p.transit_to_id, p.in_return,
                       coalesce(p.transit_to_id, p.holder_id, p.status_facility_id) AS where_id,
                       p.status IN ('dispensed', 'exported', 'sample', 'free_sample',
                                    'checked_out')
                         AND p.status_at < r.issued_at AS supplied_before,
                       count(*) AS packs
                FROM recall_batches rb
                JOIN recalls r ON r.id = rb.recall_id
                JOIN products pr ON pr.gtin = r.gtin
                JOIN packs p ON p.gtin = rb.gtin AND p.lot = rb.lot
                GROUP BY 1, 2, 3, 4, 5, 6, 7, 8) p
          LEFT JOIN facilities holder ON holder.id = p.holder_id
          LEFT JOIN facilities dest ON dest.id = p.transit_to_id) c
    GROUP BY 1, 2, 3
    """,
)
