"""Repeats: a file imported twice, a proposal typed in twice, an interview scheduled twice, an
answer or a score given again, a letter written again (reissued)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import docx
from click.testing import CliRunner, Result

from cli import cli
from documents.dates import gregorian_ar
from tests.helpers import CRITERIA, SCORER, SOON, cli_to_shortlisted, dump_tables
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
    assert same.stdout == f"The score {SCORER} gave P-1 on importance is already 4: nothing recorded.\n"
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
        "  line 2: the answer of MODEE on proposal P-1 (agreed on 2021-08-10) is already recorded\n"
        "  line 3: the answer of MODEE on proposal P-2 (declined on 2021-08-11) is already recorded\n",
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


# --- letters written again: a reissue states the facts of the step the void letter belonged to ---


def _ogp(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(cli, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def _ok(runner: CliRunner, *args: str) -> Result:
    result = _ogp(runner, *args)
    assert result.exit_code == 0, (args, result.output)
    return result


def _add(runner: CliRunner, ref: str) -> None:
    _ok(runner, "proposal", "add", "--ref", ref, "--title", f"منصة {ref}", "--org", "مركز الشفافية الأردني",
        "--entity", "MODEE", "--submitted-on", "2021-06-20")  # fmt: skip


def _letters(runner: CliRunner, kind: str, ref: str) -> list[str]:
    """The reference numbers of `ref`'s letters of `kind`, in the order they were written."""
    listed = json.loads(_ok(runner, "letters", "list", "--proposal", ref, "--json").stdout)
    return [letter["reference"] for letter in listed if letter["kind"] == kind]


def _reissued_text(result: Result) -> str:
    """The text of the replacement letter a `letters void --reissue` wrote, reopened from its file."""
    (path,) = [line.split("replacement: ", 1)[1] for line in result.stdout.splitlines() if "replacement: " in line]
    return "\n".join(paragraph.text for paragraph in docx.Document(path).paragraphs)


FIRST = dt.date.fromisoformat(SOON)
LATER = FIRST + dt.timedelta(days=7)
VOID = ("--reason", "خطأ في لقب المخاطَب", "--reissue")


def test_a_reissued_cancellation_names_the_interview_it_called_off_not_a_later_one(
    runner: CliRunner, workspace: Workspace
) -> None:
    _add(runner, "P-1")
    _ok(runner, "interview", "schedule", "P-1", "--at", f"{FIRST} 10:00", "--platform", "Zoom")
    _ok(runner, "interview", "cancel", "P-1", "--reason", "لتعذر انعقاد المجموعة")
    _ok(runner, "interview", "schedule", "P-1", "--at", f"{LATER} 12:30", "--platform", "Teams")
    (cancellation,) = _letters(runner, "cancellation", "P-1")
    text = _reissued_text(_ok(runner, "letters", "void", cancellation, *VOID))
    assert f"المقررة بتاريخ {gregorian_ar(FIRST)} في تمام الساعة 10:00 عبر Zoom" in text
    assert gregorian_ar(LATER) not in text and "12:30" not in text and "Teams" not in text
    assert "لتعذر انعقاد المجموعة" in text
    assert f"يحل هذا الكتاب محل كتابنا رقم {cancellation}" in text
    # The invitation to the later interview, which stands, is reissued for that interview.
    later_invitation = _letters(runner, "invitation", "P-1")[-1]
    text = _reissued_text(_ok(runner, "letters", "void", later_invitation, *VOID))
    assert f"المقررة بتاريخ {gregorian_ar(LATER)} في تمام الساعة 12:30 عبر Teams" in text
    # A reissue voided and reissued in its turn states the same facts: those of the first step,
    # not of the voiding that wrote it (the cancellation's reason, not the void's).
    for kind, when, words in (("cancellation", FIRST, "لتعذر انعقاد المجموعة"), ("invitation", LATER, "12:30")):
        reissue = _letters(runner, kind, "P-1")[-1]
        text = _reissued_text(_ok(runner, "letters", "void", reissue, "--reason", "خطأ آخر", "--reissue"))
        assert gregorian_ar(when) in text and words in text and "خطأ آخر" not in text, (kind, text)
        assert f"يحل هذا الكتاب محل كتابنا رقم {reissue}" in text
    _ok(runner, "audit", "verify")
    _ok(runner, "letters", "verify")


def test_an_invitation_is_not_reissued_for_an_interview_cancelled_moved_or_held_since(
    runner: CliRunner, workspace: Workspace
) -> None:
    url = workspace.url.render_as_string(hide_password=False)
    today = dt.date.today()
    for ref in ("P-1", "P-2", "P-3", "P-4"):
        _add(runner, ref)
    _ok(runner, "interview", "schedule", "P-1", "--at", f"{FIRST} 10:00", "--platform", "Zoom")
    _ok(runner, "interview", "cancel", "P-1", "--reason", "اعتذار مقدم المقترح")
    _ok(runner, "interview", "schedule", "P-2", "--at", f"{FIRST} 11:00")
    moved = _ok(runner, "interview", "schedule", "P-2", "--at", f"{LATER} 09:00", "--replace").stdout
    moved_by = re.search(r"\(audit #([0-9]+)\)", moved)
    assert moved_by is not None
    _ok(runner, "interview", "schedule", "P-3", "--at", f"{FIRST} 12:00")
    _ok(runner, "interview", "record", "P-3", "--on", today.isoformat())  # held earlier than planned
    _ok(runner, "interview", "schedule", "P-4", "--at", f"{FIRST} 13:00")
    yesterday = today - dt.timedelta(days=1)
    _ok(runner, "interview", "record", "P-4", "--on", yesterday.isoformat())  # held before the invitation, even
    (cancelled,) = _letters(runner, "invitation", "P-1")
    replaced, standing = _letters(runner, "invitation", "P-2")
    (held,) = _letters(runner, "invitation", "P-3")
    (held_before,) = _letters(runner, "invitation", "P-4")
    refusals = {
        cancelled: f"(invitation, proposal P-1): the interview of {FIRST} 10:00 it invites to was cancelled since "
        "(اعتذار مقدم المقترح)",
        replaced: f"(invitation, proposal P-2): the interview it invites to was rescheduled since (entry "
        f"#{moved_by.group(1)}: interview on {LATER} 09:00, replacing the one of {FIRST} 11:00 (invitation {replaced}))",
        held: f"(invitation, proposal P-3): the proposer's interview is recorded as held on {today}: a reissue "
        f"bearing {today} would invite to it after the fact (--dated may give the earlier day it should bear)",
        held_before: f"(invitation, proposal P-4): the proposer's interview is recorded as held on {yesterday}: a "
        f"reissue bearing {today} would invite to it after the fact (--dated may give the earlier day it should bear)",
    }
    before = dump_tables(url)
    for reference, why in refusals.items():
        refused = _ogp(runner, "letters", "void", reference, *VOID)
        assert (refused.exit_code, refused.stdout, refused.stderr) == (
            1, "", f"Error: Cannot reissue letter {reference} {why}; nothing was changed (void it without --reissue).\n"
        )  # fmt: skip
    assert dump_tables(url) == before
    # An interview held before this one was scheduled (a first round) is not the one it invites to.
    _add(runner, "P-5")
    _ok(runner, "interview", "record", "P-5", "--on", yesterday.isoformat())
    _ok(runner, "interview", "schedule", "P-5", "--at", f"{FIRST} 14:00")
    (second_round,) = _letters(runner, "invitation", "P-5")
    text = _reissued_text(_ok(runner, "letters", "void", second_round, *VOID))
    assert f"المقررة بتاريخ {gregorian_ar(FIRST)} في تمام الساعة 14:00" in text
    # The moved interview's own invitation stands, and is reissued for the time it was moved to.
    text = _reissued_text(_ok(runner, "letters", "void", standing, *VOID))
    assert f"المقررة بتاريخ {gregorian_ar(LATER)} في تمام الساعة 09:00" in text
    assert gregorian_ar(FIRST) not in text and "11:00" not in text
    _ok(runner, "audit", "verify")


def test_a_referral_is_reissued_only_while_referred_and_a_follow_up_cites_its_referral(
    runner: CliRunner, workspace: Workspace
) -> None:
    url = workspace.url.render_as_string(hide_password=False)
    today = dt.date.today()
    _add(runner, "P-1")
    cli_to_shortlisted(lambda *args: _ogp(runner, *args), "P-1")
    _ok(runner, "advance", "P-1", "refer", "--dated", "2021-08-01")
    (referral,) = _letters(runner, "referral", "P-1")
    _ok(runner, "followup", "P-1", "--entity", "MODEE")
    (followup,) = _letters(runner, "followup", "P-1")
    text = _reissued_text(_ok(runner, "letters", "void", followup, *VOID))
    cited = f"إلحاقاً بكتابنا رقم {referral} تاريخ {gregorian_ar(dt.date(2021, 8, 1))}"
    assert cited in text
    # While the proposal is referred its referral is reissued; the reissue stands in its place.
    text = _reissued_text(_ok(runner, "letters", "void", referral, *VOID))
    assert f"يحل هذا الكتاب محل كتابنا رقم {referral}" in text
    _, reissued_referral = _letters(runner, "referral", "P-1")
    # A body that has answered is not chased again.
    _ok(runner, "response", "record", "P-1", "--entity", "MODEE", "--declined", "--on", today.isoformat())
    reissued_followup = _letters(runner, "followup", "P-1")[-1]
    before = dump_tables(url)
    answered = _ogp(runner, "letters", "void", reissued_followup, *VOID)
    assert (answered.exit_code, answered.stderr) == (
        1,
        f"Error: Cannot reissue letter {reissued_followup} (followup, proposal P-1): وزارة الاقتصاد الرقمي والريادة "
        f"answered on {today} (declined); nothing to follow up; nothing was changed (void it without --reissue).\n",
    )
    assert dump_tables(url) == before
    # Once the proposal is rejected its referral no longer holds.
    _ok(runner, "advance", "P-1", "reject", "--reason", "اعتذرت الجهة عن تبنيه")
    before = dump_tables(url)
    rejected = _ogp(runner, "letters", "void", reissued_referral, *VOID)
    assert (rejected.exit_code, rejected.stderr) == (
        1,
        f"Error: Cannot reissue letter {reissued_referral} (referral, proposal P-1): proposal P-1 is now 'rejected'; "
        "a referral letter says what holds only while it is referred or committed; nothing was changed "
        "(void it without --reissue).\n",
    )
    assert dump_tables(url) == before
    _ok(runner, "audit", "verify")
