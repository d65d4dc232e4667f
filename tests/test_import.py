"""Importing proposals from CSV and JSON: all or nothing, every bad row reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from states import State
from tests.conftest import SessionFactory
from tests.helpers import NOW, register
from workflow.errors import ImportFileError
from workflow.importer import import_proposals
from workflow.listing import ENTITIES, PROPOSAL_ENTITIES, PROPOSALS, ProposalFilter, proposal_listing
from workflow.models import AuditEntry, Base, Proposal
from workflow.proposals import get_proposal, list_proposals
from workflow.views import proposal_view

HEADER = "ref,title,organization,email,problem,solution,values,entities,submitted_on\r\n"


def write(path: Path, text: str, *, bom: bool = False) -> Path:
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def stored(session_scope: SessionFactory) -> tuple[int, int]:
    with session_scope() as s:
        about_proposals = select(func.count(AuditEntry.seq)).where(AuditEntry.proposal_id.is_not(None))
        return (s.scalar(select(func.count(Proposal.id))) or 0, s.scalar(about_proposals) or 0)


def test_an_excel_csv_with_bom_arabic_quotes_and_newlines_imports(
    session_scope: SessionFactory, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "proposals.csv",
        HEADER
        + 'A-1,"منصة ""البيانات"" المفتوحة",مركز الشفافية الأردني,a@example.org,"سطر أول\r\nسطر ثان",حل,'
        + "access_to_information;المسائلة,MODEE;سجل الجمعيات,28/7/2021\r\n"
        + "A-2,Open contracting,Jordan Economic Forum,,,,,,2021-06-01\r\n"
        + ",,,,,,,,\r\n",  # an empty row, as Excel leaves at the end
        bom=True,
    )
    with session_scope() as s:
        assert import_proposals(s, path, actor="tester", now=NOW) == ["A-1", "A-2"]
    with session_scope() as s:
        first = get_proposal(s, "A-1")
        assert first.title == 'منصة "البيانات" المفتوحة'
        assert first.problem == "سطر أول\r\nسطر ثان"
        assert first.values == ["access_to_information", "accountability"]
        assert [e.code for e in first.entities] == ["MODEE", "ROS"]
        assert first.submitted_on.isoformat() == "2021-07-28"
    assert stored(session_scope) == (2, 2)


def test_json_imports_with_arrays(session_scope: SessionFactory, tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(
        json.dumps(
            [{"title": "بوابة المعلومات", "organization": "مركز", "values": ["المشاركة الشعبية"], "entities": ["moh"]}],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    with session_scope() as s:
        assert import_proposals(s, path, actor="tester", now=NOW) == ["P-001"]
        only = get_proposal(s, "P-001")
        assert (only.ref, only.values, [e.code for e in only.entities]) == ("P-001", ["public_participation"], ["MOH"])


def test_every_bad_row_is_reported_and_nothing_is_imported(session_scope: SessionFactory, tmp_path: Path) -> None:
    with session_scope() as s:
        register(s, "OLD-1")
    before = stored(session_scope)
    path = write(
        tmp_path / "bad.csv",
        HEADER
        + "N-1,Good row,Org,,,,,MODEE,2021-06-01\n"
        + "N-1,Same ref again,Org,,,,,,\n"
        + "old-1,Ref already stored,Org,,,,,,\n"
        + ',,Org,not-mail,"multi\nline",,transparency,وزارة المالية,2021-02-30\n'
        + "N-5,Future,Org,,,,,,2999-01-01\n"
        + "N-6,Too,many,cells,,,,,,,\n",
    )
    with session_scope() as s, pytest.raises(ImportFileError) as refused:
        import_proposals(s, path, actor="tester", now=NOW)
    assert [str(p) for p in refused.value.problems] == [
        "line 3, column 'ref': duplicate ref 'N-1' (also at line 2)",
        "line 4, column 'ref': 'old-1' is already used by another proposal",
        "line 5, column 'title': is required",
        "line 5, column 'email': 'not-mail' is not an e-mail address",
        "line 5, column 'values': unknown OGP value 'transparency' (known: access_to_information (إتاحة الوصول إلى المعلومات), accountability (المساءلة), public_participation (المشاركة الشعبية), technology_innovation (الانفتاح على التكنولوجيا والابتكار))",
        "line 5, column 'entities': unknown government body 'وزارة المالية' (register it with 'ogp entity add')",
        "line 5, column 'submitted_on': '2021-02-30' is not a real date (day is out of range for month)",
        "line 7, column 'submitted_on': 2999-01-01 is outside the supported dates (1924-08-01 to 2077-11-16, the Umm al-Qura calendar letters are dated in)",
        "line 8: has 11 cells but the header names 9 columns",
    ]
    assert str(refused.value).startswith(f"{path}: 9 problems, nothing was imported:\n  line 3, column 'ref'")
    assert stored(session_scope) == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b"title,organisation\nx,y\n",
            [
                "line 1, column 'organisation': unknown column (known: ref, title, organization, email, problem, solution, values, entities, submitted_on, language, state, lead)",
                "line 1, column 'organization': required column is missing",
            ],
        ),
        (
            b"title,organization,title\nx,y,z\n",
            ["line 1, column 3 ('title'): the column appears more than once (also column 1)"],
        ),
        (
            b"title,organization\n\xd9\x85\xff\n",
            ["line 2: not UTF-8 (byte 0xff at offset 21); save the file as 'CSV UTF-8' or UTF-8 JSON"],
        ),
        (b"", ["line 1: the file is empty"]),
        (b"title,organization\n", ["line 1: the file holds no proposals"]),
    ],
)
def test_malformed_csv_files_are_refused_with_reasons(
    session_scope: SessionFactory, tmp_path: Path, content: bytes, expected: list[str]
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    with session_scope() as s, pytest.raises(ImportFileError) as refused:
        import_proposals(s, path, actor="tester", now=NOW)
    assert [str(p) for p in refused.value.problems] == expected
    assert stored(session_scope) == (0, 0)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            '[{"title": "a", "title": "b", "organization": "o"}]',
            ["item 1, column 'title': is given twice in this item (keys must be unique)"],
        ),
        (
            '[{"title": "a", "organization": "o", "values": "accountability"}]',
            ["item 1, column 'values': must be an array of strings"],
        ),
        (
            '[{"title": 5, "organization": "o", "colour": "x"}, 7]',
            [
                "item 1, column 'colour': unknown key (known: ref, title, organization, email, problem, solution, values, entities, submitted_on, language, state, lead)",
                "item 1, column 'title': must be a string, not a number",
                "item 2: must be a JSON object",
            ],
        ),
        ('{"title": "a"}', ["file: must be a JSON array of objects, one a row"]),
        ('[{"title": "a",', ["line 1: not valid JSON: Expecting property name enclosed in double quotes (character 16)"]),
    ],
)
def test_malformed_json_files_are_refused_with_reasons(
    session_scope: SessionFactory, tmp_path: Path, content: str, expected: list[str]
) -> None:
    path = tmp_path / "f.json"
    path.write_text(content, encoding="utf-8")
    with session_scope() as s, pytest.raises(ImportFileError) as refused:
        import_proposals(s, path, actor="tester", now=NOW)
    assert [str(p) for p in refused.value.problems] == expected
    assert stored(session_scope) == (0, 0)


def test_the_listing_reads_in_plain_queries_what_the_objects_say(session_scope: SessionFactory, tmp_path: Path) -> None:
    """`ogp proposal list` reads columns, not objects (issue 13); for every filter it must show
    what `views.proposal_view` makes of the proposals `list_proposals` finds."""
    path = tmp_path / "p.csv"
    path.write_text(
        HEADER
        + "A-1,منصة البيانات,مركز الشفافية,,صعوبة الوصول,نشر,access_to_information,MODEE;ROS,2021-06-20\r\n"
        + "A-2,بوابة المشاركة,جمعية,,,,public_participation,ROS,2021-06-21\r\n"
        + "A-3,فكرة ثالثة,مركز الشفافيه,,,,accountability;access_to_information,,2021-06-22\r\n",
        encoding="utf-8",
    )
    with session_scope() as s:
        import_proposals(s, path, actor="tester", now=NOW)
        register(s, "A-4")
    filters = [
        ProposalFilter(include_discarded=True),
        ProposalFilter(state=State.SUBMITTED),
        ProposalFilter(search="الوصول"),
        ProposalFilter(entity="ROS"),
        ProposalFilter(value="access_to_information"),
        ProposalFilter(org="مركز الشفافية"),
        ProposalFilter(state=State.INTERVIEWED),
        ProposalFilter(state=State.SUBMITTED, entity="modee", search="منصه"),
        ProposalFilter(value="accountability", org="مركز الشفافيه", search="a-3"),
    ]
    with session_scope() as s:
        read = s.connection()
        for where in filters:
            assert proposal_listing(read, where) == [proposal_view(p) for p in list_proposals(s, where=where)], where
        assert [p["ref"] for p in proposal_listing(read, ProposalFilter(org="مركز الشفافية"))] == ["A-1", "A-3"]
        assert proposal_listing(read, ProposalFilter())[0]["entities"] == ["MODEE", "ROS"]
        narrowed = [p["ref"] for p in proposal_listing(read, filters[-2])]  # MODEE's, submitted, a platform
        assert "A-1" in narrowed and not {"A-2", "A-3"} & set(narrowed), narrowed
        assert [p["ref"] for p in proposal_listing(read, filters[-1])] == ["A-3"]


def test_the_listing_reads_columns_the_models_hold() -> None:
    """workflow/listing.py names the columns it reads without the models: each must be a column
    of the models' table, of the same kind (a state is text, as its Enum stores it)."""
    for light in (PROPOSALS, ENTITIES, PROPOSAL_ENTITIES):
        table = Base.metadata.tables[light.name]
        for column in light.c:
            assert column.name in table.c, f"{light.name}.{column.name}"
            assert isinstance(table.c[column.name].type, type(column.type)), f"{light.name}.{column.name}"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        # A value's kind is named in JSON's words, never by a Python class.
        ('[{"title": "a", "organization": "o", "problem": {"a": 1}}]', ["item 1, column 'problem': must be a string, not an object"]),
        ('[{"title": "a", "organization": "o", "email": true}]', ["item 1, column 'email': must be a string, not true/false"]),
        # A number far too long to read is named like any other number, not with Python's advice.
        ('[{"title": "a", "organization": "o", "submitted_on": ' + "9" * 5000 + "}]",
         ["item 1, column 'submitted_on': must be a string, not a number"]),
        # null is an empty cell, for a list as for text.
        ('[{"title": "a", "organization": "o", "values": null, "problem": null}]', []),
        # Each row's problems in the order of the file's columns, each cell once.
        ('[{"entities": 5, "values": "x", "title": 7}]', [
            "item 1, column 'title': must be a string, not a number",
            "item 1, column 'organization': is required",
            "item 1, column 'values': must be an array of strings",
            "item 1, column 'entities': must be an array of strings",
        ]),
    ],
)
def test_json_cells_of_the_wrong_kind_are_named_once_in_json_words(
    session_scope: SessionFactory, tmp_path: Path, content: str, expected: list[str]
) -> None:
    path = tmp_path / "f.json"
    path.write_text(content, encoding="utf-8")
    with session_scope() as s:
        if not expected:
            assert import_proposals(s, path, actor="tester", now=NOW) == ["P-001"]
            return
        with pytest.raises(ImportFileError) as refused:
            import_proposals(s, path, actor="tester", now=NOW)
    assert [str(p) for p in refused.value.problems] == expected
    assert stored(session_scope) == (0, 0)
