"""a kept count of each batch's packs by status and custody (the batch distribution), backfilled
from the packs

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batch_custody",
        sa.Column("gtin", sa.CHAR(14), nullable=False),
        sa.Column("lot", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("holder_id", sa.Uuid(), nullable=False),
        sa.Column("transit_from_id", sa.Uuid(), nullable=False),
        sa.Column("transit_to_id", sa.Uuid(), nullable=False),
        sa.Column("packs", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "gtin", "lot", "status", "holder_id", "transit_from_id", "transit_to_id",
            name=op.f("pk_batch_custody"),
        ),
    )  # fmt: skip
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("batch_custody")


# The groups of the packs as they are, no custody as the nil UUID (a frozen copy of the rule of
# app/indicators/summaries.py at this revision); bench/indicators.py runs it too.
BACKFILL = (
    """
    INSERT INTO batch_custody (gtin, lot, status, holder_id, transit_from_id, transit_to_id,
                               packs)
    SELECT gtin, lot, status,
           coalesce(holder_id, '00000000-0000-0000-0000-000000000000'::uuid),
           coalesce(transit_from_id, '00000000-0000-0000-0000-000000000000'::uuid),
           coalesce(transit_to_id, '00000000-0000-0000-0000-000000000000'::uuid),
           count(*)
    FROM packs
    GROUP BY 1, 2, 3, 4, 5, 6
    """,
)
