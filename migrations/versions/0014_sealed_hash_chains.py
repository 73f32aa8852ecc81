"""hash chains sealed off the request path; TRUNCATE refused on the append-only tables

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each chained table: the column whose value picks a row's stream (as in 0004, so that the rows
# chained before keep their streams and new rows continue them) and the order in which the
# sealer links the rows it finds unsealed (its partial index).
CHAINS = {
    "events": ("event_id", "recorded_at, event_id"),
    "pack_events": ("event_id", "recorded_at, event_id, gtin, serial"),
    "access_log": ("id", "id"),
}
APPEND_ONLY = ("events", "pack_events", "access_log", "container_events", "alert_changes")
# One sealer at a time, whichever process it runs in: a transaction-level advisory lock under
# this key (models/audit.py SEALER_LOCK is the same number).
SEALER_LOCK = 7_310_414_725_001


def upgrade() -> None:
    op.execute(REFUSE_CHANGE_BUT_SEALING)
    for table, (_, order) in CHAINS.items():
        op.execute(f"DROP TRIGGER {table}_chain ON {table}")
        op.alter_column(table, "chain_seq", nullable=True)
        op.alter_column(table, "row_hash", nullable=True)
        op.execute(f"CREATE INDEX ix_{table}_unsealed ON {table} ({order}) WHERE chain_seq IS NULL")
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change_but_sealing()"
        )
    op.execute("DROP FUNCTION audit_chain()")
    op.execute(audit_seal())
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_event_change()"
        )


# Rows are facts: no change and no deletion, but for the sealer's link of a row not yet sealed,
# which sets its chain columns and leaves every other column as it was.
REFUSE_CHANGE_BUT_SEALING = """
CREATE FUNCTION refuse_change_but_sealing() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unsealed record;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.chain_seq IS NULL AND OLD.row_hash IS NULL
       AND NEW.chain_seq IS NOT NULL AND NEW.row_hash IS NOT NULL THEN
        unsealed := NEW;
        unsealed.chain_seq := NULL;
        unsealed.row_hash := NULL;
        IF unsealed IS NOT DISTINCT FROM OLD THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'events are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def audit_seal() -> str:
    """`audit_seal(chain, batch, wait)` links up to `batch` unsealed rows of one chain, oldest
    first, and moves the heads of their streams; returns how many, or NULL when another sealer
    holds the lock and `wait` is false. One statement: the sealer's whole batch is one round
    trip, and the rows' content never leaves the database. A row given a hash by some other
    hand is left for `audit verify` to report, rather than stopping the sealing of every row
    after it (the database would refuse its update and the batch with it). A row's link is
    what 0004's trigger gave it and what `darutrace audit verify` recomputes:
    `sha256(previous row_hash || audit_content(to_jsonb(row))::text)` (the row less its chain
    columns, and less a null `version`: see 0013), timestamps in UTC."""
    selects = " ".join(
        f"WHEN '{table}' THEN format("  # noqa: S608 (names from CHAINS above)
        f"'SELECT ctid AS rid, (''x'' || substr(md5({key}::text), 1, 8))::bit(32)::int & 63"
        f" AS stream, convert_to(audit_content(to_jsonb(t))::text, ''UTF8'')"
        f" AS content FROM {table} t WHERE chain_seq IS NULL AND row_hash IS NULL"
        f" ORDER BY {order} LIMIT %s', batch)"
        for table, (key, order) in CHAINS.items()
    )
    return f"""
CREATE FUNCTION audit_seal(chain_name text, batch integer, wait boolean)
RETURNS integer LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
DECLARE
    query text := CASE chain_name {selects} END;
    r record;
    sealed integer := 0;
    -- The 64 streams' heads (index = stream number + 1), and which of them move.
    seqs bigint[] := array_fill(0::bigint, ARRAY[64]);
    hashes bytea[] := array_fill(''::bytea, ARRAY[64]);
    moved boolean[] := array_fill(false, ARRAY[64]);
    rids tid[] := '{{}}';
    row_seqs bigint[] := '{{}}';
    row_hashes bytea[] := '{{}}';
    s integer;
BEGIN
    IF query IS NULL THEN
        RAISE EXCEPTION 'no chain %', chain_name;
    END IF;
    IF wait THEN
        PERFORM pg_advisory_xact_lock({SEALER_LOCK});
    ELSIF NOT pg_try_advisory_xact_lock({SEALER_LOCK}) THEN
        RETURN NULL;
    END IF;
    FOR r IN SELECT stream, seq, hash FROM audit_heads WHERE chain = chain_name FOR UPDATE LOOP
        s := ('x' || right(r.stream::text, 8))::bit(32)::int + 1;
        seqs[s] := r.seq;
        hashes[s] := r.hash;
    END LOOP;
    FOR r IN EXECUTE query LOOP
        s := r.stream + 1;
        seqs[s] := seqs[s] + 1;
        hashes[s] := sha256(hashes[s] || r.content);
        moved[s] := true;
        sealed := sealed + 1;
        rids[sealed] := r.rid;
        row_seqs[sealed] := seqs[s];
        row_hashes[sealed] := hashes[s];
    END LOOP;
    IF sealed = 0 THEN
        RETURN 0;
    END IF;
    -- By ctid: the rows cannot move meanwhile (they are refused any other update, and the
    -- table's lock taken by the query above keeps VACUUM FULL away until we commit).
    EXECUTE format('UPDATE %I t SET chain_seq = u.seq, row_hash = u.hash'
                   ' FROM unnest($1, $2, $3) AS u(rid, seq, hash) WHERE t.ctid = u.rid',
                   chain_name)
        USING rids, row_seqs, row_hashes;
    INSERT INTO audit_heads AS h (chain, stream, seq, hash)
    SELECT chain_name, ('00000000-0000-0000-0000-' || lpad(to_hex(i - 1), 12, '0'))::uuid,
           seqs[i], hashes[i]
    FROM generate_series(1, 64) i
    WHERE moved[i]
    ON CONFLICT (chain, stream) DO UPDATE SET seq = excluded.seq, hash = excluded.hash;
    RETURN sealed;
END
$$
"""  # noqa: S608 (no input but CHAINS above)


def downgrade() -> None:
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
    op.execute(AUDIT_CHAIN)
    for table, (key, _) in CHAINS.items():
        # Every row sealed first: the columns become NOT NULL again.
        op.execute(
            f"DO $$ BEGIN WHILE audit_seal('{table}', 100000, true) > 0 LOOP END LOOP; END $$"
        )
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_event_change()"
        )
        op.execute(f"DROP INDEX ix_{table}_unsealed")
        op.alter_column(table, "chain_seq", nullable=False)
        op.alter_column(table, "row_hash", nullable=False)
        op.execute(
            f"CREATE TRIGGER {table}_chain BEFORE INSERT ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION audit_chain('{table}', '{key}')"
        )
    op.execute("DROP FUNCTION audit_seal(text, integer, boolean)")
    op.execute("DROP FUNCTION refuse_change_but_sealing()")


# The trigger as 0013 left it.
AUDIT_CHAIN = """
CREATE FUNCTION audit_chain() RETURNS trigger LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
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
