"""/health (the process answers) and /ready (the database answers and its schema is current)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from litestar import Request, Response, get

from app.auth.middleware import PUBLIC_OPT
from app.db import migrate
from app.dependencies import Runtime
from app.problems import problem


@get("/health", opt={PUBLIC_OPT: True}, tags=["operations"], sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/ready", opt={PUBLIC_OPT: True}, tags=["operations"])
async def ready(request: Request[Any, Any, Any], runtime: Runtime) -> Response[dict[str, Any]]:
    head = migrate.head_revision()
    try:
        assert runtime.db.engine is not None
        async with runtime.db.engine.connect() as connection:
            current = await connection.run_sync(migrate.current_revision)
            await connection.execute(sa.text("SELECT 1"))
    except (sa.exc.OperationalError, sa.exc.InterfaceError, OSError) as exc:
        return problem(request, 503, f"The database is not reachable: {exc.__class__.__name__}.")
    if current != head:
        return problem(
            request,
            503,
            f"The database schema is at {current}, not {head}; run `darutrace db upgrade`.",
        )
    return Response({"status": "ready", "database": "ok", "schema": current})
