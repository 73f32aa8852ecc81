"""The administrators' pages through HTTP: admins create, inspectors only read, others are
refused; a bad form shows its problem beside the field in Persian and saves nothing; a device's
key is shown once; forms without their CSRF token are refused."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient

from models.gs1 import with_check_digit
from tests.console import log_in, post_form
from tests.helpers import headers_for

Client = AsyncTestClient[Litestar]
PAGES = ("organizations", "facilities", "users", "devices", "access-log")


async def test_admins_and_inspectors_read_others_are_refused(client: Client) -> None:
    await log_in(client, "fdo-inspector")
    for name in PAGES:
        shown = await client.get(f"/console/admin/{name}")
        assert shown.status_code == 200, (name, shown.text)
        assert 'method="post" action="/console/admin/' not in shown.text  # read only
    refused = await post_form(
        client, "/console/admin/organizations", {"gln": "x"}, "/console/admin/organizations"
    )
    assert refused.status_code == 403
    client.cookies.clear()
    await log_in(client, "razi-pharmacy")
    for name in PAGES:
        assert (await client.get(f"/console/admin/{name}")).status_code == 403


async def test_a_bad_organisation_is_shown_in_persian_and_nothing_is_saved(client: Client) -> None:
    await log_in(client, "fdo-admin")
    path = "/console/admin/organizations"
    gln = with_check_digit("626000999123")
    form = {"gln": gln, "name": "Tabriz Pharma", "name_fa": "داروسازی تبریز",
            "kind": "manufacturer", "company_prefixes": "12"}  # fmt: skip
    bad = await post_form(client, path, form, path)
    assert bad.status_code == 422
    assert 'data-field="company_prefixes"' in bad.text and "۴ تا ۱۲ رقم" in bad.text
    assert 'value="Tabriz Pharma"' in bad.text  # what was typed is kept
    assert gln not in re.sub(r'value="[^"]*"', "", bad.text)
    missing = await post_form(client, path, {**form, "name_fa": ""}, path)
    assert 'data-field="name_fa"' in missing.text and "الزامی" in missing.text
    no_token = await client.post(path, data={**form, "company_prefixes": "6260999"})
    assert no_token.status_code == 403
    admin = await headers_for(client, "fdo-admin")
    listed = (await client.get("/api/organizations", headers=admin)).json()
    assert gln not in [o["gln"] for o in listed]

    made = await post_form(client, path, {**form, "company_prefixes": "6260999 6260998"}, path)
    assert made.status_code == 303
    listed = (await client.get("/api/organizations", headers=admin)).json()
    (new,) = [o for o in listed if o["gln"] == gln]
    assert new["company_prefixes"] == ["6260998", "6260999"]

    facility_gln = with_check_digit("626000999124")
    site = {"organization_id": new["id"], "gln": facility_gln, "name": "Tabriz plant",
            "province": "East Azerbaijan", "city": "Tabriz"}  # fmt: skip
    facilities = "/console/admin/facilities"
    taken = await post_form(client, facilities, {**site, "gln": gln[:-1] + "0"}, facilities)
    assert taken.status_code == 422 and 'data-field="gln"' in taken.text and "GLN" in taken.text
    assert (await post_form(client, facilities, site, facilities)).status_code == 303
    shown = await client.get(facilities, params={"organization_id": new["id"]})
    assert facility_gln in shown.text and "آذربایجان شرقی" in shown.text

    users = "/console/admin/users"
    person = {"username": "tabriz-qa", "password": "short", "role": "manufacturer",
              "organization_id": new["id"]}  # fmt: skip
    short = await post_form(client, users, person, users)
    assert short.status_code == 422 and 'data-field="password"' in short.text
    assert "کوتاه" in short.text
    wrong_role = await post_form(client, users, {**person, "password": "long enough 1234",
                                                 "role": "pharmacy"}, users)  # fmt: skip
    assert 'data-field="role"' in wrong_role.text and "نوع سازمان" in wrong_role.text
    created = await post_form(client, users, {**person, "password": "long enough 1234"}, users)
    assert created.status_code == 303
    page = (await client.get(users)).text
    user_id = re.search(r'action="/console/admin/users/([^/]+)/active"[^<]*'
                        r'[^>]*>[^<]*<input type="hidden" name="is_active" value="false">',
                        page.split('data-username="tabriz-qa"')[1])  # fmt: skip
    assert user_id
    disabled = await post_form(
        client, f"{users}/{user_id[1]}/active", {"is_active": "false"}, users
    )
    assert disabled.status_code == 303
    assert 'data-username="tabriz-qa" data-active="false"' in (await client.get(users)).text


async def test_a_device_key_is_shown_once(client: Client) -> None:
    await log_in(client, "fdo-admin", "en")
    devices = "/console/admin/devices"
    admin = await headers_for(client, "fdo-admin")
    facility = (await client.get("/api/facilities", headers=admin)).json()[0]
    no_name = await post_form(client, devices, {"facility_id": facility["id"]}, devices)
    assert no_name.status_code == 422 and 'data-field="name"' in no_name.text
    made = await post_form(
        client, devices, {"facility_id": facility["id"], "name": "Till 9"}, devices
    )
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    key = re.search(r'id="api-key">([^<]+)<', made.text)
    assert key
    works = await client.get("/api/auth/me", headers={"X-API-Key": key[1]})
    assert works.status_code == 200
    again = await client.get(devices)
    assert key[1] not in again.text and key[1][:12] in again.text
    device_id = re.search(
        r'action="/console/admin/devices/([^/]+)/revoke"', again.text.split("Till 9")[1]
    )
    assert device_id
    revoked = await post_form(client, f"{devices}/{device_id[1]}/revoke", {}, devices)
    assert revoked.status_code == 303
    assert (await client.get("/api/auth/me", headers={"X-API-Key": key[1]})).status_code == 401


async def test_the_access_log_page_filters_like_the_api(client: Client) -> None:
    await log_in(client, "razi-pharmacy")
    await client.get("/console/alerts")
    client.cookies.clear()
    await log_in(client, "fdo-inspector", "en")
    page = await client.get(
        "/console/admin/access-log", params={"resource": "alerts", "outcome": "ok"}
    )
    assert page.status_code == 200
    assert "razi-pharmacy" in page.text and 'data-outcome="ok"' in page.text
    assert 'data-outcome="not_found"' not in page.text
    bad = await client.get("/console/admin/access-log", params={"until": "31/12"})
    assert bad.status_code == 422 and 'data-field="until"' in bad.text
