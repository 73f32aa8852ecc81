"""A batch's serial list (CSV) and pack labels (PDF) as downloads, streamed: one way to make
them, for the API and the console alike."""

from __future__ import annotations

from typing import Literal

from litestar.response import Stream

from app.auth.principal import Principal
from app.catalog import service
from app.dependencies import Connection, Session
from app.labels.layouts import LAYOUTS
from app.packs.export import serials_csv
from app.state import AppState

Symbology = Literal["datamatrix", "qr", "both"]
LayoutName = Literal["a4", "roll"]


async def serials(
    session: Session, principal: Principal, runtime: AppState, gtin: str, lot: str
) -> Stream:
    batch = await service.get_batch(session, principal, gtin, lot)
    return Stream(
        serials_csv(runtime.db, batch.gtin, batch.lot),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": _attachment(f"{batch.gtin}-{batch.lot}-serials.csv")},
    )


async def labels(
    session: Session,
    connection: Connection,
    principal: Principal,
    runtime: AppState,
    gtin: str,
    lot: str,
    *,
    symbology: Symbology,
    layout: LayoutName,
    offset: int,
    limit: int,
) -> Stream:
    # The symbol encoders load with the first labels, not with every start of the server.
    from app.labels import service as label_service
    from app.labels.sheet import render

    batch = await service.get_batch(session, principal, gtin, lot)
    packs = await label_service.batch_labels(connection, batch.gtin, batch.lot, offset, limit)
    document = render(packs, LAYOUTS[layout], symbology, runtime.settings.resolver)
    return Stream(
        document,
        media_type="application/pdf",
        headers={"Content-Disposition": _attachment(f"{batch.gtin}-{batch.lot}-labels.pdf")},
    )


def _attachment(filename: str) -> str:
    return f'attachment; filename="{filename}"'
