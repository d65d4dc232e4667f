"""The self-assessment progress report and the action plan in OGP's template, reopened with
python-docx: right-to-left markup in Arabic, left to right in English, and the fields present."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.table import Table

from documents.reports import render_plan_report, render_progress_report
from states import MilestoneEvent, State
from tests.conftest import SessionFactory
from tests.helpers import bring_to, register
from workflow import audit, reports
from workflow.commitments import CommitmentChanges, edit_commitment
from workflow.milestones import add_milestone, advance_milestone
from workflow.periods import HalfYear
from workflow.progress import EvidenceItem, record_progress

LATER = dt.datetime(2022, 7, 5, 9, tzinfo=dt.UTC)
TODAY = dt.date(2022, 7, 5)


def build(session_scope: SessionFactory) -> tuple[int, int]:
    """A commitment in OGP's template with a delivered milestone and a delayed one, progress from
    both sides in H1-2022 (one entry before it, which the H1 report leaves out)."""
    with session_scope() as s:
        register(s, "P-1", entities=("MODEE", "ROS"), title="منصة البيانات المفتوحة")
        bring_to(s, "P-1", State.COMMITTED)
        edit_commitment(
            s, "P-1",
            CommitmentChanges(ogp_id="JO0070", status_quo="تنشر البيانات ورقياً", how_it_solves="تتيح البيانات للجميع",
                              relevance=(("accountability", "مساءلة الجمعيات"),), supporting=("ROS",),
                              supporting_orgs=("مركز الشفافية الأردني",), start="2021-11", end="2023-06"),
            actor="t", now=LATER,
        )  # fmt: skip
        first = add_milestone(s, "P-1", title="نشر أول مجموعة بيانات", output="بيانات منشورة", start="2021-11",
                              end="2022-04", responsible="ROS", actor="t", now=LATER).id  # fmt: skip
        second = add_milestone(s, "P-1", title="إطلاق واجهة برمجية", output="واجهة منشورة", start="2022-01",
                               end="2022-06", responsible="MODEE", actor="t", now=LATER).id  # fmt: skip
        for mid in (first, second):
            advance_milestone(s, mid, MilestoneEvent.START, actor="t", dated=dt.date(2021, 11, 1), now=LATER)
        record_progress(s, first, percent=40, note="بدأ الجمع", side="government", reported_on=dt.date(2021, 12, 20),
                        actor="t", now=LATER)  # fmt: skip
        record_progress(
            s, first, percent=100, note="نُشرت البيانات", side="government", reported_on=dt.date(2022, 4, 20),
            evidence=[EvidenceItem(url="https://example.org/data"), EvidenceItem(file_name="d.csv", content=b"x")],
            actor="t", now=LATER,
        )  # fmt: skip
        record_progress(s, first, percent=90, note="البيانات ناقصة قليلاً", side="civil-society",
                        reported_on=dt.date(2022, 6, 25), actor="t", now=LATER)  # fmt: skip
        advance_milestone(s, first, MilestoneEvent.COMPLETE, actor="t", dated=dt.date(2022, 4, 28), now=LATER)
        record_progress(s, second, percent=30, note="صُممت الواجهة", side="government",
                        reported_on=dt.date(2022, 6, 20), actor="t", now=LATER)  # fmt: skip
        advance_milestone(s, second, MilestoneEvent.DELAY, actor="t", reason="تأخر التمويل", new_end="2022-10",
                          dated=dt.date(2022, 6, 28), now=LATER)  # fmt: skip
    return first, second


def reopen(content: bytes) -> DocxDocument:
    return docx.Document(io.BytesIO(content))


def fields(table: Table) -> dict[str, list[str]]:
    return {row.cells[0].text: [p.text for p in row.cells[1].paragraphs] for row in table.rows}


def assert_rtl(document: DocxDocument) -> None:
    assert document.sections[0]._sectPr.find(qn("w:bidi")) is not None
    paragraphs = list(document.paragraphs)
    for table in document.tables:
        assert table._tbl.tblPr.find(qn("w:bidiVisual")) is not None  # read from the right
        paragraphs += [p for row in table.rows for cell in row.cells for p in cell.paragraphs]
    for paragraph in paragraphs:
        assert paragraph._p.pPr.find(qn("w:bidi")) is not None
        jc = paragraph._p.pPr.find(qn("w:jc"))
        assert jc is None or jc.get(qn("w:val")) in ("center", "end")  # never RIGHT (shared/notes/rtl-docx.md)
        for run in paragraph.runs:
            assert run._r.rPr.find(qn("w:rtl")) is not None
            assert run._r.rPr.rFonts.get(qn("w:cs")) == "Simplified Arabic"
            assert run._r.rPr.find(qn("w:szCs")) is not None


def test_the_progress_report_reopens_right_to_left_with_every_field(session_scope: SessionFactory) -> None:
    first, second = build(session_scope)
    with session_scope() as s:
        content = render_progress_report(reports.progress_report(s, HalfYear(2022, 1), "ar", TODAY))
        head = audit.current_head(s)
    document = reopen(content)
    assert_rtl(document)
    text = [p.text for p in document.paragraphs]
    assert text[-2:] == [f"سجل التدقيق عند إعداد التقرير: القيد رقم {head.seq}", head.hash]  # publishing it publishes the head
    assert text[:2] == ["المملكة الأردنية الهاشمية", "وزارة التخطيط والتعاون الدولي"]
    assert "تقرير التقييم الذاتي لتنفيذ الخطة الوطنية الخامسة لمبادرة شراكة الحكومات الشفافة" in text
    assert "الفترة: النصف الأول من عام 2022: 1/1/2022 – 30/6/2022" in text
    summary, overview, milestones, delivered, delayed = document.tables
    assert [c.text for c in summary.rows[1].cells] == [
        "P-1 (JO0070): منصة البيانات المفتوحة", "وزارة الاقتصاد الرقمي والريادة", "جوهري", "65%",
    ]  # fmt: skip
    assert fields(overview)["مستوى الإنجاز"] == ["جوهري (65%)"]
    assert [[c.text for c in row.cells] for row in milestones.rows[1:]] == [
        [f"M{first}: نشر أول مجموعة بيانات", "ROS", "تشرين الثاني 2021 – نيسان 2022", "منجز", "100%", "90%"],
        [f"M{second}: إطلاق واجهة برمجية", "MODEE", "كانون الثاني 2022 – تشرين الأول 2022", "متأخر", "30%", ""],
    ]
    done = fields(delivered)
    assert done["الحالة"] == ["منجز (100%)"]
    assert done["ملاحظات الحكومة"] == ["• 20/4/2022 (100%): نُشرت البيانات"]  # December's is another half
    assert done["ملاحظات المجتمع المدني"] == ["• 25/6/2022 (90%): البيانات ناقصة قليلاً"]
    assert done["الأدلة"] == [
        "• https://example.org/data",
        "• d.csv",
        "sha256 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",  # whole, to be checked
    ]
    assert done["التأخير وأسبابه"] == ["لا يوجد"]
    late = fields(delayed)
    assert late["التأخير وأسبابه"] == ["• 28/6/2022: تأخر التمويل (موعد الانتهاء الجديد: تشرين الأول 2022)"]
    assert late["ملاحظات المجتمع المدني"] == ["لا يوجد"]
    assert document.core_properties.language == "ar-JO"


def test_a_past_period_shows_the_milestones_as_they_stood_then(session_scope: SessionFactory) -> None:
    build(session_scope)
    with session_scope() as s:
        report = reports.progress_report(s, HalfYear(2021, 2), "ar", TODAY)
    [part] = report.commitments
    assert [(m.state, m.percent, m.end) for m in part.milestones] == [("started", 40, "2022-04"), ("started", 0, "2022-06")]
    assert [e.note for e in part.milestones[0].entries] == ["بدأ الجمع"]
    assert (part.completion, part.percent) == ("limited", 20)


def test_the_plan_reopens_in_ogp_s_template_one_section_per_commitment(session_scope: SessionFactory) -> None:
    first, _ = build(session_scope)
    with session_scope() as s:
        register(s, "P-2", title="فكرة ثانية")
        bring_to(s, "P-2", State.COMMITTED)  # not edited yet: the proposal's text stands
        content = render_plan_report(reports.plan_report(s, "ar", TODAY))
    document = reopen(content)
    assert_rtl(document)
    headings = [p.text for p in document.paragraphs if p.text.startswith("الالتزام ")]
    assert headings == ["الالتزام 1: منصة البيانات المفتوحة", "الالتزام 2: فكرة ثانية"]
    template, milestones, second, _ = document.tables
    found = fields(template)
    assert found["رقم الالتزام"] == ["JO0070"]
    assert found["تاريخ البدء والانتهاء"] == ["تشرين الثاني 2021 – حزيران 2023"]
    assert found["الجهة المسؤولة عن التنفيذ"] == ["وزارة الاقتصاد الرقمي والريادة"]
    assert found["الجهات الحكومية الداعمة"] == ["• سجل الجمعيات"]
    assert found["الجهات غير الحكومية الداعمة"] == ["• مركز الشفافية الأردني"]
    assert found["المشكلة العامة التي يعالجها الالتزام"] == ["صعوبة الوصول إلى البيانات."]
    assert found["الوضع الراهن"] == ["تنشر البيانات ورقياً"]
    assert found["وصف الالتزام"] == ["نشر البيانات بصيغة مفتوحة."]
    assert found["كيف يسهم الالتزام في حل المشكلة العامة"] == ["تتيح البيانات للجميع"]
    assert found["صلة الالتزام بقيم مبادرة شراكة الحكومات الشفافة"] == ["• المساءلة: مساءلة الجمعيات"]
    assert [c.text for c in milestones.rows[1].cells] == [
        f"M{first}: نشر أول مجموعة بيانات", "بيانات منشورة", "تشرين الثاني 2021", "نيسان 2022", "ROS",
    ]  # fmt: skip
    assert fields(second)["رقم الالتزام"] == ["P-2"]  # no OGP id yet
    assert fields(second)["الوضع الراهن"] == [""]


def test_english_reports_read_left_to_right(session_scope: SessionFactory) -> None:
    build(session_scope)
    with session_scope() as s:
        progress = reopen(render_progress_report(reports.progress_report(s, HalfYear(2022, 1), "en", TODAY)))
        plan = reopen(render_plan_report(reports.plan_report(s, "en", TODAY)))
    for document in (progress, plan):
        assert document.sections[0]._sectPr.find(qn("w:bidi")) is None
        for paragraph in document.paragraphs:
            assert paragraph._p.pPr is None or paragraph._p.pPr.find(qn("w:bidi")) is None
            for run in paragraph.runs:
                assert run._r.rPr.find(qn("w:rtl")) is None
    texts = [p.text for p in progress.paragraphs]
    assert "Period: first half of 2022 (January–June): 1 January 2022 – 30 June 2022" in texts
    assert texts[0] == "The Hashemite Kingdom of Jordan"
    assert [c.text for c in progress.tables[0].rows[0].cells] == ["Commitment", "Lead implementing body", "Completion", "Progress"]
    assert fields(plan.tables[0])["Relevance to OGP values"] == ["• Accountability: مساءلة الجمعيات"]
    assert fields(plan.tables[0])["Start and end dates"] == ["November 2021 – June 2023"]


def test_a_report_with_no_commitments_says_so(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        document = reopen(render_progress_report(reports.progress_report(s, HalfYear(2022, 1), "ar", TODAY)))
    assert "لا توجد التزامات في الخطة بعد." in [p.text for p in document.paragraphs]
    with pytest.raises(ValueError, match="no such report language 'fr'"), session_scope() as s:
        render_plan_report(reports.plan_report(s, "fr", TODAY))


@pytest.mark.slow
def test_libreoffice_shows_the_report_s_title_milestones_and_notes(session_scope: SessionFactory, tmp_path: Path) -> None:
    from tests.test_fidelity import as_extracted, pdf_text, readable

    build(session_scope)
    with session_scope() as s:
        content = render_progress_report(reports.progress_report(s, HalfYear(2022, 1), "ar", TODAY))
    text = readable(pdf_text(content, tmp_path))
    assert as_extracted("تقرير التقييم الذاتي لتنفيذ") in text
    assert as_extracted("نشر أول مجموعة بيانات") in text
    assert as_extracted("البيانات ناقصة") in text  # civil society's note
    assert "https://example.org/data" in text


def test_months_are_written_by_name_so_bidi_cannot_turn_them_round() -> None:
    from documents.dates import month_ar, month_en

    assert (month_ar("2022-10"), month_en("2022-10")) == ("تشرين الأول 2022", "October 2022")
    assert (month_ar(""), month_en("2022-13")) == ("", "2022-13")  # not a month: as it is
