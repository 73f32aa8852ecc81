"""The server's sealer: a background task that links newly committed rows into the hash chains
(models/audit.py) every SEAL_INTERVAL seconds, so that a row is sealed within a second of its
commit. Every worker process runs one; the database's advisory lock lets one of them seal at a
time, and the others find nothing left. Rows committed while no sealer runs (a crash, a
restart) stay unsealed, never lost: the next pass links them."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from app.audit.service import SEAL_BATCH
from app.db.database import Database
from models.audit import CHAINS

SEAL_INTERVAL = 0.1
# A batch of every chain in one statement, one transaction: one round trip a tick.
SEAL_ALL = "SELECT " + ", ".join(f"audit_seal('{table}', %(batch)s, false)" for table in CHAINS)
log = logging.getLogger(__name__)


class Sealer:
    def __init__(self, db: Database, interval: float = SEAL_INTERVAL) -> None:
        self._db = db
        self._interval = interval
        self._woken = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self._in_batch = False

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name="audit sealer")

    async def stop(self) -> None:
        """After the batch under way, if any (an interrupted batch would be rolled back and done
        again by the next sealer: nothing is lost either way)."""
        if self._task is None:
            return
        self._stopping = True
        self._woken.set()
        if not self._in_batch:
            # Asleep, or waiting for a connection (the database may be down): nothing to finish.
            self._task.cancel()
        done, _ = await asyncio.wait({self._task}, timeout=5)
        if not done:
            self._task.cancel()
            await asyncio.wait({self._task})
        self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self._interval)
            self._woken.clear()
            if self._stopping:
                return
            try:
                await self.seal_pending()
            except Exception as exc:
                # Typically the database down: said once, tried again at every tick.
                if not self._failing:
                    log.warning("the sealer cannot seal the hash chains now: %s", exc)
                self._failing = True
            else:
                if self._failing:
                    log.warning("the sealer seals the hash chains again")
                self._failing = False

    async def seal_pending(self) -> dict[str, int]:
        """Until no chain has a full batch left; a batch of each chain in turn, so that the
        100,000 pack events of a big event do not hold the access log back behind them. Stops
        at once if another process's sealer is at work: it will seal these rows."""
        sealed = dict.fromkeys(CHAINS, 0)
        assert self._db.pool is not None
        async with self._db.pool.connection() as connection:
            while not self._stopping:
                self._in_batch = True
                try:
                    found = await (
                        await connection.execute(SEAL_ALL, {"batch": SEAL_BATCH})
                    ).fetchone()
                finally:
                    self._in_batch = False
                assert found is not None
                if found[0] is None:
                    break
                for table, rows in zip(CHAINS, found, strict=True):
                    sealed[table] += rows
                if max(found) < SEAL_BATCH:
                    break
        return sealed
