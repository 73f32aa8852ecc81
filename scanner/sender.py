"""Sending the outbox to the server, oldest first. A server that cannot be reached (or answers
5xx) stops the round: the events stay queued, in order, for the next one. Any other answer is
final: 2xx recorded, 4xx recorded as refused (retrying would get the same answer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from scanner.outbox import Outbox

# (event payload) -> (HTTP status, JSON body); raises httpx.TransportError when unreachable.
Post = Callable[[dict[str, Any]], tuple[int, Any]]


@dataclass(frozen=True)
class SyncResult:
    sent: int
    refused: int
    remaining: int
    online: bool


def http_client(server: str, api_key: str, timeout: float = 5.0) -> httpx.Client:
    return httpx.Client(base_url=server, headers={"X-API-Key": api_key}, timeout=timeout)


def http_post(client: httpx.Client) -> Post:
    def post(payload: dict[str, Any]) -> tuple[int, Any]:
        response = client.post("/api/events", json=payload)
        return response.status_code, response.json()

    return post


def http_verify(client: httpx.Client) -> Callable[[str], tuple[int, Any]]:
    def verify(code: str) -> tuple[int, Any]:
        response = client.post("/api/verify", json={"code": code})
        return response.status_code, response.json()

    return verify


def http_product_name(client: httpx.Client) -> Callable[[str], str | None]:
    def name(gtin: str) -> str | None:
        response = client.get(f"/api/products/{gtin}")
        return str(response.json()["name"]) if response.status_code == 200 else None

    return name


def sync(outbox: Outbox, post: Post, batch: int = 100) -> SyncResult:
    sent = refused = 0
    online = True
    while online and (queued := outbox.pending(batch)):
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
            outbox.mark_sent(event.event_id, status, body)
            sent += 1
            refused += status >= 400
    return SyncResult(sent, refused, outbox.status().queued, online)
