"""Letters reopened with python-docx: Arabic text, addressee, title, and right-to-left markup."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import replace
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from documents import LetterRenderer, LetterRequest, LetterTemplateError, safe_filename, write_atomic, xml_safe
from documents.dates import gregorian_ar, hijri_ar

REQUEST = LetterRequest(
    kind="referral",
    reference="ت ح/5/2021/0007",
    issued_on=dt.date(2021, 7, 28),
    addressee="معالي وزير الاقتصاد الرقمي والريادة المحترم",
    letterhead=("المملكة الأردنية الهاشمية", "وزارة التخطيط والتعاون الدولي", "وحدة الحكومة الشفافة"),
    signatory_name="",
    signatory_title="وزير التخطيط والتعاون الدولي",
    context={
        "proposal": {
            "ref": "P-001",
            "title": "بوابة إلكترونية لطلبات الحصول على المعلومات",
            "organization": "مركز الشفافية الأردني",
            "problem": "طلبات المعلومات ورقية.",
            "solution": "بوابة موحدة.",
            "ogp_values": ["إتاحة الوصول إلى المعلومات"],
        },
        "entity": {"name": "وزارة الاقتصاد الرقمي والريادة", "code": "MODEE", "addressee": "..."},
        "plan": {"title": "الخطة الوطنية الخامسة لمبادرة شراكة الحكومات الشفافة", "period": "2021-2023"},
    },
)


def reopen(content: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(content))


def texts(document: docx.document.Document) -> list[str]:
    return [p.text for p in document.paragraphs]


def test_a_referral_letter_reopens_with_its_parts_in_order() -> None:
    letter = LetterRenderer().render(REQUEST)
    lines = [t for t in texts(reopen(letter.content)) if t]
    assert lines[:3] == list(REQUEST.letterhead)
    assert lines[3] == "الرقم: ت ح/5/2021/0007"
    assert lines[4] == "التاريخ: 18 ذو الحجة 1442هـ"
    assert lines[5] == "الموافق: 28 تموز 2021م"
    assert lines[6] == "معالي وزير الاقتصاد الرقمي والريادة المحترم"
    assert lines[7] == "الموضوع: الالتزام المقترح «بوابة إلكترونية لطلبات الحصول على المعلومات»"
    assert lines[8] == "تحية طيبة وبعد،"
    body = " ".join(lines[9:-2])
    assert "«بوابة إلكترونية لطلبات الحصول على المعلومات» المقدَّم من مركز الشفافية الأردني" in body
    assert "التأكد من جدواها وارتباطها بصلاحيات وزارة الاقتصاد الرقمي والريادة وخطة عملها" in body
    assert "إتاحة الوصول إلى المعلومات" in body
    assert lines[-2:] == ["وتفضلوا بقبول فائق الاحترام", "وزير التخطيط والتعاون الدولي"]
    assert letter.subject == "الالتزام المقترح «بوابة إلكترونية لطلبات الحصول على المعلومات»"


def test_every_paragraph_and_run_is_right_to_left_with_complex_script_font_and_size() -> None:
    document = reopen(LetterRenderer().render(REQUEST).content)
    paragraphs = document.paragraphs
    assert paragraphs
    for paragraph in paragraphs:
        p_pr = paragraph._p.pPr
        assert p_pr is not None and p_pr.find(qn("w:bidi")) is not None, paragraph.text
        jc = p_pr.find(qn("w:jc"))
        # 'right' in a bidi paragraph would push Arabic to the left (shared/notes/rtl-docx.md).
        assert jc is None or jc.get(qn("w:val")) in {"end", "center", "both"}
        for run in paragraph.runs:
            r_pr = run._r.rPr
            assert r_pr.find(qn("w:rtl")) is not None
            assert r_pr.rFonts.get(qn("w:cs")) == "Simplified Arabic"
            # Word sizes Arabic from w:szCs: it must match the Latin size (14 pt body, 16 pt head).
            assert r_pr.find(qn("w:szCs")).get(qn("w:val")) == r_pr.find(qn("w:sz")).get(qn("w:val"))
            assert r_pr.find(qn("w:szCs")).get(qn("w:val")) in {"28", "32"}
            assert r_pr.find(qn("w:lang")).get(qn("w:bidi")) == "ar-JO"
    section = document.sections[0]._sectPr
    assert section.find(qn("w:bidi")) is not None
    by_text = {p.text: p for p in paragraphs}
    assert by_text["الرقم: ت ح/5/2021/0007"]._p.pPr.find(qn("w:jc")).get(qn("w:val")) == "end"
    assert by_text[REQUEST.addressee]._p.pPr.find(qn("w:jc")) is None  # at the right, its start
    assert by_text[REQUEST.addressee].runs[0]._r.rPr.find(qn("w:bCs")) is not None


def test_the_same_letter_gives_the_same_bytes() -> None:
    first = LetterRenderer().render(REQUEST)
    second = LetterRenderer().render(REQUEST)
    assert first.content == second.content
    assert first.sha256 == second.sha256
    with zipfile.ZipFile(io.BytesIO(first.content)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    other = LetterRenderer().render(replace(REQUEST, reference="ت ح/5/2021/0008"))
    assert other.sha256 != first.sha256


def test_characters_xml_forbids_are_cleaned_not_crashed_on() -> None:
    dirty = replace(
        REQUEST,
        addressee="معالي\x00 الوزير\x0b المحترم",
        context={
            **REQUEST.context,
            "proposal": {**REQUEST.context["proposal"], "title": "منصة\x01\x1f البيانات\ud800"},
        },
    )
    lines = texts(reopen(LetterRenderer().render(dirty).content))
    assert "معالي الوزير المحترم" in lines
    assert "الموضوع: الالتزام المقترح «منصة البيانات»" in lines
    assert xml_safe("a\x00b\tc\nd\ufffe") == "ab\tc\nd"


def write_template(folder: Path, body: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "referral.ar.j2").write_text(body, encoding="utf-8")
    return folder


def test_an_edited_template_replaces_the_default(tmp_path: Path) -> None:
    folder = write_template(
        tmp_path / "t",
        "{% block subject %}موضوع {{ proposal.ref }}{% endblock %}{% block body %}نص مختصر.{% endblock %}",
    )
    letter = LetterRenderer(folder).render(REQUEST)
    assert letter.subject == "موضوع P-001"
    assert "نص مختصر." in texts(reopen(letter.content))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "{% block subject %}x{% endblock %}{% block body %}\n\n{{ nothing }}{% endblock %}",
            "template referral.ar.j2, line 3: UndefinedError: 'nothing' is undefined",
        ),
        (
            "{% block subject %}x{% endblock %}{% block body %}{% if %}{% endblock %}",
            "template referral.ar.j2, line 1: Expected an expression",
        ),
        ("{% block body %}x{% endblock %}", "template referral.ar.j2: has no block subject"),
        ("{% block subject %}x{% endblock %}{% block body %}{{ ''.__class__.__mro__ }}{% endblock %}", "SecurityError"),
        (
            "{% block subject %}x{% endblock %}{% block body %}{{ proposal.title.__class__ }}{% endblock %}",
            "SecurityError",
        ),
        (
            "{% block subject %}x{% endblock %}{% block body %}{{ cycler.__init__.__globals__ }}{% endblock %}",
            "SecurityError",
        ),
        (
            "{% block subject %}x{% endblock %}{% block body %}{% include '/etc/passwd' %}{% endblock %}",
            "TemplateNotFound: /etc/passwd",
        ),
    ],
)
def test_template_errors_and_escape_attempts_name_the_template(tmp_path: Path, body: str, expected: str) -> None:
    folder = write_template(tmp_path / "t", body)
    with pytest.raises(LetterTemplateError) as failed:
        LetterRenderer(folder).render(REQUEST)
    assert expected in str(failed.value)


def test_dates_on_known_days() -> None:
    assert hijri_ar(dt.date(2021, 7, 28)) == "18 ذو الحجة 1442هـ"
    assert gregorian_ar(dt.date(2021, 7, 28)) == "28 تموز 2021م"
    assert gregorian_ar(dt.date(2024, 1, 1)) == "1 كانون الثاني 2024م"
    assert hijri_ar(dt.date(2024, 3, 11)) == "1 رمضان 1445هـ"


def test_file_names_keep_arabic_and_drop_what_file_systems_refuse(tmp_path: Path) -> None:
    name = safe_filename('P-1_referral_وزارة/الصحة:"<>|?*\u202e', ".docx")
    assert name == "P-1_referral_وزارة_الصحة________.docx"
    assert len(safe_filename("ع" * 400, ".docx").encode()) <= 240
    path = write_atomic(tmp_path / "letters", name, b"abc")
    assert path.read_bytes() == b"abc"
    assert [p.name for p in (tmp_path / "letters").iterdir()] == [name]  # no temporary file left
    with pytest.raises(ValueError, match="leaves the folder"):
        write_atomic(tmp_path / "letters", "../escape.docx", b"x")
