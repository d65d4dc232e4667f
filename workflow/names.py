"""The one key names are compared by: members, organisations, bodies, criteria, OGP values and
letter file names all match as people see them, not as their bytes happen to be."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from documents.text import BLANK_LETTERS

# Letter forms Persian and Urdu keyboards (and some Arabic ones) produce for the same Arabic
# letter, alef variants without their hamza or madda, and the endings people write either way.
_SAME_LETTER = str.maketrans(
    {
        "ک": "ك", "ڪ": "ك",  # keheh, swash kaf → kaf
        "ی": "ي", "ى": "ي", "ې": "ي", "ۍ": "ي",  # Farsi yeh, alef maksura … → yeh
        "ە": "ه", "ہ": "ه", "ھ": "ه", "ۃ": "ه", "ة": "ه",  # ae, heh goal, heh doachashmee, ta marbuta → heh
        "ٱ": "ا",  # alef wasla → alef
        "ـ": "",  # tatweel (kashida) only stretches a word
    }
)  # fmt: skip


@lru_cache(maxsize=8192)  # a file names the same members, criteria and bodies on every row
def name_key(text: str) -> str:
    """The key two names are compared by: equal keys mean the same name to a reader.

    Ignored: case; runs of white space, and what shows as a blank (the Hangul fillers and the
    braille blank, `documents.text.BLANK_LETTERS`) taken as a space; invisible format characters
    (RLM/LRM, ZWNJ/ZWJ, the BOM, bidi embeddings, overrides and isolates — Unicode category Cf);
    composed or decomposed forms (NFC vs NFD) and compatibility forms (Arabic presentation forms, full-width Latin);
    combining marks (tashkeel, the hamza and madda on alef, waw and yeh, Latin accents); tatweel;
    Persian and Urdu letter forms (ک/ك, ی/ي, ە/ه …), alef maksura and ta marbuta; Arabic-Indic
    and Persian digits (read as 0–9).

    Stored text keeps what was typed; only comparisons go through this key. Issue 9 of the
    project lists the invisible marks and letter forms that made equal names compare unequal.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    kept = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category in ("Mn", "Cf"):
            continue
        if char in BLANK_LETTERS:  # shows as a blank: a space between two words
            char = " "
        if category == "Nd":
            char = str(unicodedata.decimal(char))
        kept.append(char)
    folded = "".join(kept).translate(_SAME_LETTER)
    return " ".join(unicodedata.normalize("NFC", folded).casefold().split())


def same_name(a: str, b: str) -> bool:
    """Whether two names are the same to a reader (their `name_key`s are equal)."""
    return name_key(a) == name_key(b)
