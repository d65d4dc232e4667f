"""Reports as .docx in the letters' style: the self-assessment progress report and the action plan
in OGP's commitment template; Arabic right to left, or English.

Takes plain data and returns bytes. Tables read from the right in Arabic (`w:bidiVisual`);
paragraphs carry `w:bidi` and runs `w:rtl` with the complex-script font and size, and alignment
follows shared/notes/rtl-docx.md (no `w:jc` for text that starts at the right).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_DIRECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from docx.table import Table, _Cell

from documents.dates import gregorian_ar, gregorian_en, hijri_ar, hijri_en, month_ar, month_en
from documents.letters import DEFAULT_FONTS
from documents.rtl import Align, set_paragraph_rtl, set_run_rtl, set_section_rtl
from documents.text import one_line, xml_safe

REPORT_LANGUAGES = ("ar", "en")
WIDTH_CM = 17.0

LABELS: dict[str, dict[str, str]] = {
    "ar": {
        "progress_title": "تقرير التقييم الذاتي لتنفيذ {plan}",
        "plan_title": "{plan}: الالتزامات وفق نموذج مبادرة شراكة الحكومات الشفافة",
        "period": "الفترة: {period}",
        "date": "التاريخ: {hijri}، الموافق {gregorian}",
        "summary": "ملخص الإنجاز",
        "commitment": "الالتزام",
        "lead": "الجهة المسؤولة عن التنفيذ",
        "completion": "مستوى الإنجاز",
        "percent": "نسبة الإنجاز",
        "milestone": "المرحلة",
        "output": "المخرج",
        "responsible": "الجهة المسؤولة",
        "months": "الموعد",
        "start": "تاريخ البدء",
        "end": "تاريخ الانتهاء",
        "state": "الحالة",
        "government": "الحكومة",
        "civil-society": "المجتمع المدني",
        "government_percent": "نسبة الإنجاز (الحكومة)",
        "civil_society_percent": "تقييم المجتمع المدني",
        "delays": "التأخير وأسبابه",
        "government_notes": "ملاحظات الحكومة",
        "civil_society_notes": "ملاحظات المجتمع المدني",
        "evidence": "الأدلة",
        "none": "لا يوجد",
        "new_end": "موعد الانتهاء الجديد",
        "ogp_id": "رقم الالتزام",
        "dates": "تاريخ البدء والانتهاء",
        "supporting": "الجهات الحكومية الداعمة",
        "supporting_orgs": "الجهات غير الحكومية الداعمة",
        "problem": "المشكلة العامة التي يعالجها الالتزام",
        "status_quo": "الوضع الراهن",
        "description": "وصف الالتزام",
        "how_it_solves": "كيف يسهم الالتزام في حل المشكلة العامة",
        "relevance": "صلة الالتزام بقيم مبادرة شراكة الحكومات الشفافة",
        "milestones": "المراحل والمخرجات",
        "no_commitments": "لا توجد التزامات في الخطة بعد.",
        "audit": "سجل التدقيق عند إعداد التقرير: القيد رقم {seq}",
        "half1": "النصف الأول من عام {year}",
        "half2": "النصف الثاني من عام {year}",
    },
    "en": {
        "progress_title": "Self-assessment report on the implementation of the {plan}",
        "plan_title": "{plan}: the commitments in OGP's template",
        "period": "Period: {period}",
        "date": "Date: {gregorian} ({hijri})",
        "summary": "Summary",
        "commitment": "Commitment",
        "lead": "Lead implementing body",
        "completion": "Completion",
        "percent": "Progress",
        "milestone": "Milestone",
        "output": "Output",
        "responsible": "Responsible body",
        "months": "Dates",
        "start": "Start",
        "end": "End",
        "state": "Status",
        "government": "Government",
        "civil-society": "Civil society",
        "government_percent": "Progress (government)",
        "civil_society_percent": "Civil society's assessment",
        "delays": "Delays and their reasons",
        "government_notes": "Government's notes",
        "civil_society_notes": "Civil society's notes",
        "evidence": "Evidence",
        "none": "None",
        "new_end": "new end month",
        "ogp_id": "Commitment ID",
        "dates": "Start and end dates",
        "supporting": "Supporting government bodies",
        "supporting_orgs": "Supporting civil society and other actors",
        "problem": "Problem addressed",
        "status_quo": "Status quo",
        "description": "Commitment description",
        "how_it_solves": "How the commitment contributes to solving the problem",
        "relevance": "Relevance to OGP values",
        "milestones": "Milestones",
        "no_commitments": "The plan has no commitments yet.",
        "audit": "Audit trail when this report was written: entry {seq}",
        "half1": "first half of {year} (January–June)",
        "half2": "second half of {year} (July–December)",
    },
}
STATES = {
    "ar": {"planned": "مخطط له", "started": "قيد التنفيذ", "delayed": "متأخر", "completed": "منجز",
           "cancelled": "ملغى"},
    "en": {"planned": "planned", "started": "started", "delayed": "delayed", "completed": "completed",
           "cancelled": "cancelled"},
}  # fmt: skip
COMPLETION = {
    "ar": {"not_started": "لم يبدأ", "limited": "محدود", "substantial": "جوهري", "complete": "مكتمل"},
    "en": {"not_started": "not started", "limited": "limited", "substantial": "substantial", "complete": "complete"},
}

TABLE_SIZE = 10.5  # table text: a six-column milestone table does not fit at the letters' size
HASH_SIZE = 8  # a sha256 in full on one line of a value cell
_LTR_ALIGN = {"end": WD_ALIGN_PARAGRAPH.RIGHT, "center": WD_ALIGN_PARAGRAPH.CENTER, "both": WD_ALIGN_PARAGRAPH.JUSTIFY}


@dataclass(frozen=True)
class ReportFrame:
    """What every report carries: its language, the letterhead, the plan, its date, the chain's head."""

    language: str
    letterhead: tuple[str, ...]
    plan_title: str
    plan_period: str
    issued_on: dt.date
    audit_head: str = ""  # "SEQ:HASH": publishing the report publishes the chain's head


@dataclass(frozen=True)
class EvidenceItem:
    """Evidence as a report lists it: a web address, or a file by name with its sha256."""

    name: str
    sha256: str = ""


@dataclass(frozen=True)
class ProgressEntry:
    """One side's report on a milestone."""

    side: str  # "government" or "civil-society"
    percent: int
    note: str
    reported_on: dt.date
    evidence: tuple[EvidenceItem, ...] = ()


@dataclass(frozen=True)
class DelayEntry:
    """A delay of a milestone: when, why, and the new end month."""

    dated: dt.date
    reason: str
    new_end: str


@dataclass(frozen=True)
class MilestoneLine:
    """A milestone as a report shows it."""

    label: str
    title: str
    output: str
    responsible: str
    start: str
    end: str
    planned_end: str
    state: str  # a states.MilestoneState value
    percent: int
    civil_society_percent: int | None
    entries: tuple[ProgressEntry, ...] = ()
    delays: tuple[DelayEntry, ...] = ()


@dataclass(frozen=True)
class CommitmentPart:
    """A commitment as a report shows it: its template's text and its milestones."""

    ref: str
    ogp_id: str
    title: str
    lead: str
    start: str
    end: str
    problem: str = ""
    status_quo: str = ""
    description: str = ""
    how_it_solves: str = ""
    relevance: tuple[tuple[str, str], ...] = ()  # (the OGP value's name, how it is relevant)
    supporting: tuple[str, ...] = ()
    supporting_orgs: tuple[str, ...] = ()
    completion: str = "not_started"  # a states.Completion value
    percent: int = 0
    milestones: tuple[MilestoneLine, ...] = ()


@dataclass(frozen=True)
class ProgressReport:
    """The self-assessment report for one half-year."""

    frame: ReportFrame
    year: int
    half: int
    period_start: dt.date
    period_end: dt.date
    commitments: tuple[CommitmentPart, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PlanReport:
    """The action plan, one section per commitment in OGP's template."""

    frame: ReportFrame
    commitments: tuple[CommitmentPart, ...] = field(default_factory=tuple)


class _Writer:
    """A .docx in one language's direction and the letters' font."""

    def __init__(self, frame: ReportFrame) -> None:
        if frame.language not in REPORT_LANGUAGES:
            raise ValueError(f"no such report language {frame.language!r} (use ar or en)")
        self.frame = frame
        self.rtl = frame.language == "ar"
        self.labels = LABELS[frame.language]
        self.font = DEFAULT_FONTS[frame.language]
        self.document: DocxDocument = Document()
        section = self.document.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2)
        if self.rtl:
            set_section_rtl(section._sectPr)

    def text(self, paragraph_owner: DocxDocument | _Cell, text: str, *, align: Align = "start",
             bold: bool = False, size: float = 12, first: bool = False) -> None:  # fmt: skip
        """One paragraph (in a cell, `first` fills the cell's empty first paragraph)."""
        paragraph = paragraph_owner.paragraphs[0] if first else paragraph_owner.add_paragraph()
        if self.rtl:
            set_paragraph_rtl(paragraph, align)
        elif align != "start":
            paragraph.alignment = _LTR_ALIGN[align]  # left to right, the values mean what they say
        paragraph.paragraph_format.space_after = Pt(3)
        cleaned = one_line(text)
        if cleaned:
            lang = "ar-JO" if self.rtl else "en-GB"
            set_run_rtl(paragraph.add_run(cleaned), self.font, size, bold, rtl=self.rtl, lang=lang)

    def lines(self, cell: _Cell, lines: Sequence[str], *, bold: bool = False, bullet: str = "") -> None:
        shown = [line for line in lines if one_line(line)] or [self.labels["none"] if bullet else ""]
        for index, line in enumerate(shown):
            prefix = bullet if bullet and line != self.labels["none"] else ""
            self.text(cell, f"{prefix}{line}", bold=bold, size=TABLE_SIZE, first=index == 0)

    def evidence(self, cell: _Cell, items: Sequence[EvidenceItem]) -> None:
        """Each item on its line; a file's sha256 whole on the next, small, so it can be checked."""
        if not items:
            self.lines(cell, [], bullet="• ")
        for index, item in enumerate(items):
            self.text(cell, f"• {item.name}", size=TABLE_SIZE, first=index == 0)
            if item.sha256:
                self.text(cell, f"sha256 {item.sha256}", size=HASH_SIZE)

    def table(self, columns: Sequence[float], rows: int) -> Table:
        table: Table = self.document.add_table(rows=rows, cols=len(columns))
        table.style = "Table Grid"
        if self.rtl:
            table.table_direction = WD_TABLE_DIRECTION.RTL  # the first column stands at the right
        table.autofit = False
        # LibreOffice lays a table out from its grid columns, Word from its cells: set both.
        for column, width in zip(table.columns, columns, strict=True):
            column.width = Cm(width)
        for row in table.rows:
            for cell, width in zip(row.cells, columns, strict=True):
                cell.width = Cm(width)
        return table

    def grid(self, headers: Sequence[str], rows: Sequence[Sequence[str]], columns: Sequence[float]) -> Table:
        table = self.table(columns, len(rows) + 1)
        for cell, header in zip(table.rows[0].cells, headers, strict=True):
            self.lines(cell, [header], bold=True)
        for row, values in zip(table.rows[1:], rows, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                self.lines(cell, value.split("\n"))
        self.text(self.document, "")  # a gap, right to left like the rest
        return table

    def fields(
        self, rows: Sequence[tuple[str, Sequence[str], str]], evidence: Sequence[EvidenceItem] | None = None
    ) -> Table:
        """A two-column table of labels and values, as the minutes and OGP's template lay them out
        (and, given `evidence`, a last row listing it)."""
        table = self.table((4.5, WIDTH_CM - 4.5), len(rows) + (evidence is not None))
        for row, (label, lines, bullet) in zip(table.rows[: len(rows)], rows, strict=True):
            self.lines(row.cells[0], [label], bold=True)
            self.lines(row.cells[1], lines, bullet=bullet)
        if evidence is not None:
            last = table.rows[-1]
            self.lines(last.cells[0], [self.labels["evidence"]], bold=True)
            self.evidence(last.cells[1], evidence)
        self.text(self.document, "")  # a gap, right to left like the rest
        return table

    def head(self, title: str, subtitle: str = "") -> None:
        frame = self.frame
        for line in frame.letterhead:
            self.text(self.document, line, align="center", bold=True, size=13)
        self.text(self.document, "")
        self.text(self.document, title, align="center", bold=True, size=16)
        if subtitle:
            self.text(self.document, subtitle, align="center", bold=True, size=13)
        day = frame.issued_on
        if self.rtl:
            dated = self.labels["date"].format(hijri=hijri_ar(day), gregorian=gregorian_ar(day))
        else:
            dated = self.labels["date"].format(hijri=hijri_en(day), gregorian=gregorian_en(day))
        self.text(self.document, dated, align="end")

    def heading(self, text: str) -> None:
        self.text(self.document, text, bold=True, size=14)

    def finish(self, title: str) -> bytes:
        frame = self.frame
        if frame.audit_head:
            # The digest on a line of its own: inside Arabic text a long Latin run wraps and its
            # brackets turn round.
            seq, _, digest = frame.audit_head.partition(":")
            self.text(self.document, self.labels["audit"].format(seq=seq), size=9)
            self.text(self.document, digest, size=HASH_SIZE)
        properties = self.document.core_properties
        properties.title = one_line(title)
        properties.author = properties.last_modified_by = ""
        properties.language = "ar-JO" if self.rtl else "en-GB"
        properties.created = properties.modified = dt.datetime.combine(frame.issued_on, dt.time())
        buffer = io.BytesIO()
        self.document.save(buffer)
        return buffer.getvalue()


def _title(part: CommitmentPart) -> str:
    ogp_id = f" ({part.ogp_id})" if part.ogp_id else ""
    return f"{part.ref}{ogp_id}: {part.title}"


def _day(language: str, day: dt.date) -> str:
    """A day as the seed writes it in Arabic (28/7/2021: ISO dates reorder in right-to-left text),
    or 28 July 2021."""
    return f"{day.day}/{day.month}/{day.year}" if language == "ar" else gregorian_en(day)


def _month(language: str, month: str) -> str:
    """A YYYY-MM month by its name, as the letters write dates."""
    return month_ar(month) if language == "ar" else month_en(month)


def _months(language: str, start: str, end: str) -> str:
    return f"{_month(language, start)} – {_month(language, end)}" if start or end else ""


def period_name(language: str, year: int, half: int) -> str:
    """E.g. «النصف الأول من عام 2022» or "first half of 2022 (January–June)"."""
    return LABELS[language][f"half{half}"].format(year=year)


def render_progress_report(report: ProgressReport) -> bytes:
    """The self-assessment report's .docx bytes: per commitment its completion, its milestones
    with their status and progress, delays with reasons, both sides' notes and the evidence."""
    w = _Writer(report.frame)
    labels, language = w.labels, report.frame.language
    title = labels["progress_title"].format(plan=one_line(report.frame.plan_title))
    span = f"{_day(language, report.period_start)} – {_day(language, report.period_end)}"
    period = f"{period_name(language, report.year, report.half)}: {span}"
    w.head(title, labels["period"].format(period=period))
    if not report.commitments:
        w.text(w.document, labels["no_commitments"])
    else:
        w.heading(labels["summary"])
        w.grid(
            (labels["commitment"], labels["lead"], labels["completion"], labels["percent"]),
            [(_title(c), c.lead, COMPLETION[language][c.completion], f"{c.percent}%") for c in report.commitments],
            (7.0, 4.7, 3.0, 2.3),
        )
    for part in report.commitments:
        w.heading(f"{labels['commitment']} {_title(part)}")
        w.fields(
            [
                (labels["lead"], [part.lead], ""),
                (labels["dates"], [_months(language, part.start, part.end)], ""),
                (labels["completion"], [f"{COMPLETION[language][part.completion]} ({part.percent}%)"], ""),
            ]
        )
        w.grid(
            (labels["milestone"], labels["responsible"], labels["months"], labels["state"],
             labels["government_percent"], labels["civil_society_percent"]),
            [(f"{m.label}: {m.title}", m.responsible, _months(language, m.start, m.end), STATES[language][m.state],
              f"{m.percent}%", "" if m.civil_society_percent is None else f"{m.civil_society_percent}%")
             for m in part.milestones],
            (4.2, 2.3, 3.6, 1.8, 2.5, 2.6),
        )  # fmt: skip
        for m in part.milestones:
            w.text(w.document, f"{m.label}: {m.title}", bold=True)
            delays = [
                f"{_day(language, d.dated)}: {d.reason} ({labels['new_end']}: {_month(language, d.new_end)})"
                for d in m.delays
            ]
            notes = {
                side: [f"{_day(language, e.reported_on)} ({e.percent}%): {e.note}" for e in m.entries if e.side == side]
                for side in ("government", "civil-society")
            }
            w.fields(
                [
                    (labels["output"], [m.output], ""),
                    (labels["state"], [f"{STATES[language][m.state]} ({m.percent}%)"], ""),
                    (labels["delays"], delays, "• "),
                    (labels["government_notes"], notes["government"], "• "),
                    (labels["civil_society_notes"], notes["civil-society"], "• "),
                ],
                evidence=[item for e in m.entries for item in e.evidence],
            )
    return w.finish(title)


def render_plan_report(report: PlanReport) -> bytes:
    """The action plan's .docx bytes: one section per commitment, in OGP's commitment template."""
    w = _Writer(report.frame)
    labels, language = w.labels, report.frame.language
    title = labels["plan_title"].format(plan=one_line(report.frame.plan_title))
    w.head(title, report.frame.plan_period)
    if not report.commitments:
        w.text(w.document, labels["no_commitments"])
    for number, part in enumerate(report.commitments, start=1):
        w.heading(f"{labels['commitment']} {number}: {part.title}")
        w.fields(
            [
                (labels["ogp_id"], [part.ogp_id or part.ref], ""),
                (labels["dates"], [_months(language, part.start, part.end)], ""),
                (labels["lead"], [part.lead], ""),
                (labels["supporting"], list(part.supporting), "• "),
                (labels["supporting_orgs"], list(part.supporting_orgs), "• "),
                (labels["problem"], _paragraphs(part.problem), ""),
                (labels["status_quo"], _paragraphs(part.status_quo), ""),
                (labels["description"], _paragraphs(part.description), ""),
                (labels["how_it_solves"], _paragraphs(part.how_it_solves), ""),
                (labels["relevance"], [f"{value}: {text}" for value, text in part.relevance], "• "),
            ]
        )
        w.heading(labels["milestones"])
        w.grid(
            (labels["milestone"], labels["output"], labels["start"], labels["end"], labels["responsible"]),
            [(f"{m.label}: {m.title}", m.output, _month(language, m.start), _month(language, m.end), m.responsible)
             for m in part.milestones],
            (4.4, 4.4, 2.2, 2.2, 3.8),
        )
    return w.finish(title)


def _paragraphs(text: str) -> list[str]:
    """Long text kept as its paragraphs (a blank line, or a line break, separates them)."""
    return [line for line in (one_line(p) for p in xml_safe(text).splitlines()) if line]
