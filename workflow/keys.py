"""How records are named on the command line and in import files: refs, row numbers, and the
rule that keeps an all-digit ref and a row number from ever being confused.

The rule, for proposals (and the same for meetings and members, which have numbers too):

- `#3` is always the record numbered 3 (its row id, as `list` prints in the ID column);
- a bare `3` is the proposal whose ref is `3` if there is one, and otherwise proposal number 3;
- refs are matched in any case, after the invisible marks a copy and paste leaves are taken out;
- Arabic-Indic and Persian digits count as the digits they are (`#٣` is `#3`).

So `ogp advance 3 reject` never rejects proposal #3 when another proposal's ref is `3`: it
rejects that other one, whose ref it names, and `#3` reaches proposal #3.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.dates import plain

# Row ids are 32-bit integers on PostgreSQL; a number beyond that names no row on either database.
MAX_ROW_ID = 2**31 - 1
# Beyond this a number is not one a command line should carry at all (a usage error).
MAX_NUMBER = 2**63 - 1


@dataclass(frozen=True)
class Key:
    """What a typed key can mean: a ref (or a name) to look up, and a row number to try."""

    text: str  # cleaned: no invisible marks, digits 0–9
    number: int | None  # the row number it can name, if any
    number_only: bool  # `#N`: a row number and nothing else


def parse_key(typed: str) -> Key:
    """Read a key as typed (see the module's docstring); ValueError for `#` without a number,
    or a number too large for any record."""
    text = plain(typed)
    explicit = text.startswith("#")
    digits = text[1:].strip() if explicit else text
    if explicit and not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"{typed!r}: '#' must be followed by a record's number, e.g. #3")
    if not (digits.isascii() and digits.isdigit()):
        return Key(text, None, False)
    value = int(digits)
    if value > MAX_NUMBER:
        raise ValueError(f"{typed!r} is larger than any record's number")
    return Key(text, value if value <= MAX_ROW_ID else None, explicit)
