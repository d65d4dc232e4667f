"""Tables written for spreadsheets and programs: CSV (UTF-8 with the BOM Excel wants), .xlsx
(openpyxl: a right-to-left sheet with its header frozen) and JSON, from plain rows.

A cell a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage
return) is written as text: in CSV with a leading `'`, in .xlsx as a string cell.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from documents.text import FORMULA_STARTS, neutralise

FORMATS = ("csv", "xlsx", "json")
Rows = Sequence[Mapping[str, Any]]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(str(item) for item in value)
    return str(value)


def to_csv(columns: Sequence[str], rows: Rows) -> bytes:
    """The rows as CSV, in `columns`' order, every formula-looking cell neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralise(_cell(row.get(column))) for column in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_json(columns: Sequence[str], rows: Rows) -> bytes:
    """The rows as a JSON array of objects with exactly `columns` as keys, in that order."""
    records = [{column: row.get(column) for column in columns} for row in rows]
    return (json.dumps(records, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def to_xlsx(columns: Sequence[str], rows: Rows, *, title: str, right_to_left: bool = True) -> bytes:
    """The rows as an .xlsx workbook of one sheet named `title`: right to left (for Arabic), the
    header row bold and frozen, columns wide enough to read, text never taken for a formula."""
    from openpyxl import Workbook  # only exports need it: not loaded for any other command
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.sheet_view.rightToLeft = right_to_left
    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        values = []
        for column in columns:
            value = row.get(column)
            values.append(value if isinstance(value, int | float) and not isinstance(value, bool) else _cell(value))
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                cell.data_type = "s"  # shown as the text it is, never run
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        widest = max([len(str(column)), *(len(_cell(row.get(column))) for row in rows[:200])])
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(60, max(8, widest + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_table(columns: Sequence[str], rows: Rows, fmt: str, *, title: str) -> bytes:
    """The rows in `fmt` (one of `FORMATS`). Raises ValueError for another format."""
    if fmt == "csv":
        return to_csv(columns, rows)
    if fmt == "json":
        return to_json(columns, rows)
    if fmt == "xlsx":
        return to_xlsx(columns, rows, title=title)
    raise ValueError(f"unknown format {fmt!r} (use one of {', '.join(FORMATS)})")
