"""Dates as Arabic users type them (workflow/dates.py), and implausible dates refused at entry."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import insert, select

from cli import cli
from tests.helpers import cli_to_shortlisted, dump_tables
from workflow.dates import FIRST_DAY, LAST_DAY, OGP_LAUNCH, parse_date, parse_datetime
from workflow.db import Workspace
from workflow.models import Meeting, MilestoneMove, Progress, TimelinePublication

RLM = "\u200f"
DAY = dt.date(2021, 7, 28)


@pytest.mark.parametrize(
    "typed",
    [
        "2021-07-28", "28/7/2021", "28/07/2021", "28-7-2021", "28.7.2021", "2021/07/28", " 2021-07-28 ",
        f"28{RLM}/7{RLM}/2021", f"{RLM}2021-07-28{RLM}", "\u200e28/7/2021", "\ufeff2021-07-28",
        "٢٨/٧/٢٠٢١", "٢٠٢١-٠٧-٢٨", "۲۸/۷/۲۰۲۱", "۲۰۲۱-۰۷-۲۸", f"٢٨{RLM}/٧{RLM}/٢٠٢١",
    ],
)  # fmt: skip
def test_dates_are_read_as_typed(typed: str) -> None:
    assert parse_date(typed) == DAY


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("yesterday", "'yesterday' is not a date: use YYYY-MM-DD (or D/M/YYYY)"),
        ("2021-02-30", "'2021-02-30' is not a real date (day is out of range for month)"),
        ("31/4/2021", "'31/4/2021' is not a real date (day is out of range for month)"),
        ("2102-07-28", "2102-07-28 is outside the supported dates (1924-08-01 to 2077-11-16, the Umm al-Qura "
                       "calendar letters are dated in)"),
        ("1900-01-01", "1900-01-01 is outside the supported dates"),
        ("¹/¹/2021", "is not a date"),
        ("2021-07-28 10:00", "is not a date"),
    ],
)  # fmt: skip
def test_what_is_not_a_date_says_why(typed: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        parse_date(typed)


@pytest.mark.parametrize(
    "typed",
    ["2027-01-10 10:00", "2027-01-10T10:00", "10/1/2027 10:00", "١٠/١/٢٠٢٧ ١٠:٠٠", f"2027-01-10{RLM} 10:00",
     "2027-01-10   10:00:00"],
)  # fmt: skip
def test_a_date_and_time_takes_the_same_day_forms(typed: str) -> None:
    assert parse_datetime(typed) == dt.datetime(2027, 1, 10, 10, 0)


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("2027-01-10", "has no time"),
        ("10/1/2027", "has no time"),
        ("2027-01-10 25:00", "is not a time of day"),
        ("2027-01-10 10h", "is not a time"),
        ("tomorrow 10:00", "is not a date"),
    ],
)
def test_a_date_without_a_time_is_refused(typed: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_datetime(typed)


@given(st.text(max_size=30))
@example("٢٨/٧/٢٠٢١")
@example("99/99/9999")
@example("0000-00-00")
def test_parsing_never_fails_other_than_with_a_reason(text: str) -> None:
    try:
        day = parse_date(text)
    except ValueError as exc:
        assert str(exc)
    else:
        assert FIRST_DAY <= day <= LAST_DAY


@pytest.fixture
def ogp(runner: CliRunner) -> object:
    def invoke(*args: str) -> Result:
        result = runner.invoke(cli, list(args))
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result

    return invoke


def url_of(workspace: Workspace) -> str:
    return workspace.url.render_as_string(hide_password=False)


def test_implausible_dates_are_refused_at_entry(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    assert ogp("proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "جهة", "--entity", "MODEE",
               "--submitted-on", "٢٠/٦/٢٠٢١").exit_code == 0  # fmt: skip
    assert json.loads(ogp("proposal", "show", "P-1", "--json").stdout)["submitted_on"] == "2021-06-20"
    before = dump_tables(url_of(workspace))
    soon = dt.date.today() + dt.timedelta(days=10)
    far = dt.date.today() + dt.timedelta(days=3 * 366)
    refusals = [
        (("meeting", "add", "--on", "1950-07-28"),
         "Error: meeting of 1950-07-28: --on: 1950-07-28 is before the OGP was launched (2011-09-20); a meeting "
         "cannot be earlier\n"),
        (("meeting", "add", "--on", str(far)), f"Error: meeting of {far}: --on: {far} is after "),
        (("interview", "schedule", "P-1", "--at", "2021-07-28 10:00"),
         "Error: proposal P-1: --at: 2021-07-28 10:00 has already passed; an invitation is for a time still to "
         "come\n"),
        (("interview", "schedule", "P-1", "--at", f"{far} 10:00"), f"Error: proposal P-1: --at: {far} is after "),
        (("interview", "record", "P-1", "--on", "2021-06-01"),
         "Error: proposal P-1: --on: 2021-06-01 is before the proposal was submitted (2021-06-20)\n"),
        (("interview", "record", "P-1", "--on", str(soon)),
         f"Error: proposal P-1: --on: {soon} is in the future; record an interview once it has taken place\n"),
        (("proposal", "add", "--title", "قديم", "--org", "جهة", "--submitted-on", "2001-01-01"),
         "Error: proposal 'قديم': submitted_on: 2001-01-01 is before the OGP was launched (2011-09-20); a "
         "proposal cannot be earlier\n"),
    ]  # fmt: skip
    for args, message in refusals:
        refused = ogp(*args)
        assert refused.exit_code == 1, (args, refused.output)
        assert refused.stderr.startswith(message), (args, refused.stderr)
    for args in (
        ("interview", "schedule", "P-1", "--at", str(soon)),  # no time: it would be midnight
        ("interview", "schedule", "P-1", "--at", "2102-01-01 10:00"),
        ("meeting", "add", "--on", "2102-07-28"),
        ("response", "record", "P-1", "--entity", "MODEE", "--agreed", "--on", "2102-07-28"),
    ):
        refused = ogp(*args)
        assert refused.exit_code == 2, (args, refused.output)
    assert dump_tables(url_of(workspace)) == before
    # The same day forms as --on, in Arabic-Indic digits, with the marks a keyboard leaves.
    typed = f"{soon.day}/{soon.month}/{soon.year} 10:00".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert ogp("interview", "schedule", "P-1", "--at", RLM + typed).exit_code == 0
    assert json.loads(ogp("interview", "list", "--json").stdout)[0]["at"] == f"{soon}T10:00"


def test_a_response_before_the_submission_is_refused(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    assert ogp("proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "جهة", "--entity", "MODEE",
               "--submitted-on", "2021-06-20").exit_code == 0  # fmt: skip
    cli_to_shortlisted(ogp, "P-1")
    assert ogp("advance", "P-1", "refer", "--dated", "2021-07-30").exit_code == 0
    refused = ogp("response", "record", "P-1", "--entity", "MODEE", "--agreed", "--on", "2021-06-01")
    assert (refused.exit_code, refused.stderr) == (
        1, "Error: proposal P-1: --on: 2021-06-01 is before the proposal was submitted (2021-06-20)\n",
    )  # fmt: skip
    assert ogp("response", "record", "P-1", "--entity", "MODEE", "--agreed", "--on", "١/٨/٢٠٢١").exit_code == 0
    # The letters that close or confirm a referral cannot be dated before it, nor before the answer.
    early = ogp("advance", "P-1", "reject", "--reason", "x", "--dated", "2021-07-29")
    assert (early.exit_code, early.stderr) == (
        1, f"Error: proposal P-1: --dated: 2021-07-29 is before the letter {referral_of(ogp)} about it, dated 2021-07-30\n"
    )  # fmt: skip
    before_answer = ogp("advance", "P-1", "commit", "--dated", "2021-07-31")
    assert (before_answer.exit_code, before_answer.stderr) == (
        1, "Error: proposal P-1: --dated: 2021-07-31 is before an answer recorded from a body on 2021-08-01\n"
    )  # fmt: skip
    assert ogp("advance", "P-1", "commit", "--dated", "2021-08-01").exit_code == 0


def referral_of(ogp) -> str:  # type: ignore[no-untyped-def]
    (letter,) = [x for x in json.loads(ogp("letters", "list", "--json").stdout) if x["kind"] == "referral"]
    return str(letter["reference"])


def test_minutes_of_a_meeting_stored_before_dates_were_checked_are_refused_not_a_traceback(
    ogp,
    workspace: Workspace,
    session_scope,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    with session_scope() as s:  # behind the product's back, as an older version could have stored it
        s.execute(insert(Meeting).values(held_on=dt.date(2102, 7, 28), title="", place="", topics=[], outcomes=[]))
    refused = ogp("meeting", "minutes", "1", "--out", str(tmp_path / "m.docx"))
    assert (refused.exit_code, refused.stderr) == (
        1,
        "Error: meeting 1: held_on: 2102-07-28 is outside the supported dates (1924-08-01 to 2077-11-16, the Umm "
        "al-Qura calendar letters are dated in)\n",
    )


def committed_on_the_command_line(ogp) -> None:  # type: ignore[no-untyped-def]
    """P-1, submitted 2021-06-20, committed by a letter dated 2021-08-02, with milestone M1."""
    assert ogp("proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "جهة", "--entity", "MODEE",
               "--submitted-on", "2021-06-20").exit_code == 0  # fmt: skip
    cli_to_shortlisted(ogp, "P-1")
    for args in (
        ("advance", "P-1", "refer", "--dated", "2021-07-30"),
        ("response", "record", "P-1", "--entity", "MODEE", "--agreed", "--on", "2021-08-01"),
        ("advance", "P-1", "commit", "--dated", "2021-08-02"),
        ("milestone", "add", "P-1", "--title", "نشر البيانات", "--start", "2021-10", "--end", "2022-04",
         "--responsible", "MODEE"),
    ):  # fmt: skip
        result = ogp(*args)
        assert result.exit_code == 0, (args, result.output)


def test_implausible_dates_of_milestone_moves_and_progress_are_refused_at_entry(  # type: ignore[no-untyped-def]
    ogp, workspace: Workspace, session_scope
) -> None:
    committed_on_the_command_line(ogp)
    before = dump_tables(url_of(workspace))
    today = dt.date.today()
    soon = today + dt.timedelta(days=10)
    made = "the commitment was made (2021-08-02)"
    progress = ("progress", "record", "M1", "--percent", "10", "--note", "بدأ", "--by", "government")
    refusals = [
        (("milestone", "advance", "M1", "start", "--dated", "1925-07-28"),
         f"Error: milestone M1: --dated: 1925-07-28 is before {made}; a milestone's move cannot be earlier\n"),
        (("milestone", "advance", "M1", "start", "--dated", "2021-08-01"),
         f"Error: milestone M1: --dated: 2021-08-01 is before {made}; a milestone's move cannot be earlier\n"),
        (("milestone", "advance", "M1", "start", "--dated", str(soon)),
         f"Error: milestone M1: --dated: {soon} is in the future\n"),
        ((*progress, "--on", "1925-07-28"),
         f"Error: milestone M1: --on: 1925-07-28 is before {made}; a progress report cannot be earlier\n"),
        ((*progress, "--on", str(soon)), f"Error: milestone M1: --on: {soon} is in the future\n"),
    ]  # fmt: skip
    for args, message in refusals:
        refused = ogp(*args)
        assert (refused.exit_code, refused.stderr) == (1, message), args
    for args in (  # outside the Umm al-Qura calendar: not a date letters can bear (usage, exit 2)
        ("milestone", "advance", "M1", "start", "--dated", "2102-07-28"),
        (*progress, "--on", "1900-01-01"),
    ):
        refused = ogp(*args)
        assert refused.exit_code == 2, (args, refused.output)
        assert "is outside the supported dates" in refused.stderr, args
    assert dump_tables(url_of(workspace)) == before

    # The day the commitment was made is plausible, in any digits; so is today.
    for args in (
        ("milestone", "advance", "M1", "start", "--dated", "٢/٨/٢٠٢١"),
        (*progress, "--on", "2021-08-02"),
        ("progress", "record", "M1", "--percent", "20", "--note", "تقدم", "--by", "civil-society"),
    ):
        result = ogp(*args)
        assert result.exit_code == 0, (args, result.output)
    with session_scope() as s:
        assert list(s.scalars(select(MilestoneMove.dated))) == [dt.date(2021, 8, 2)]
        assert list(s.scalars(select(Progress.reported_on).order_by(Progress.id))) == [dt.date(2021, 8, 2), today]


def test_implausible_dates_of_the_plan_are_refused_at_entry(  # type: ignore[no-untyped-def]
    ogp, workspace: Workspace, session_scope
) -> None:
    before = dump_tables(url_of(workspace))
    soon = dt.date.today() + dt.timedelta(days=10)
    horizon = dt.date(2021, 5, 20) + dt.timedelta(days=2 * 366)
    refusals = [
        (("plan", "timeline", "--published-on", "1925-07-28", "--co-creation-starts", "1925-08-28"),
         "Error: timeline published on 1925-07-28: --published-on: 1925-07-28 is before the OGP was launched "
         "(2011-09-20); the timeline's publication cannot be earlier\n"),
        (("plan", "timeline", "--published-on", str(soon), "--co-creation-starts", str(soon)),
         f"Error: timeline published on {soon}: --published-on: {soon} is in the future\n"),
        (("plan", "timeline", "--published-on", "2021-05-20", "--co-creation-starts", "2070-06-06"),
         f"Error: timeline published on 2021-05-20: --co-creation-starts: 2070-06-06 is after {horizon}, as far "
         "ahead as co-creation is planned; co-creation's start cannot be later\n"),
        (("init", "--submitted-on", "1925-07-28"),
         "Error: plan: submitted-on: 1925-07-28 is before the OGP was launched (2011-09-20); the plan's "
         "submission cannot be earlier\n"),
        (("init", "--submitted-on", str(soon)), f"Error: plan: submitted-on: {soon} is in the future\n"),
    ]  # fmt: skip
    for args, message in refusals:
        refused = ogp(*args)
        assert (refused.exit_code, refused.stderr) == (1, message), args
    for args in (
        ("plan", "timeline", "--published-on", "1900-01-01", "--co-creation-starts", "2021-06-06"),
        ("init", "--submitted-on", "2102-07-28"),
    ):
        refused = ogp(*args)
        assert refused.exit_code == 2, (args, refused.output)
        assert "is outside the supported dates" in refused.stderr, args
    assert dump_tables(url_of(workspace)) == before

    # The OGP's launch day is plausible, and so is a plan submitted since.
    for args in (
        ("plan", "timeline", "--published-on", "2011-09-20", "--co-creation-starts", "2011-10-20"),
        ("init", "--submitted-on", "1/12/2021"),
    ):
        result = ogp(*args)
        assert result.exit_code == 0, (args, result.output)
    with session_scope() as s:
        assert list(s.scalars(select(TimelinePublication.published_on))) == [OGP_LAUNCH]
    assert json.loads(ogp("plan", "show", "--json").stdout)["submitted_on"] == "2021-12-01"
