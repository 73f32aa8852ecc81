"""The alerts inbox and an alert's page, through HTTP: scoped like `/api/alerts`, filtered,
paged, triaged by the service's rules, bulk-closed all or nothing, forms refused without CSRF."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.console import csrf_token, log_in, post_form
from tests.helpers import event, facility_gln, headers_for, pack_code, register_batch
from tests.test_alerts import alerts

Client = AsyncTestClient[Litestar]


async def _cloned(
    client: Client, count: int = 1, item: str = "001"
) -> tuple[str, list[dict[str, Any]]]:
    """`count` cloned-code alerts at Hafez Pharmacy, of packs dispensed at Razi Pharmacy."""
    maker = await headers_for(client, "sina-darou")
    razi = await headers_for(client, "razi-pharmacy")
    gtin, _, serials = await register_batch(client, maker, item=item, count=count)
    codes = [pack_code(gtin, s) for s in serials]
    await event(client, maker, "ship", codes, destination_gln=facility_gln("razi-pharmacy"))
    await event(client, razi, "receive", codes)
    await event(client, await headers_for(client, "razi-pharmacy"), "dispense", codes)
    await event(client, await headers_for(client, "hafez-pharmacy"), "dispense", codes)
    return gtin, await alerts(client, "fdo-inspector", f"gtin={gtin}")


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-id="([^"]+)"', html)


async def test_the_inbox_is_scoped_filtered_and_counted_like_the_api(client: Client) -> None:
    gtin, raised = await _cloned(client, 2)
    await log_in(client, "fdo-inspector")
    inbox = await client.get("/console/alerts", params={"gtin": gtin})
    assert inbox.status_code == 200, inbox.text
    assert set(_rows(inbox.text)) == {a["id"] for a in raised}
    assert "تکثیر" in inbox.text or "دو بار" in inbox.text  # the kind, in Persian
    assert re.search(r'data-status="new"><span>[^<]+</span> <strong>۲</strong>', inbox.text)

    tehran = await client.get("/console/alerts", params={"gtin": gtin, "province": "Tehran"})
    api_tehran = await alerts(client, "fdo-inspector", f"gtin={gtin}&province=Tehran")
    assert set(_rows(tehran.text)) == {a["id"] for a in api_tehran}
    future = await client.get("/console/alerts", params={"gtin": gtin, "since": "2999-01-01"})
    assert _rows(future.text) == []
    fragment = await client.get(
        "/console/alerts", params={"gtin": gtin, "status": "closed"},
        headers={"HX-Request": "true", "HX-Target": "alert-results"},
    )  # fmt: skip
    assert "<html" not in fragment.text and _rows(fragment.text) == []
    bad = await client.get("/console/alerts", params={"since": "yesterday"})
    assert bad.status_code == 422
    assert 'data-field="since"' in bad.text and "تاریخ" in bad.text

    client.cookies.clear()
    await log_in(client, "ferdowsi-pharmacy", "en")
    outsider = await client.get("/console/alerts", params={"gtin": gtin})
    assert _rows(outsider.text) == []
    hidden = await client.get(f"/console/alerts/{raised[0]['id']}")
    assert hidden.status_code == 404 and "text/html" in hidden.headers["content-type"]

    client.cookies.clear()
    await log_in(client, "razi-pharmacy", "en")
    own = await client.get("/console/alerts", params={"gtin": gtin})
    assert set(_rows(own.text)) == {a["id"] for a in raised}
    inspector = await headers_for(client, "fdo-inspector")
    log = await client.get("/api/access-log", params={"resource": "alerts"}, headers=inspector)
    seen = [(e["actor_name"], e["path"], e["outcome"]) for e in log.json()]
    assert ("ferdowsi-pharmacy", f"/console/alerts/{raised[0]['id']}", "not_found") in seen


async def test_the_inbox_pages_newest_first(client: Client) -> None:
    gtin, raised = await _cloned(client, 52)
    await log_in(client, "fdo-inspector", "en")
    first = await client.get("/console/alerts", params={"gtin": gtin})
    shown = _rows(first.text)
    assert shown == [a["id"] for a in raised][:50]
    older = re.search(r'href="(/console/alerts\?[^"]+)"[^>]*rel="next"', first.text)
    assert older
    second = await client.get(older[1].replace("&amp;", "&"))
    assert _rows(second.text) == [a["id"] for a in raised][50:]


async def test_triage_goes_through_the_services_rules(client: Client) -> None:
    _, (alert,) = await _cloned(client)
    page_path = f"/console/alerts/{alert['id']}"
    status_path = f"{page_path}/status"
    await log_in(client, "fdo-inspector")

    refused = await client.post(status_path, data={"status": "investigating"})
    assert refused.status_code == 403
    assert (await alerts(client, "fdo-inspector", f"gtin={alert['gtin']}"))[0]["status"] == "new"

    started = await post_form(
        client, status_path, {"status": "investigating", "note": "calling Hafez"}, page_path
    )
    assert started.status_code == 303
    no_cause = await post_form(client, status_path, {"status": "closed"}, page_path)
    assert no_cause.status_code == 422
    assert 'data-field="root_cause"' in no_cause.text
    assert "پیش از بستن" in no_cause.text  # beside the field, in Persian
    closed = await post_form(
        client, status_path,
        {"status": "closed", "root_cause_kind": "user_error", "root_cause": "scanned twice"},
        page_path,
    )  # fmt: skip
    assert closed.status_code == 303
    shown = await client.get(page_path)
    assert "scanned twice" in shown.text and "خطای کاربر" in shown.text
    assert re.findall(r'<li data-status="(\w+)">', shown.text) == ["investigating", "closed"]
    assert 'id="pack-link"' in shown.text and 'id="site-link"' in shown.text
    api = await client.get(
        f"/api/alerts/{alert['id']}", headers=await headers_for(client, "fdo-inspector")
    )
    assert api.json()["root_cause_kind"] == "user_error"

    reopened = await post_form(client, status_path, {"status": "investigating"}, page_path)
    assert reopened.status_code == 303
    assert "investigating" in (await client.get(page_path)).text

    client.cookies.clear()
    await log_in(client, "fdo-admin", "en")
    read_only = await client.get(page_path)
    assert read_only.status_code == 200 and 'id="triage"' not in read_only.text
    admin = await client.post(
        status_path, data={"status": "closed", "root_cause": "x",
                           "_csrf_token": csrf_token(read_only.text)},
    )  # fmt: skip
    assert admin.status_code == 403


async def test_bulk_close_is_all_or_nothing(client: Client) -> None:
    gtin, raised = await _cloned(client, 3)
    _, (foreign,) = await _cloned(client, item="002")
    ids = [a["id"] for a in raised]
    await log_in(client, "hafez-pharmacy")
    inbox = f"/console/alerts?gtin={gtin}"

    no_reason = await post_form(client, f"/console/alerts/close?gtin={gtin}",
                                {"alert_id": ids}, inbox)  # fmt: skip
    assert no_reason.status_code == 422 and "پیش از بستن" in no_reason.text
    client.cookies.clear()
    await log_in(client, "ferdowsi-pharmacy")
    theirs = await post_form(
        client, "/console/alerts/close",
        {"alert_id": [ids[0], foreign["id"]], "root_cause_kind": "software"}, "/console/alerts",
    )  # fmt: skip
    assert theirs.status_code == 404, re.findall(r"field-error.*", theirs.text)
    assert all(a["status"] == "new" for a in await alerts(client, "fdo-inspector", f"gtin={gtin}"))

    client.cookies.clear()
    await log_in(client, "hafez-pharmacy")
    done = await post_form(
        client, f"/console/alerts/close?gtin={gtin}",
        {"alert_id": ids[:2], "root_cause_kind": "software", "root_cause": "scanner bug"}, inbox,
    )  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == inbox
    after = {a["id"]: a for a in await alerts(client, "fdo-inspector", f"gtin={gtin}")}
    assert [after[i]["status"] for i in ids] == ["closed", "closed", "new"]
    assert after[ids[0]]["root_cause_kind"] == "software"
    assert after[ids[0]]["root_cause"] == "scanner bug"


async def test_the_api_closes_several_alerts_at_once_or_none(client: Client) -> None:
    gtin, raised = await _cloned(client, 2)
    inspector = await headers_for(client, "fdo-inspector")
    ids = [a["id"] for a in raised]
    missing = await client.post(
        "/api/alerts/close", json={"alert_ids": [*ids, "00000000-0000-0000-0000-000000000000"],
                                   "root_cause_kind": "data_upload"}, headers=inspector,
    )  # fmt: skip
    assert missing.status_code == 404
    assert {a["status"] for a in await alerts(client, "fdo-inspector", f"gtin={gtin}")} == {"new"}
    closed = await client.post(
        "/api/alerts/close", json={"alert_ids": ids, "root_cause_kind": "data_upload"},
        headers=inspector,
    )  # fmt: skip
    assert closed.status_code == 200 and sorted(closed.json()["closed"]) == sorted(ids)
    again = await client.post(
        "/api/alerts/close", json={"alert_ids": ids, "root_cause": "x"}, headers=inspector
    )
    assert again.status_code == 409
    admin = await headers_for(client, "fdo-admin")
    refused = await client.post(
        "/api/alerts/close", json={"alert_ids": ids, "root_cause": "x"}, headers=admin
    )
    assert refused.status_code == 403
