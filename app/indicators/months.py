"""Jalali months, the unit the indicators roll their daily figures up into (the calendar the
Food and Drug Organization reports in): a month is known by the Gregorian date of its first
day, and a period's whole months are read from the monthly summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import jdatetime


def month_of(day: date) -> date:
    """The first day of `day`'s Jalali month."""
    first: date = jdatetime.date.fromgregorian(date=day).replace(day=1).togregorian()
    return first


def next_month(first: date) -> date:
    """The first day of the Jalali month after the one starting on `first` (29 to 31 days on)."""
    return month_of(first + timedelta(days=32))


@dataclass(frozen=True)
class Split:
    """A period as its whole months [`months_from`, `months_to`) and the days around them:
    [start, months_from) and [months_to, end]. No whole month: both are end + 1 day, and the
    days are the whole period."""

    months_from: date
    months_to: date

    @property
    def whole_months(self) -> bool:
        return self.months_from < self.months_to


def split(start: date, end: date) -> Split:
    first = start if month_of(start) == start else next_month(month_of(start))
    after = month_of(end + timedelta(days=1))  # months before it end on or before `end`
    if first >= after:
        return Split(end + timedelta(days=1), end + timedelta(days=1))
    return Split(first, after)
