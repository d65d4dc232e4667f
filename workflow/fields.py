"""Free text as it is entered: cleaned of invisible controls, held to a length limit, checked the
same way on SQLite (which stores any length) and PostgreSQL (which refuses what its column cannot
hold), so a value accepted on one can always be copied to the other."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from sqlalchemy import String

from documents import clean_block, one_line
from documents.text import BLANK_LETTERS, INVISIBLE
from workflow.errors import InvalidInputError

if TYPE_CHECKING:
    from sqlalchemy.orm import InstrumentedAttribute

# Names, titles, organisations, addressees, platforms: one line.
SHORT = 500
# Reasons, notes, a meeting's topics and outcomes: one line, a paragraph at most.
REASON = 2_000
# A proposer's problem and solution, interview answers: several paragraphs.
LONG = 20_000
# Who acted, as the audit trail records it.
ACTOR = 200


def column_limit(column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None], default: int = SHORT) -> int:
    """The length a model's String(N) column holds (PostgreSQL enforces it), else `default`."""
    kind = column.property.columns[0].type
    return int(kind.length) if isinstance(kind, String) and kind.length else default


def too_long(text: str, limit: int) -> str:
    """The problem with `text` if it is longer than `limit` characters, else ""."""
    return f"is {len(text)} characters long; at most {limit} are allowed" if len(text) > limit else ""


def line(value: str, record: str, field: str, *, limit: int = SHORT) -> str:
    """One line of text as stored (see `documents.one_line`); InvalidInputError naming the record
    and the field if it is longer than `limit`."""
    cleaned = one_line(value)
    problem = too_long(cleaned, limit)
    if problem:
        raise InvalidInputError(record, field, problem)
    return cleaned


def block(value: str, record: str, field: str, *, limit: int = LONG) -> str:
    """Multi-line text as stored (see `documents.clean_block`), held to `limit` like `line`."""
    cleaned = clean_block(value)
    problem = too_long(cleaned, limit)
    if problem:
        raise InvalidInputError(record, field, problem)
    return cleaned


def actor_problem(name: str) -> str:
    """Why `name` cannot stand in the audit trail as who acted, or "" if it can.

    Refused: control characters (an escape sequence would run in the terminal of whoever reads
    the history), text that was not valid UTF-8 (Python keeps its bytes as lone surrogates),
    invisible format characters other than the joiners Persian spelling needs, and names longer
    than `ACTOR`.
    """
    for position, char in enumerate(name, start=1):
        category = unicodedata.category(char)
        if category == "Cs":
            return "is not valid UTF-8 text"
        if (
            category in ("Cc", "Co", "Cn")
            or (category == "Cf" and char not in "\u200c\u200d")
            or INVISIBLE.fullmatch(char)
            or char in BLANK_LETTERS  # a Hangul filler, the braille blank: shows as a blank
        ):
            return f"has an invisible or control character (U+{ord(char):04X}) at position {position}"
    return too_long(name, ACTOR)
