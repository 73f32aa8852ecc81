"""how many custody groups a batch's packs fall into, for the planner

The batch distribution and a recall's progress count a batch's packs grouped by status and
custody (holder, transit, where the status was set). Without statistics on those columns
together the planner multiplies their distinct counts (100,640 groups estimated for 860 real
ones at a million packs), sorts the million rows on disk instead of hashing them, and does not
split the count over parallel workers: 1.6 s instead of 0.36 s for the distribution.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE STATISTICS packs_custody (ndistinct) ON status, holder_id, transit_from_id,"
        " transit_to_id, status_facility_id, in_return FROM packs"
    )
    op.execute("ANALYZE packs")


def downgrade() -> None:
    op.execute("DROP STATISTICS packs_custody")
