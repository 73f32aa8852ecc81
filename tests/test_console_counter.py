"""The counter's page and its twins of the API through HTTP: the session cookie and the CSRF
header instead of a bearer token, the same rules and answers as `POST /api/events` and
`POST /api/verify`, access-logged the same way; the service worker and the web manifest."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.console import log_in
from tests.helpers import event, facility_gln, headers_for, pack_code
from tests.test_events import _event_count, _status, _stock_at

Client = AsyncTestClient[Litestar]
JSON = {"accept": "application/json"}


def _csrf(client: Client) -> dict[str, str]:
    return {**JSON, "x-csrftoken": client.cookies["csrftoken"]}


async def _counter_session(client: Client, username: str, language: str = "en") -> None:
    await log_in(client, username, language)
    page = await client.get("/console/counter")
    assert page.status_code == 200, page.text


def _dispense(code: str, **extra: Any) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "action": "dispense", "codes": [code], **extra}


async def test_the_counter_page_is_for_the_supply_chain_and_installable(client: Client) -> None:
    assert (await client.get("/console/counter", follow_redirects=False)).status_code in (302, 303)
    await log_in(client, "razi-pharmacy", "fa")
    page = await client.get("/console/counter")
    assert page.status_code == 200
    assert 'rel="manifest" href="/console/counter/manifest.webmanifest"' in page.text
    assert "تحویل به بیمار" in page.text  # the dispense mode, in Persian
    assert 'data-mode="ship"' in page.text
    assert '<a href="/console/counter">پیشخوان</a>' in page.text  # in the sections' links

    worker = await client.get("/console/counter/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/console/counter"
    manifest = (await client.get("/console/counter/manifest.webmanifest")).json()
    assert manifest["scope"] == manifest["start_url"] == "/console/counter"
    assert manifest["dir"] == "rtl"
    for icon in manifest["icons"]:
        png = await client.get(icon["src"])
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")

    client.cookies.clear()
    await log_in(client, "fdo-inspector")
    assert (await client.get("/console/counter")).status_code == 403


async def test_the_twin_records_with_the_session_and_csrf_like_the_api(client: Client) -> None:
    gtin, lot, serials = await _stock_at(client, "razi-pharmacy", 3)
    await _counter_session(client, "razi-pharmacy")
    before = await _event_count(client)

    body = _dispense(pack_code(gtin, serials[0]))
    refused = await client.post("/console/counter/events", json=body, headers=JSON)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert await _event_count(client) == before
    assert await _status(client, gtin, serials[0]) == "active"

    answer = await client.post("/console/counter/events", json=body, headers=_csrf(client))
    assert answer.status_code == 200, answer.text
    result = answer.json()["results"][0]
    assert (result["outcome"], result["lot"], result["expiry"]) == ("ok", lot, "2028-06-30")
    assert result["name"].startswith("Amoxicillin") and result["name_fa"]
    assert await _status(client, gtin, serials[0]) == "dispensed"

    again = await client.post("/console/counter/events", json=body, headers=_csrf(client))
    assert again.json() == answer.json()
    assert await _event_count(client) == before + 1

    # The same answer as the API's for the same kind of event, bar the labels.
    api = await event(client, await headers_for(client, "razi-pharmacy"), "dispense",
                      [pack_code(gtin, serials[1])])  # fmt: skip
    assert set(api.json()["results"][0]) | {"lot", "expiry", "name", "name_fa"} == set(result)

    inspector = await headers_for(client, "fdo-inspector")
    log = await client.get("/api/access-log", params={"resource": "events"}, headers=inspector)
    seen = [(e["actor_name"], e["path"], e["outcome"]) for e in log.json()]
    assert ("razi-pharmacy", "/console/counter/events", "ok") in seen


async def test_the_twin_refuses_what_the_api_refuses_with_a_reason(client: Client) -> None:
    gtin, _, serials = await _stock_at(client, "razi-pharmacy", 1)
    await _counter_session(client, "razi-pharmacy")
    unreadable = await client.post(
        "/console/counter/events", json=_dispense(f"01{gtin[:-1]}021{serials[0]}"),
        headers=_csrf(client),
    )  # fmt: skip
    assert unreadable.status_code == 422
    assert "check digit" in unreadable.json()["results"][0]["reason"]

    elsewhere = await client.post(
        "/console/counter/events",
        json=_dispense(pack_code(gtin, serials[0]), facility_gln=facility_gln("hafez-pharmacy")),
        headers=_csrf(client),
    )
    assert elsewhere.status_code == 422
    assert "is not one of your organisation's facilities" in elsewhere.json()["detail"]
    assert await _status(client, gtin, serials[0]) == "active"

    client.cookies.clear()
    await _counter_session(client, "darupakhsh")
    role = await client.post(
        "/console/counter/events", json=_dispense(pack_code(gtin, serials[0])),
        headers=_csrf(client),
    )  # fmt: skip
    assert role.status_code == 403
    assert role.json()["detail"] == "Your role (distributor) may not record 'dispense'."
    assert role.json()["detail_text"] == role.json()["detail"]  # an English page: the same

    # A session that ended: the counter's script is told so in JSON (it keeps its queue and asks
    # for a new login), not sent to the login page.
    client.cookies.delete("darutrace_session")
    ended = await client.post(
        "/console/counter/events", json=_dispense(pack_code(gtin, serials[0])),
        headers=_csrf(client),
    )  # fmt: skip
    assert ended.status_code == 401
    assert ended.headers["content-type"].startswith("application/problem+json")

    client.cookies.clear()
    bearer = {**JSON, **await headers_for(client, "razi-pharmacy")}
    # The twin is the console's: a bearer token alone is no session and carries no CSRF token.
    no_session = await client.post(
        "/console/counter/events", json=_dispense(pack_code(gtin, serials[0])), headers=bearer
    )
    assert no_session.status_code == 403
    assert await _status(client, gtin, serials[0]) == "active"


async def test_a_scan_sent_late_that_conflicts_is_a_warning_and_an_alert(client: Client) -> None:
    gtin, _, serials = await _stock_at(client, "razi-pharmacy", 1)
    code = pack_code(gtin, serials[0])
    hafez = await headers_for(client, "hafez-pharmacy")
    meanwhile = await event(client, hafez, "dispense", [code], offline=True)
    assert meanwhile.json()["results"][0]["outcome"] == "warning"

    await _counter_session(client, "razi-pharmacy")
    late = await client.post(
        "/console/counter/events", json=_dispense(code, offline=True), headers=_csrf(client)
    )
    assert late.status_code == 200, late.text
    result = late.json()["results"][0]
    assert result["outcome"] == "warning"
    assert result["reason"].startswith("recorded offline despite a conflict: already dispensed")

    inspector = await headers_for(client, "fdo-inspector")
    alerts = await client.get(f"/api/alerts?serial={serials[0]}", headers=inspector)
    assert "cloned_code" in [a["code"] for a in alerts.json()]


async def test_the_verify_twin_and_the_product_names(client: Client) -> None:
    gtin, lot, serials = await _stock_at(client, "razi-pharmacy", 1)
    await _counter_session(client, "razi-pharmacy")
    view = await client.post(
        "/console/counter/verify", json={"code": pack_code(gtin, serials[0])},
        headers=_csrf(client),
    )  # fmt: skip
    assert view.status_code == 200, view.text
    assert (view.json()["status"], view.json()["lot"]) == ("active", lot)
    verify = "/console/counter/verify"
    bad = await client.post(verify, json={"code": "hello"}, headers=_csrf(client))
    assert bad.status_code == 422 and "cannot read" in bad.json()["detail"]
    assert (await client.post(verify, json={"code": "x"}, headers=JSON)).status_code == 403

    products = (await client.get("/console/counter/products", headers=JSON)).json()["products"]
    assert [gtin, "Amoxicillin 500 mg (001)", "آموکسی‌سیلین ۵۰۰"] in products


async def test_on_the_persian_counter_the_server_s_reasons_are_in_persian(client: Client) -> None:
    gtin, _, serials = await _stock_at(client, "razi-pharmacy", 2)
    code = pack_code(gtin, serials[0])
    await event(client, await headers_for(client, "hafez-pharmacy"), "dispense", [code])
    await _counter_session(client, "razi-pharmacy", "fa")

    refused = await client.post(
        "/console/counter/events", json=_dispense(code), headers=_csrf(client)
    )
    assert refused.status_code == 409
    answer = refused.json()
    result = answer["results"][0]
    # The English stays the API's; beside it, the same reason in the page's language.
    assert result["reason"].startswith("already dispensed elsewhere on ")
    assert result["reason_text"].startswith("پیش‌تر در ")
    assert "«تحویل‌شده به بیمار» ثبت شده است: ممکن است کد جعلی" in result["reason_text"]
    assert "در جای دیگر" in result["reason_text"]
    assert answer["detail"].startswith("Every code was refused; nothing changed. already")
    assert answer["detail_text"].startswith("همهٔ کدها رد شدند؛ چیزی تغییر نکرد. پیش‌تر در ")

    unreadable = await client.post(
        "/console/counter/events", json=_dispense(f"01{gtin[:-1]}021{serials[1]}"),
        headers=_csrf(client),
    )  # fmt: skip
    reason_text = unreadable.json()["results"][0]["reason_text"]
    assert reason_text.startswith("کد خوانده نشد: ") and "check digit" not in reason_text

    client.cookies.clear()
    await _counter_session(client, "darupakhsh", "fa")
    role = await client.post(
        "/console/counter/events", json=_dispense(pack_code(gtin, serials[1])),
        headers=_csrf(client),
    )  # fmt: skip
    assert role.status_code == 403
    assert role.json()["detail"] == "Your role (distributor) may not record 'dispense'."
    assert (
        role.json()["detail_text"]
        == "نقش شما (\u2068distributor\u2069) اجازهٔ ثبت «\u2068dispense\u2069» را ندارد."
    )
    assert await _status(client, gtin, serials[1]) == "active"


async def test_scans_queued_offline_go_together_each_recorded_once_in_order(
    client: Client,
) -> None:
    gtin, lot, serials = await _stock_at(client, "razi-pharmacy", 3)
    await _counter_session(client, "razi-pharmacy")
    before = await _event_count(client)
    first, second = (_dispense(pack_code(gtin, s), offline=True) for s in serials[:2])
    unsent = {"event_id": str(uuid.uuid4()), "action": "ship",
              "codes": [pack_code(gtin, serials[2])], "offline": True}  # fmt: skip
    twice = _dispense(pack_code(gtin, serials[0]), offline=True)  # after `first`, in order
    batch = {"events": [first, second, unsent, twice]}
    queued = "/console/counter/events/queued"

    refused = await client.post(queued, json=batch, headers=JSON)
    assert refused.status_code == 403 and await _event_count(client) == before

    answer = await client.post(queued, json=batch, headers=_csrf(client))
    assert answer.status_code == 200, answer.text
    answers = answer.json()["answers"]
    assert [a["status"] for a in answers] == [200, 200, 422, 200], answers
    assert answers[0]["body"]["results"][0]["lot"] == lot
    assert answers[0]["body"]["results"][0]["outcome"] == "ok"
    assert "destination" in answers[2]["body"]["detail"]
    assert answers[3]["body"]["results"][0]["outcome"] == "warning"  # the same pack, twice
    assert "already dispensed" in answers[3]["body"]["results"][0]["reason"]
    assert [await _status(client, gtin, s) for s in serials] == ["dispensed"] * 2 + ["active"]
    assert await _event_count(client) == before + 3

    # Sent again (the answer was lost on the way): nothing recorded twice, the same answers.
    again = await client.post(queued, json=batch, headers=_csrf(client))
    assert [a["status"] for a in again.json()["answers"]] == [200, 200, 422, 200]
    assert again.json()["answers"][0] == answers[0]
    assert await _event_count(client) == before + 3

    inspector = await headers_for(client, "fdo-inspector")
    log = await client.get(
        "/api/access-log", params={"resource": "events", "limit": 200}, headers=inspector
    )
    rows = [e for e in log.json() if e["path"] == queued]
    assert sorted(e["object_id"] for e in rows if e["object_id"]) == sorted(
        [e["event_id"] for e in batch["events"]] * 2
    )  # one row a scan, each time it came; none for a request that recorded them
    # The request refused for want of its CSRF header has its row, with the status it got.
    assert [e["status_code"] for e in rows if not e["object_id"]] == [403]

    empty = await client.post(queued, json={"events": []}, headers=_csrf(client))
    assert empty.status_code in (400, 422), empty.text
