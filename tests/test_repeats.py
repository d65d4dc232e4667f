"""Repeats: a file imported twice, a proposal typed in twice, an interview scheduled twice, an
answer or a score given again."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from cli import cli
from tests.helpers import CRITERIA, SCORER, dump_tables
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
    # … and so is a title typed again with a full stop, quotation marks or a double space.
    punctuated = tmp_path / "punctuated.csv"
    punctuated.write_text("title,organization\r\n«بوابة  المشاركة.»,جمعية المثال\r\n", encoding="utf-8")
    assert "likely a duplicate of proposal P-001" in runner.invoke(cli, ["proposal", "import", str(punctuated)]).stderr
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


def test_interviews_scores_and_answers_imported_twice_record_once(
    runner: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    """A file imported twice (a double click, a re-run after a network error) records nothing the
    second time: interviews and answers are refused as already recorded, naming line and column;
    scores given again as they stand are reported unchanged, with no entry and no history line."""
    url = workspace.url.render_as_string(hide_password=False)

    def ogp(*args: str) -> Result:
        result = runner.invoke(cli, list(args))
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result

    for ref in ("P-1", "P-2"):
        assert ogp("proposal", "add", "--ref", ref, "--title", f"فكرة {ref}", "--org", f"جهة {ref}",
                   "--entity", "MODEE", "--submitted-on", "2021-06-20").exit_code == 0  # fmt: skip
    interviews = tmp_path / "interviews.csv"
    interviews.write_text("ref,held_on,platform\nP-1,2021-07-28,Zoom\nP-2,٢٨/٧/٢٠٢١,Zoom\n", encoding="utf-8")
    assert ogp("interview", "import", str(interviews)).exit_code == 0
    before = dump_tables(url)
    again = ogp("interview", "import", str(interviews))
    assert (again.exit_code, again.stderr) == (
        1,
        f"Error: {interviews}: 2 problems, nothing was imported:\n"
        "  line 2, column 'held_on': an interview of proposal P-1 held on 2021-07-28 is already recorded\n"
        "  line 3, column 'held_on': an interview of proposal P-2 held on 2021-07-28 is already recorded\n",
    )
    assert dump_tables(url) == before
    once_more = ogp("interview", "record", "p-1", "--on", "28/7/2021")
    assert (once_more.exit_code, once_more.stderr) == (
        1, "Error: an interview of proposal P-1 held on 2021-07-28 is already recorded; nothing was recorded.\n"
    )  # fmt: skip
    assert ogp("interview", "record", "P-1", "--on", "2021-07-29").exit_code == 0  # another day: a second interview

    assert ogp("advance", "P-1", "P-2", "interview").exit_code == 0
    assert ogp("member", "add", SCORER, "--org", "جهة محايدة", "--sector", "government").exit_code == 0
    scores = tmp_path / "scores.csv"
    scores.write_text(
        "proposal,member,criterion,value\n"
        + "".join(f"{ref},{SCORER},{code},4\n" for ref in ("P-1", "P-2") for code in CRITERIA),
        encoding="utf-8",
    )
    assert ogp("score", "import", str(scores)).stdout == "Imported 10 scores.\n"
    before = dump_tables(url)
    unchanged = ogp("score", "import", str(scores))
    assert (unchanged.exit_code, unchanged.stdout) == (
        0, "Imported 0 scores. 10 rows gave a score the value and note it already has: nothing recorded for them.\n"
    )  # fmt: skip
    assert dump_tables(url) == before  # no entry, no history line "4 (was 4)"
    same = ogp("score", "P-1", "--member", SCORER, "--criterion", "importance", "--value", "٤")
    assert same.stdout == f"{SCORER}'s score of P-1 on importance is already 4: nothing recorded.\n"
    assert dump_tables(url) == before
    revised = ogp("score", "P-1", "--member", SCORER, "--criterion", "importance", "--value", "5")
    assert revised.stdout == f"{SCORER} scored P-1 5 on importance.\n"
    history = json.loads(ogp("history", "P-1", "--json").stdout)
    assert history[-1]["reason"] == f"{SCORER}: importance 5 (was 4)"

    assert ogp("advance", "P-1", "P-2", "shortlist").exit_code == 0
    assert ogp("advance", "P-1", "P-2", "refer", "--dated", "2021-08-02").exit_code == 0
    answers = tmp_path / "answers.csv"
    answers.write_text("ref,entity,agreed,responded_on\nP-1,MODEE,نعم,2021-08-10\nP-2,MODEE,no,2021-08-11\n",
                       encoding="utf-8")  # fmt: skip
    assert ogp("response", "import", str(answers)).stdout == "Recorded 2 responses.\n"
    before = dump_tables(url)
    again = ogp("response", "import", str(answers))
    assert (again.exit_code, again.stderr) == (
        1,
        f"Error: {answers}: 2 problems, nothing was imported:\n"
        "  line 2: MODEE's answer on proposal P-1 (agreed on 2021-08-10) is already recorded\n"
        "  line 3: MODEE's answer on proposal P-2 (declined on 2021-08-11) is already recorded\n",
    )
    # A body's answer dated before the referral letter it answers was issued is refused too.
    early = tmp_path / "early.csv"
    early.write_text("ref,entity,agreed,responded_on\nP-1,MODEE,no,2021-08-01\n", encoding="utf-8")
    refused = ogp("response", "import", str(early))
    assert refused.exit_code == 1
    assert "line 2, column 'responded_on': 2021-08-01 is before the referral letter to MODEE was issued (" in (
        refused.stderr
    )
    assert dump_tables(url) == before
    # A changed answer is a new one: the body's latest answer counts.
    changed = tmp_path / "changed.csv"
    changed.write_text("ref,entity,agreed,responded_on\nP-2,MODEE,yes,2021-08-20\n", encoding="utf-8")
    assert ogp("response", "import", str(changed)).stdout == "Recorded 1 response.\n"
    assert ogp("audit", "verify").exit_code == 0


def test_interviews_recorded_but_never_scheduled_are_listed_with_held(runner: CliRunner, workspace: Workspace) -> None:
    assert runner.invoke(cli, ["proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "جهة",
                               "--submitted-on", "2021-06-20"]).exit_code == 0  # fmt: skip
    assert runner.invoke(cli, ["interview", "record", "P-1", "--on", "2021-07-28", "--platform", "Zoom"]).exit_code == 0
    schedule = runner.invoke(cli, ["interview", "list"])
    assert schedule.stdout == (
        "No interviews are scheduled. 1 interview recorded as held: 'ogp interview list --held' lists them.\n"
    )
    (held,) = json.loads(runner.invoke(cli, ["interview", "list", "--held", "--json"]).stdout)
    assert (held["ref"], held["held_on"], held["platform"], held["members"]) == ("P-1", "2021-07-28", "Zoom", [])
    assert set(held) == {"id", "ref", "title", "held_on", "platform", "notes", "needs", "plans", "solves", "members",
                         "recorded_by", "recorded_at"}  # fmt: skip
