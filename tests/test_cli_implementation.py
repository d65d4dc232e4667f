"""The command line after the commitment: exit codes, exact messages, JSON shapes, files written,
bad input refused with nothing changed (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner, Result
from docx.oxml.ns import qn

from cli import cli
from tests.test_cli import add, head, to_shortlisted


def ogp(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def ok(runner: CliRunner, *args: str) -> str:
    result = ogp(runner, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def commit(runner: CliRunner, ref: str = "P-1", *bodies: str) -> None:
    add(runner, ref, *(x for body in bodies for x in ("--entity", body)))
    to_shortlisted(runner, ref)
    ok(runner, "advance", ref, "refer", "--dated", "2021-08-01")  # the answer below comes after the letter
    ok(runner, "response", "record", ref, "--entity", "MODEE", "--agreed", "--on", "2021-08-15")
    ok(runner, "advance", ref, "commit", "--dated", "2021-08-22")  # the milestones below are moved after it


def test_a_commitment_from_its_template_to_its_milestones_progress_and_reports(
    runner: CliRunner, tmp_path: Path
) -> None:
    commit(runner)
    assert ok(runner, "commitment", "edit", "P-1", "--ogp-id", "JO0070", "--start", "2021-11", "--end", "2023-06",
              "--status-quo", "طلبات ورقية", "--relevance", "accountability=نشر البيانات", "--supporting", "ROS",
              "--supporting-org", "مركز الشفافية الأردني") == "P-1: the commitment's template was updated.\n"  # fmt: skip
    before = head(runner)
    assert ok(runner, "commitment", "edit", "P-1", "--ogp-id", "JO0070") == (
        "P-1: the commitment's template was already so; nothing changed.\n"
    )
    assert head(runner) == before
    assert ok(runner, "milestone", "add", "P-1", "--title", "نشر البيانات", "--output", "بيانات منشورة",
              "--start", "2021-11", "--end", "2022-04", "--responsible", "ros") == (
        "Added milestone M1 of P-1: نشر البيانات (2021-11 → 2022-04)\n"
    )  # fmt: skip
    started = ok(runner, "milestone", "advance", "M1", "start", "--dated", "1/11/2021")
    assert started == f"M1 (P-1): planned → started on 2021-11-01 (audit #{head(runner)})\n"

    refused = ogp(runner, "milestone", "advance", "m-1", "complete")
    assert refused.exit_code == 1
    assert refused.stderr == (
        "Error: Cannot complete milestone M1: a progress entry with evidence must be recorded first "
        "(ogp progress record … --evidence FILE|URL) (no progress entry on it has evidence).\n"
    )
    missing = ogp(runner, "progress", "record", "M1", "--percent", "100", "--note", "تم", "--by", "government",
                  "--evidence", "nope.pdf")  # fmt: skip
    assert missing.exit_code == 2  # a file that is not there, as for every input file: bad usage
    assert missing.stderr.splitlines()[-1] == "Error: Invalid value for '--evidence': File 'nope.pdf' does not exist."
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4 evidence")
    assert ok(runner, "progress", "record", "M1", "--percent", "100", "--note", "نُشرت البيانات", "--by", "government",
              "--evidence", "report.pdf", "--evidence", "https://example.org/data", "--on", "2022-04-20") == (
        "Recorded progress on M1: 100% by government on 2022-04-20; evidence: 2.\n"
    )  # fmt: skip
    ok(runner, "progress", "record", "M1", "--percent", "80", "--note", "ناقصة", "--by", "civil-society")
    ok(runner, "milestone", "advance", "M1", "complete", "--dated", "2022-04-28")
    wrong = ogp(runner, "milestone", "advance", "M1", "delay", "--reason", "x", "--new-end", "2022-09")
    assert (wrong.exit_code, wrong.stderr) == (
        1, "Error: Cannot delay milestone M1: it is 'completed'; delay is allowed from: planned, started, delayed.\n"
    )  # fmt: skip

    shown = json.loads(ok(runner, "commitment", "show", "p-1", "--json"))
    assert list(shown) == [
        "id", "ref", "ogp_id", "title", "lead", "start", "end", "completion", "percent", "milestones", "edited",
        "problem", "status_quo", "description", "how_it_solves", "relevance", "supporting", "supporting_orgs",
        "edited_by", "edited_at",
    ]  # fmt: skip
    assert (shown["ogp_id"], shown["lead"], shown["completion"], shown["percent"]) == ("JO0070", "MODEE", "complete", 100)
    assert (shown["relevance"], shown["supporting"]) == ({"accountability": "نشر البيانات"}, ["ROS"])
    [milestone] = shown["milestones"]
    assert (milestone["label"], milestone["state"], milestone["percent"], milestone["civil_society_percent"]) == (
        "M1", "completed", 100, 80,
    )  # fmt: skip
    evidence = milestone["progress"][0]["evidence"]
    assert evidence[0]["file_name"] == "report.pdf" and len(evidence[0]["sha256"]) == 64
    assert evidence[1] == {"url": "https://example.org/data", "file_name": None, "size": 0, "sha256": None}
    listed = json.loads(ok(runner, "commitment", "list", "--json"))
    assert listed == [
        {"id": 1, "ref": "P-1", "ogp_id": "JO0070", "title": "منصة P-1", "lead": "MODEE", "start": "2021-11",
         "end": "2023-06", "completion": "complete", "percent": 100, "milestones": 1, "edited": True}
    ]  # fmt: skip
    [row] = json.loads(ok(runner, "milestone", "list", "P-1", "--json"))
    assert list(row) == [
        "id", "label", "ref", "position", "title", "output", "responsible", "start", "end", "planned_end", "state",
        "percent", "civil_society_percent", "next_events", "delays",
    ]  # fmt: skip
    assert "M1   P-1  completed  100% (cs 80%)" in ok(runner, "milestone", "list")

    assert ok(runner, "report", "progress", "--period", "h1-2022", "--out", "progress.docx") == (
        "Wrote the progress report for H1-2022 to progress.docx\n"
    )
    document = docx.Document("progress.docx")
    assert document.sections[0]._sectPr.find(qn("w:bidi")) is not None
    assert any("نُشرت البيانات" in p.text for t in document.tables for r in t.rows for c in r.cells for p in c.paragraphs)
    assert ok(runner, "report", "plan", "--language", "en").startswith("Wrote the action plan to ")
    assert (Path(runner.invoke(cli, ["report", "plan"]).stdout.split(" to ")[1].strip())).name == "plan.ar.docx"
    history = json.loads(ok(runner, "history", "P-1", "--json"))
    assert [e["event"] for e in history][-6:] == [
        "edit_commitment", "add_milestone", "milestone_start", "record_progress", "record_progress",
        "milestone_complete",
    ]  # fmt: skip
    assert ok(runner, "audit", "verify").startswith("Audit chain verified:")


@pytest.mark.parametrize(
    ("args", "option", "problem"),
    [
        (("milestone", "advance", "M1", "finish"), "'EVENT'", "'finish' is not one of 'start', 'delay', 'complete', 'cancel'"),
        (("milestone", "advance", "M1", "start", "--dated", "2022-13-01"), "'--dated'", "'2022-13-01' is not a real date (month must be in 1..12)"),
        (("milestone", "advance", "M1", "delay", "--new-end", "2022-5"), "'--new-end'", "'2022-5' is not a month: use YYYY-MM, e.g. 2022-05"),
        (("milestone", "add", "P-1", "--title", "x", "--start", "2021-1", "--end", "2022-01", "--responsible", "MOH"),
         "'--start'", "'2021-1' is not a month"),
        (("report", "progress", "--period", "H3-2022"), "'--period'", "'H3-2022' is not a half-year: use H1-YYYY"),
        (("due", "--as-of", "yesterday"), "'--as-of'", "'yesterday' is not a date: use YYYY-MM-DD (or D/M/YYYY)"),
        (("compliance", "--as-of", "31/2/2022"), "'--as-of'", "'31/2/2022' is not a real date"),
        (("commitment", "edit", "P-1", "--relevance", "accountability"), "'--relevance'", "'accountability' is not VALUE=TEXT"),
        # A misspelt value is bad usage here as in 'proposal add --value' (it exited 1).
        (("commitment", "edit", "P-1", "--relevance", "accountabilty=نص"), "'--relevance'", "'accountabilty' is not an OGP value (known: "),
        (("commitment", "edit", "P-1", "--end", "June"), "'--end'", "'June' is not a month"),
        (("progress", "record", "M1", "--percent", "101", "--note", "x", "--by", "government"), "'--percent'", "101 is not in the range 0<=x<=100"),
        (("progress", "record", "M1", "--percent", "1", "--note", "x", "--by", "ministry"), "'--by'", "'ministry' is not one of 'government', 'civil-society'"),
        (("plan", "timeline", "--published-on", "2021-05-20", "--co-creation-starts", "soon"), "'--co-creation-starts'", "'soon' is not a date"),
        (("init", "--reply-within", "0"), "'--reply-within'", "0 is not in the range 1<=x<=365"),
        (("init", "--submitted-on", "2021-10-32"), "'--submitted-on'", "'2021-10-32' is not a real date (day is out of range for month)"),
    ],
)  # fmt: skip
def test_bad_dates_months_periods_and_values_are_usage_errors_naming_the_option(
    runner: CliRunner, args: tuple[str, ...], option: str, problem: str
) -> None:
    before = head(runner)
    result = ogp(runner, *args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for {option}: {problem}" in result.stderr
    assert head(runner) == before


def test_refusals_name_the_record_and_change_nothing(runner: CliRunner) -> None:
    add(runner, "P-1")
    before = head(runner)
    for args, message in (
        (("commitment", "show", "P-9"), "Error: no proposal 'P-9'.\n"),
        (("commitment", "show", "P-1"), "Error: no commitment P-1 (the proposal is 'submitted'; only committed ones are).\n"),
        (("commitment", "edit", "P-1", "--ogp-id", "JO1"),
         "Error: Cannot edit the commitment of proposal P-1: it is 'submitted'; this is done only while it is committed.\n"),
        (("milestone", "advance", "M99", "start"), "Error: no milestone 'M99'.\n"),
        (("progress", "record", "x7", "--percent", "1", "--note", "x", "--by", "government"), "Error: no milestone 'x7'.\n"),
        (("followup", "P-1", "--entity", "MODEE"),
         "Error: Cannot follow up the referral of proposal P-1: it is 'submitted'; this is done only while it is referred.\n"),
        (("plan", "timeline", "--published-on", "2070-01-01", "--co-creation-starts", "2070-02-01"),
         "Error: timeline published on 2070-01-01: --published-on: 2070-01-01 is in the future\n"),
    ):  # fmt: skip
        result = ogp(runner, *args)
        assert (result.exit_code, result.stderr) == (1, message), args
    assert head(runner) == before


def test_followup_writes_a_registered_letter_and_due_shows_the_reply_awaited(runner: CliRunner) -> None:
    add(runner, "P-1", "--entity", "ROS")
    to_shortlisted(runner, "P-1")
    referred = ok(runner, "advance", "P-1", "refer")
    referral = next(line for line in referred.splitlines() if "_referral_ROS_" in line)
    ok(runner, "response", "record", "P-1", "--entity", "MODEE", "--agreed")
    before = head(runner)
    early = ogp(runner, "followup", "P-1", "--entity", "ROS", "--dated", "2021-07-01")
    assert early.exit_code == 1 and head(runner) == before
    assert early.stderr == (
        f"Error: proposal P-1: --dated: 2021-07-01 is before the referral it follows up ({dt.date.today()})\n"
    )
    out = ok(runner, "followup", "P-1", "--entity", "ROS")
    first, letter = out.splitlines()
    assert first.startswith("P-1: follow-up to ROS on referral ") and "(reply due " in first
    assert letter.startswith("  letter: ") and "_followup_ROS_" in letter
    path = Path(letter.removeprefix("  letter: "))
    assert path.is_file() and Path(referral.removeprefix("  letter: ")).is_file()
    registered = json.loads(ok(runner, "letters", "list", "--json"))
    assert [r["kind"] for r in registered][-1] == "followup"
    assert ok(runner, "letters", "verify").startswith("Stored letters:")
    [item] = [i for i in json.loads(ok(runner, "due", "--json")) if i["kind"] == "reply"]
    assert list(item) == ["kind", "status", "due_on", "ref", "subject", "what", "resolve"]
    assert (item["status"], item["ref"], item["subject"]) == ("due", "P-1", "ROS")
    assert "followed up 1 time(s)" in item["what"]
    answered = ogp(runner, "followup", "P-1", "--entity", "MODEE")
    assert answered.exit_code == 1
    assert answered.stderr.startswith("Error: proposal P-1: --entity: وزارة الاقتصاد الرقمي والريادة answered on ")


def test_due_and_compliance_print_the_calendar(runner: CliRunner) -> None:
    assert "commitments 5.\n" in ok(runner, "init", "--reply-within", "14", "--submitted-on", "2021-10-31")
    assert ok(runner, "plan", "timeline", "--published-on", "2021-05-20", "--co-creation-starts", "2021-06-06",
              "--url", "https://example.org/timeline") == (
        "Recorded the co-creation timeline: published on 2021-05-20, 17 days before it begins.\n"
    )  # fmt: skip
    ok(runner, "meeting", "add", "--on", "2021-07-15")
    found = json.loads(ok(runner, "compliance", "--json", "--as-of", "2021-08-01"))
    assert [(f["requirement"], f["status"]) for f in found] == [
        ("1.1", "met"), ("2.2", "not yet due"), ("3.1", "met"), ("4.1", "not yet due"), ("5.1", "not yet due"),
    ]  # fmt: skip
    assert list(found[0]) == ["requirement", "title", "status", "detail", "due_on", "dates", "resolve"]
    printed = ok(runner, "compliance", "--as-of", "2022-03-01")
    assert printed.splitlines()[:3] == [
        "OGP minimum requirements as of 2022-03-01:",
        "1.1  not met      The working group meets at least every six months",
        "                 no meeting since the meeting on 2021-07-15; one was due by 2022-01-15",
    ]
    assert "                 → ogp meeting add --on DATE …" in printed
    due = ok(runner, "due", "--as-of", "2022-03-01")
    assert due.splitlines()[0] == "As of 2022-03-01: 2 overdue, 2 due."
    assert "OVERDUE  2021-10-31  requirement 4.1: A reasoned response is published before the plan is submitted" in due


def test_a_template_branch_only_a_rejection_before_the_interview_takes_is_checked(
    runner: CliRunner, tmp_path: Path
) -> None:
    """`from_state` reaches `templates check` (every state a move writing the kind may leave) and
    `advance --dry-run` as it reaches the move: a template broken only where the proposal is still
    `submitted` is found before a letter fails."""
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "rejection.ar.j2").write_text(
        "{% block subject %}نتيجة{% endblock %}\n"
        '{% block body %}{% if from_state == "submitted" %}{{ no_such_value }}{% else %}نص{% endif %}{% endblock %}\n',
        "utf-8",
    )
    checked = ogp(runner, "templates", "check", str(folder))
    assert checked.exit_code == 1
    assert "template rejection.ar.j2, line 2: UndefinedError: 'no_such_value' is undefined" in checked.output
    add(runner, "P-1")
    dry = ok(runner, "--templates", str(folder), "advance", "P-1", "reject", "--reason", "خارج النطاق", "--dry-run")
    assert "Would not move P-1" in dry and "'no_such_value' is undefined" in dry
    refused = ogp(runner, "--templates", str(folder), "advance", "P-1", "reject", "--reason", "خارج النطاق")
    assert refused.exit_code == 1 and "'no_such_value' is undefined" in refused.stderr
