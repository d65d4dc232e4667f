"""Dates as a Jordanian ministry writes them: Hijri (Umm al-Qura) and Gregorian, Arabic or English."""

from __future__ import annotations

import datetime as dt

from hijridate import Gregorian

# The Gregorian month names used in Jordan (Levantine, Syriac-derived).
GREGORIAN_MONTHS_AR = (
    "كانون الثاني",
    "شباط",
    "آذار",
    "نيسان",
    "أيار",
    "حزيران",
    "تموز",
    "آب",
    "أيلول",
    "تشرين الأول",
    "تشرين الثاني",
    "كانون الأول",
)


def gregorian_ar(day: dt.date) -> str:
    """E.g. «28 تموز 2021م»."""
    return f"{day.day} {GREGORIAN_MONTHS_AR[day.month - 1]} {day.year}م"


def hijri_ar(day: dt.date) -> str:
    """E.g. «18 ذو الحجة 1442هـ» (Umm al-Qura)."""
    hijri = Gregorian(day.year, day.month, day.day).to_hijri()
    return f"{hijri.day} {hijri.month_name('ar')} {hijri.year}هـ"


def gregorian_en(day: dt.date) -> str:
    """E.g. «28 July 2021»."""
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def hijri_en(day: dt.date) -> str:
    """E.g. «18 Dhu al-Hijjah 1442 AH»."""
    hijri = Gregorian(day.year, day.month, day.day).to_hijri()
    return f"{hijri.day} {hijri.month_name('en')} {hijri.year} AH"


def month_ar(month: str) -> str:
    """A YYYY-MM month as «تشرين الأول 2022» (digits after Arabic letters are Arabic numbers to
    the bidi algorithm, so 2022-10 would show as 10-2022 in a sentence); other text as it is."""
    year, _, number = month.partition("-")
    if not (year.isdigit() and number.isdigit() and 1 <= int(number) <= 12):
        return month
    return f"{GREGORIAN_MONTHS_AR[int(number) - 1]} {year}"


def month_en(month: str) -> str:
    """A YYYY-MM month as «October 2022»; other text as it is."""
    year, _, number = month.partition("-")
    if not (year.isdigit() and number.isdigit() and 1 <= int(number) <= 12):
        return month
    return f"{_MONTHS_EN[int(number) - 1]} {year}"


# Not strftime's %B: that follows the machine's locale, and a letter must not.
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
