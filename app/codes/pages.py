"""The console's search: one box on every page takes any code in any form, typed or scanned
with a keyboard-wedge scanner (the reader repairs GS substitutes, Persian digits and the
Persian keyboard layout), and goes to its page. A value that is no GS1 code may be a lot or a
serial typed alone: the batches and packs numbered so are listed. Otherwise the page says why
the code cannot be read, in the page's language (422)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get
from litestar.params import FromQuery
from litestar.response import Redirect

from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import EVERY_ROLE, allow
from app.auth.middleware import PAGE_OPT
from app.catalog import service as catalog
from app.codes import service
from app.dependencies import Caller, Connection, Runtime, Session
from app.packs import service as packs
from app.web import forms
from app.web.i18n import language_of
from app.web.templating import page
from models.codes import ReadCode
from models.translatable import Translatable, rendered

MAX_QUERY = 500


def destination(code: ReadCode) -> str | None:
    """The console page of what a readable code identifies."""
    if code.gtin and code.serial:
        return f"/console/packs/{code.gtin}/{quote(code.serial, safe='')}"
    if code.gtin and code.lot:
        return f"/console/batches/{code.gtin}/{quote(code.lot, safe='')}"
    if code.gtin:
        return f"/console/products/{code.gtin}"
    if code.sscc:
        return f"/console/cases/{code.sscc}"
    if code.gln:
        return f"/console/facilities/{code.gln}"
    return None


def _plain_value(text: str) -> str | None:
    """A lot or serial typed alone: one word of printable characters (GS1 allows 20)."""
    value = text.strip().translate(forms.LATIN_DIGITS)
    if not value or len(value) > 20 or not value.isprintable() or " " in value:
        return None
    return value


@get(
    "/console/search",
    guards=[allow(EVERY_ROLE)],
    opt={PAGE_OPT: True, AUDIT_OPT: "codes"},
    include_in_schema=False,
)
async def search_page(
    request: Request[Any, Any, Any],
    connection: Connection,
    session: Session,
    principal: Caller,
    runtime: Runtime,
    q: FromQuery[str] = "",
) -> Response[Any]:
    if not q.strip():
        return page(request, "codes/search.html", query="", problem=None, batches=[], packs=[])
    code = await service.read(connection, q[:MAX_QUERY], runtime.settings.reader)
    target = destination(code) if code.ok else None
    if target is not None:
        return Redirect(target)
    batches: list[Any] = []
    serials: list[dict[str, str]] = []
    value = _plain_value(q)
    if value is not None:
        batches = list(await catalog.batches_with_lot(session, principal, value))
        serials = await packs.packs_with_serial(connection, principal, value)
    if code.ok:
        problem: str = Translatable(
            "This code is %(what)s: the console has no page for it.", what=code.identifies
        )
    else:
        problem = Translatable("This code cannot be read: %(why)s.", why=code.error or "")
    found = bool(batches or serials)
    return page(
        request, "codes/search.html", status_code=200 if found else 422, query=q,
        problem=None if found else rendered(problem, language_of(request).gettext),
        batches=batches, packs=serials,
    )  # fmt: skip


ROUTES = [search_page]
