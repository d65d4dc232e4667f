"""Reading the rows of an import file as spreadsheets really write them, the same way for every
importer: CSV from Excel (comma, semicolon or tab between cells, UTF-8 with or without a BOM,
UTF-16, blank columns at the end of the header) or a JSON array of objects.

Every problem of form is reported with where it is (line and column, by name or by number), and
a file in an encoding that cannot be read says which encoding it looks like and how to save it.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from documents import one_line
from documents.text import FORMULA_STARTS
from workflow.errors import ImportFileError, InputFileError, RowProblem
from workflow.inputs import read_input

MAX_FILE_BYTES = 50 * 1024 * 1024
# Excel's delimiter follows the computer's list separator: ';' where ',' is the decimal comma,
# tab for "Unicode Text" (UTF-16).
DELIMITERS = (",", ";", "\t")
# People typing Arabic reach for the Arabic semicolon as often as the Latin one.
LIST_SEPARATOR = re.compile("[;؛]")
SAVE_AS_UTF8 = "in Excel choose File › Save As › 'CSV UTF-8 (Comma delimited)'"

Row = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class TableSpec:
    """The columns an import file may have, which it must have, which hold lists, and which hold
    yes or no (in JSON also `true`/`false` or 1/0, read as the text "true", "false", "1", "0")."""

    columns: tuple[str, ...]
    required: tuple[str, ...]
    lists: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    # Columns read past: a file written for another purpose (an export) may carry them as it is.
    ignored: tuple[str, ...] = ()


def restore(cell: str) -> str:
    """Undo the leading ' an export puts before formula-looking text (see `documents.text.neutralise`)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def read_rows(path: Path, spec: TableSpec) -> tuple[list[Row], list[RowProblem]]:
    """The file's rows as dicts of the known columns, and every problem of form found on the way."""
    problems: list[RowProblem] = []
    rows = list(iter_rows(path, spec, problems))
    return rows, problems


def iter_rows(path: Path, spec: TableSpec, problems: list[RowProblem]) -> Iterator[Row]:
    """The file's rows one at a time, as `read_rows` gives them, for an importer that need not hold
    them all (a score file of 250,000 rows); every problem of form is appended to `problems` as it
    is found: the file's own (encoding, header) before the first row, a blank header column's at
    the end. The problems are whole once the rows are exhausted."""
    try:
        data = read_input(path, limit=MAX_FILE_BYTES)
    except InputFileError as exc:
        problems.append(RowProblem("file", "", exc.problem))
        return iter(())
    text, problem = decode(data)
    del data
    if problem is not None:
        problems.append(problem)
        return iter(())
    if path.suffix.lower() == ".json" or (path.suffix.lower() != ".csv" and text.lstrip()[:1] in "[{"):
        rows, found = _json_rows(text, spec)
        problems.extend(found)
        return iter(rows)
    return _csv_rows(text, spec, problems)


def decode(data: bytes) -> tuple[str, RowProblem | None]:
    """The file's text: UTF-8 (with or without a BOM) or UTF-16 (with a BOM, or plainly so);
    else a problem naming the encoding it looks like and how to save the file as UTF-8."""
    if data.startswith(b"PK\x03\x04"):
        workbook = "is an Excel workbook (.xlsx) or another zip file, not CSV or JSON"
        return "", RowProblem("file", "", f"{workbook}; {SAVE_AS_UTF8}")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "", RowProblem("file", "", f"is an old Excel workbook (.xls), not CSV or JSON; {SAVE_AS_UTF8}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            return "", RowProblem("file", "", f"starts like UTF-16 but is not valid UTF-16; {SAVE_AS_UTF8}")
    for order in ("utf-16-le", "utf-16-be"):  # NUL is valid UTF-8: look for UTF-16 first
        if _looks_like_utf16(data, order):
            try:
                return data.decode(order), None
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        bad = exc
    line = data[: bad.start].count(b"\n") + 1
    where = f"byte 0x{data[bad.start]:02x} at offset {bad.start}"
    if _mostly_utf8(data) or _arabic_share(data) < 0.5:
        reason = f"not UTF-8 ({where}); save the file as 'CSV UTF-8' or UTF-8 JSON"
    else:
        reason = f"not UTF-8 ({where}): it looks like Windows-1256 (Arabic Windows) text; {SAVE_AS_UTF8}"
    return "", RowProblem(f"line {line}", "", reason)


# The high bytes of the characters a CSV file of Arabic and English text is made of, in UTF-16:
# ASCII (the header, delimiters, line ends, spaces, digits, Latin text), Arabic (U+06xx), the
# direction marks and punctuation (U+20xx), Arabic presentation forms (U+FBxx-U+FExx).
_UTF16_HIGH_BYTES = (0x00, 0x06, 0x20, 0xFB, 0xFC, 0xFD, 0xFE)


def _looks_like_utf16(data: bytes, order: str) -> bool:
    # UTF-16 without a BOM: nearly all its high bytes are those above, some of them zero (the
    # delimiters and line ends at least), while its low bytes are almost never zero. UTF-8 text
    # has no NUL, and its Arabic letters' bytes (0xD8-0xDB, 0x80-0xBF) are none of those high bytes.
    if len(data) < 4 or len(data) % 2:
        return False
    high, low = (data[1::2], data[0::2]) if order == "utf-16-le" else (data[0::2], data[1::2])
    usual = sum(high.count(byte) for byte in _UTF16_HIGH_BYTES)
    return usual >= 0.9 * len(high) and high.count(0) > 0 and low.count(0) <= 0.01 * len(low)


def _mostly_utf8(data: bytes) -> bool:
    """Whether the bytes hold more valid UTF-8 sequences beyond ASCII than invalid bytes."""
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    return sum(1 for char in text if ord(char) > 127) - invalid >= invalid


def _arabic_share(data: bytes) -> float:
    """The share of Arabic letters among the non-ASCII characters, read as Windows-1256."""
    text = data.decode("cp1256", errors="replace")
    wide = [char for char in text if ord(char) > 127]
    return sum(1 for char in wide if "\u0600" <= char <= "\u06ff") / len(wide) if wide else 0.0


def _delimiter(first: str) -> tuple[str, bool]:
    """The delimiter the header line uses: Excel's `sep=` line if there is one (then True: skip
    it), else the one that splits the header into the most non-empty cells."""
    first = first.rstrip("\r\n")
    if first.lower().startswith("sep=") and len(first) == 5:
        return first[4], True
    counts = {d: sum(1 for cell in first.split(d) if cell.strip()) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties go to the comma, listed first
    return best, False


def _csv_rows(text: str, spec: TableSpec, problems: list[RowProblem]) -> Iterator[Row]:
    first = text[: text.find("\n")] if "\n" in text else text
    delimiter, skip = _delimiter(first)
    offset = 1 if skip else 0
    start_at = len(first) + 1 if skip else 0
    reader = csv.reader(_lines(text, start_at), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        problems.append(RowProblem(f"line {1 + offset}", "", "the file is empty"))
        return
    except csv.Error as exc:
        problems.append(RowProblem(f"line {1 + offset}", "", f"not readable as CSV: {exc}"))
        return
    header_line = f"line {1 + offset}"
    if reader.line_num > 1:  # the header ran over several lines: a quote in it left open
        problems.append(_open_over(1 + offset, reader.line_num + offset))
        return
    names = [one_line(cell).lower() for cell in header]
    found = _header_problems(names, header_line, spec)
    if found:  # rows read against a wrong header would only repeat its problems
        problems.extend(found)
        return
    columns = [(index, name, name in spec.lists) for index, name in enumerate(names, start=1)]
    blank_used: dict[int, str] = {}
    # (first line, last line, rows read into a cell) of each record with a line break in a cell
    spans: list[Span] = []
    for start, cells, error in _records(reader, offset):
        where = f"line {start}"
        if error:
            hint = (
                " (unless a cell is meant to be that long, a quote opened in it and never closed has read the "
                "lines after it into it)"
                if "field limit" in error and '"' in text
                else ""
            )
            problems.append(RowProblem(where, "", f"not readable as CSV: {error}{hint}"))
            break
        if reader.line_num + offset > start:  # the record ran over several lines: a cell holds a line break
            spans.append(Span(start, reader.line_num + offset, _holds_rows(cells, delimiter, len(names))))
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(names):
            problems.append(RowProblem(where, "", f"has {len(cells)} cells but the header names {len(names)} columns"))
            continue
        row: dict[str, Any] = {}
        for (index, name, listed), cell in zip(columns, cells, strict=False):
            if name in spec.ignored:
                continue
            if not name:
                if cell.strip():
                    blank_used.setdefault(index, where)
                continue
            cell = restore(cell)
            if listed:
                row[name] = [item.strip() for item in LIST_SEPARATOR.split(cell) if item.strip()]
            else:
                row[name] = cell
        yield where, row
    if '"' in text:
        unclosed = _unclosed_quote(text, start_at, delimiter, offset, spans)
        if unclosed is not None:
            problems.append(unclosed)
    for index, where in sorted(blank_used.items()):
        problems.append(
            RowProblem(
                header_line,
                "",
                f"has no name in the header, but {where} has a value in it; name the column or delete it",
                position=index,
            )
        )


class Span(NamedTuple):
    """A record read over several lines (a cell holds a line break), and whether a line of that
    cell reads as a whole row of the file (`rows`): the mark of a quote left open, which read the
    rows after it into the cell until some later quote closed it."""

    first: int
    last: int
    rows: bool


def _holds_rows(cells: list[str], delimiter: str, columns: int) -> bool:
    """Whether a line after the first of some cell splits on `delimiter` into exactly `columns`
    cells, as a row of the file does (a paragraph with a line break rarely has exactly as many
    delimiters as the header). One column: a line break alone cannot tell."""
    return columns > 1 and any(
        line.count(delimiter) == columns - 1 for cell in cells for line in _LINE_BREAK.split(cell)[1:]
    )


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _open_over(first: int, last: int) -> RowProblem:
    return RowProblem(
        f"line {first}",
        "",
        f"a quoted cell opened on this line is not closed where its row ends: lines {first}–{last} were "
        'read as one cell, rows and all; close it with " (or remove the opening one)',
    )


def _unclosed_quote(text: str, start_at: int, delimiter: str, offset: int, spans: list[Span]) -> RowProblem | None:
    """The problem of a quoted cell not closed where it should be, or None. The csv module (as
    Excel) reads on without a word: rows and all into that one cell, to the end of the file or to
    the next quote (a record spanning lines, `spans`), or the rest of the line into it; or a quote
    closed too early («"the 5" screen"») and what follows. A file with a quote is therefore read
    again as strict CSV, which refuses a quote left open at the end or closed and followed by more
    text. Where it stumbles inside a record spanning lines, that record is named if the end of
    the file is reached or rows were read into its cell (an open quote); else the line it stumbles
    on (a quote closed early, or one open on the last line). A quote the strict reading accepts but
    that read whole rows into a cell (closed by a later stray quote) is named too. A stray quote
    inside a cell that is not quoted (5" screen) is fine, as are the quotes Excel writes; an error
    that is not about quotes (a cell over the csv module's size limit) is left to the reading that
    met it."""
    strict = csv.reader(_lines(text, start_at), delimiter=delimiter, strict=True)
    try:
        for _ in strict:
            pass
    except csv.Error as exc:
        stumbled, problem = strict.line_num + offset, str(exc)
        at_end, closed_early = "end of data" in problem, "expected after" in problem
        if not (at_end or closed_early):
            return None
        inside = next((span for span in spans if span.first <= stumbled <= span.last), None)
        if inside is not None and (at_end or inside.rows):
            return _open_over(inside.first, inside.last)
        if at_end:  # the last line, open to the end of the file
            return RowProblem(
                f"line {stumbled}",
                "",
                "a quoted cell opened on this line is never closed: the rest of the line was read as one cell; "
                'close it with " (or remove the opening one)',
            )
        return RowProblem(
            f"line {stumbled}",
            "",
            'a quoted cell on this line is closed before its end and followed by more text (as in «"the 5" '
            'screen"»); quote the whole cell and double every quote inside it («"the 5"" screen"»)',
        )
    swallowed = next((span for span in spans if span.rows), None)
    return _open_over(swallowed.first, swallowed.last) if swallowed is not None else None


# A line as io.StringIO(newline="") gives it to the csv module: ended by \r\n, \r or \n, kept.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _lines(text: str, start: int) -> Iterator[str]:
    """The lines of `text` from `start`, without the copy of the text a StringIO makes (4 bytes a
    character: 45 MB for a 250,000-row score file)."""
    return (match.group() for match in _LINE.finditer(text, start))


def _records(reader: Any, offset: int) -> Iterator[tuple[int, list[str], str]]:
    """(first line number, cells, error) for each record; a record may span several lines."""
    while True:
        start = reader.line_num + 1 + offset
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, [], str(exc)
            return
        yield start, cells, ""


def _header_problems(names: list[str], where: str, spec: TableSpec) -> list[RowProblem]:
    problems = []
    known = ", ".join(spec.columns) + ("; an export's other columns are read past" if spec.ignored else "")
    for name in names:
        if name and name not in spec.columns and name not in spec.ignored:
            problems.append(RowProblem(where, name, f"unknown column (known: {known})"))
    first_at: dict[str, int] = {}
    for index, name in enumerate(names, start=1):
        if not name:
            continue
        if name in first_at:
            problems.append(
                RowProblem(where, name, f"the column appears more than once (also column {first_at[name]})", index)
            )
        first_at.setdefault(name, index)
    for name in spec.required:
        if name not in names:
            problems.append(RowProblem(where, name, "required column is missing"))
    if not any(names):
        problems.append(RowProblem(where, "", f"the header names no columns (known: {known})"))
    return problems


def refusal(
    path: Path, problems: list[RowProblem], read: int, spec: TableSpec, *, nothing: str = "nothing was imported"
) -> ImportFileError:
    """The refusal of a file, as every importer gives it, whose first `read` problems are what
    `read_rows` found: every problem, top to bottom; in each row in the order of the file's columns
    (a column the spec does not know first, the row as a whole last). A cell that could not be read
    (a JSON list for a title, a key given twice) is named once, by that, not again as missing."""
    unreadable = {(problem.where, problem.column) for problem in problems[:read] if problem.column}
    kept: list[tuple[int, int, RowProblem]] = []
    order = {name: place for place, name in enumerate(spec.columns)}
    for number, problem in enumerate(problems):
        if number >= read and (problem.where, problem.column) in unreadable:
            continue
        column = order.get(problem.column, -1) if problem.column else len(order)
        kept.append((position(problem), column, problem))
    kept.sort(key=lambda item: item[:2])
    return ImportFileError(str(path), [problem for _, _, problem in kept], nothing=nothing)


def position(problem: RowProblem) -> int:
    """Where a problem stands in the file ("line 3", "item 3" → 3; the file as a whole → 0)."""
    number = problem.where.rsplit(" ", 1)[-1]
    return int(number) if number.isascii() and number.isdigit() else 0


class _JsonObject(dict[str, Any]):
    """A JSON object as read, with the keys it gave more than once (JSON says nothing of which one
    counts, so a row that repeats a key is refused, naming the item and the key)."""

    repeated: list[str]


def _keep_repeated_keys(pairs: list[tuple[str, Any]]) -> _JsonObject:
    result = _JsonObject()
    result.repeated = []
    for key, value in pairs:
        if key in result and key not in result.repeated:
            result.repeated.append(key)
        result[key] = value
    return result


class _Digits(str):
    """A JSON integer too long to be a number anyone means (Python refuses to read one of over
    4,300 digits): kept as its digits, and refused as a number is, by the column's own check."""


def _integer(digits: str) -> int | _Digits:
    return int(digits) if len(digits) <= 30 else _Digits(digits)


def _json_kind(value: Any) -> str:
    """How a message names a JSON value's kind."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float | _Digits):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def _whole(value: Any) -> str | None:
    """A JSON number that is a whole number (4, 4.0, or a long run of digits), as text; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | _Digits):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def _json_rows(text: str, spec: TableSpec) -> tuple[list[Row], list[RowProblem]]:
    try:
        document = json.loads(text, object_pairs_hook=_keep_repeated_keys, parse_int=_integer)
    except json.JSONDecodeError as exc:
        return [], [RowProblem(f"line {exc.lineno}", "", f"not valid JSON: {exc.msg} (character {exc.colno})")]
    except (ValueError, RecursionError) as exc:
        return [], [RowProblem("file", "", f"not acceptable JSON: {exc}")]
    if not isinstance(document, list):
        return [], [RowProblem("file", "", "must be a JSON array of objects, one a row")]
    rows: list[Row] = []
    problems: list[RowProblem] = []
    for index, item in enumerate(document, start=1):
        where = f"item {index}"
        if not isinstance(item, dict):
            problems.append(RowProblem(where, "", "must be a JSON object"))
            continue
        repeated = getattr(item, "repeated", [])
        problems.extend(RowProblem(where, key, "is given twice in this item (keys must be unique)") for key in repeated)
        row: dict[str, Any] = {}
        for key, value in item.items():
            if key in repeated or key in spec.ignored:
                continue
            if key not in spec.columns:
                problems.append(RowProblem(where, key, f"unknown key (known: {', '.join(spec.columns)})"))
            elif value is None:
                continue  # null is an empty cell, as in a spreadsheet
            elif key in spec.lists:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    problems.append(RowProblem(where, key, "must be an array of strings"))
                else:
                    row[key] = value
            elif isinstance(value, bool) and key in spec.flags:
                row[key] = str(value).lower()
            elif key in spec.flags and _whole(value) is not None:
                row[key] = _whole(value)  # 1 or 0
            elif key == "value" and _whole(value) is not None:
                row[key] = _whole(value)  # a score may be a JSON number
            elif not isinstance(value, str) or isinstance(value, _Digits):
                problems.append(RowProblem(where, key, f"must be a string, not {_json_kind(value)}"))
            else:
                row[key] = value
        rows.append((where, row))
    return rows, problems
