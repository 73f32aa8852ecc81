"""returns and dispenser notices (packs in transit as a return; recall notices to the pharmacies
and hospitals that supplied packs before the recall)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Constant defaults: PostgreSQL adds these columns without rewriting the tables.
    op.add_column(
        "packs",
        sa.Column("in_return", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "recall_notices",
        sa.Column("packs_supplied", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "recall_notices",
        sa.Column("first_supplied_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "recall_notices",
        sa.Column("last_supplied_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("recall_notices", "last_supplied_at")
    op.drop_column("recall_notices", "first_supplied_at")
    op.drop_column("recall_notices", "packs_supplied")
    op.drop_column("packs", "in_return")
