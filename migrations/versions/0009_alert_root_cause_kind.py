"""the category of a closed alert's root cause

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "alerts",
        sa.Column(
            "root_cause_kind",
            sa.Enum(
                "user_error",
                "software",
                "data_upload",
                "falsified",
                name="rootcause",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
    )


def downgrade() -> None:
    op.drop_column("alerts", "root_cause_kind")
