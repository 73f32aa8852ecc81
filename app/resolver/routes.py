"""The GS1 Digital Link resolver a phone camera opens: `/01/{gtin}[/10/{lot}]/21/{serial}`.
A page for people (Persian and English), JSON for programs (`Accept: application/json`), a
linkset for GS1 clients (`Accept: application/linkset+json` or `?linkType=all`), and the
resolver description at `/.well-known/gs1resolver`. Public: no login."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.response import Redirect, Template

from app.auth.middleware import PUBLIC_OPT
from app.dependencies import Connection
from app.resolver import service
from app.security.rate_limit import RATE_LIMIT_OPT, TOO_MANY_REQUESTS
from app.web.i18n import language_of
from app.web.templating import page

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
async def pack_page(
    request: Request[Any, Any, Any], connection: Connection
) -> Response[Any] | Template:
    form = _form(request)
    try:
        view = await service.patient_view(connection, str(request.url))
    except service.InvalidLink as exc:
        if form != "page":
            raise  # programs get the problem document
        return _page(request, exc.view, exc.status_code)
    if form == "linkset":
        return Response(_linkset(request), media_type=LINKSET)
    if form == "redirect":
        return Redirect(str(request.url.with_replacements(query="")))
    if form == "json":
        return Response(view.as_dict())
    return _page(request, view)


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


def _page(
    request: Request[Any, Any, Any], view: service.PatientView, status_code: int = 200
) -> Template:
    """The patient's page, on the console's templates: Persian by default, with the switch."""
    other = language_of(request).other.code
    query = [(k, v) for k, v in request.query_params.items() if k != "lang"] + [("lang", other)]
    href = str(request.url.with_replacements(query=urlencode(query)))
    return page(
        request, "resolver/pack.html", status_code=status_code, view=view,
        other_language_href=href,
    )  # fmt: skip
