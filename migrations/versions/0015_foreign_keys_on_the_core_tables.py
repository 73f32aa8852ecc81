"""foreign keys on the core tables: batches, events, containers, container_events and the
recalls' tables refer to the products, batches, organisations, facilities, events and cases
they name; packs and pack_events have none (they would be checked once per pack)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence
from typing import NamedTuple

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


class Key(NamedTuple):
    table: str
    columns: tuple[str, ...]
    referred: str
    referred_columns: tuple[str, ...]
    # Checked at commit: the event path may write a reference to a case before the case's row.
    deferred: bool = False

    @property
    def name(self) -> str:
        return f"fk_{self.table}_{self.columns[0]}_{self.referred}"

    def add(self) -> str:
        when = " DEFERRABLE INITIALLY DEFERRED" if self.deferred else ""
        return (
            f"ALTER TABLE {self.table} ADD CONSTRAINT {self.name} FOREIGN KEY"
            f" ({', '.join(self.columns)}) REFERENCES {self.referred}"
            f" ({', '.join(self.referred_columns)}){when} NOT VALID"
        )


FACILITY = ("facilities", ("id",))
EVENT = ("events", ("event_id",))
ORGANIZATION = ("organizations", ("id",))
BATCH = ("batches", ("gtin", "lot"))
CASE = ("containers", ("sscc",))

# Only keys checked once per registration, event or case: on packs and pack_events they would
# be checked once per pack written, which made commissioning take 3.5 times as long and events
# of many packs 15 % longer (bench/keys.py). The references of those rows are the batch they
# were commissioned in and the facilities and events of the events that wrote them, keyed here
# in each event's row. Not keyed either: events.actor_id (a user's or a device's), batch_custody's
# holders (the nil UUID stands for none).
#
# No index is added for them: no referenced row is ever deleted or given another key (events
# are append-only; products, batches, organisations and facilities are never removed), so no
# check ever searches the referencing side.
KEYS = (
    Key("batches", ("gtin",), "products", ("gtin",)),
    Key("batches", ("organization_id",), *ORGANIZATION),
    Key("batches", ("recall_id",), "recalls", ("id",)),
    Key("events", ("facility_id",), *FACILITY),
    Key("events", ("destination_id",), *FACILITY),
    Key("containers", ("organization_id",), *ORGANIZATION),
    Key("containers", ("packed_at_id",), *FACILITY),
    Key("containers", ("parent_sscc",), *CASE, deferred=True),
    Key("containers", ("holder_id",), *FACILITY),
    Key("containers", ("transit_from_id",), *FACILITY),
    Key("containers", ("transit_to_id",), *FACILITY),
    Key("containers", ("last_event_id",), *EVENT),
    Key("container_events", ("sscc",), *CASE, deferred=True),
    Key("container_events", ("event_id",), *EVENT),
    Key("container_events", ("facility_id",), *FACILITY),
    Key("container_events", ("destination_id",), *FACILITY),
    Key("recalls", ("gtin",), "products", ("gtin",)),
    Key("recall_batches", ("gtin", "lot"), *BATCH),
    Key("recall_notices", ("facility_id",), *FACILITY),
    Key("recall_notices", ("organization_id",), *ORGANIZATION),
)

_EXISTING = "SELECT conname FROM pg_constraint WHERE contype = 'f'"


def upgrade() -> None:
    # Each key is added NOT VALID (a moment's lock: new rows are checked from then on), committed,
    # then validated on its own: VALIDATE reads the whole table but lets reads and writes go on.
    # A validation that fails leaves its key NOT VALID and the revision not applied; the error
    # names the key and a row without its reference. Once that row is corrected, upgrading again
    # adds the keys still missing and validates the rest.
    existing = {row[0] for row in op.get_bind().exec_driver_sql(_EXISTING)}
    for key in KEYS:
        if key.name not in existing:
            op.execute(key.add())
    with op.get_context().autocommit_block():
        for key in KEYS:
            op.execute(f"ALTER TABLE {key.table} VALIDATE CONSTRAINT {key.name}")


def downgrade() -> None:
    for key in reversed(KEYS):
        op.execute(f"ALTER TABLE {key.table} DROP CONSTRAINT IF EXISTS {key.name}")
