"""The EPCIS 2.0 REST binding under `/epcis`: capture (`/capture`, `/events`) and query
(`/events`, `/events/{eventID}`, `/epcs/{epc}/events` and the vocabularies' resources). Route
handlers translate HTTP; app/epcis/capture.py and query.py own the rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlencode

from litestar import Controller, HttpMethod, Request, Response, get, post, route
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath

from app.auth.guards import allow
from app.auth.middleware import PUBLIC_OPT
from app.dependencies import Caller, Connection, Runtime
from app.epcis import capture, query, register_events, xml12
from app.epcis.document import EVENT_TYPES, DocumentError
from app.epcis.filters import EventQuery
from app.epcis.identifiers import EPCFormat
from app.epcis.rendering import render_event
from app.errors import InvalidInput, NotFound, UnsupportedMediaType
from app.openapi_problems import problem_response
from app.problems import PROBLEM_JSON
from models.epcis import ErrorBehaviour
from models.identity import Role

JSON_TYPES = frozenset({"application/json", "application/ld+json"})
# Query answers are JSON-LD documents, as the standard's REST binding serves them.
QUERY_DOCUMENT = "application/ld+json"
CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
EVERY_ROLE = frozenset(Role)
ANYONE = [allow(EVERY_ROLE, devices=True)]
HEADERS = [
    ResponseHeader(name="GS1-EPCIS-Version", value="2.0.0"),
    ResponseHeader(name="GS1-CBV-Version", value="2.0.0"),
    ResponseHeader(name="GS1-EPCIS-Min", value="2.0.0"),
    ResponseHeader(name="GS1-EPCIS-Max", value="2.0.0"),
    ResponseHeader(name="GS1-CBV-Min", value="2.0.0"),
    ResponseHeader(name="GS1-CBV-Max", value="2.0.0"),
    ResponseHeader(name="GS1-Extensions", value=""),
    ResponseHeader(name="GS1-EPCIS-Capture-Limit", value=str(capture.MAX_EVENTS)),
    ResponseHeader(name="GS1-EPCIS-Capture-File-Size-Limit", value="16777216"),
]
# Capture reads JSON-LD or XML, by the request's Content-Type.
CAPTURE_RESPONSES = {
    415: problem_response("The body is neither EPCIS JSON-LD nor EPCIS XML (the Content-Type).")
}
# The vocabularies' resources: what each lists, and the query parameter its events answer.
RESOURCES = {
    "eventTypes": ("event_type", "eventType"),
    "bizSteps": ("biz_step", "EQ_bizStep"),
    "bizLocations": ("biz_location", "EQ_bizLocation"),
    "readPoints": ("read_point", "EQ_readPoint"),
    "dispositions": ("disposition", "EQ_disposition"),
}


class EpcisController(Controller):
    path = "/epcis"
    tags = ["EPCIS 2.0"]  # noqa: RUF012
    opt = {"audit": "epcis"}  # noqa: RUF012
    response_headers = HEADERS

    @route(
        ["/", "/capture", "/events"],
        http_method=HttpMethod.OPTIONS,
        opt={PUBLIC_OPT: True},
        status_code=204,
        response_headers=[ResponseHeader(name="Allow", value="OPTIONS, GET, POST")],
        summary="Discovery: the versions and limits this repository supports",
    )
    async def discovery(self) -> None:
        return None

    @post(
        "/capture",
        guards=ANYONE,
        responses=CAPTURE_RESPONSES,
        summary="Capture an EPCISDocument (asynchronously: 202 and a job)",
    )
    async def capture_document(
        self, request: Request[Any, Any, Any], connection: Connection, runtime: Runtime,
        principal: Caller,
    ) -> Response[Any]:  # fmt: skip
        behaviour = _behaviour(request)
        try:
            capture_id, document = await capture.accept(
                connection, principal, await request.body(), behaviour, xml=_is_xml(request)
            )
        except DocumentError as exc:
            return _invalid(request, exc)
        runtime.epcis_jobs.start(runtime.db, capture_id, document)
        return Response(None, status_code=202, headers={"Location": f"/epcis/capture/{capture_id}"})

    @get("/capture", guards=ANYONE, summary="Capture jobs (the caller's organisation's)")
    async def capture_jobs(self, connection: Connection, principal: Caller) -> list[Any]:
        return await capture.jobs(connection, principal)

    @get(
        "/capture/{capture_id:uuid}",
        guards=ANYONE,
        summary="A capture job: running, success, errors",
    )
    async def capture_job(
        self, connection: Connection, principal: Caller, capture_id: FromPath[uuid.UUID]
    ) -> dict[str, Any]:
        return await capture.job(connection, principal, capture_id)

    @post(
        "/events",
        guards=ANYONE,
        responses=CAPTURE_RESPONSES,
        summary="Capture one event (while the request waits): 201",
    )
    async def capture_one(
        self, request: Request[Any, Any, Any], connection: Connection, runtime: Runtime,
        principal: Caller,
    ) -> Response[Any]:  # fmt: skip
        try:
            outcome = await capture.capture_event(
                connection, runtime.facilities, principal, await request.body(),
                runtime.settings.reader, xml=_is_xml(request),
            )  # fmt: skip
        except DocumentError as exc:
            return _invalid(request, exc)
        assert outcome.event_id is not None
        body: dict[str, Any] = {"eventID": outcome.event_id, "duplicate": outcome.duplicate}
        if outcome.error is not None:
            body["registerRefusal"] = outcome.error["message"]
        return Response(
            body,
            status_code=201,
            headers={"Location": f"/epcis/events/{quote(outcome.event_id, safe='')}"},
        )

    @get(
        "/events",
        guards=ANYONE,
        media_type=QUERY_DOCUMENT,
        summary="Query events (the standard parameters), paged",
    )
    async def events(
        self, request: Request[Any, Any, Any], connection: Connection, principal: Caller
    ) -> Response[Any]:
        return await _answer(request, connection, principal, dict(request.query_params.dict()))

    @get("/events/{event_id:str}", guards=ANYONE, summary="One event by its eventID")
    async def event(
        self, request: Request[Any, Any, Any], connection: Connection, principal: Caller,
        event_id: FromPath[str],
    ) -> Response[Any]:  # fmt: skip
        seen = await query.visibility(connection, principal)
        found = await query.find(
            connection, EventQuery(event_ids=frozenset({event_id}), visibility=seen)
        )
        events = found[0]
        if not events and (register_id := query.event_key(event_id)) is not None:
            document = await register_events.event(connection, register_id, seen)
            events = [document] if document is not None else []
        if not events:
            raise NotFound(f"No event {event_id} that you may see.")
        return Response(render_event(events[0], _format(request)))

    @get(
        "/epcs/{epc:path}",
        guards=ANYONE,
        media_type=QUERY_DOCUMENT,
        summary="One EPC's events: /epcis/epcs/{epc}/events",
    )
    async def epc_events(
        self, request: Request[Any, Any, Any], connection: Connection, principal: Caller,
        epc: FromPath[str],
    ) -> Response[Any]:  # fmt: skip
        value = _named(request, "epcs")
        if value is None:
            raise NotFound("The events of an EPC are at /epcis/epcs/{epc}/events.")
        parameters = dict(request.query_params.dict())
        parameters["MATCH_anyEPC"] = [value]
        return await _answer(request, connection, principal, parameters, narrow=True)

    @get(
        "/{resource:str}",
        guards=ANYONE,
        summary="A vocabulary's values in use: eventTypes, bizSteps, …",
    )
    async def values(
        self, resource: FromPath[str], connection: Connection, principal: Caller
    ) -> dict[str, Any]:
        if resource not in RESOURCES:
            raise NotFound(f"No EPCIS resource {resource}.")
        return {"@set": await _values(connection, principal, resource)}

    @get(
        "/{resource:str}/{rest:path}",
        guards=ANYONE,
        media_type=QUERY_DOCUMENT,
        summary="One value's events: /{resource}/{value}/events",
    )
    async def value_events(
        self, request: Request[Any, Any, Any], connection: Connection, principal: Caller,
        resource: FromPath[str], rest: FromPath[str],
    ) -> Response[Any]:  # fmt: skip
        value = _named(request, resource)
        if resource not in RESOURCES or value is None:
            raise NotFound(f"No EPCIS resource {request.url.path}.")
        parameters = dict(request.query_params.dict())
        parameters[RESOURCES[resource][1]] = [value]
        return await _answer(request, connection, principal, parameters)


async def _answer(
    request: Request[Any, Any, Any],
    connection: Connection,
    principal: Caller,
    parameters: dict[str, list[str]],
    *,
    narrow: bool = False,
) -> Response[Any]:
    seen = await query.visibility(connection, principal)
    asked = query.parse(parameters, seen)
    events, following = await query.find(connection, asked, narrow=narrow)
    fmt = _format(request)
    document = {
        "@context": [CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": [render_event(e, fmt) for e in events]},
            }
        },
    }
    headers = {}
    if following is not None:
        pairs = [(k, v) for k, vs in parameters.items() if k != "nextPageToken" for v in vs]
        pairs.append(("nextPageToken", query.token(following)))
        headers["Link"] = f'<{request.url.path}?{urlencode(pairs)}>; rel="next"'
    return Response(document, headers=headers, media_type=QUERY_DOCUMENT)


async def _values(connection: Connection, principal: Caller, resource: str) -> list[str]:
    column = RESOURCES[resource][0]
    if resource == "eventTypes":
        return sorted(EVENT_TYPES)
    seen = await query.visibility(connection, principal)
    condition, params = "true", {}
    if not seen.everything:
        condition = (
            "(organization_id = %(org)s OR facility_id = ANY(%(sites)s)"
            " OR gtins && %(gtins)s::char(14)[])"
        )
        params = {"org": seen.organization_id, "sites": list(seen.facility_ids),
                  "gtins": list(seen.gtins)}  # fmt: skip
    cursor = await connection.execute(
        f"SELECT DISTINCT {column} FROM epcis_events WHERE {column} IS NOT NULL"  # noqa: S608 (constants)
        f" AND {condition} ORDER BY 1 LIMIT 1000",
        params,
    )
    found = {value for (value,) in await cursor.fetchall()}
    found |= set(await query.register_values(connection, column, seen))
    return sorted(found)


def _named(request: Request[Any, Any, Any], resource: str) -> str | None:
    """The value in `/epcis/{resource}/{value}/events`, read from the path as sent: a URI
    value (percent-encoded, as it should be) keeps its `//`, which a decoded path may lose."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("latin-1").split("?", 1)[0]
    head, tail = f"/epcis/{resource}/", "/events"
    if not path.startswith(head) or not path.endswith(tail) or len(path) <= len(head + tail):
        return None
    return unquote(path[len(head) : -len(tail)])


def _is_xml(request: Request[Any, Any, Any]) -> bool:
    """JSON-LD (or JSON, or no type said) or XML; anything else is refused before reading."""
    media = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if media in xml12.MEDIA_TYPES:
        return True
    if media in JSON_TYPES or not media:
        return False
    raise UnsupportedMediaType(
        f"Capture takes EPCIS 2.0 JSON-LD ({', '.join(sorted(JSON_TYPES))}) or EPCIS XML "
        f"({', '.join(sorted(xml12.MEDIA_TYPES))}), not {media}."
    )


def _behaviour(request: Request[Any, Any, Any]) -> ErrorBehaviour:
    given = request.headers.get("GS1-Capture-Error-Behaviour", "rollback")
    try:
        return ErrorBehaviour(given)
    except ValueError:
        raise InvalidInput(
            "GS1-Capture-Error-Behaviour: rollback (all or nothing) or proceed.",
            field="GS1-Capture-Error-Behaviour",
        ) from None


def _format(request: Request[Any, Any, Any]) -> EPCFormat:
    try:
        return EPCFormat.from_header(request.headers.get("GS1-EPC-Format"))
    except ValueError as exc:
        raise InvalidInput(str(exc), field="GS1-EPC-Format") from None


def _invalid(request: Request[Any, Any, Any], exc: DocumentError) -> Response[Any]:
    first = exc.problems[0]
    return Response(
        {
            "type": "epcisException:ValidationException",
            "title": "Invalid EPCIS document",
            "status": 400,
            "detail": f"{first['path']}: {first['message']}"
            + (f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""),
            "instance": request.url.path,
            "errors": exc.problems,
        },
        status_code=400,
        media_type=PROBLEM_JSON,
    )
