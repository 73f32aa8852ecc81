"""The GS1 Digital Link resolver a phone camera opens: `/01/{gtin}[/10/{lot}]/21/{serial}`.
A page for people (Persian and English), JSON for programs (`Accept: application/json`), a
linkset for GS1 clients (`Accept: application/linkset+json` or `?linkType=all`), and the
resolver description at `/.well-known/gs1resolver`. Public: no login."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import MediaType, Request, Response, get
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.response import Redirect

from app.auth.middleware import PUBLIC_OPT
from app.dependencies import Connection
from app.resolver import service
from app.security.rate_limit import RATE_LIMIT_OPT, TOO_MANY_REQUESTS

LINKSET = "application/linkset+json"
PATHS = ["/01/{gtin:str}/21/{serial:str}", "/01/{gtin:str}/10/{lot:str}/21/{serial:str}"]


@dataclass
class PackPageOperation(Operation):
    """One answer in three forms, by `Accept`: the page, JSON, a linkset; and a redirect for
    `linkType=gs1:verificationService`. A code that is not valid is a problem document, or for
    a person the page saying so."""

    def __post_init__(self) -> None:
        assert self.responses is not None
        page = {"text/html": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))}
        ok, invalid = self.responses.get("200"), self.responses.get("422")
        if isinstance(ok, OpenAPIResponse) and ok.content is not None:
            ok.content = {
                **page,
                **ok.content,
                LINKSET: OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT)),
            }
        if isinstance(invalid, OpenAPIResponse) and invalid.content is not None:
            invalid.content = {**invalid.content, **page}
        self.responses["302"] = OpenAPIResponse(
            description="`linkType=gs1:verificationService`: the verification page, without it."
        )


@get(
    PATHS,
    opt={PUBLIC_OPT: True, RATE_LIMIT_OPT: "resolver"},
    responses=TOO_MANY_REQUESTS,
    tags=["resolver"],
    summary="A pack, as a phone scan opens it",
    operation_class=PackPageOperation,
)
async def pack_page(request: Request[Any, Any, Any], connection: Connection) -> Response[Any]:
    form = _form(request)
    try:
        view = await service.patient_view(connection, str(request.url))
    except service.InvalidLink as exc:
        if form != "page":
            raise  # programs get the problem document
        return Response(_page(exc.view), status_code=exc.status_code, media_type=MediaType.HTML)
    if form == "linkset":
        return Response(_linkset(request), media_type=LINKSET)
    if form == "redirect":
        return Redirect(str(request.url.with_replacements(query="")))
    if form == "json":
        return Response(view.as_dict())
    return Response(_page(view), media_type=MediaType.HTML)  # Litestar adds the charset


def _form(request: Request[Any, Any, Any]) -> str:
    """Which answer the caller asked for: linkset, redirect, json or (by default) the page."""
    accept = request.headers.get("accept", "")
    link_type = request.query_params.get("linkType")
    if LINKSET in accept or link_type == "all":
        return "linkset"
    if link_type == "gs1:verificationService":
        return "redirect"
    if "application/json" in accept and "text/html" not in accept:
        return "json"
    return "page"


@get("/.well-known/gs1resolver", opt={PUBLIC_OPT: True}, tags=["resolver"])
async def description(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return {
        "name": "DaruTrace national drug verification",
        "resolverRoot": str(request.base_url).rstrip("/"),
        "supportedPrimaryKeys": ["01"],
        "supportedLinkType": [
            {
                "namespace": "https://gs1.org/voc/",
                "prefix": "gs1:",
                "profile": "verificationService",
            }
        ],
        "linkTypeDefaultCanBeLinkset": True,
    }


def _linkset(request: Request[Any, Any, Any]) -> dict[str, Any]:
    anchor = str(request.url.with_replacements(query=""))
    target = {"href": anchor, "title": "Pack verification", "type": "text/html",
              "hreflang": ["fa", "en"]}  # fmt: skip
    return {
        "linkset": [
            {
                "anchor": anchor,
                "https://gs1.org/voc/defaultLink": [target],
                "https://gs1.org/voc/verificationService": [target],
            }
        ]
    }


_COLOURS = {"ok": "#1b7f3b", "warning": "#b26a00", "danger": "#b00020"}


def _page(view: service.PatientView) -> str:
    e = html.escape
    product = view.product or {}
    generic = f"{product.get('generic_name', '—')} {product.get('strength', '')}"
    rows = [
        ("Product", "فرآورده", f"{product.get('name', '—')} / {product.get('name_fa', '—')}"),
        ("Generic name", "نام ژنریک", generic),
        ("GTIN", "GTIN", view.gtin or "—"),
        ("Serial", "سریال", view.serial or "—"),
        *_batch_rows(view),
        *_expiry_rows(view),
    ]  # fmt: skip
    table = "".join(
        f"<tr><th>{e(en)}<br><span lang='fa'>{e(fa)}</span></th><td>{e(value)}</td></tr>"
        for en, fa, value in rows
    )
    detail = f'<p class="detail" lang="en" dir="ltr">{e(view.detail)}</p>' if view.detail else ""
    return f"""<!doctype html>
<html lang="fa" dir="rtl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>DaruTrace — {e(view.verdict.en.split(":")[0])}</title>
<style>body{{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#111}}
.banner{{background:{_COLOURS[view.verdict.tone]};color:#fff;padding:1.2rem 1rem}}
.banner p{{margin:.3rem 0;font-size:1.15rem}} table{{margin:1rem;border-collapse:collapse}}
th,td{{text-align:start;padding:.45rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}}
th{{font-weight:600;width:9rem}} [lang=en]{{direction:ltr}} .detail{{margin:1rem;color:#555}}
</style></head>
<body><div class="banner" data-status="{e(view.status)}" data-verdict="{e(view.verdict.code)}">
<p lang="fa">{e(view.verdict.fa)}</p><p lang="en" dir="ltr">{e(view.verdict.en)}</p></div>
<table dir="ltr">{table}</table>{detail}
<p style="margin:1rem;font-size:.9rem">سامانه‌ی رهگیری دارو — DaruTrace</p></body></html>"""


def _batch_rows(view: service.PatientView) -> list[tuple[str, str, str]]:
    if view.verdict.code == "batch_mismatch":
        return [
            ("Batch on the code", "سری ساخت روی کد", view.lot_on_code or "—"),
            ("Batch in the register", "سری ساخت در سامانه", view.lot or "—"),
        ]
    return [("Batch", "سری ساخت", view.lot or "—")]


def _expiry_rows(view: service.PatientView) -> list[tuple[str, str, str]]:
    def shown(day: date | None) -> str:
        return day.isoformat() if day else "—"

    if view.verdict.code == "expiry_mismatch":
        return [
            ("Expiry on the code", "انقضای روی کد", shown(view.expiry_on_code)),
            ("Expiry in the register", "انقضا در سامانه", shown(view.expiry)),
        ]
    return [("Expiry", "انقضا", shown(view.expiry))]
