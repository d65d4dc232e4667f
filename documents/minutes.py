"""Meeting minutes as an Arabic, right-to-left .docx, in the seed's own structure.

Title; then a two-column table read from the right: the date, the place, who attended, who sent
apologies, the topics discussed (أولاً، ثانياً …) and the outcomes.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from docx import Document
from docx.enum.table import WD_TABLE_DIRECTION
from docx.shared import Cm, Pt
from docx.table import _Cell

from documents.dates import gregorian_ar, hijri_ar
from documents.digits import arabic_indic_prose
from documents.rtl import Align, set_paragraph_rtl, set_run_rtl, set_section_rtl
from documents.text import one_line

FONT = "Simplified Arabic"
ORDINALS = ("أولاً", "ثانياً", "ثالثاً", "رابعاً", "خامساً", "سادساً", "سابعاً", "ثامناً", "تاسعاً", "عاشراً")


@dataclass(frozen=True)
class MinutesData:
    """What a meeting's minutes say, as plain data."""

    title: str
    held_on: dt.date
    place: str = ""
    attendees: list[str] = field(default_factory=list)
    apologies: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    # The audit chain's head when the minutes were written ("SEQ:HASH"): publishing the minutes
    # publishes it, and anyone can later check the chain still holds it.
    audit_head: str = ""


def _write(
    cell: _Cell, lines: list[str], *, bold: bool = False, bullet: str = "", shown: Callable[[str], str] = str
) -> None:
    for index, line in enumerate(lines or [""]):
        paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        align: Align = "start"
        set_paragraph_rtl(paragraph, align)
        paragraph.paragraph_format.space_after = Pt(3)
        text = shown(one_line(line))
        if text:
            set_run_rtl(paragraph.add_run(f"{bullet}{text}"), FONT, 13, bold)


def render_minutes(data: MinutesData, *, digits: str = "western") -> bytes:
    """The minutes' .docx bytes. `digits` is the plan's setting (`documents.text.DIGITS`): with
    "arabic-indic" the digits of the Arabic text (dates, the plan's period, the entry number) are
    written Arabic-Indic as in its letters; Latin text and the audit hash keep theirs."""
    shown = arabic_indic_prose if digits == "arabic-indic" else str
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2)
    set_section_rtl(section._sectPr)
    title = document.add_paragraph()
    set_paragraph_rtl(title, "center")
    set_run_rtl(title.add_run(shown(one_line(data.title))), FONT, 16, bold=True)
    rows = [
        ("التاريخ", [f"{data.held_on.day}/{data.held_on.month}/{data.held_on.year}",
                     f"{gregorian_ar(data.held_on)} – {hijri_ar(data.held_on)}"], ""),
        ("مكان الاجتماع", [data.place], ""),
        ("الحضور", data.attendees, "• "),
        ("الاعتذار", data.apologies or ["لا يوجد"], "• "),
        ("أبرز المواضيع التي تم مناقشتها في الاجتماع",
         [f"{ORDINALS[i] if i < len(ORDINALS) else i + 1}: {topic}" for i, topic in enumerate(data.topics)], ""),
        ("المخرجات", data.outcomes, "• "),
    ]  # fmt: skip
    if data.audit_head:
        seq, _, digest = data.audit_head.partition(":")
        rows.append(("سجل التدقيق عند كتابة المحضر", [shown(f"القيد رقم {seq}"), digest], ""))
    table = document.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    table.table_direction = WD_TABLE_DIRECTION.RTL  # the label column stands at the right
    table.autofit = False
    # LibreOffice lays a table out from its grid columns, Word from its cells: set both.
    table.columns[0].width, table.columns[1].width = Cm(4.5), Cm(12.5)
    for row, (label, lines, bullet) in zip(table.rows, rows, strict=True):
        row.cells[0].width, row.cells[1].width = Cm(4.5), Cm(12.5)
        _write(row.cells[0], [label], bold=True)
        keep = label == "سجل التدقيق عند كتابة المحضر"  # its lines are shown above (the hash as it is)
        _write(row.cells[1], lines, bullet=bullet, shown=str if keep else shown)
    properties = document.core_properties
    properties.title = one_line(data.title)
    properties.author = properties.last_modified_by = ""
    properties.created = properties.modified = dt.datetime.combine(data.held_on, dt.time())
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
