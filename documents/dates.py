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


# Not strftime's %B: that follows the machine's locale, and a letter must not.
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
