"""Import files as Excel really writes them (workflow/spreadsheets.py): the same reading and the
same messages for the proposal and the score importer."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from tests.helpers import dump_tables
from workflow.db import Workspace
from workflow.demo import PROPOSALS as DEMO_PROPOSALS
from workflow.importer import PROPOSALS, SCORES
from workflow.spreadsheets import read_rows

ARABIC_ROW = ("P-1", "بوابة المشاركة", "جمعية المثال", "24/6/2021")
HEADER = ("ref", "title", "organization", "submitted_on")


def rows_of(path: Path, spec=PROPOSALS) -> tuple[list[dict[str, object]], list[str]]:  # type: ignore[no-untyped-def]
    rows, problems = read_rows(path, spec)
    return [row for _, row in rows], [str(p) for p in problems]


def write(tmp_path: Path, content: bytes, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


EXPECTED = {"ref": "P-1", "title": "بوابة المشاركة", "organization": "جمعية المثال", "submitted_on": "24/6/2021"}


@pytest.mark.parametrize(
    ("delimiter", "encoding", "prefix"),
    [
        (",", "utf-8", b""),
        (",", "utf-8-sig", b""),
        (";", "utf-8-sig", b""),  # Excel where the decimal separator is a comma
        ("\t", "utf-16", b""),  # Excel's "Unicode Text": UTF-16 with a BOM, tab between cells
        (";", "utf-8", b"sep=;\r\n"),  # Excel's own way to name the delimiter
        ("\t", "utf-16-le", b""),  # UTF-16 without a BOM, Latin letters only below
    ],
)
def test_delimiters_and_encodings_excel_writes_are_read(
    tmp_path: Path, delimiter: str, encoding: str, prefix: bytes
) -> None:
    row = ("P-1", "Participation portal", "Example Society", "24/6/2021") if encoding == "utf-16-le" else ARABIC_ROW
    text = "\r\n".join(delimiter.join(cells) for cells in (HEADER, row)) + "\r\n"
    path = write(tmp_path, prefix + text.encode(encoding))
    rows, problems = rows_of(path)
    assert problems == []
    assert rows == [dict(zip(HEADER, row, strict=True))]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_arabic_text_in_utf16_without_a_bom_is_read(tmp_path: Path, encoding: str, delimiter: str) -> None:
    """Mostly Arabic, so most high bytes are 0x06, not zero: the real proposals file of the tests."""
    original = (Path(__file__).parent / "data" / "proposals.csv").read_text(encoding="utf-8-sig")
    path = write(tmp_path, original.replace(",", delimiter).encode(encoding))
    expected = rows_of(write(tmp_path, original.encode("utf-8"), "utf8.csv"))
    assert expected[1] == [] and len(expected[0]) >= 3
    assert rows_of(path) == expected


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_arabic_prose_in_utf16_without_a_bom_is_read(tmp_path: Path, encoding: str) -> None:
    """Rows of Arabic prose only (about one character in six is ASCII: spaces, commas, line ends)."""
    rows = [("title", "organization", "problem", "solution")]
    rows += [(title, org, problem, solution) for _ref, title, org, problem, solution, *_rest in DEMO_PROPOSALS]
    text = "\r\n".join(",".join(cells) for cells in rows) + "\r\n"
    assert sum(char.isascii() for char in text) < 0.2 * len(text)
    expected = rows_of(write(tmp_path, text.encode("utf-8"), "utf8.csv"))
    assert expected[1] == [] and len(expected[0]) == len(DEMO_PROPOSALS)
    assert rows_of(write(tmp_path, text.encode(encoding))) == expected


def test_nul_characters_in_utf8_are_not_taken_for_utf16(tmp_path: Path) -> None:
    text = "\r\n".join(",".join(cells) for cells in (HEADER, ARABIC_ROW)) + "\r\n"
    rows, _problems = rows_of(write(tmp_path, text.replace("P-1", "P\x00-1").encode("utf-8")))
    assert rows and rows[0]["title"] == "بوابة المشاركة"  # read as UTF-8: the NUL is the cell's own problem


def test_windows_1256_is_named_with_how_to_save_as_utf8(tmp_path: Path) -> None:
    text = "\r\n".join(",".join(cells) for cells in (HEADER, ARABIC_ROW)) + "\r\n"
    path = write(tmp_path, text.encode("cp1256"))
    assert rows_of(path) == (
        [],
        [
            "line 2: not UTF-8 (byte 0xc8 at offset 41): it looks like Windows-1256 (Arabic Windows) text; in Excel "
            "choose File › Save As › 'CSV UTF-8 (Comma delimited)'"
        ],
    )


def test_empty_trailing_header_columns_are_ignored_and_named_by_number_when_they_hold_data(tmp_path: Path) -> None:
    ok = write(tmp_path, ("ref,title,organization,submitted_on,,\r\n" + "P-1,t,o,24/6/2021,,\r\n").encode())
    assert rows_of(ok) == ([{"ref": "P-1", "title": "t", "organization": "o", "submitted_on": "24/6/2021"}], [])
    bad = write(tmp_path, (b"ref,title,,organization,\r\nP-1,t,x,o,\r\nP-2,t,,o,y\r\n"), "bad.csv")
    assert rows_of(bad)[1] == [
        "line 1, column 3: has no name in the header, but line 2 has a value in it; name the column or delete it",
        "line 1, column 5: has no name in the header, but line 3 has a value in it; name the column or delete it",
    ]


def test_duplicate_header_cells_are_named_by_column_number(tmp_path: Path) -> None:
    path = write(tmp_path, b"title,organization,Title,organization\r\nx,y,z,w\r\n")
    assert rows_of(path)[1] == [
        "line 1, column 3 ('title'): the column appears more than once (also column 1)",
        "line 1, column 4 ('organization'): the column appears more than once (also column 2)",
    ]


def test_the_score_importer_reads_and_refuses_the_same_way(tmp_path: Path) -> None:
    path = write(tmp_path, "proposal;member;criterion;value;;\r\nP-1;ندى;importance;٤;;\r\n".encode("utf-8-sig"))
    assert rows_of(path, SCORES) == (
        [{"proposal": "P-1", "member": "ندى", "criterion": "importance", "value": "٤"}],
        [],
    )
    bad = write(tmp_path, b"proposal,member,member,value,\r\nP-1,a,b,1,x\r\n", "bad.csv")
    assert rows_of(bad, SCORES)[1] == [
        "line 1, column 3 ('member'): the column appears more than once (also column 2)",
        "line 1, column 'criterion': required column is missing",
    ]


def test_files_that_are_not_files_are_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert rows_of(fifo) == ([], ["file: is a named pipe (FIFO), not a regular file"])
    assert rows_of(Path("/dev/zero")) == ([], ["file: is a device, not a regular file"])
    assert rows_of(tmp_path) == ([], ["file: is a folder, not a regular file"])
    assert rows_of(tmp_path / "missing.csv")[1][0].startswith("file: cannot be read (No such file or directory)")


def test_an_excel_file_imports_from_the_command_line_on_both_databases(
    runner: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    text = 'sep=;\r\nref;title;organization;entities;submitted_on;;\r\nP-1;بوابة;جمعية;"MODEE;ROS";٢٤/٦/٢٠٢١;;\r\n'
    path = write(tmp_path, text.encode("utf-16"))
    result = runner.invoke(cli, ["proposal", "import", str(path)])
    assert (result.exit_code, result.stdout) == (0, "Imported 1 proposal: P-1\n"), result.output
    shown = json.loads(runner.invoke(cli, ["proposal", "show", "P-1", "--json"]).stdout)
    assert shown["submitted_on"] == "2021-06-24"
    url = workspace.url.render_as_string(hide_password=False)
    before = dump_tables(url)
    bad = write(tmp_path, "ref,title,organization\r\nP-2,ب,ج\r\n".encode("cp1256"), "bad.csv")
    refused = runner.invoke(cli, ["proposal", "import", str(bad)])
    assert refused.exit_code == 1
    assert "it looks like Windows-1256 (Arabic Windows) text" in refused.stderr
    assert dump_tables(url) == before
