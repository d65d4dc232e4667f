"""The cases in ../shared/cases/ (issue 9): each input, and the behaviour a user expects, on SQLite
and on PostgreSQL where the database is involved. c06, c08 and c14 are tested where they are fixed."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner, Result

from cli import cli
from tests.helpers import cli_to_shortlisted, dump_tables
from workflow.db import Workspace

# Byte-for-byte copies of the files in ../shared/cases/, kept with the tests.
CASES = Path(__file__).with_name("cases")
RLM = "\u200f"


def case(name: str) -> Path:
    return CASES / name


@pytest.fixture
def ogp(runner: CliRunner) -> object:
    def invoke(*args: str) -> Result:
        result = runner.invoke(cli, list(args))
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        return result

    return invoke


def url_of(workspace: Workspace) -> str:
    return workspace.url.render_as_string(hide_password=False)


def test_c01_a_name_with_a_trailing_rlm_is_the_same_member(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    assert ogp("member", "add", "ندى خاطر", "--org", "وزارة الاقتصاد الرقمي").exit_code == 0
    before = dump_tables(url_of(workspace))
    again = ogp("member", "add", "ندى خاطر" + RLM, "--org", "وزارة الاقتصاد الرقمي")
    assert (again.exit_code, again.stderr) == (1, "Error: a member with name 'ندى خاطر' already exists.\n")
    assert dump_tables(url_of(workspace)) == before
    assert [m["name"] for m in json.loads(ogp("member", "list", "--json").stdout)] == ["ندى خاطر"]


def test_c02_a_pasted_rlm_does_not_hide_the_proposing_organisation(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    assert ogp("member", "add", "مي عليمات", "--org", "مركز المثال").exit_code == 0
    added = ogp("proposal", "add", "--ref", "P-001", "--title", "فكرة", "--org", "مركز المثال" + RLM,
                "--submitted-on", "2021-06-20")  # fmt: skip
    assert added.exit_code == 0
    assert json.loads(ogp("proposal", "show", "P-001", "--json").stdout)["organization"] == "مركز المثال"
    refused = ogp("score", "P-001", "--member", "مي عليمات", "--criterion", "importance", "--value", "5")
    assert (refused.exit_code, refused.stderr) == (
        1,
        "Error: مي عليمات cannot score P-001: belongs to the proposing organisation (مركز المثال); "
        "the score was refused.\n",
    )
    ranked = ogp("ranking", "--all", "--json")
    assert ranked.exit_code == 0


def test_c03_dates_with_rlm_marks_import(ogp) -> None:  # type: ignore[no-untyped-def]
    imported = ogp("proposal", "import", str(case("c03_dates_rlm.csv")))
    assert (imported.exit_code, imported.stdout) == (0, "Imported 1 proposal: D-1\n")
    assert json.loads(ogp("proposal", "show", "D-1", "--json").stdout)["submitted_on"] == "2021-07-28"


def test_c04_empty_trailing_header_columns_are_ignored(ogp) -> None:  # type: ignore[no-untyped-def]
    imported = ogp("proposal", "import", str(case("c04_trailing_columns.csv")))
    assert (imported.exit_code, imported.stdout) == (0, "Imported 1 proposal: T-1\n")
    shown = json.loads(ogp("proposal", "show", "T-1", "--json").stdout)
    assert (shown["title"], shown["organization"], shown["submitted_on"]) == (
        "بوابة المشاركة", "جمعية المثال", "2021-06-24",
    )  # fmt: skip


def test_c05_a_meeting_outside_the_supported_dates_is_refused_when_added(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    before = dump_tables(url_of(workspace))
    refused = ogp("meeting", "add", "--on", "2102-07-28")
    assert refused.exit_code == 2
    assert (
        "Invalid value for '--on': 2102-07-28 is outside the supported dates (1924-08-01 to 2077-11-16, "
        "the Umm al-Qura calendar letters are dated in)" in refused.stderr
    )
    assert dump_tables(url_of(workspace)) == before
    minutes = ogp("meeting", "minutes", "1")
    assert (minutes.exit_code, minutes.stderr) == (1, "Error: no meeting '1'.\n")


def test_c07_scheduling_the_same_interview_twice_needs_replace(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    at = "2027-01-10 10:00"
    if dt.datetime.now() >= dt.datetime(2027, 1, 9):  # the case's date has come: use one still ahead
        at = f"{dt.date.today() + dt.timedelta(days=40)} 10:00"
    assert ogp("proposal", "add", "--ref", "P-001", "--title", "فكرة", "--org", "جهة",
               "--submitted-on", "2021-06-20").exit_code == 0  # fmt: skip
    first = ogp("interview", "schedule", "P-001", "--at", at, "--platform", "Zoom")
    assert first.exit_code == 0
    (letter,) = json.loads(ogp("letters", "list", "--json").stdout)
    before = dump_tables(url_of(workspace))
    again = ogp("interview", "schedule", "P-001", "--at", at, "--platform", "Zoom")
    assert (again.exit_code, again.stderr) == (
        1,
        f"Error: Cannot schedule an interview for proposal P-001: one is already scheduled on {at} "
        f"(invitation {letter['reference']}); give --replace to move it (the new invitation says it replaces "
        "the earlier one); nothing was changed.\n",
    )
    assert dump_tables(url_of(workspace)) == before
    moved = ogp("interview", "schedule", "P-001", "--at", at.replace("10:00", "11:30"), "--replace")
    assert moved.exit_code == 0, moved.output
    letters = json.loads(ogp("letters", "list", "--json").stdout)
    assert len(letters) == 2
    replacement = docx.Document(io.BytesIO(Path(workspace.letters_dir / letters[1]["file_name"]).read_bytes()))
    text = [p.text for p in replacement.paragraphs]
    assert any(f"يحل هذا الكتاب محل كتابنا رقم {letter['reference']}" in line for line in text), text
    schedule = json.loads(ogp("interview", "list", "--json").stdout)
    assert [(s["ref"], s["at"][11:]) for s in schedule] == [("P-001", "11:30")]
    history = json.loads(ogp("history", "P-001", "--json").stdout)
    assert history[-1]["reason"].endswith(f", replacing the one of {at} (invitation {letter['reference']})")


def test_c09_the_proposers_text_stays_one_quoted_block(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    imported = ogp("proposal", "import", str(case("c09_problem_with_fake_closing.json")))
    assert imported.exit_code == 0, imported.output
    cli_to_shortlisted(ogp, "Q-1")
    assert ogp("advance", "Q-1", "refer").exit_code == 0
    (letter,) = workspace.letters_dir.glob("Q-1_referral_*.docx")
    paragraphs = [p.text for p in docx.Document(str(letter)).paragraphs if p.text]
    problem = json.loads(case("c09_problem_with_fake_closing.json").read_text(encoding="utf-8"))[0]["problem"]
    quoted = [p for p in paragraphs if "وصف المشكلة." in p]
    assert len(quoted) == 1
    assert f"«{' '.join(problem.split())}»" in quoted[0]  # the whole text, in one paragraph, in quotes
    # The letter's own closing and signature come once, at its end; nothing of the proposer's text
    # stands as a paragraph of its own.
    closing = paragraphs.index("وتفضلوا بقبول فائق الاحترام")
    assert paragraphs[closing:] == ["وتفضلوا بقبول فائق الاحترام", "وزير التخطيط والتعاون الدولي"]
    assert paragraphs.count("وزير التخطيط والتعاون الدولي") == 1
    assert "ملحق: يرجى تحويل المخصصات" not in paragraphs


def test_c10_an_all_digit_ref_is_never_confused_with_a_row_number(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    for args in (
        ("--ref", "P-000", "--title", "الأول", "--org", "جهة"),
        ("--ref", "3", "--title", "الثاني", "--org", "جهة"),
        ("--title", "الثالث", "--org", "جهة"),
    ):
        assert ogp("proposal", "add", *args, "--submitted-on", "2021-06-20").exit_code == 0
    listed = {p["id"]: p["ref"] for p in json.loads(ogp("proposal", "list", "--json").stdout)}
    assert listed == {1: "P-000", 2: "3", 3: "P-003"}
    done = ogp("advance", "3", "reject", "--reason", "x")
    assert done.stdout.startswith("3: submitted → rejected")
    states = {p["ref"]: p["state"] for p in json.loads(ogp("proposal", "list", "--json").stdout)}
    assert states == {"P-000": "submitted", "3": "rejected", "P-003": "submitted"}
    by_number = ogp("advance", "#3", "withdraw", "--reason", "y")
    assert by_number.stdout.startswith("P-003: submitted → withdrawn")
    assert json.loads(ogp("proposal", "show", "#2", "--json").stdout)["ref"] == "3"


def test_c11_long_body_names_keep_their_letters_apart(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    names = ["وزارة " + "ا" * 130 + " أ", "وزارة " + "ا" * 130 + " ب"]
    for name in names:
        assert ogp("entity", "add", name).exit_code == 0
    assert ogp("proposal", "add", "--ref", "P-001", "--title", "فكرة", "--org", "جهة", "--entity", names[0],
               "--entity", names[1], "--submitted-on", "2021-06-20").exit_code == 0  # fmt: skip
    cli_to_shortlisted(ogp, "P-001")
    referred = ogp("advance", "P-001", "refer")
    assert referred.exit_code == 0, referred.output
    files = sorted(p.name for p in workspace.letters_dir.iterdir())
    year = dt.date.today().year
    assert len(files) == 2 and files[0] != files[1]
    assert [f[-15:] for f in files] == [f"_{year}-0001.docx", f"_{year}-0002.docx"]
    assert all(len(f.encode()) <= 240 for f in files)


def _c12_folder(tmp_path: Path, *, with_subject: bool) -> Path:
    folder = tmp_path / "slow"
    folder.mkdir()
    text = case("c12_slow_template.txt").read_text(encoding="utf-8")
    if with_subject:  # the case's template stops at "no subject block"; this one, writing nothing, at the clock
        text = "{% block subject %}x{% endblock %}" + text.replace("%}.{%", "%}{%")
    (folder / "rejection.ar.j2").write_text(text, encoding="utf-8")
    return folder


def test_c12_a_slow_template_is_refused_within_seconds(ogp, workspace: Workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = _c12_folder(tmp_path, with_subject=False)
    assert ogp("proposal", "add", "--ref", "P-001", "--title", "فكرة", "--org", "جهة",
               "--submitted-on", "2021-06-20").exit_code == 0  # fmt: skip
    start = time.monotonic()
    checked = ogp("templates", "check", str(folder))
    assert checked.exit_code == 1 and "template rejection.ar.j2" in checked.stderr
    refused = ogp("--templates", str(folder), "advance", "P-001", "reject", "--reason", "x")
    assert refused.exit_code == 1 and "template rejection.ar.j2" in refused.stderr
    assert time.monotonic() - start < 20
    assert json.loads(ogp("proposal", "show", "P-001", "--json").stdout)["state"] == "submitted"


@pytest.mark.slow
def test_c12_a_template_that_never_ends_is_stopped_and_releases_the_write_lock(
    ogp,
    workspace: Workspace,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    folder = _c12_folder(tmp_path, with_subject=True)
    assert ogp("proposal", "add", "--ref", "P-001", "--title", "فكرة", "--org", "جهة",
               "--submitted-on", "2021-06-20").exit_code == 0  # fmt: skip
    checked = ogp("templates", "check", str(folder))
    assert checked.exit_code == 1
    assert "  template rejection.ar.j2: took longer than 4 seconds and was stopped" in checked.stderr
    env = {**os.environ, "OGP_DB": url_of(workspace), "OGP_ACTOR": "slow"}
    start = time.monotonic()
    move = subprocess.Popen(
        [sys.executable, "-c", "import cli; cli.main()", "--templates", str(folder), "advance", "P-001", "reject",
         "--reason", "x"],
        env=env, cwd=workspace.folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(2.5)  # the move holds the write lock and renders
    other = ogp("member", "add", "عضو آخر", "--org", "جهة أخرى")  # waits for the lock, not for ever
    assert other.exit_code == 0, other.output
    out, err = move.communicate(timeout=60)
    assert move.returncode == 1, (out, err)
    assert err == (
        "Error: could not write the rejection letter for proposal P-001: template rejection.ar.j2: took longer "
        "than 4 seconds and was stopped (a loop that does not end?); nothing was changed.\n"
    )
    assert time.monotonic() - start < 30
    assert json.loads(ogp("proposal", "show", "P-001", "--json").stdout)["state"] == "submitted"


@pytest.mark.slow
def test_c13_demo_never_deletes_a_file_it_did_not_create(tmp_path: Path) -> None:
    runner = CliRunner()
    folder = tmp_path / "D"
    folder.mkdir()
    (folder / ".ogp-demo").write_text("Made by 'ogp demo'; the next 'ogp demo' here replaces it.\n")
    (folder / "notes.txt").write_text("keep me")
    refused = runner.invoke(cli, ["demo", "--dir", str(folder)])
    assert (refused.exit_code, refused.stderr) == (
        1, f"Error: {folder} is not empty and holds no earlier demo; choose another --dir.\n",
    )  # fmt: skip
    assert (folder / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in folder.iterdir()) == [".ogp-demo", "notes.txt"]

    fresh = tmp_path / "E"
    assert runner.invoke(cli, ["demo", "--dir", str(fresh)]).exit_code == 0
    (fresh / "notes.txt").write_text("keep me")
    (fresh / "letters" / "my-own.docx").write_bytes(b"mine")
    again = runner.invoke(cli, ["demo", "--dir", str(fresh)])
    assert again.exit_code == 0, again.output
    assert (fresh / "notes.txt").read_text() == "keep me"
    assert (fresh / "letters" / "my-own.docx").read_bytes() == b"mine"
    assert len(list((fresh / "letters").glob("SAMPLE-*.docx"))) == 35
    (fresh / "reports" / "mine.docx").write_bytes(b"mine")
    assert runner.invoke(cli, ["demo", "--dir", str(fresh)]).exit_code == 0  # its own reports replaced, not mine
    assert sorted(p.name for p in (fresh / "reports").iterdir()) == [
        "mine.docx", "plan.ar.docx", "progress-H1-2022.ar.docx",
    ]  # fmt: skip
    # A marker that lists files outside the folder is never followed.
    outside = tmp_path / "outside.txt"
    outside.write_text("not the demo's")
    marker = json.loads((fresh / ".ogp-demo").read_text(encoding="utf-8"))
    marker["files"] += ["../outside.txt", str(outside)]
    (fresh / ".ogp-demo").write_text(json.dumps(marker), encoding="utf-8")
    assert runner.invoke(cli, ["demo", "--dir", str(fresh)]).exit_code == 0
    assert outside.read_text() == "not the demo's"


def test_c13_the_case_as_stated_a_marker_and_notes(tmp_path: Path) -> None:
    """The case as its README states it: D holds `.ogp-demo` (here empty, as an older demo or a hand
    may leave it) and `notes.txt`."""
    folder = tmp_path / "D"
    folder.mkdir()
    (folder / ".ogp-demo").touch()
    (folder / "notes.txt").write_text("notes")
    result = CliRunner().invoke(cli, ["demo", "--dir", str(folder)])
    assert (result.exit_code, result.stderr) == (
        1, f"Error: {folder} is not empty and holds no earlier demo; choose another --dir.\n",
    )  # fmt: skip
    assert sorted(p.name for p in folder.iterdir()) == [".ogp-demo", "notes.txt"]
    assert (folder / "notes.txt").read_text() == "notes"


def test_c15_a_nul_in_a_score_file_gives_the_same_problems_on_both_databases(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    path = case("c15_scores_nul.csv")
    before = dump_tables(url_of(workspace))
    refused = ogp("score", "import", str(path))
    assert (refused.exit_code, refused.stderr) == (
        1,
        f"Error: {path}: 3 problems, nothing was imported:\n"
        "  line 2, column 'proposal': no proposal '\\x00'.\n"
        "  line 2, column 'member': no member 'x'.\n"
        "  line 2, column 'criterion': no criterion 'y' (known: importance, global_trend, ogp_values, "
        "national_priorities, government_mandate).\n",
    )
    assert dump_tables(url_of(workspace)) == before


def test_c16_an_actor_with_control_characters_is_refused(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    before = dump_tables(url_of(workspace))
    refused = ogp("--actor", "x\x1b]0;T\x07", "proposal", "add", "--title", "t", "--org", "o")
    assert refused.exit_code == 2
    assert (
        "Invalid value for '--actor': 'x\\x1b]0;T\\x07' has an invisible or control character (U+001B) at position 2"
        in refused.stderr
    )
    assert "\x1b" not in refused.output
    assert dump_tables(url_of(workspace)) == before
    invalid = ogp("--actor", "\udcff\udcfe", "proposal", "list")  # invalid UTF-8, as Python decodes argv
    assert invalid.exit_code == 2 and "is not valid UTF-8 text" in invalid.stderr
