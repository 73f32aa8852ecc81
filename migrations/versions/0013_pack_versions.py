"""pack versions: each pack counts the lines of its history, and each line carries its number

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A chained row's content is its JSON less the chain columns, and less `version` where that is
# null: the lines recorded before versions were kept were hashed without it, and keep their
# hashes (their version stays null; a history lists them first, in the order recorded).
AUDIT_CONTENT = """
CREATE FUNCTION audit_content(content jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN content -> 'version' = 'null'::jsonb THEN content - 'version'
                ELSE content END - 'chain_seq' - 'row_hash'
$$
"""
AUDIT_CHAIN = """
CREATE OR REPLACE FUNCTION audit_chain() RETURNS trigger LANGUAGE plpgsql SET TimeZone = 'UTC'
AS $$
DECLARE
    content jsonb := audit_content(to_jsonb(NEW));
    stream_id uuid := audit_stream(content ->> TG_ARGV[1]);
    link record;
BEGIN
    link := audit_link(TG_ARGV[0], stream_id, content);
    NEW.chain_seq := link.seq;
    NEW.row_hash := link.hash;
    RETURN NEW;
END
$$
"""
PREVIOUS_AUDIT_CHAIN = """
CREATE OR REPLACE FUNCTION audit_chain() RETURNS trigger LANGUAGE plpgsql SET TimeZone = 'UTC'
AS $$
DECLARE
    content jsonb := to_jsonb(NEW) - 'chain_seq' - 'row_hash';
    stream_id uuid := audit_stream(content ->> TG_ARGV[1]);
    link record;
BEGIN
    link := audit_link(TG_ARGV[0], stream_id, content);
    NEW.chain_seq := link.seq;
    NEW.row_hash := link.hash;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.add_column("packs", sa.Column("version", sa.Integer(), server_default="0", nullable=False))
    op.add_column("pack_events", sa.Column("version", sa.Integer(), nullable=True))
    op.create_unique_constraint(
        "uq_pack_events_version", "pack_events", ["gtin", "serial", "version"]
    )
    op.execute(AUDIT_CONTENT)
    op.execute(AUDIT_CHAIN)


def downgrade() -> None:
    op.execute(PREVIOUS_AUDIT_CHAIN)
    op.execute("DROP FUNCTION audit_content(jsonb)")
    op.drop_constraint("uq_pack_events_version", "pack_events", type_="unique")
    op.drop_column("pack_events", "version")
    op.drop_column("packs", "version")
