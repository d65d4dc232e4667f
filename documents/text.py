"""Text hygiene for what goes into a document or a file name."""

from __future__ import annotations

import functools
import re
import unicodedata

# The languages letters, minutes and the site are written in, and the digits letters use.
LANGUAGES = ("ar", "en")
DIGITS = ("western", "arabic-indic")

# XML 1.0 allows tab, newline and carriage return among the C0 controls, and no lone surrogates
# or U+FFFE/U+FFFF; python-docx raises on any of them, so they are dropped before rendering.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Characters that show nothing but change what the reader sees or what a terminal does: DEL and
# the C1 controls (U+009B starts an escape sequence in many terminals), the bidi marks, embeddings,
# overrides and isolates (they reorder text: a title could display as something it is not), the
# byte-order mark and zero-width space, the invisible operators and tags. Zero-width (non-)joiners
# stay: Persian spelling needs them.
INVISIBLE = re.compile(
    "[\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)
# Characters that show as a blank but are letters or symbols, not white space, to Python and to a
# database: the Hangul fillers and the braille blank. Typed between two words they read as a space,
# so they are stored (`clean_text`) and compared (`workflow.names.name_key`) as one.
BLANK_LETTERS = "\u115f\u1160\u3164\uffa0\u2800"
# Stored as what they show: the blank letters as a space; vertical tab, form feed and NEL (next
# line) as a line break (XML forbids the first two, and NEL is a C1 control).
_AS_SHOWN = str.maketrans({**{char: " " for char in BLANK_LETTERS}, "\x0b": "\n", "\x0c": "\n", "\x85": "\n"})
# Characters no file system should see in a name, plus the bidi controls that could make a file
# name display as something it is not.
_FILENAME_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\u200e\u200f\u202a-\u202e\u2066-\u2069]')


# Anything shaped like an e-mail address, as people type them (also with a space around the @).
_EMAIL = re.compile(r"[\w.+%-]+\s?@\s?[\w-]+(?:\.[\w-]+)+", re.UNICODE)


def without_emails(text: str, replacement: str = "[…]") -> str:
    """`text` with every e-mail address replaced: a published page names no one's mailbox."""
    return _EMAIL.sub(replacement, text)


def xml_safe(text: str) -> str:
    """`text` without the characters XML forbids."""
    return _XML_FORBIDDEN.sub("", text)


def clean_text(text: str) -> str:
    """`text` as it is stored: what was typed, minus what XML forbids and the invisible controls
    (see `INVISIBLE`), with what shows as a blank or a line break stored as one (`BLANK_LETTERS`,
    vertical tab, form feed, NEL); line breaks are kept."""
    return INVISIBLE.sub("", xml_safe(text.translate(_AS_SHOWN)))


def clean_block(text: str) -> str:
    """Multi-line text as it is stored: `clean_text`, without white space at either end."""
    return clean_text(text).strip()


@functools.lru_cache(maxsize=4096)
def one_line(text: str) -> str:
    """`text` cleaned (see `clean_text`), with runs of white space (newlines too) folded to one space.

    Kept for the texts seen last: a batch of letters passes the same names, titles and dates
    through here thousands of times (32 texts a letter)."""
    return " ".join(clean_text(text).split())


def safe_filename(stem: str, suffix: str, max_length: int = 120) -> str:
    """A portable file name from `stem` (Arabic is kept), ending in `suffix`.

    A name too long for a file system is shortened in `stem`, never in `suffix`: put what makes
    the name unique (a letter's year and number) in the suffix.
    """
    cleaned = _FILENAME_FORBIDDEN.sub("_", unicodedata.normalize("NFC", stem))
    # Spaces become hyphens: a name a coordinator can type in a shell without quotes.
    cleaned = "-".join(cleaned.split()).strip("-.") or "letter"
    # Stay well under the 255-byte limit most file systems put on a name (Arabic is 2 bytes).
    while len((cleaned + suffix).encode("utf-8")) > max_length * 2 and cleaned:
        cleaned = cleaned[:-1]
    return cleaned.rstrip("-.") + suffix


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet will show as text, never run: formula-looking text gets a leading '."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell
