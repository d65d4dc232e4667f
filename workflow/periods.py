"""Months (YYYY-MM) and half-years (H1-2026) as a plan counts them, and calendar arithmetic on them."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
HALF_PATTERN = re.compile(r"^H([12])-(\d{4})$", re.IGNORECASE)


def parse_month(text: str) -> str:
    """A month as YYYY-MM (e.g. 2022-05); ValueError naming what is wrong otherwise."""
    cleaned = text.strip()
    match = MONTH_PATTERN.match(cleaned)
    if not match or not 1 <= int(match.group(2)) <= 12 or not 1900 <= int(match.group(1)) <= 2999:
        raise ValueError(f"{text!r} is not a month: use YYYY-MM, e.g. 2022-05")
    return cleaned


def month_of(day: dt.date) -> str:
    """The month a day falls in, as YYYY-MM."""
    return f"{day.year:04d}-{day.month:02d}"


def first_day(month: str) -> dt.date:
    """The first day of a YYYY-MM month."""
    year, number = (int(part) for part in month.split("-"))
    return dt.date(year, number, 1)


def last_day(month: str) -> dt.date:
    """The last day of a YYYY-MM month."""
    year, number = (int(part) for part in month.split("-"))
    return dt.date(year, number, calendar.monthrange(year, number)[1])


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by whole calendar months; a day the target month lacks becomes its last day
    (31 August + 6 months is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True, order=True)
class HalfYear:
    """A half of a calendar year, the period progress is reported on: H1 (January–June) or H2."""

    year: int
    half: int

    @classmethod
    def parse(cls, text: str) -> HalfYear:
        """`H1-2026` or `H2-2026` (any case); ValueError otherwise."""
        match = HALF_PATTERN.match(text.strip())
        if not match or not 1900 <= int(match.group(2)) <= 2999:
            raise ValueError(f"{text!r} is not a half-year: use H1-YYYY (January–June) or H2-YYYY (July–December)")
        return cls(int(match.group(2)), int(match.group(1)))

    @classmethod
    def of(cls, day: dt.date) -> HalfYear:
        """The half-year `day` falls in."""
        return cls(day.year, 1 if day.month <= 6 else 2)

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, 6, 30) if self.half == 1 else dt.date(self.year, 12, 31)

    @property
    def first_month(self) -> str:
        return month_of(self.start)

    @property
    def last_month(self) -> str:
        return month_of(self.end)

    def previous(self) -> HalfYear:
        return HalfYear(self.year - 1, 2) if self.half == 1 else HalfYear(self.year, 1)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return f"H{self.half}-{self.year}"
