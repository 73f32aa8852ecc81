"""company prefixes (the GS1 company prefixes each organisation holds)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 11:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "company_prefixes",
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_company_prefixes_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_company_prefixes")),
    )
    op.create_index(
        op.f("ix_company_prefixes_organization_id"),
        "company_prefixes",
        ["organization_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_company_prefixes_organization_id"), table_name="company_prefixes")
    op.drop_table("company_prefixes")
