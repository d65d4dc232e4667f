"""Letters reopened with python-docx: text, addressee, title, right-to-left markup, and the rest."""

from __future__ import annotations

import base64
import datetime as dt
import io
import zipfile
from dataclasses import replace
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from documents import LetterRenderer, LetterRequest, LetterTemplateError, safe_filename, write_atomic, xml_safe
from documents.dates import gregorian_ar, gregorian_en, hijri_ar, hijri_en
from documents.docx_writer import check_image
from workflow.templates import SAMPLE_CONTEXT

# A 1×1 PNG, for the letterhead logo.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

CONTEXT = {
    **SAMPLE_CONTEXT,
    "proposal": {
        **SAMPLE_CONTEXT["proposal"],
        "title": "بوابة إلكترونية لطلبات الحصول على المعلومات",
        "organization": "مركز الشفافية الأردني",
        "ogp_values": ["إتاحة الوصول إلى المعلومات"],
    },
    "recipient": {"name": "وزارة الاقتصاد الرقمي والريادة", "addressee": "معالي وزير الاقتصاد الرقمي والريادة المحترم"},
    "plan": {"title": "الخطة الوطنية الخامسة لمبادرة شراكة الحكومات الشفافة", "period": "2021-2023"},
}
REQUEST = LetterRequest(
    kind="referral",
    reference="ت ح/5/2021/0007",
    issued_on=dt.date(2021, 7, 28),
    addressee="معالي وزير الاقتصاد الرقمي والريادة المحترم",
    letterhead=("المملكة الأردنية الهاشمية", "وزارة التخطيط والتعاون الدولي", "وحدة الحكومة الشفافة"),
    signatory_name="",
    signatory_title="وزير التخطيط والتعاون الدولي",
    context=CONTEXT,
)


def reopen(content: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(content))


def lines(document: docx.document.Document) -> list[str]:
    return [p.text for p in document.paragraphs if p.text]


def test_a_referral_letter_reopens_with_its_parts_in_order() -> None:
    letter = LetterRenderer().render(REQUEST)
    document = reopen(letter.content)
    header = document.sections[0].first_page_header
    assert [p.text for p in header.paragraphs] == list(REQUEST.letterhead)
    assert document.sections[0].different_first_page_header_footer  # the letterhead is on page 1 only
    text = lines(document)
    assert text[:3] == ["الرقم:\tت ح/5/2021/0007", "التاريخ:\t18 ذو الحجة 1442هـ", "الموافق:\t28 تموز 2021م"]
    assert text[3] == "معالي وزير الاقتصاد الرقمي والريادة المحترم"
    assert text[4] == "الموضوع: الالتزام المقترح «بوابة إلكترونية لطلبات الحصول على المعلومات»"
    assert text[5] == "تحية طيبة وبعد،"
    body = " ".join(text[6:-2])
    assert "«بوابة إلكترونية لطلبات الحصول على المعلومات» المقدَّم من مركز الشفافية الأردني" in body
    assert "التأكد من جدواها وارتباطها بصلاحيات وزارة الاقتصاد الرقمي والريادة وخطة عملها" in body
    assert "ويخدم المقترح من قيم المبادرة: إتاحة الوصول إلى المعلومات." in body
    assert text[-2:] == ["وتفضلوا بقبول فائق الاحترام", "وزير التخطيط والتعاون الدولي"]
    assert letter.subject == "الالتزام المقترح «بوابة إلكترونية لطلبات الحصول على المعلومات»"
    assert document.core_properties.title == letter.subject


def rtl_paragraphs(paragraphs: list) -> None:
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
            # Word sizes Arabic from w:szCs: it must match the Latin size.
            assert r_pr.find(qn("w:szCs")).get(qn("w:val")) == r_pr.find(qn("w:sz")).get(qn("w:val"))
            assert r_pr.find(qn("w:lang")).get(qn("w:bidi")) == "ar-JO"


def test_every_paragraph_run_and_the_section_are_right_to_left() -> None:
    document = reopen(LetterRenderer().render(REQUEST).content)
    section = document.sections[0]
    rtl_paragraphs(document.paragraphs)
    rtl_paragraphs(section.first_page_header.paragraphs)
    assert section._sectPr.find(qn("w:bidi")) is not None
    by_text = {p.text: p for p in document.paragraphs}
    # The reference block: one block set in from the right, its labels and values each lined up.
    block = [p for p in document.paragraphs[:3]]
    for paragraph in block:
        p_pr = paragraph._p.pPr
        assert p_pr.find(qn("w:jc")) is None  # starts where the block starts, not pushed line by line
        assert p_pr.find(qn("w:ind")).get(qn("w:left")) == str(round(7.5 * 567))
        assert p_pr.find(qn("w:tabs"))[0].get(qn("w:pos")) == str(round(9.5 * 567))
        assert paragraph.text.split("\t")[0].endswith(":")
    assert by_text[REQUEST.addressee]._p.pPr.find(qn("w:jc")) is None  # at the right, its start
    assert by_text[REQUEST.addressee].runs[0]._r.rPr.find(qn("w:bCs")) is not None
    body = next(p for p in document.paragraphs if p.text.startswith("في إطار"))
    assert body._p.pPr.find(qn("w:jc")).get(qn("w:val")) == "both"
    assert body.runs[0]._r.rPr.find(qn("w:szCs")).get(qn("w:val")) == "28"  # 14 pt


def test_every_page_carries_its_number() -> None:
    document = reopen(LetterRenderer().render(REQUEST).content)
    for footer in (document.sections[0].footer, document.sections[0].first_page_footer):
        instructions = [e.text for e in footer._element.iter(qn("w:instrText"))]
        assert instructions == [" PAGE "]


def test_an_english_letter_is_left_to_right_with_english_dates() -> None:
    request = replace(
        REQUEST,
        language="en",
        addressee="H.E. the Minister of Digital Economy and Entrepreneurship",
        letterhead=("The Hashemite Kingdom of Jordan", "Ministry of Planning and International Cooperation"),
        signatory_title="Minister of Planning and International Cooperation",
        context={**CONTEXT, "plan": {"title": "Fifth National Action Plan", "period": "2021-2023"}},
    )
    document = reopen(LetterRenderer().render(request).content)
    text = lines(document)
    assert text[:4] == [
        "Ref.:\tت ح/5/2021/0007",
        "Date:\t28 July 2021",
        "\t(18 Dhu al-Hijjah 1442 AH)",
        "H.E. the Minister of Digital Economy and Entrepreneurship",
    ]
    assert text[4].startswith("Subject: Proposed commitment “بوابة")
    assert text[5] == "Dear Sir or Madam,"
    assert text[-2:] == ["Yours faithfully,", "Minister of Planning and International Cooperation"]
    for paragraph in document.paragraphs:
        assert paragraph._p.pPr.find(qn("w:bidi")) is None
        for run in paragraph.runs:
            assert run._r.rPr.find(qn("w:rtl")) is None
            assert run._r.rPr.rFonts.get(qn("w:ascii")) == "Times New Roman"
    assert document.sections[0]._sectPr.find(qn("w:bidi")) is None
    ref = next(p for p in document.paragraphs if p.text.startswith("Ref."))
    assert ref._p.pPr.find(qn("w:jc")) is None  # a block set in from the left, its values lined up
    assert ref._p.pPr.find(qn("w:ind")).get(qn("w:left")) == str(round(4.5 * 567))


def test_arabic_indic_digits_copies_and_a_logo() -> None:
    request = replace(REQUEST, digits="arabic-indic", copy_to=("عطوفة أمين عام وزارة التخطيط", "الملف"), logo=PNG)
    document = reopen(LetterRenderer().render(request).content)
    text = lines(document)
    assert text[:3] == ["الرقم:\tت ح/٥/٢٠٢١/٠٠٠٧", "التاريخ:\t١٨ ذو الحجة ١٤٤٢هـ", "الموافق:\t٢٨ تموز ٢٠٢١م"]
    assert text[-3:] == ["نسخة إلى:", "- عطوفة أمين عام وزارة التخطيط", "- الملف"]
    assert "(٢٠٢١-٢٠٢٣)" in " ".join(text)
    header = document.sections[0].first_page_header
    assert len(header._element.findall(".//" + qn("w:drawing"))) == 1
    images = [p for p in header.part.package.iter_parts() if p.content_type == "image/png"]
    assert [image.blob for image in images] == [PNG]


def test_the_same_letter_gives_the_same_bytes_and_builds_its_skeleton_once() -> None:
    renderer = LetterRenderer()
    first, second = renderer.render(REQUEST), renderer.render(REQUEST)
    assert first.content == second.content == LetterRenderer().render(REQUEST).content
    assert first.sha256 == second.sha256
    with zipfile.ZipFile(io.BytesIO(first.content)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert "docProps/thumbnail.jpeg" not in archive.namelist()  # python-docx's default, dropped
        styles = archive.read("word/styles.xml").decode()
        assert styles.count("<w:style ") == 8  # not the 164 of python-docx's template
    assert len(first.content) < 16_000
    other = renderer.render(replace(REQUEST, reference="ت ح/5/2021/0008"))
    assert other.sha256 != first.sha256
    assert len(renderer._skeletons) == 1


def test_xml_special_and_forbidden_characters() -> None:
    dirty = replace(
        REQUEST,
        addressee="معالي\x00 الوزير\x0b المحترم",
        context={**CONTEXT, "proposal": {**CONTEXT["proposal"], "title": "منصة\x01\x1f <b>A & B</b>\ud800"}},
    )
    letter = LetterRenderer().render(dirty)
    text = lines(reopen(letter.content))
    assert "معالي الوزير المحترم" in text
    assert "الموضوع: الالتزام المقترح «منصة <b>A & B</b>»" in text
    assert xml_safe("a\x00b\tc\nd\ufffe") == "ab\tc\nd"


def write_template(folder: Path, body: str, name: str = "referral.ar.j2") -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(body, encoding="utf-8")
    return folder


def test_an_edited_template_replaces_the_default_and_may_set_greeting_and_closing(tmp_path: Path) -> None:
    folder = write_template(
        tmp_path / "t",
        "{% block subject %}موضوع {{ proposal.ref }}{% endblock %}{% block greeting %}السلام عليكم،{% endblock %}"
        "{% block body %}نص مختصر.{% endblock %}{% block closing %}مع الاحترام{% endblock %}",
    )
    letter = LetterRenderer(folder).render(REQUEST)
    assert letter.subject == "موضوع P-000"
    text = lines(reopen(letter.content))
    assert text[5:8] == ["السلام عليكم،", "نص مختصر.", "مع الاحترام"]


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
        (
            "{% block subject %}{% endblock %}{% block body %}x{% endblock %}",
            "template referral.ar.j2: renders an empty subject or body",
        ),
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
            "{% block subject %}x{% endblock %}{% block body %}{{ proposal.ogp_values.append(1) }}{% endblock %}",
            "SecurityError",
        ),
        (
            "{% block subject %}x{% endblock %}{% block body %}{% include '/etc/passwd' %}{% endblock %}",
            "template referral.ar.j2, line 1: /etc/passwd: a template may only name files inside the templates folder (no absolute name)",
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
    assert [gregorian_ar(dt.date(2021, m, 1)).split(" ", 1)[1][:-6] for m in (2, 3, 4, 5, 6, 8, 9, 10, 11, 12)] == [
        "شباط", "آذار", "نيسان", "أيار", "حزيران", "آب", "أيلول", "تشرين الأول", "تشرين الثاني", "كانون الأول",
    ]  # fmt: skip
    assert gregorian_en(dt.date(2021, 7, 28)) == "28 July 2021"
    assert hijri_en(dt.date(2021, 7, 28)) == "18 Dhu al-Hijjah 1442 AH"


def test_file_names_keep_arabic_and_drop_what_file_systems_refuse(tmp_path: Path) -> None:
    name = safe_filename('P-1_referral_وزارة/الصحة:"<>|?*\u202e', ".docx")
    assert name == "P-1_referral_وزارة_الصحة________.docx"
    assert (
        safe_filename("P-1_acceptance_مركز الشفافية  الأردني", ".docx") == "P-1_acceptance_مركز-الشفافية-الأردني.docx"
    )
    assert len(safe_filename("ع" * 400, ".docx").encode()) <= 240
    path = write_atomic(tmp_path / "letters", name, b"abc")
    assert path.read_bytes() == b"abc"
    assert [p.name for p in (tmp_path / "letters").iterdir()] == [name]  # no temporary file left
    with pytest.raises(ValueError, match="leaves the folder"):
        write_atomic(tmp_path / "letters", "../escape.docx", b"x")


def test_logos_are_checked() -> None:
    assert check_image(PNG) == "image/png"
    with pytest.raises(ValueError):
        check_image(PNG[:20])  # a truncated file
    with pytest.raises(ValueError):
        check_image(b"plain text")


def test_the_hand_written_zip_is_the_one_zipfile_writes() -> None:
    """zip_parts writes the ZIP records itself (the parts every letter shares are deflated once);
    its bytes must be those zipfile writes for the same parts, and read back as they went in."""
    from documents.package import _ZIP_TIME, zip_parts

    def zipfile_parts(parts: list[tuple[str, bytes]]) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in parts:
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        return out.getvalue()

    parts = [
        ("[Content_Types].xml", b'<?xml version="1.0"?><Types/>'),
        ("word/document.xml", "<w:t>بسم الله الرحمن الرحيم</w:t>".encode() * 50),
        ("word/empty.xml", b""),
        ("word/media/شعار.png", bytes(range(256)) * 4),  # a non-ASCII name: UTF-8 flag set
    ]
    for _ in range(2):  # the second time from the cache
        written = zip_parts(parts)
        assert written == zipfile_parts(parts)
        with zipfile.ZipFile(io.BytesIO(written)) as archive:
            assert archive.testzip() is None
            assert [(info.filename, archive.read(info)) for info in archive.infolist()] == parts


def _reading(data: bytes, *, fast: bool) -> object:
    """read_package's answer (or its refusal), with or without the reader of our own layout."""
    from documents import package

    original = package._own_zip
    if not fast:
        package._own_zip = lambda data: None  # type: ignore[assignment]
    try:
        return package.read_package(data)
    except ValueError:
        return ValueError
    finally:
        package._own_zip = original


def test_reading_our_own_zips_agrees_with_zipfile_on_letters_and_damaged_ones() -> None:
    """`read_package` reads a letter laid out as zip_parts writes it without zipfile (`audit verify`
    and `letters verify` read every letter of the plan); anything else falls back to zipfile. On a
    letter, and on every damaged copy below (a byte changed across the whole file, cut short, or
    grown), both readings must agree: the same digest and properties, or both a refusal."""
    from documents.package import _own_zip, with_properties, zip_parts

    letter = LetterRenderer().render(REQUEST)
    data = zip_parts(with_properties(letter.parts, {"ogp_audit_seq": "7", "ogp_audit_hash": "ab" * 32}))
    assert _own_zip(data) == with_properties(letter.parts, {"ogp_audit_seq": "7", "ogp_audit_hash": "ab" * 32})
    read = _reading(data, fast=True)
    assert read == _reading(data, fast=False) and read is not ValueError
    damaged = [data[:cut] for cut in (0, 10, len(data) // 2, len(data) - 22, len(data) - 1)]
    damaged += [data + b"\0", b"PK" + data]
    step = max(1, len(data) // 400)
    damaged += [data[:i] + bytes([data[i] ^ 0x55]) + data[i + 1 :] for i in range(0, len(data), step)]
    agreed = sum(_reading(copy, fast=True) == _reading(copy, fast=False) for copy in damaged)
    assert agreed == len(damaged)
