"""Repeats: a file imported twice, a proposal typed in twice, an interview scheduled twice."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli import cli
from tests.helpers import dump_tables
from workflow.db import Workspace

ROWS = (
    "title,organization,submitted_on\r\nبوابة المشاركة,جمعية المثال,24/6/2021\r\nسجل مفتوح,مركز الشفافية,25/6/2021\r\n"
)


def test_a_file_without_refs_imported_twice_is_refused_unless_allowed(
    runner: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "proposals.csv"
    path.write_text(ROWS, encoding="utf-8-sig")
    assert runner.invoke(cli, ["proposal", "import", str(path)]).stdout == "Imported 2 proposals: P-001, P-002\n"
    url = workspace.url.render_as_string(hide_password=False)
    before = dump_tables(url)
    again = runner.invoke(cli, ["proposal", "import", str(path)])
    assert (again.exit_code, again.stderr) == (
        1,
        f"Error: {path}: 2 problems, nothing was imported:\n"
        "  line 2, column 'title': likely a duplicate of proposal P-001 (same title and organisation); "
        "give --allow-duplicates if it is another proposal\n"
        "  line 3, column 'title': likely a duplicate of proposal P-002 (same title and organisation); "
        "give --allow-duplicates if it is another proposal\n",
    )
    assert dump_tables(url) == before
    # The same names typed differently are still the same: a pasted mark, Persian letters, tatweel.
    retyped = tmp_path / "retyped.csv"
    retyped.write_text("title,organization\r\nبوابة المشـاركة\u200f,جمعیة المثال\r\n", encoding="utf-8")
    assert "likely a duplicate of proposal P-001" in runner.invoke(cli, ["proposal", "import", str(retyped)]).stderr
    allowed = runner.invoke(cli, ["proposal", "import", str(path), "--allow-duplicates"])
    assert allowed.stdout == "Imported 2 proposals: P-003, P-004\n"


def test_duplicates_within_one_file_and_typed_twice(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text("title,organization\r\nفكرة,جهة\r\nفكرة,جهة\r\n", encoding="utf-8")
    refused = runner.invoke(cli, ["proposal", "import", str(path)])
    assert "  line 3, column 'title': likely a duplicate of line 2 (same title and organisation)" in refused.stderr
    assert runner.invoke(cli, ["proposal", "add", "--title", "فكرة", "--org", "جهة"]).exit_code == 0
    again = runner.invoke(cli, ["proposal", "add", "--title", "فكرة", "--org", "جهة\u200f"])
    assert (again.exit_code, again.stderr) == (
        1,
        "Error: proposal 'فكرة': title: likely a duplicate of proposal P-001 (same title and organisation); "
        "give --allow-duplicates if it is another proposal\n",
    )
    assert (
        runner.invoke(cli, ["proposal", "add", "--title", "فكرة", "--org", "جهة", "--allow-duplicates"]).exit_code == 0
    )
    # A row or a proposal with its own ref is the coordinator's deliberate choice.
    assert runner.invoke(cli, ["proposal", "add", "--ref", "X-1", "--title", "فكرة", "--org", "جهة"]).exit_code == 0
    assert len(json.loads(runner.invoke(cli, ["proposal", "list", "--json"]).stdout)) == 3
