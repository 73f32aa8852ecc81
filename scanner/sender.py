"""Sending the outbox to the server, oldest first. A server that cannot be reached (or answers
5xx) stops the round: the events stay queued, in order, for the next one. A key the server
refuses (401) or a scanner not allowed to do this (403) stops it too: such an answer says
nothing about the event, which stays queued for a key that works. Any other answer is final:
2xx recorded, 4xx recorded as refused (retrying would get the same answer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from scanner.outbox import KEY_REFUSED, Outbox, Queued

# (event payload) -> (HTTP status, JSON body); raises httpx.TransportError when unreachable.
Post = Callable[[dict[str, Any]], tuple[int, Any]]
# Told each event's final answer as it arrives: (the event, HTTP status, JSON body).
OnAnswer = Callable[[Queued, int, Any], None]


@dataclass(frozen=True)
class KeyRefused:
    """The server refused the scanner's key (401) or what the scanner may do (403)."""

    status: int
    detail: str

    def message(self, queued: int) -> str:
        return (
            f"this scanner's key was refused (HTTP {self.status}: {self.detail}): nothing is "
            f"lost, {queued} scans stay queued; fix the key and run `darutrace scan sync`"
        )


@dataclass(frozen=True)
class SyncResult:
    sent: int
    refused: int
    remaining: int  # still queued for this key
    online: bool
    key_refused: KeyRefused | None = None
    other_keys: int = 0  # queued under other scanners' keys: only those keys can send them


def http_client(server: str, api_key: str, timeout: float = 5.0) -> httpx.Client:
    return httpx.Client(base_url=server, headers={"X-API-Key": api_key}, timeout=timeout)


def problem_detail(body: Any, status: int) -> str:
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail or f"HTTP {status}")


class ServerUnavailable(RuntimeError):
    """The server cannot be reached, or cannot answer now (5xx)."""


@dataclass(frozen=True)
class KeyOwner:
    """The scanner device (or user) a key belongs to, as the server says."""

    name: str
    facility_id: str | None


def check_key(client: httpx.Client, outbox: Outbox, key_id: str) -> KeyOwner | KeyRefused:
    """Ask the server who the key (fingerprint `key_id`) belongs to, the cheapest authenticated
    call, and remember the answer in the outbox, which then knows the site of its scans."""
    try:
        response = client.get("/api/auth/me")
    except httpx.TransportError as exc:
        raise ServerUnavailable(f"{client.base_url} cannot be reached ({exc})") from exc
    if response.status_code >= 500:
        raise ServerUnavailable(f"{client.base_url} answered HTTP {response.status_code}")
    if response.status_code in KEY_REFUSED:
        return _refused(outbox, key_id, response.status_code, _json(response))
    response.raise_for_status()
    me = response.json()
    owner = KeyOwner(str(me["name"]), me.get("facility_id"))
    if owner.facility_id is not None:
        outbox.learn_key(key_id, owner.facility_id)
    return owner


def _refused(outbox: Outbox, key_id: str, status: int, body: Any) -> KeyRefused:
    """A 401 is the key itself refused (mistyped or revoked): the outbox notes it, so that its
    scans may go with the next key that works. A 403 is an action the scanner may not do."""
    if status == 401:
        outbox.mark_key_refused(key_id)
    return KeyRefused(status, problem_detail(body, status))


def http_post(client: httpx.Client) -> Post:
    def post(payload: dict[str, Any]) -> tuple[int, Any]:
        response = client.post("/api/events", json=payload)
        return response.status_code, _json(response)

    return post


def http_verify(client: httpx.Client) -> Callable[[str], tuple[int, Any]]:
    def verify(code: str) -> tuple[int, Any]:
        response = client.post("/api/verify", json={"code": code})
        return response.status_code, _json(response)

    return verify


def http_product_name(client: httpx.Client) -> Callable[[str], str | None]:
    def name(gtin: str) -> str | None:
        response = client.get(f"/api/products/{gtin}")
        return str(response.json()["name"]) if response.status_code == 200 else None

    return name


def http_site_names(client: httpx.Client) -> Callable[[str], str | None]:
    """The names of the sites the server shows this scanner, by GLN (asked once)."""
    names: dict[str, str] | None = None

    def name(gln: str) -> str | None:
        nonlocal names
        if names is None:
            response = client.get("/api/facilities")
            sites = response.json() if response.status_code == 200 else []
            names = {str(site["gln"]): str(site["name"]) for site in sites}
        return names.get(gln)

    return name


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:  # a proxy's HTML error page, say
        return {"detail": response.text[:200] or f"HTTP {response.status_code}"}


def sync(
    outbox: Outbox,
    post: Post,
    key_id: str,
    facility_id: str | None = None,
    *,
    batch: int = 100,
    on_answer: OnAnswer | None = None,
) -> SyncResult:
    """Send what the key whose fingerprint is `key_id` may send (`post` sends with that key),
    the key of the site `facility_id` when the server has said so."""
    sent = refused = 0
    online = True
    key_refused = None
    while online and key_refused is None and (queued := outbox.pending(key_id, facility_id, batch)):
        for event in queued:
            try:
                status, body = post(event.payload)
            except httpx.ConnectError:  # never reached the server
                outbox.mark_offline()
                online = False
                break
            except httpx.TransportError:  # may have reached it: keep the payload as it is
                outbox.mark_attempted(event.event_id)
                online = False
                break
            if status >= 500:
                outbox.mark_attempted(event.event_id)
                online = False
                break
            if status in KEY_REFUSED:
                key_refused = _refused(outbox, key_id, status, body)
                break
            outbox.mark_sent(event.event_id, status, body)
            sent += 1
            refused += status >= 400
            if on_answer is not None:
                on_answer(event, status, body)
    return SyncResult(
        sent,
        refused,
        outbox.queued_for(key_id, facility_id),
        online,
        key_refused,
        outbox.queued_for_other_keys(key_id, facility_id),
    )
