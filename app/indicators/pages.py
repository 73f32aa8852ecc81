"""The national indicators page of the console (directive Article 14.1), for inspectors and
admins: the same service, guard and access log as `/api/indicators`, the filters as a form that
htmx re-reads the results with, every chart beside its table, and each table's CSV through the
API's own CSV function (with the session cookie instead of a bearer token)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from app.access_log.middleware import AUDIT_OPT
from app.auth.guards import allow
from app.auth.middleware import PAGE_OPT
from app.catalog import service as catalog
from app.dependencies import Connection, Session
from app.errors import ServiceError
from app.indicators import months, service
from app.indicators.routes import READERS, csv_download
from app.web import forms
from app.web.i18n import Language, language_of
from app.web.provinces import PROVINCES, province
from app.web.templating import jalali_date, jalali_month, page
from app.web.vocabulary import N_, term

OPT = {PAGE_OPT: True, AUDIT_OPT: "indicators"}
FILTERS = ("from", "to", "province", "atc", "expiring_within_days")
# The service's own words, which the catalogue translates for the form.
SERVICE_MESSAGES = (
    N_("from: the period starts after it ends."),
    N_("from: a period of at most 731 days."),  # service.MAX_DAYS
    N_("atc: an ATC group of 3 characters (e.g. J01) or 5 (e.g. J01CA)."),
    N_("expiring_within_days: between 0 and 3660."),
)


def _wanted(query: dict[str, str]) -> service.Period:
    """The filters as typed (empty fields filter nothing), checked by the API's own rule."""
    days = forms.text(query, "expiring_within_days")
    return service.period(
        forms.day(forms.text(query, "from"), "from"),
        forms.day(forms.text(query, "to"), "to"),
        forms.text(query, "province"),
        forms.text(query, "atc"),
        forms.whole(query, "expiring_within_days") if days is not None else None,
    )


@get("/console/indicators", guards=[allow(READERS)], opt=OPT, include_in_schema=False)
async def indicators_page(
    request: Request[Any, Any, Any], connection: Connection, session: Session
) -> Template:
    """The whole page, or only its results for htmx (`#indicator-results`)."""
    language = language_of(request)
    query = {name: request.query_params.get(name, "") for name in FILTERS}
    errors: dict[str, str] = {}
    answer: dict[str, Any] | None = None
    status_code = 200
    try:
        wanted = _wanted(query)
    except ServiceError as exc:
        status_code, errors = 422, forms.problems_of(language, exc)
    else:
        daily = service.charted_daily(wanted)
        answer = await service.indicators(connection, wanted, daily=daily)
    fragment = request.headers.get("hx-target") == "indicator-results"
    products = await catalog.list_products(session)
    return page(
        request, "indicators/results.html" if fragment else "indicators/page.html",
        status_code=status_code, query=query, errors=errors, answer=answer,
        filtered=urlencode({k: v for k, v in query.items() if v}),
        charts=charts(language, answer) if answer else None,
        per_day=per_day_table(language, answer) if answer else None,
        provinces=PROVINCES, atc_groups=sorted({p.atc[:3] for p in products if p.atc}),
        products={p.gtin: p for p in products}, expiry_until=_expiry_until(answer),
    )  # fmt: skip


@get("/console/indicators/{name:str}", guards=[allow(READERS)], opt=OPT, include_in_schema=False)
async def indicators_csv(
    request: Request[Any, Any, Any], connection: Connection, name: FromPath[str]
) -> Response[str]:
    """The CSV twin of `/api/indicators/{table}.csv`, with the page's filters."""
    query = {name: request.query_params.get(name, "") for name in FILTERS}
    return await csv_download(connection, name, _wanted(query))


def charts(language: Language, answer: dict[str, Any]) -> dict[str, Any]:
    """What the page's charts draw (written as JSON into the page, read by indicators.js): the
    dispensing per province for every day of the period, the open alerts by kind, and the stock
    near expiry per province under the map's feature names; labels in the page's language."""
    points, key, rows = _dispensing_points(answer)
    index = {point: n for n, point in enumerate(points)}
    series: dict[str, dict[str, Any]] = {}
    for row in rows:
        name, label = _province_names(language, row["province"])
        line = series.setdefault(name, {"name": label, "data": [0] * len(points)})
        line["data"][index[row[key]]] += row["packs"]
    near_expiry: dict[str, dict[str, Any]] = {}
    for row in answer["near_expiry"]["by_province"]:
        name, label = _province_names(language, row["province"])
        entry = near_expiry.setdefault(name, {"name": name, "label": label, "value": 0})
        entry["value"] += row["packs"]
    return {
        "lang": language.code,
        "days": [_point_label(language, key, point) for point in points],
        "dispensing": sorted(series.values(), key=lambda line: line["name"]),
        "open_alerts": [
            {"name": language.gettext(term("alert", row["code"])), "value": row["open"]}
            for row in answer["open_alerts"]
        ],
        "near_expiry": list(near_expiry.values()),
        "words": {
            "dispensed": language.gettext("Packs dispensed"),
            "open": language.gettext("Open alerts"),
            "near_expiry": language.gettext("Packs near expiry"),
        },
    }


def per_day_table(language: Language, answer: dict[str, Any]) -> dict[str, Any]:
    """The dispensing per day (per Jalali month over a long period) as a table of days by
    provinces (as the sites write them): a row a day or month with dispensing, a column a
    province."""
    _, key, rows = _dispensing_points(answer)
    provinces = sorted({row["province"] for row in rows})
    column = {name: n for n, name in enumerate(provinces)}
    points: dict[date, list[int]] = {}
    for row in rows:
        points.setdefault(row[key], [0] * len(provinces))[column[row["province"]]] += row["packs"]
    return {
        "provinces": provinces,
        "monthly": key == "month",
        "days": [(p, _point_label(language, key, p), n) for p, n in sorted(points.items())],
    }


def _dispensing_points(answer: dict[str, Any]) -> tuple[list[date], str, list[dict[str, Any]]]:
    """Every day of the period, or (no daily series) every Jalali month it touches."""
    start: date = answer["period"]["from"]
    end: date = answer["period"]["to"]
    if answer["dispensing_per_day"] is not None:
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        return days, "day", answer["dispensing_per_day"]
    firsts = [months.month_of(start)]
    while (following := months.next_month(firsts[-1])) <= end:
        firsts.append(following)
    return firsts, "month", answer["dispensing_per_month"]


def _point_label(language: Language, key: str, point: date) -> str:
    if key == "month":
        return jalali_month(point, language.code == "fa")
    return _day_label(language, point)


def _province_names(language: Language, written: str | None) -> tuple[str, str]:
    """A site's province as the map's feature name (English) and as shown on the page."""
    known = province(written) if written else None
    if known is None:
        return written or "–", written or "–"
    return known.name, known.name_fa if language.code == "fa" else known.name


def _expiry_until(answer: dict[str, Any] | None) -> date | None:
    if answer is None:
        return None
    near = answer["near_expiry"]
    until: date = near["as_of"] + timedelta(days=near["expiring_within_days"])
    return until


def _day_label(language: Language, day: date) -> str:
    return jalali_date(day) if language.code == "fa" else day.isoformat()


ROUTES = [indicators_page, indicators_csv]
