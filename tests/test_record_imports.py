"""Recording interviews and the bodies' responses from a file (`ogp interview import`, `ogp response
import`): each row as its recorded step, all or nothing, every bad row named by line and column."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from cli import cli
from states import Event, State
from tests.conftest import SessionFactory
from tests.helpers import NOW, bring_to, dump_tables, move, register
from workflow import importer, interviews, replay
from workflow.db import Workspace
from workflow.errors import ImportFileError
from workflow.importer import import_interviews, import_responses, parse_agreed
from workflow.members import add_member
from workflow.models import AuditEntry, Response
from workflow.proposals import find_proposals

LONG = "س" * 20_001
MEMBERS = ("ندى خاطر", "Suhaib Odeh")


def write(path: Path, text: str, *, bom: bool = False) -> Path:
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def url_of(workspace: Workspace) -> str:
    return workspace.url.render_as_string(hide_password=False)


def problems_of(raised: pytest.ExceptionInfo[ImportFileError]) -> list[str]:
    return [str(problem) for problem in raised.value.problems]


def entries(session_scope: SessionFactory, event: str) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count(AuditEntry.seq)).where(AuditEntry.event == event)) or 0


@pytest.fixture
def proposals(session_scope: SessionFactory) -> None:
    """P-1 … P-3 submitted (on 2021-06-20), P-9 withdrawn; two members."""
    with session_scope() as s:
        for ref in ("P-1", "P-2", "P-3", "P-9"):
            register(s, ref)
        for name in MEMBERS:
            add_member(s, name, "جهة محايدة", "government", actor="tester")
        move(s, "P-9", Event.WITHDRAW, reason="سحبت الجهة الفكرة")


@pytest.fixture
def referred(session_scope: SessionFactory) -> None:
    """R-1 referred to MODEE, R-2 to MODEE and ROS; S-1 still submitted."""
    with session_scope() as s:
        register(s, "R-1")
        register(s, "R-2", entities=("MODEE", "ROS"))
        register(s, "S-1")
        bring_to(s, "R-1", State.REFERRED)
        bring_to(s, "R-2", State.REFERRED)


# --- interviews ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("proposals")
def test_an_excel_csv_of_interviews_records_every_row_and_the_chain_verifies(
    session_scope: SessionFactory, tmp_path: Path, runner: CliRunner
) -> None:
    path = write(
        tmp_path / "interviews.csv",
        "ref,held_on,platform,members,notes,needs,plans,solves,,\r\n"
        + 'p-1,2021-07-01,Zoom,ندى خاطر;Suhaib Odeh,"سطر أول\r\nسطر ثان",تمويل,الخطة الوطنية,يسهل الوصول,,\r\n'
        + "#2,٢٨/٧/٢٠٢١,,,,,,,,\r\n"
        + ",,,,,,,,,\r\n",  # the empty row Excel leaves at the end
        bom=True,
    )
    counted: list[int] = []
    with session_scope() as s:
        recorded = import_interviews(s, path, actor="tester", now=NOW, progress=counted.append)
        assert [(i.proposal.ref, i.held_on.isoformat()) for i in recorded] == [
            ("P-1", "2021-07-01"),
            ("P-2", "2021-07-28"),
        ]
        first = recorded[0]
        assert (first.platform, first.notes, first.needs, first.plans, first.solves) == (
            "Zoom", "سطر أول\r\nسطر ثان", "تمويل", "الخطة الوطنية", "يسهل الوصول",
        )  # fmt: skip
        assert sorted(m.member.name for m in first.members) == sorted(MEMBERS)
        assert recorded[1].members == []
    assert sum(counted) == 2
    assert entries(session_scope, "record_interview") == 2
    with session_scope() as s:
        replay.verify(s)
    verified = runner.invoke(cli, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output


@pytest.mark.usefixtures("proposals")
def test_a_json_file_of_interviews_records_every_item(session_scope: SessionFactory, tmp_path: Path) -> None:
    items = [
        {"ref": "P-1", "held_on": "1/7/2021", "members": ["ندى خاطر"], "platform": "Teams", "notes": None},
        {"ref": "P-3", "held_on": "2021-07-02", "members": [], "needs": "بيانات"},
    ]
    path = tmp_path / "interviews.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    with session_scope() as s:
        recorded = import_interviews(s, path, actor="tester", now=NOW)
        assert [(i.proposal.ref, i.platform, i.needs) for i in recorded] == [
            ("P-1", "Teams", ""),
            ("P-3", "", "بيانات"),
        ]
        assert [m.member.name for m in recorded[0].members] == ["ندى خاطر"]
    with session_scope() as s:
        assert replay.verify(s).entries == s.scalar(select(func.max(AuditEntry.seq)))


@pytest.mark.usefixtures("proposals")
def test_a_semicolon_delimited_csv_of_interviews_imports(session_scope: SessionFactory, tmp_path: Path) -> None:
    path = write(tmp_path / "interviews.csv", 'ref;held_on;members;platform\r\nP-1;01.07.2021;"ندى خاطر;#2";Zoom\r\n')
    with session_scope() as s:
        (only,) = import_interviews(s, path, actor="tester", now=NOW)
        assert sorted(m.member.name for m in only.members) == sorted(MEMBERS)
        assert only.platform == "Zoom"


@pytest.mark.usefixtures("proposals")
def test_every_bad_interview_row_is_named_and_nothing_is_recorded(
    session_scope: SessionFactory, workspace: Workspace, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "bad.csv",
        "ref,held_on,platform,members,notes\n"
        + "P-1,2021-07-01,Zoom,ندى خاطر,\n"  # good, and named again below
        + "NOPE,2021-07-01,,,\n"
        + "P-9,2021-07-01,,,\n"
        + "P-2,2021-02-30,,نور,\n"
        + "P-3,2021-07-29,,,\n"
        + "P-1,2021-06-01,,,\n"
        + f",,{'x' * 501},,{LONG}\n",
    )
    before = dump_tables(url_of(workspace))
    with pytest.raises(ImportFileError) as raised, session_scope() as s:
        import_interviews(s, path, actor="tester", now=NOW)
    assert problems_of(raised) == [
        "line 3, column 'ref': no proposal 'NOPE'",
        "line 4, column 'ref': Cannot record an interview for proposal P-9: it is 'withdrawn'; this is done only while it is submitted or interviewed",
        "line 5, column 'held_on': '2021-02-30' is not a real date (day is out of range for month)",
        "line 5, column 'members': unknown member 'نور' (add them with 'ogp member add')",
        "line 6, column 'held_on': 2021-07-29 is in the future; record an interview once it has taken place",
        "line 7, column 'ref': proposal P-1 is named twice (also at line 2)",
        "line 7, column 'held_on': 2021-06-01 is before the proposal was submitted (2021-06-20)",
        "line 8, column 'ref': is required",
        "line 8, column 'held_on': is required",
        "line 8, column 'platform': is 501 characters long; at most 500 are allowed",
        "line 8, column 'notes': is 20001 characters long; at most 20000 are allowed",
    ]
    assert "11 problems, nothing was imported" in str(raised.value)
    assert dump_tables(url_of(workspace)) == before


@pytest.mark.usefixtures("proposals")
def test_bad_json_items_are_named_by_item(session_scope: SessionFactory, tmp_path: Path) -> None:
    items: list[Any] = [
        {"ref": "P-1", "held_on": "2021-07-01", "members": "ندى خاطر"},
        {"ref": "P-2", "held_on": 20210701},
        "P-3",
        {"ref": "P-3", "held_on": "2021-07-01", "when": "today"},
    ]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ImportFileError) as raised, session_scope() as s:
        import_interviews(s, path, actor="tester", now=NOW)
    assert problems_of(raised) == [
        "item 1, column 'members': must be an array of strings",
        "item 2, column 'held_on': must be a string, not a number",
        "item 3: must be a JSON object",
        "item 4, column 'when': unknown key (known: ref, held_on, platform, members, notes, needs, plans, solves)",
    ]
    assert entries(session_scope, "record_interview") == 0


@pytest.mark.usefixtures("proposals")
@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("interviews.csv", "ref,held_on\r\n", "line 1: the file holds no interviews"),
        ("interviews.csv", "", "line 1: the file is empty"),
        ("interviews.json", "[]", "line 1: the file holds no interviews"),
        ("interviews.csv", "ref,platform\r\nP-1,Zoom\r\n", "line 1, column 'held_on': required column is missing"),
    ],
)
def test_an_empty_file_or_one_without_a_required_column_is_refused(
    session_scope: SessionFactory, tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = write(tmp_path / name, text)
    with pytest.raises(ImportFileError) as raised, session_scope() as s:
        import_interviews(s, path, actor="tester", now=NOW)
    assert problems_of(raised) == [expected]


@pytest.mark.usefixtures("proposals")
def test_a_failure_while_writing_in_bulk_leaves_nothing_once_the_caller_rolls_back(
    session_scope: SessionFactory, workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interviews are written in bulk after every row is checked: if the database refuses
    part way (the first rows written, the chain not yet appended), the transaction is the unit."""
    recorded = interviews.record_interviews

    def fail_after_writing(session: Any, *args: Any, **kwargs: Any) -> list[int]:
        recorded(session, *args, **kwargs)
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(importer, "record_interviews", fail_after_writing)
    path = write(tmp_path / "interviews.csv", "ref,held_on,platform\nP-1,2021-07-01,Zoom\nP-2,2021-07-01,Zoom\n")
    before = dump_tables(url_of(workspace))
    with pytest.raises(OperationalError), session_scope() as s:
        import_interviews(s, path, actor="tester", now=NOW)
    assert dump_tables(url_of(workspace)) == before


# --- responses -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("referred")
def test_a_csv_of_responses_records_every_row_and_the_chain_verifies(
    session_scope: SessionFactory, tmp_path: Path, runner: CliRunner
) -> None:
    path = write(
        tmp_path / "responses.csv",
        "ref,entity,agreed,responded_on,note\r\n"
        + "R-1,modee,Yes,2021-07-28,ستتبنى الوزارة الفكرة\r\n"
        + "R-2,سجل الجمعيات,لا,٢٨/٧/٢٠٢١,\r\n"
        + "r-2,MODEE,1,,\r\n",  # no date: the day of the import
        bom=True,
    )
    counted: list[int] = []
    with session_scope() as s:
        recorded = import_responses(s, path, actor="tester", now=NOW, progress=counted.append)
        assert [(r.entity.code, r.agreed, r.responded_on.isoformat(), r.note) for r in recorded] == [
            ("MODEE", True, "2021-07-28", "ستتبنى الوزارة الفكرة"),
            ("ROS", False, "2021-07-28", ""),
            ("MODEE", True, NOW.astimezone().date().isoformat(), ""),
        ]
    assert sum(counted) == 3
    assert entries(session_scope, "response") == 3
    with session_scope() as s:
        replay.verify(s)
        assert s.scalar(select(func.count(Response.id))) == 3
    verified = runner.invoke(cli, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output


@pytest.mark.usefixtures("referred")
def test_a_json_file_of_responses_takes_booleans(session_scope: SessionFactory, tmp_path: Path) -> None:
    items = [
        {"ref": "R-1", "entity": "MODEE", "agreed": True, "responded_on": "2021-07-28"},
        {"ref": "R-2", "entity": "ROS", "agreed": False, "responded_on": "2021-07-28", "note": "خارج الاختصاص"},
        {"ref": "R-2", "entity": "MODEE", "agreed": 0, "responded_on": "2021-07-28"},
    ]
    path = tmp_path / "responses.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    with session_scope() as s:
        recorded = import_responses(s, path, actor="tester", now=NOW)
        assert [(r.entity.code, r.agreed, r.note) for r in recorded] == [
            ("MODEE", True, ""), ("ROS", False, "خارج الاختصاص"), ("MODEE", False, ""),
        ]  # fmt: skip
    with session_scope() as s:
        replay.verify(s)


@pytest.mark.usefixtures("referred")
def test_a_semicolon_delimited_csv_of_responses_imports(session_scope: SessionFactory, tmp_path: Path) -> None:
    path = write(tmp_path / "responses.csv", "ref;entity;agreed;responded_on\r\nR-1;MODEE;نعم;28/7/2021\r\n")
    with session_scope() as s:
        (only,) = import_responses(s, path, actor="tester", now=NOW)
        assert (only.entity.code, only.agreed) == ("MODEE", True)


@pytest.mark.usefixtures("referred")
def test_every_bad_response_row_is_named_and_nothing_is_recorded(
    session_scope: SessionFactory, workspace: Workspace, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "bad.csv",
        "ref,entity,agreed,responded_on,note\n"
        + "R-1,MODEE,yes,2021-07-28,\n"  # good, and given again below
        + "NOPE,MODEE,yes,,\n"
        + "S-1,MODEE,yes,,\n"
        + "R-1,وزارة المالية,maybe,2021-13-01,\n"
        + "R-1,MOH,,2021-07-29,\n"
        + "R-2,ROS,no,2021-06-01,\n"
        + f"R-1,modee,no,,{'x' * 2001}\n"
        + ",,,,اتصال هاتفي\n"
        + "R-2,MODEE,no\n",  # fewer cells than the header: the rest are blank
    )
    before = dump_tables(url_of(workspace))
    with pytest.raises(ImportFileError) as raised, session_scope() as s:
        import_responses(s, path, actor="tester", now=NOW)
    assert problems_of(raised) == [
        "line 3, column 'ref': no proposal 'NOPE'",
        "line 4, column 'ref': Cannot record a response for proposal S-1: it is 'submitted'; this is done only while it is referred",
        "line 4, column 'entity': no referral letter went to وزارة الاقتصاد الرقمي والريادة (none went out for proposal S-1)",
        "line 5, column 'entity': unknown government body 'وزارة المالية' (register it with 'ogp entity add')",
        "line 5, column 'agreed': 'maybe' is neither yes nor no (use yes/no, true/false, 1/0 or نعم/لا)",
        "line 5, column 'responded_on': '2021-13-01' is not a real date (month must be in 1..12)",
        "line 6, column 'entity': no referral letter went to وزارة الصحة (it went to: MODEE)",
        "line 6, column 'agreed': is required (yes or no)",
        "line 6, column 'responded_on': 2021-07-29 is in the future",
        "line 7, column 'responded_on': 2021-06-01 is before the proposal was submitted (2021-06-20)",
        "line 8, column 'note': is 2001 characters long; at most 2000 are allowed",
        "line 8: the answer of MODEE on proposal R-1 is given twice (also at line 2)",
        "line 9, column 'ref': is required",
        "line 9, column 'entity': is required",
        "line 9, column 'agreed': is required (yes or no)",
    ]
    assert dump_tables(url_of(workspace)) == before


@pytest.mark.usefixtures("referred")
def test_an_empty_responses_file_is_refused(session_scope: SessionFactory, tmp_path: Path) -> None:
    path = write(tmp_path / "responses.csv", "ref,entity,agreed\r\n,,\r\n")
    with pytest.raises(ImportFileError) as raised, session_scope() as s:
        import_responses(s, path, actor="tester", now=NOW)
    assert problems_of(raised) == ["line 1: the file holds no responses"]


@pytest.mark.parametrize(
    ("typed", "agreed"),
    [("yes", True), ("Y", True), ("TRUE", True), ("1", True), ("١", True), ("agreed", True), ("نعم", True),
     ("موافق", True), ("no", False), ("N", False), ("False", False), ("0", False), ("declined", False), ("لا", False),
     (" غير  موافق ", False)],
)  # fmt: skip
def test_the_documented_answers_are_read(typed: str, agreed: bool) -> None:
    assert parse_agreed(typed) is agreed


# --- looking proposals up in bulk ------------------------------------------------------------------


def test_proposals_are_found_in_bulk_by_the_rule_of_get_proposal(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        ids = {p.ref: p.id for p in (register(s, "A-1"), register(s, "B-2"), register(s, "1"))}
        keys = ["a-1", "1", f"#{ids['A-1']}", str(ids["B-2"]), f"#{ids['1']}", "\u200fB-2", "#", "nope", "99"]
        found = find_proposals(s, keys)
        # A bare 1 is the proposal whose ref is 1; #N and a bare number no ref has are row numbers.
        assert {key: p.ref for key, p in found.items()} == {
            "a-1": "A-1", "1": "1", f"#{ids['A-1']}": "A-1", str(ids["B-2"]): "B-2", f"#{ids['1']}": "1",
            "\u200fB-2": "B-2",
        }  # fmt: skip
