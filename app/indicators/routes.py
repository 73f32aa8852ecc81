"""/api/indicators: the national indicators for inspectors (JSON), and each table as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.params import FromPath, QueryParameter

from app.auth.guards import allow
from app.dependencies import Connection
from app.errors import NotFound
from app.indicators import service
from models.identity import Role

READERS = frozenset({Role.inspector, Role.admin})

From = Annotated[date | None, QueryParameter(name="from", description="first day (Tehran)")]
To = Annotated[date | None, QueryParameter(name="to", description="last day, included")]
Province = Annotated[str | None, QueryParameter(max_length=100)]
Atc = Annotated[str | None, QueryParameter(max_length=5, description="ATC group: J01 or J01CA")]
ExpiringWithin = Annotated[int | None, QueryParameter(description="near expiry: days (90)")]


class IndicatorController(Controller):
    path = "/api/indicators"
    tags = ["indicators"]  # noqa: RUF012
    opt = {"audit": "indicators"}  # noqa: RUF012

    @get(
        "/",
        guards=[allow(READERS)],
        summary="National indicators over a period, by province, product and ATC group",
    )
    async def show(
        self,
        connection: Connection,
        start: From = None,
        end: To = None,
        province: Province = None,
        atc: Atc = None,
        expiring_within_days: ExpiringWithin = None,
    ) -> dict[str, Any]:
        wanted = service.period(start, end, province, atc, expiring_within_days)
        return await service.indicators(connection, wanted)

    @get(
        "/{name:str}",
        guards=[allow(READERS)],
        summary="One table of the indicators as CSV: /api/indicators/by_province.csv, …",
        media_type="text/csv",
    )
    async def table(
        self,
        connection: Connection,
        name: FromPath[str],
        start: From = None,
        end: To = None,
        province: Province = None,
        atc: Atc = None,
        expiring_within_days: ExpiringWithin = None,
    ) -> Response[str]:
        wanted = service.period(start, end, province, atc, expiring_within_days)
        return await csv_download(connection, name, wanted)


async def csv_download(
    connection: service.Connection, name: str, wanted: service.Period
) -> Response[str]:
    """`by_province.csv`, …: one table of the indicators as a CSV file, for the API and for the
    console's twin of it alike."""
    table = name.removesuffix(".csv")
    if not name.endswith(".csv") or table not in service.CSV_TABLES:
        names = ", ".join(f"{t}.csv" for t in service.CSV_TABLES)
        raise NotFound(f"No indicator table {name!r}; the tables are {names}.")
    rows = service.table_rows(await service.indicators(connection, wanted), table)
    filename = f"indicators-{table}-{wanted.start}-{wanted.end}.csv"
    return Response(
        _csv(service.CSV_TABLES[table], rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ";".join(v) if isinstance(v, list) else v for k, v in row.items()})
    return out.getvalue()
