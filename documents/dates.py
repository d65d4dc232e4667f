"""Dates as a Jordanian ministry writes them: Hijri (Umm al-Qura) and Gregorian, in Arabic."""

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
