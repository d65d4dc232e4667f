"""Which moves write which letters, the register, templates in force, and checking files."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import docx
import pytest
from sqlalchemy import select, text

from documents.dates import gregorian_ar
from states import Event, State
from tests.conftest import SessionFactory
from tests.helpers import NOW, agree, bring_to, move, register
from tests.test_documents import PNG
from workflow import letters as letter_service
from workflow.errors import DocumentError, InvalidInputError, WorkflowError
from workflow.models import Letter
from workflow.plans import PlanSettings, add_entity, configure_plan
from workflow.proposals import ProposalInput, add_proposal, get_proposal
from workflow.templates import check, export_defaults


def texts(content: bytes) -> list[str]:
    return [p.text for p in docx.Document(io.BytesIO(content)).paragraphs if p.text]


def stored(session_scope: SessionFactory) -> list[tuple[str, str, str]]:
    with session_scope() as s:
        return [(x.kind, x.recipient, x.language) for x in s.scalars(select(Letter).order_by(Letter.id))]


def test_commit_writes_to_the_lead_body_and_the_proposer(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "P-1", entities=("MODEE", "ROS"))
        bring_to(s, "P-1", State.REFERRED)
        agree(s, "P-1", "ROS")
    with (
        session_scope() as s,
        pytest.raises(
            InvalidInputError, match=r"--lead: 'MODEE' has not agreed to lead it \(bodies that agreed: ROS\)"
        ),
    ):
        move(s, "P-1", Event.COMMIT, lead="MODEE")
    with session_scope() as s:
        done = move(s, "P-1", Event.COMMIT, lead="ros")
        commitment, acceptance = (letter.rendered for letter in done.letters)
        assert "عطوفة أمين سجل الجمعيات المحترم" in texts(commitment.content)
        assert "على أن تكون سجل الجمعيات الجهة الرئيسية المسؤولة عن تنفيذه" in " ".join(texts(commitment.content))
        assert "السادة مركز الشفافية الأردني المحترمين" in texts(acceptance.content)
        assert "وستتولى سجل الجمعيات تنفيذه بصفتها الجهة الرئيسية" in " ".join(texts(acceptance.content))
        assert get_proposal(s, "P-1").lead_entity.code == "ROS"  # type: ignore[union-attr]
    assert [kind for kind, _, _ in stored(session_scope)] == ["referral", "referral", "commitment", "acceptance"]


def test_a_rejection_before_the_interview_does_not_claim_an_evaluation(session_scope: SessionFactory) -> None:
    """A proposal turned down while `submitted` was never interviewed nor scored: its letter (and
    a reissue of it) says the working group studied it; one turned down after its interview says
    it was evaluated against the criteria."""
    with session_scope() as s:
        register(s, "P-1")
        register(s, "P-2")
        bring_to(s, "P-2", State.INTERVIEWED)
        early = texts(move(s, "P-1", Event.REJECT, reason="خارج نطاق الخطة").letters[0].rendered.content)
        late = texts(move(s, "P-2", Event.REJECT, reason="دون خط القطع").letters[0].rendered.content)
    assert "الموضوع: نتيجة دراسة مقترحكم «منصة البيانات المفتوحة P-1»" in early
    assert "الموضوع: نتيجة تقييم مقترحكم «منصة البيانات المفتوحة P-2»" in late
    assert "وبعد دراسة المقترح من قبل مجموعة العمل الوطنية، أودّ إعلامكم" in " ".join(early)
    assert "وفق المعايير" not in " ".join(early)
    assert "وبعد دراسة المقترح وتقييمه من قبل مجموعة العمل الوطنية وفق المعايير" in " ".join(late)
    with session_scope() as s:
        first = s.scalars(select(Letter).where(Letter.kind == "rejection").order_by(Letter.id)).first()
        assert first is not None
        voided = letter_service.void_letter(s, first.reference, reason="خطأ", actor="tester", now=NOW, reissue=True)
        again = " ".join(texts(voided.reissued[0].rendered.content))
    assert "وبعد دراسة المقترح من قبل مجموعة العمل الوطنية، أودّ إعلامكم" in again and "وفق المعايير" not in again


def test_lead_is_only_for_commit(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "P-1")
        bring_to(s, "P-1", State.SHORTLISTED)
    with session_scope() as s, pytest.raises(InvalidInputError, match="only 'commit' names a lead body, not 'refer'"):
        move(s, "P-1", Event.REFER, lead="MODEE")


def test_rejection_after_referral_closes_it_with_each_body_and_tells_the_proposer_why(
    session_scope: SessionFactory,
) -> None:
    with session_scope() as s:
        register(s, "P-1", entities=("MODEE", "ROS"))
        bring_to(s, "P-1", State.REFERRED)
    with session_scope() as s:
        done = move(s, "P-1", Event.REJECT, reason="اعتذرت الجهة عن تبني المقترح")
        kinds = [(letter.document.kind.value, letter.recipient.name) for letter in done.letters]
        assert kinds == [
            ("referral_closed", "وزارة الاقتصاد الرقمي والريادة"),
            ("referral_closed", "سجل الجمعيات"),
            ("rejection", "مركز الشفافية الأردني"),
        ]
        closing = " ".join(texts(done.letters[0].rendered.content))
        assert "قد تقرر عدم المضي في المقترح" in closing
        # Each closing letter cites the referral it closes, to that body, by number and date.
        referrals = {x.entity.code: x for x in letter_service.list_letters(s) if x.kind == "referral"}
        for letter, code in ((done.letters[0], "MODEE"), (done.letters[1], "ROS")):
            referral = referrals[code]
            cited = f"إلحاقاً بكتابنا رقم {referral.reference} تاريخ {gregorian_ar(referral.issued_on)} بشأن"
            assert cited in " ".join(texts(letter.rendered.content))
        assert "وذلك للسبب الآتي: اعتذرت الجهة عن تبني المقترح" in closing
        assert "للسبب الآتي: اعتذرت الجهة عن تبني المقترح." in " ".join(texts(done.letters[2].rendered.content))


def test_rejection_before_referral_writes_only_to_the_proposer(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "P-1")
        move(s, "P-1", Event.REJECT, reason="خارج صلاحيات الحكومة")
    assert [kind for kind, _, _ in stored(session_scope)] == ["rejection"]


def test_withdrawal_writes_only_to_bodies_a_referral_went_to(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "A")
        register(s, "B")
        bring_to(s, "B", State.REFERRED)
        move(s, "A", Event.WITHDRAW, reason="انسحاب")
        done = move(s, "B", Event.WITHDRAW, reason="انسحاب الجهة")
        assert "قد تم سحب المقترح من قبل الجهة مقدمته" in " ".join(texts(done.letters[0].rendered.content))
    assert [kind for kind, _, _ in stored(session_scope)] == ["referral", "referral_closed"]


def test_english_recipients_get_english_letters(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        add_entity(
            s,
            "Ministry of Environment",
            "MOENV",
            rank="minister",
            title="the Minister of Environment",
            language="en",
            actor="tester",
        )
        raw = ProposalInput(
            "Green reporting app", "Eco Org", "P-1", entities=("MOENV",), submitted_on="2021-06-01", language="en",
            problem="Air quality data is not public", solution="An open API for air data.",
        )  # fmt: skip
        add_proposal(s, raw, actor="t", now=NOW)
        bring_to(s, "P-1", State.COMMITTED)
    letters = stored(session_scope)
    assert letters == [
        ("referral", "H.E. the Minister of Environment", "en"),
        ("commitment", "H.E. the Minister of Environment", "en"),
        ("acceptance", "Eco Org", "en"),
    ]
    with session_scope() as s:
        referral = s.scalars(select(Letter)).first()
        assert referral is not None
        body = texts(referral.content)
        assert body[1:3] == ["Date:\t28 July 2021", "\t(18 Dhu al-Hijjah 1442 AH)"]
        assert "Subject: Proposed commitment “Green reporting app”" in body
        assert any("the Fifth National Action Plan of the Open Government Partnership (2021-2023)" in t for t in body)
        # The proposer's sentences are quoted as sentences, ended once whether they had a full stop or not.
        assert any(
            t.endswith("describes it: “Air quality data is not public”. It proposes: “An open API for air data”.")
            for t in body
        ), body
        assert any(t.startswith("As the proposed commitment relates to your work, we would be") for t in body)


def test_honorifics_follow_rank(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        assert (
            add_entity(s, "وزارة المالية", rank="minister", title="وزير المالية", actor="tester").addressee
            == "معالي وزير المالية المحترم"
        )
        assert add_entity(
            s, "وزارة العمل", rank="secretary-general", title="أمين عام وزارة العمل", actor="tester"
        ).addressee == ("عطوفة أمين عام وزارة العمل المحترم")
        assert (
            add_entity(s, "السفارة", rank="excellency", title="سفير المملكة", actor="tester").addressee
            == "سعادة سفير المملكة المحترم"
        )
        assert (
            add_entity(s, "دائرة الإحصاءات العامة", actor="tester").addressee
            == "السادة دائرة الإحصاءات العامة المحترمين"
        )
    for kwargs, problem in (
        ({"rank": "minister"}, "title: a rank needs the official's title"),
        (
            {"rank": "king", "title": "x"},
            "rank: 'king' is not one of minister, secretary-general, director, excellency",
        ),
        ({"rank": "minister", "title": "x", "addressee": "y"}, "give either --addressee or --rank with --title"),
        ({"language": "fr"}, "language: 'fr' is not one of ar, en"),
    ):
        with session_scope() as s, pytest.raises(InvalidInputError, match=problem):
            add_entity(s, "جهة جديدة", **kwargs, actor="tester")  # type: ignore[arg-type]


def test_plan_settings_reach_the_letters(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        configure_plan(
            s,
            PlanSettings(
                digits="arabic-indic", copy_to=("الملف", " "), logo=PNG, signatory_name="د. سامية", letter_prefix="و ت"
            ),
            actor="tester",
        )
        register(s, "P-1")
        bring_to(s, "P-1", State.REFERRED)
    with session_scope() as s:
        letter = s.scalars(select(Letter)).one()
        assert letter.reference == "و ت/2021/0001"  # the register keeps Western digits
        body = texts(letter.content)
        assert body[0] == "الرقم:\tو ت/٢٠٢١/٠٠٠١"
        assert body[-4:] == ["د. سامية", "وزير التخطيط والتعاون الدولي", "نسخة إلى:", "- الملف"]
        document = docx.Document(io.BytesIO(letter.content))
        assert document.sections[0].first_page_header._element.findall(".//{*}drawing")
    with (
        session_scope() as s,
        pytest.raises(InvalidInputError, match="digits: 'roman' is not one of western, arabic-indic"),
    ):
        configure_plan(s, PlanSettings(digits="roman"), actor="tester")


def test_the_register_numbers_each_year_from_one(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "A", entities=("MODEE", "ROS"))
        register(s, "B")
        bring_to(s, "A", State.REFERRED)
        bring_to(s, "B", State.SHORTLISTED)
        move(s, "B", Event.REFER, now=dt.datetime(2022, 1, 2, 10, tzinfo=dt.UTC))
    with session_scope() as s:
        rows = [(x.year, x.number, x.reference) for x in letter_service.register(s)]
        assert rows == [(2021, 1, "ت ح/5/2021/0001"), (2021, 2, "ت ح/5/2021/0002"), (2022, 1, "ت ح/5/2022/0001")]
        assert [x.number for x in letter_service.register(s, 2022)] == [1]


def test_the_workspace_templates_setting_is_used_and_a_missing_folder_is_refused(
    session_scope: SessionFactory, tmp_path: Path
) -> None:
    export_defaults(tmp_path / "mine")
    edited = tmp_path / "mine" / "referral.ar.j2"
    edited.write_text(edited.read_text(encoding="utf-8").replace("أرجو التكرم بتسمية", "نرجو تسمية"), encoding="utf-8")
    with session_scope() as s:
        configure_plan(s, PlanSettings(templates_dir="mine"), actor="tester")
        register(s, "P-1")
        bring_to(s, "P-1", State.SHORTLISTED)
    with session_scope() as s:
        done = move(s, "P-1", Event.REFER, workspace_folder=tmp_path)
        assert "نرجو تسمية ضابط ارتباط" in " ".join(texts(done.letters[0].rendered.content))
    with session_scope() as s:
        configure_plan(s, PlanSettings(templates_dir="gone"), actor="tester")
        register(s, "P-2")
        bring_to(s, "P-2", State.SHORTLISTED)
    with (
        session_scope() as s,
        pytest.raises(WorkflowError, match=r"the templates folder .*gone, from the workspace's settings"),
    ):
        move(s, "P-2", Event.REFER, workspace_folder=tmp_path)


def test_export_refuses_to_overwrite_and_check_reports_each_broken_template(tmp_path: Path) -> None:
    written = export_defaults(tmp_path / "t")
    letters = [p.name for p in written if p.parent == tmp_path / "t"]
    assert sorted(letters) == sorted(
        f"{kind}.{lang}.j2"
        for kind in (
            "referral",
            "commitment",
            "acceptance",
            "referral_closed",
            "rejection",
            "invitation",
            "cancellation",
            "followup",
        )
        for lang in ("ar", "en")
    )
    # The published site's templates go to their own folder, beside the letters'.
    assert {p.parent for p in written} == {tmp_path / "t", tmp_path / "t" / "site"}
    assert (tmp_path / "t" / "site" / "words.ar.j2").is_file() and (tmp_path / "t" / "site" / "style.css").is_file()
    with pytest.raises(WorkflowError, match=r"already has acceptance\.ar\.j2"):
        export_defaults(tmp_path / "t")
    assert check(tmp_path / "t").errors == []
    (tmp_path / "t" / "rejection.en.j2").write_text(
        "{% block subject %}x{% endblock %}{% block body %}\n{{ reasn }}{% endblock %}"
    )
    (tmp_path / "t" / "commitment.ar.j2").write_text("{% block subject %}{% if %}{% endblock %}")
    (tmp_path / "t" / "referal.ar.j2").write_text("typo")
    report = check(tmp_path / "t")
    assert sorted(str(e) for e in report.errors) == [
        "template commitment.ar.j2, line 1: Expected an expression, got 'end of statement block'",
        "template rejection.en.j2, line 2: UndefinedError: 'reasn' is undefined",
    ]
    assert report.unknown == ["referal.ar.j2"]
    assert len(report.checked) == 16 + 15  # the letters', and the site's templates (its stylesheet is not one)


def test_a_broken_template_for_one_recipient_stops_the_whole_move(
    session_scope: SessionFactory, tmp_path: Path
) -> None:
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "rejection.ar.j2").write_text(
        "{% block subject %}x{% endblock %}{% block body %}{{ 1 // 0 }}{% endblock %}"
    )
    with session_scope() as s:
        register(s, "P-1")
        bring_to(s, "P-1", State.REFERRED)
    with (
        session_scope() as s,
        pytest.raises(DocumentError, match="could not write the rejection letter for proposal P-1"),
    ):
        move(s, "P-1", Event.REJECT, reason="x", templates_dir=folder)
    assert [kind for kind, _, _ in stored(session_scope)] == ["referral"]


def test_verify_finds_altered_files_and_stored_letters(session_scope: SessionFactory, tmp_path: Path) -> None:
    with session_scope() as s:
        register(s, "P-1", entities=("MODEE", "ROS"))
        bring_to(s, "P-1", State.REFERRED)
        letters = letter_service.list_letters(s)
        own, exported = tmp_path / "letters", tmp_path / "out"
        letter_service.write_files(own, [(x.file_name, x.content) for x in letters])
        letter_service.write_files(exported, [(letters[0].file_name, letters[0].content)])
        names = [x.file_name for x in letters]
        letters_bytes = [x.content for x in letters]
    with session_scope() as s:
        result = letter_service.verify(s, [own, exported], expect_all=[own])
        assert result.ok
        assert [(len(f.matching), f.missing) for f in result.folders] == [(2, []), (1, [])]
    # A byte changed inside a part's deflate stream (a disk error, a careless edit): zipfile raised
    # zlib.error there, a traceback; it is an altered letter like any other.
    damaged = bytearray((own / names[0]).read_bytes())
    inside = damaged.index(b"word/document.xml") + len(b"word/document.xml") + 40
    damaged[inside] ^= 0xFF
    (own / names[0]).write_bytes(bytes(damaged))
    with session_scope() as s:
        assert letter_service.verify(s, [own], expect_all=[own]).folders[0].altered == [names[0]]
    (own / names[0]).write_bytes(letters_bytes[0])
    (own / names[1]).write_bytes(b"edited after signing")
    (exported / names[0]).unlink()
    (exported / "notes.docx").write_bytes(b"x")
    with session_scope() as s:
        result = letter_service.verify(s, [own, exported], expect_all=[own])
        assert not result.ok
        assert result.folders[0].altered == [names[1]]
        assert (result.folders[1].matching, result.folders[1].unknown, result.folders[1].missing) == (
            [],
            ["notes.docx"],
            [],
        )
    (own / names[1]).unlink()
    with session_scope() as s:
        result = letter_service.verify(s, [own], expect_all=[own])
        assert result.ok and result.folders[0].missing == [names[1]]
        s.execute(text("UPDATE letters SET content = :c WHERE id = 1"), {"c": b"forged"})
    with session_scope() as s:
        result = letter_service.verify(s, [], expect_all=[])
        assert result.bad_stored == [f"ت ح/5/2021/0001 ({names[0]}): its bytes are not those registered"]


def test_stored_letters_are_written_back_byte_for_byte_and_a_name_not_in_the_register_is_refused(
    session_scope: SessionFactory, tmp_path: Path
) -> None:
    """What a batch writes after its commit (`write_stored`): each letter's stored bytes, in the
    order named; a name the register does not hold stops it with NotFoundError, never silently."""
    with session_scope() as s:
        register(s, "P-1", entities=("MODEE", "ROS"))
        bring_to(s, "P-1", State.REFERRED)
    with session_scope() as s:
        stored = {letter.file_name: letter.content for letter in s.scalars(select(Letter).order_by(Letter.id.desc()))}
        names = list(stored)
        paths = letter_service.write_stored(s, tmp_path / "out", names)
        assert [path.name for path in paths] == names
        assert all(path.read_bytes() == stored[path.name] for path in paths)
        with pytest.raises(WorkflowError, match=r"nope\.docx \(not in the register\)"):
            letter_service.write_stored(s, tmp_path / "again", [names[0], "nope.docx"])
        assert [path.name for path in (tmp_path / "again").iterdir()] == [names[0]]
