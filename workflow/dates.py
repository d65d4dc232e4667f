"""Dates and times as Arabic users type them, and the dates a workspace accepts at entry.

Typed: `2021-07-28` or `28/7/2021` (also `28-7-2021`, `28.7.2021`, `2021/07/28`), in Western,
Arabic-Indic (٢٨/٧/٢٠٢١) or Persian (۲۸/۷/۲۰۲۱) digits, with the invisible direction marks a
right-to-left keyboard or a copy from a document leaves in (U+200F …). A time is `HH:MM` after
the day, separated by a space or `T`.

Accepted: only dates letters can be written for — the Umm al-Qura calendar that dates every
letter in Hijri covers 1924-08-01 to 2077-11-16 — and, for each kind of record, a plausible
window (`within`): nothing of an OGP plan is older than the OGP itself, a meeting or interview
is not centuries away, an answer is not older than the proposal it answers; something that has
happened (`happened`: a milestone's move, a progress report, the plan's submission) is neither in
the future nor older than the OGP or the record it belongs to.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from hijridate.ummalqura import GREGORIAN_RANGE

# The Open Government Partnership was launched on 20 September 2011; Jordan joined that year.
OGP_LAUNCH = dt.date(2011, 9, 20)
# The first and last days the Umm al-Qura tables (hijridate) can convert.
FIRST_DAY = dt.date(*GREGORIAN_RANGE[0])
LAST_DAY = dt.date(*GREGORIAN_RANGE[1])
# How far ahead a meeting or an interview may be planned.
PLANNING_HORIZON = dt.timedelta(days=2 * 366)

_ISO = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_SEPARATOR = re.compile(r"[T\s]+")


def plain(text: str) -> str:
    """`text` with every decimal digit written 0–9 and the invisible format characters (RLM,
    LRM, ALM, bidi controls, BOM, zero-width marks) taken out; spaces are kept."""
    if text.isascii():
        return text.strip()  # no format characters, and its only digits are 0–9
    out = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        out.append(str(unicodedata.decimal(char)) if category == "Nd" else char)
    return "".join(out).strip()


def parse_date(text: str) -> dt.date:
    """A date as typed (see the module's docstring); ValueError says what is wrong with it."""
    cleaned = plain(text)
    match = _ISO.fullmatch(cleaned)
    if match:
        year, month, day = (int(part) for part in match.groups())
    else:
        match = _DAY_FIRST.fullmatch(cleaned)
        if not match:
            raise ValueError(f"{text!r} is not a date: use YYYY-MM-DD (or D/M/YYYY)")
        day, month, year = (int(part) for part in match.groups())
    try:
        day_ = dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a real date ({exc})") from exc
    return supported(day_)


def parse_datetime(text: str) -> dt.datetime:
    """A day (any form `parse_date` takes) and a time `HH:MM`, e.g. `2027-01-10 10:00` or
    `10/1/2027 10:00`. A day without a time is refused: it would silently mean midnight."""
    cleaned = plain(text)
    parts = _SEPARATOR.split(cleaned, maxsplit=1) if cleaned else []
    if len(parts) != 2 or not parts[1]:
        raise ValueError(f"{text!r} has no time: use 'YYYY-MM-DD HH:MM' (or 'D/M/YYYY HH:MM')")
    day = parse_date(parts[0])
    match = _TIME.fullmatch(parts[1].strip())
    if not match:
        raise ValueError(f"{text!r}: {parts[1].strip()!r} is not a time: use HH:MM, e.g. 10:00")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59 or int(match.group(3) or 0) > 59:
        raise ValueError(f"{text!r}: {parts[1].strip()!r} is not a time of day (00:00 to 23:59)")
    return dt.datetime(day.year, day.month, day.day, hour, minute)


def supported(day: dt.date) -> dt.date:
    """`day`, if letters can be dated on it (in Hijri and Gregorian); ValueError if not."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(
            f"{day.isoformat()} is outside the supported dates ({FIRST_DAY.isoformat()} to "
            f"{LAST_DAY.isoformat()}, the Umm al-Qura calendar letters are dated in)"
        )
    return day


def within(day: dt.date, earliest: dt.date, latest: dt.date, *, what: str, earliest_is: str, latest_is: str) -> str:
    """Why `day` is not plausible for `what` (e.g. "a meeting"), or "" when it is.

    `earliest_is`/`latest_is` say what the bounds are, for the message ("the proposal's
    submission (2021-06-20)", "today").
    """
    try:
        supported(day)
    except ValueError as exc:
        return str(exc)
    if day < earliest:
        return f"{day.isoformat()} is before {earliest_is}; {what} cannot be earlier"
    if day > latest:
        return f"{day.isoformat()} is after {latest_is}; {what} cannot be later"
    return ""


def happened(day: dt.date, today: dt.date, *, what: str, since: dt.date = OGP_LAUNCH, since_is: str = "") -> str:
    """Why `day` is not plausible for `what`, something that has already happened, or "" when it
    is: not in the future, and (`within`) not before the OGP was launched nor before `since`, the
    record it belongs to (`since_is` says what that is, for the message: "the commitment was made
    (2021-08-22)")."""
    if day > today:
        return f"{day.isoformat()} is in the future"
    if since > OGP_LAUNCH:
        earliest, earliest_is = since, since_is
    else:
        earliest, earliest_is = OGP_LAUNCH, f"the OGP was launched ({OGP_LAUNCH})"
    return within(day, earliest, today, what=what, earliest_is=earliest_is, latest_is=f"today ({today})")
