"""Rendering the console's pages: the Jinja environment, its filters (dates in the calendar of
the page's language, numbers in its digits, codes left to right) and `page()`, the one way a
handler answers with a page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template import TemplateConfig
from markupsafe import Markup, escape

from app.web.i18n import PERSIAN, Language, language_of
from app.web.provinces import province
from app.web.vocabulary import term

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
TEHRAN = ZoneInfo("Asia/Tehran")
_PERSIAN_MONTHS = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)  # fmt: skip


def page(
    request: Request[Any, Any, Any],
    template: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """The page `template` in the caller's language, with the signed-in person (if any)."""
    language = language_of(request)
    principal = request.scope.get("user")
    return Template(
        template_name=template,
        context={"lang": language, "principal": principal, **context},
        status_code=status_code,
    )


@pass_context
def _gettext(context: Context, message: str, **variables: Any) -> str:
    text = _language(context).gettext(message)
    return text % variables if variables else text


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int, **variables: Any) -> str:
    text = _language(context).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def _language(context: Context) -> Language:
    language: Language = context["lang"]
    return language


@pass_context
def _term(context: Context, code: object, kind: str) -> str:
    """`{{ pack.status | term("status") }}`: the code in words, in the page's language."""
    return _language(context).gettext(term(kind, code))


@pass_context
def _translated(context: Context, message: str) -> str:
    """A message that came from elsewhere (a service's problem), translated as it is: unlike
    `_()`, never %-formatted, so a literal % in it is kept."""
    return _language(context).gettext(message)


@pass_context
def _province(context: Context, name: str | None) -> str:
    """A facility's province by its name in the page's language (as written when unknown)."""
    found = province(name) if name else None
    if found is None:
        return name or "–"
    return found.name_fa if _language(context).code == "fa" else found.name


@pass_context
def _number(context: Context, value: int | float | None) -> str:
    if value is None:
        return "–"
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
    language = _language(context)
    if language.code == "fa":
        text = text.replace(",", "٬").replace(".", "٫")
    return language.digits(text)


@pass_context
def _percent(context: Context, part: int, whole: int) -> str:
    share = 100.0 * part / whole if whole else 0.0
    language = _language(context)
    return language.digits(f"{share:.1f}".replace(".", "٫" if language.code == "fa" else ".")) + (
        "٪" if language.code == "fa" else "%"
    )


def local_time(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(TEHRAN)


def jalali_date(day: date) -> str:
    """`۱۴ آذر ۱۴۰۵`: the Persian calendar's day, month name and year, in Persian digits."""
    j = jdatetime.date.fromgregorian(date=day)
    return PERSIAN.digits(f"{j.day} {_PERSIAN_MONTHS[j.month - 1]} {j.year}")


def jalali_month(first: date, persian: bool) -> str:
    """`آذر ۱۴۰۵` (Azar 1405 in English): the Jalali month starting on `first`."""
    j = jdatetime.date.fromgregorian(date=first)
    if persian:
        return PERSIAN.digits(f"{_PERSIAN_MONTHS[j.month - 1]} {j.year}")
    return f"{jdatetime.date.j_months_en[j.month - 1]} {j.year}"


@pass_context
def _when(context: Context, moment: datetime | None) -> Markup:
    """A moment in Tehran time: Jalali on Persian pages, with the Gregorian date on hover."""
    if moment is None:
        return Markup("–")
    local = local_time(moment)
    gregorian = local.strftime("%Y-%m-%d %H:%M")
    language = _language(context)
    if language.code == "fa":
        shown = f"{jalali_date(local.date())}، {language.digits(local.strftime('%H:%M'))}"
        return Markup('<time datetime="{}" title="{}">{}</time>').format(
            local.isoformat(), gregorian, shown
        )
    return Markup('<time datetime="{}">{}</time>').format(local.isoformat(), gregorian)


@pass_context
def _day(context: Context, day: date | None) -> Markup:
    if day is None:
        return Markup("–")
    if _language(context).code == "fa":
        return Markup('<time datetime="{}" title="{}">{}</time>').format(
            day.isoformat(), day.isoformat(), jalali_date(day)
        )
    return Markup('<time datetime="{0}">{0}</time>').format(day.isoformat())


def _code(value: object) -> Markup:
    """Machine codes (GTINs, serials, GLNs, element strings) stay left to right, in Latin
    digits and a monospace font, even inside a Persian sentence."""
    return Markup('<bdi class="code" dir="ltr">{}</bdi>').format(escape(str(value)))


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        number=_number, percent=_percent, when=_when, day=_day, code=_code, term=_term,
        province=_province,
        translated=_translated,
    )  # fmt: skip
    return env


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(
        engine=JinjaTemplateEngine.from_environment(environment()),
    )
