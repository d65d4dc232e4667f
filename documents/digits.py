"""Arabic-Indic digits (٠١٢٣٤٥٦٧٨٩) in Arabic prose, and only there.

A number takes the direction of the text it stands in, as the Unicode bidirectional algorithm
reads it (rule W7): digits after an Arabic letter are part of Arabic prose and are written
Arabic-Indic; digits after a Latin letter belong to Latin text and keep their Western form. And a
word that is a web address, an e-mail address or a code made of Latin letters and digits
(`P-001`, `HX-12`, `https://…/12`, `a1@example.org`) keeps its digits whatever stands before it:
it must be typed back exactly as printed.
"""

from __future__ import annotations

import re
import unicodedata

from documents.text import INVISIBLE

_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_WESTERN = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def western_digits(text: str) -> str:
    """`text` with Arabic-Indic and Persian digits as Western ones (as users type a period or a
    letter's reference); everything else unchanged."""
    return text.translate(_WESTERN)


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
MAX_DIGITS = 30


def whole_number(text: str) -> int:
    """A whole number as people type one, on the command line or in a spreadsheet's cell: digits
    (Western, Arabic-Indic or Persian), an optional sign, spaces and the invisible direction marks
    a right-to-left keyboard leaves (`documents.text.INVISIBLE`) around them. Raises ValueError for
    anything else, among it what Python's int() would also take (`0_4`, `1_000`), so that no
    text is ever read as another number, and for more than `MAX_DIGITS` digits; its message
    completes a sentence that begins with the text ("'x' is not a whole number")."""
    plain = western_digits(INVISIBLE.sub("", text)).strip()
    if not _WHOLE_NUMBER.fullmatch(plain):
        raise ValueError("is not a whole number")
    if len(plain) > MAX_DIGITS:  # Python refuses to read one of over 4,300 digits; no count needs 30
        raise ValueError(f"has {len(plain.lstrip('+-'))} digits, far outside any range")
    return int(plain)
_WORD = re.compile(r"\S+")
_LATIN = re.compile(r"[A-Za-z@]|://|www\.", re.IGNORECASE)


def _strong(char: str) -> str:
    """'R' for a right-to-left letter, 'L' for a left-to-right one, '' for anything else."""
    direction = unicodedata.bidirectional(char)
    if direction in ("R", "AL"):
        return "R"
    return "L" if direction == "L" else ""


def arabic_indic_prose(text: str, *, arabic_paragraph: bool = True) -> str:
    """`text` with the digits of its Arabic prose written Arabic-Indic (see the module's docstring).

    Digits before any letter follow the paragraph: Arabic-Indic in an Arabic paragraph
    (`arabic_paragraph`), Western otherwise.
    """
    out: list[str] = []
    last = "R" if arabic_paragraph else "L"
    position = 0
    for match in _WORD.finditer(text):
        out.append(text[position : match.start()])
        position = match.end()
        word = match.group()
        keep = bool(_LATIN.search(word))  # an address, an e-mail, a code: kept as typed
        for char in word:
            if not keep and char.isascii() and char.isdigit() and last == "R":
                out.append(char.translate(_ARABIC_INDIC))
            else:
                out.append(char)
                last = _strong(char) or last
    out.append(text[position:])
    return "".join(out)
