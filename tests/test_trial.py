"""What a new coordinator's first day found (a trial of the README on a fresh clone), each kept as a
test of the right behaviour: contradictory flags, dates that only letters carry, listings' layout,
letters dated before what they report, files that are not what their names say."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from click.testing import CliRunner, Result

from cli import cli
from tests.helpers import cli_to_shortlisted, dump_tables
from workflow.db import Workspace


def ogp(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(cli, list(args))


def ok(runner: CliRunner, *args: str) -> Result:
    result = ogp(runner, *args)
    assert result.exit_code == 0, (args, result.output)
    return result


def url_of(workspace: Workspace) -> str:
    return workspace.url.render_as_string(hide_password=False)


def add(runner: CliRunner, ref: str, *extra: str) -> None:
    ok(runner, "proposal", "add", "--ref", ref, "--title", f"منصة {ref}", "--org", "مركز الشفافية الأردني",
       "--entity", "MODEE", "--submitted-on", "2021-06-20", *extra)  # fmt: skip


def referred(runner: CliRunner, ref: str) -> None:
    """`ref` interviewed on 2021-07-28, scored, shortlisted and referred with letters dated 2021-08-01."""
    add(runner, ref)
    cli_to_shortlisted(lambda *args: ogp(runner, *args), ref)
    ok(runner, "advance", ref, "refer", "--dated", "2021-08-01")


def test_a_body_agreed_or_declined_never_both(runner: CliRunner, workspace: Workspace) -> None:
    referred(runner, "P-1")
    before = dump_tables(url_of(workspace))
    both = ogp(runner, "response", "record", "P-1", "--entity", "MODEE", "--agreed", "--declined", "--on", "2021-08-10")
    assert both.exit_code == 2 and "give --agreed or --declined, not both" in both.stderr
    neither = ogp(runner, "response", "record", "P-1", "--entity", "MODEE", "--on", "2021-08-10")
    assert neither.exit_code == 2 and "Missing option '--agreed' or '--declined'" in neither.stderr
    assert dump_tables(url_of(workspace)) == before
    done = ok(runner, "response", "record", "P-1", "--entity", "MODEE", "--declined", "--on", "2021-08-10")
    assert "declined" in done.stdout


def test_the_answer_a_body_gave_last_decides_not_the_one_entered_last(runner: CliRunner, workspace: Workspace) -> None:
    referred(runner, "P-1")
    ok(runner, "response", "record", "P-1", "--entity", "MODEE", "--declined", "--on", "2021-08-20")
    # An older letter of agreement, found and entered afterwards: recorded, but it does not stand.
    ok(runner, "response", "record", "P-1", "--entity", "MODEE", "--agreed", "--on", "2021-08-10")
    refused = ogp(runner, "advance", "P-1", "commit", "--lead", "MODEE")
    assert refused.exit_code == 1, refused.output
    assert json.loads(ok(runner, "proposal", "show", "P-1", "--json").stdout)["state"] == "referred"
    assert "'MODEE' has not agreed to lead it (bodies that agreed: none yet)" in refused.stderr
    # A later answer does stand.
    ok(runner, "response", "record", "P-1", "--entity", "MODEE", "--agreed", "--on", "2021-08-25")
    ok(runner, "advance", "P-1", "commit", "--lead", "MODEE")
    ok(runner, "audit", "verify")  # the replay of the chain reads the answers in the same order
    # The other way round: an agreement, then an older refusal entered late; the agreement stands.
    referred(runner, "P-2")
    ok(runner, "response", "record", "P-2", "--entity", "MODEE", "--agreed", "--on", "2021-08-20")
    ok(runner, "response", "record", "P-2", "--entity", "MODEE", "--declined", "--on", "2021-08-10")
    again = ogp(runner, "response", "record", "P-2", "--entity", "MODEE", "--declined", "--on", "2021-08-10")
    assert again.exit_code == 1 and "is already recorded" in again.stderr  # a command run twice
    ok(runner, "advance", "P-2", "commit", "--lead", "MODEE")
    ok(runner, "audit", "verify")


def test_an_empty_ranking_says_so(runner: CliRunner, workspace: Workspace) -> None:
    assert ok(runner, "ranking").stdout == (
        "No interviewed proposal is waiting to be ranked. 'ogp ranking --all' also lists those already decided on.\n"
    )
    assert ok(runner, "ranking", "--all").stdout == "No proposal has been interviewed or decided on yet.\n"
    assert ok(runner, "ranking", "--json").stdout == "[]\n"


def test_every_listing_prints_one_object_per_line(runner: CliRunner, workspace: Workspace) -> None:
    add(runner, "P-1")
    add(runner, "P-2")
    ok(runner, "interview", "record", "P-2", "--on", "2021-07-28", "--platform", "Zoom")
    ok(runner, "advance", "P-2", "interview")
    cli_to_shortlisted(lambda *args: ogp(runner, *args), "P-1")  # P-1 scored and shortlisted
    ok(runner, "advance", "P-1", "refer", "--dated", "2021-08-01")
    listings = [
        ("proposal", "list"), ("score", "list", "P-1"), ("ranking", "--all"), ("due", "--as-of", "2021-09-30"),
        ("compliance", "--as-of", "2021-09-30"), ("letters", "list"), ("member", "list"), ("entity", "list"),
    ]  # fmt: skip
    shown = 0
    for args in listings:
        out = ok(runner, *args, "--json").stdout
        records = json.loads(out)
        assert isinstance(records, list), args
        lines = out.splitlines()
        if not records:
            assert lines == ["[]"], args
            continue
        shown += 1
        assert lines[0] == "[" and lines[-1] == "]" and len(lines) == len(records) + 2, (args, out[:300])
        assert [json.loads(line.strip().rstrip(",")) for line in lines[1:-1]] == records, args
    assert shown >= 6  # the layout was seen, not only empty listings


def test_letters_are_not_dated_before_the_interview_they_report(runner: CliRunner, workspace: Workspace) -> None:
    add(runner, "P-1")
    cli_to_shortlisted(lambda *args: ogp(runner, *args), "P-1")  # interviewed on 2021-07-28
    before = dump_tables(url_of(workspace))
    early = ogp(runner, "advance", "P-1", "refer", "--dated", "2021-07-15")
    assert early.exit_code == 1
    assert early.stderr == (
        "Error: proposal P-1: --dated: 2021-07-15 is before the interview held with its proposers on 2021-07-28\n"
    )
    assert dump_tables(url_of(workspace)) == before
    ok(runner, "advance", "P-1", "refer", "--dated", "2021-07-28")  # the same day is possible


def test_interview_letters_may_precede_the_interview_and_a_void_letter_not_reissued_still_counts(
    runner: CliRunner, workspace: Workspace
) -> None:
    add(runner, "P-1")
    ok(runner, "interview", "record", "P-1", "--on", "2021-07-28", "--platform", "Zoom")
    # The invitation that went out before it, entered after the interview: what happened, in any order.
    ok(runner, "interview", "schedule", "P-1", "--at", "2021-07-28 10:00", "--platform", "Zoom", "--dated", "2021-07-18")
    referred(runner, "P-2")  # referral dated 2021-08-01
    (referral,) = [x for x in json.loads(ok(runner, "letters", "list", "--json").stdout) if x["ref"] == "P-2"]
    ok(runner, "letters", "void", referral["reference"], "--reason", "أرسل خطأً")  # void, not reissued
    before = dump_tables(url_of(workspace))
    early = ogp(runner, "advance", "P-2", "reject", "--reason", "خارج النطاق", "--dated", "2021-07-29")
    assert early.exit_code == 1
    assert f"2021-07-29 is before the letter {referral['reference']} (void, not reissued) about it" in early.stderr
    assert dump_tables(url_of(workspace)) == before


def test_a_void_letter_does_not_hold_its_reissue_to_the_wrong_date(runner: CliRunner, workspace: Workspace) -> None:
    add(runner, "P-1")
    cli_to_shortlisted(lambda *args: ogp(runner, *args), "P-1")
    ok(runner, "advance", "P-1", "refer")  # --dated forgotten: the letter bears today's date
    (letter,) = json.loads(ok(runner, "letters", "list", "--json").stdout)
    assert letter["issued_on"] == dt.date.today().isoformat()
    done = ok(runner, "letters", "void", letter["reference"], "--reason", "التاريخ خطأ", "--reissue", "--dated", "2021-08-01")
    assert "replacement" in done.stdout
    listed = json.loads(ok(runner, "letters", "list", "--json").stdout)
    assert [(x["issued_on"], x["void_reason"]) for x in listed] == [
        (dt.date.today().isoformat(), "التاريخ خطأ"), ("2021-08-01", ""),
    ]  # fmt: skip
    # What still counts holds: the reissued referral, not the void letter.
    early = ogp(runner, "response", "record", "P-1", "--entity", "MODEE", "--agreed", "--on", "2021-08-10")
    assert early.exit_code == 0, early.output
    later = ogp(runner, "advance", "P-1", "commit", "--dated", "2021-07-31")
    assert later.exit_code == 1 and "before the letter" in later.stderr and "2021-08-01" in later.stderr
    ok(runner, "advance", "P-1", "commit", "--dated", "2021-08-22")
    ok(runner, "audit", "verify")


def test_the_published_site_dates_a_decision_by_the_letters_that_carry_it(
    runner: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    referred(runner, "P-1")
    ok(runner, "response", "record", "P-1", "--entity", "MODEE", "--agreed", "--on", "2021-08-15")
    ok(runner, "advance", "P-1", "commit", "--dated", "2021-08-22")
    add(runner, "P-2")
    ok(runner, "advance", "P-2", "reject", "--reason", "خارج نطاق الخطة", "--dated", "2021-06-25")
    ok(runner, "publish", "site", "--dated", "2021-08-31")
    rows = {r["ref"]: r for r in json.loads((tmp_path / "site" / "data" / "response.json").read_text("utf-8"))}
    assert rows["P-1"]["decided_on"] == "2021-08-22"  # the commitment letter's date, not the day it was typed in
    assert rows["P-2"]["decided_on"] == "2021-06-25"  # the rejection letter to the proposer
    page = (tmp_path / "site" / "en" / "proposals" / "P-1.html").read_text("utf-8")
    # The commitment and the referral, in the timeline, on the days their letters bear; no step
    # entered today is shown after them (registered, scored, shortlisted take the next one's day).
    for day in ("2021-08-22", "2021-08-01"):
        assert f'<time datetime="{day}">' in page, day
    timeline = re.findall(r'<time datetime="(\d{4}-\d{2}-\d{2})">', page.split('<ol class="steps">', 1)[1].split("</ol>")[0])
    assert timeline and timeline == sorted(timeline) and max(timeline) <= "2021-08-31", timeline
    # A referral sent with today's date by mistake, voided and reissued with its real date: the
    # referral step is dated by the reissue, not by the day it was voided.
    add(runner, "P-3")
    cli_to_shortlisted(lambda *args: ogp(runner, *args), "P-3")
    ok(runner, "advance", "P-3", "refer")
    (wrong,) = [x for x in json.loads(ok(runner, "letters", "list", "--json").stdout) if x["ref"] == "P-3"]
    ok(runner, "letters", "void", wrong["reference"], "--reason", "التاريخ خطأ", "--reissue", "--dated", "2021-08-02")
    ok(runner, "advance", "P-3", "reject", "--reason", "لم توافق الجهة", "--dated", "2021-08-20")
    ok(runner, "publish", "site", "--dated", "2021-08-31")
    rows = {r["ref"]: r for r in json.loads((tmp_path / "site" / "data" / "response.json").read_text("utf-8"))}
    assert rows["P-3"]["decided_on"] == "2021-08-20"
    page = (tmp_path / "site" / "en" / "proposals" / "P-3.html").read_text("utf-8")
    steps = page.split('<ol class="steps">', 1)[1].split("</ol>")[0].split("<li>")[1:]
    timeline = [re.findall(r'<time datetime="(\d{4}-\d{2}-\d{2})">', step)[0] for step in steps]
    assert "2021-08-02" in timeline and timeline == sorted(timeline), timeline
    # Only the void letter itself bears today's date (it was signed today, then voided).
    late = [step for step, day in zip(steps, timeline, strict=True) if day > "2021-08-31"]
    assert len(late) == 1 and wrong["reference"] in late[0], late


def test_a_dated_move_that_writes_no_letter_says_the_date_is_not_kept(runner: CliRunner, workspace: Workspace) -> None:
    add(runner, "P-1")
    ok(runner, "interview", "record", "P-1", "--on", "2021-07-28", "--platform", "Zoom")
    moved = ok(runner, "advance", "P-1", "interview", "--dated", "2021-07-29")
    assert "P-1: submitted → interviewed" in moved.stdout
    assert moved.stderr == (
        "Warning: interview of P-1 wrote no letter: --dated 2021-07-29 dates letters only, so the record and the "
        "published site date this move by when it was entered\n"
    )
    add(runner, "P-2")
    add(runner, "P-3")
    for ref in ("P-2", "P-3"):
        ok(runner, "interview", "record", ref, "--on", "2021-07-28", "--platform", "Zoom")
    batch = ok(runner, "advance", "P-2", "P-3", "interview", "--dated", "2021-07-29")
    assert "Warning: interview of P-2, P-3 wrote no letter: --dated 2021-07-29 dates letters only" in batch.stderr
    # A file's 'dated' column, as --dated (found by a new user: it was kept silently).
    for ref in ("P-4", "P-5"):
        add(runner, ref)
        ok(runner, "interview", "record", ref, "--on", "2021-07-28", "--platform", "Zoom")
    rows = workspace.folder / "rows.csv"
    rows.write_text("ref,dated\nP-4,2021-07-29\nP-5,\n", encoding="utf-8")
    from_file = ok(runner, "advance", "--from-file", str(rows), "interview")
    assert from_file.stderr == (
        "Warning: interview of P-4 wrote no letter: the file's 'dated' column dates letters only, so the record and "
        "the published site date this move by when it was entered\n"
    )
    quiet = ok(runner, "advance", "P-1", "reject", "--reason", "دون خط القطع", "--dated", "2021-07-30")
    assert "Warning" not in quiet.stderr  # a rejection writes to the proposer: the letter carries the date


def test_an_unclosed_quote_and_a_workbook_are_named(runner: CliRunner, workspace: Workspace, tmp_path: Path) -> None:
    before = dump_tables(url_of(workspace))
    unclosed = tmp_path / "proposals.csv"
    unclosed.write_text('title,organization\n"عنوان, مع فاصلة,جمعية\nفكرة ثانية,جمعية\nفكرة ثالثة,جمعية\n', "utf-8")
    refused = ogp(runner, "proposal", "import", str(unclosed))
    assert refused.exit_code == 1
    assert (
        "line 2: a quoted cell opened on this line is not closed where its row ends: lines 2–4 were read as one "
        "cell, rows and all" in refused.stderr
    )
    scores = tmp_path / "scores.csv"
    for text in (
        'proposal,member,criterion,value,note\nP-1,أ,importance,4,"ملاحظة\nP-2,أ,importance,3,\n',  # to the end
        # Closed by the next quote: P-2's row would vanish into P-1's note.
        'proposal,member,criterion,value,note\nP-1,أ,importance,3,"فكرة جيدة\nP-2,أ,importance,4,"جيدة"\nP-3,أ,importance,5,\n',
        # Another stray quote makes the count even: still found.
        'proposal,member,criterion,value,note\nP-1,أ,importance,3,5" screen\nP-2,أ,importance,4,"جيدة\nP-3,أ,importance,5,\n',
        # Open on the last line, with or without its line break: the cell runs to the end of the file.
        'proposal,member,criterion,value,note\nP-1,أ,importance,3,5" screen\nP-2,أ,importance,"4,جيدة\n',
        'proposal,member,criterion,value,note\nP-1,أ,importance,3,\n"P-2,أ,importance,4,جيدة',
    ):
        scores.write_text(text, "utf-8")
        refused = ogp(runner, "score", "import", str(scores))
        assert refused.exit_code == 1 and "a quoted cell opened on this line is n" in refused.stderr, text
    for text, line in (
        ('title,organization,submitted_on\nعنوان,"جمعية,2021-06-20\n', 2),  # the only row, open to the end
        ('title,organization\n"عنوان,جمعية\n', 2),
        # After a cell rightly over two lines: the open quote is named, not that cell.
        ('title,organization,problem\nفكرة,جمعية,"سطر أول\nسطر ثان"\nعنوان,"جمعية,x', 4),
    ):
        unclosed.write_text(text, "utf-8")
        refused = ogp(runner, "proposal", "import", str(unclosed))
        assert refused.exit_code == 1, text
        assert f"line {line}: a quoted cell opened on this line is never closed" in refused.stderr, text
    # Open, then closed by a stray quote rows later (which strict CSV accepts): the rows read into
    # the cell are found all the same; so is a quote left open in the header.
    for text, lines in (
        ("ref,title,organization,problem\nC-01,ok1,Org,\"open problem\nC-02,ok2,Org,p\nC-03,ok3,Org,size 12\"\n"
         "C-04,ok4,Org,p\n", "line 2: a quoted cell opened on this line is not closed where its row ends: lines 2–4"),
        ("ref,title,organization,problem\r\nD-01,ok1,Org,\"open problem\r\nD-02,ok2,Org,\"\r\nsecond line\"\r\n",
         "line 2: a quoted cell opened on this line is not closed where its row ends: lines 2–3"),
        ("ref,\"title,organization,problem\nH-01,ok,Org,p\nH-02,ok,Org,p\n",
         "line 1: a quoted cell opened on this line is not closed where its row ends: lines 1–3"),
    ):  # fmt: skip
        unclosed.write_text(text, "utf-8")
        refused = ogp(runner, "proposal", "import", str(unclosed))
        assert refused.exit_code == 1 and lines in refused.stderr, (text, refused.stderr)
    # A quote closed before the cell ends: refused on whichever row it is, and said so, also right
    # after a cell rightly over two lines (not taken for that cell left open).
    for text in (
        'ref,title,organization,problem\nC-01,ok1,Org,"line one\nthe 5" screen"\nC-02,ok2,Org,p\n',
        'ref,title,organization,problem\nC-01,"multi\nline title",Org,"abc" \nC-02,ok2,Org,p\n',
    ):
        unclosed.write_text(text, "utf-8")
        refused = ogp(runner, "proposal", "import", str(unclosed))
        assert "line 3: a quoted cell on this line is closed before its end" in refused.stderr, refused.stderr
    for rows in (("شاشة,\"the 5\" screen\",2021-06-20", "عنوان,جمعية,2021-06-20"),
                 ("عنوان,جمعية,2021-06-20", "شاشة,\"the 5\" screen\",2021-06-20")):  # fmt: skip
        unclosed.write_text("title,organization,submitted_on\n" + "\n".join(rows) + "\n", "utf-8")
        refused = ogp(runner, "proposal", "import", str(unclosed))
        assert refused.exit_code == 1, rows
        line = 2 + rows.index("شاشة,\"the 5\" screen\",2021-06-20")
        assert f"line {line}: a quoted cell on this line is closed before its end and followed by more text" in (
            refused.stderr
        ), rows
    assert dump_tables(url_of(workspace)) == before
    quoted = tmp_path / "multiline.csv"  # a cell over two lines, closed, beside a stray quote: rows like any other
    quoted.write_text('title,organization,problem\nشاشة 5" بوصة,جمعية,\nفكرة,جمعية,"سطر أول\nسطر ثان"\n', "utf-8")
    assert "Imported 2 proposals" in ok(runner, "proposal", "import", str(quoted)).stdout
    before = dump_tables(url_of(workspace))
    for name, head, kind in (("ranking.xlsx", b"PK\x03\x04", ".xlsx"), ("old.xls", b"\xd0\xcf\x11\xe0", ".xls")):
        workbook = tmp_path / name
        workbook.write_bytes(head + b"\x14\x00\x06\x00" + bytes(range(256)) * 4)
        for command in (("proposal", "import"), ("score", "import"), ("response", "import"), ("interview", "import")):
            refused = ogp(runner, *command, str(workbook))
            assert refused.exit_code == 1, (command, refused.output)
            assert f"file: is {'an' if kind == '.xlsx' else 'an old'} Excel workbook ({kind})" in refused.stderr
            assert "Save As › 'CSV UTF-8 (Comma delimited)'" in refused.stderr
    assert dump_tables(url_of(workspace)) == before


def test_files_written_must_be_named_for_what_they_hold(runner: CliRunner, workspace: Workspace, tmp_path: Path) -> None:
    add(runner, "P-1")
    for args in (("report", "plan", "--out", "plan.xlsx"), ("report", "plan", "--out", "plan"),
                 ("proposal", "export", "proposals.xlsx")):  # fmt: skip
        refused = ogp(runner, *args)
        assert refused.exit_code == 2, (args, refused.output)
        assert "is not named as the" in refused.stderr and "name it " in refused.stderr
    assert not list(tmp_path.glob("plan*")) and not (tmp_path / "proposals.xlsx").exists()
    ok(runner, "report", "plan", "--out", "PLAN.DOCX")
    ok(runner, "proposal", "export", "proposals.csv")


def test_the_plan_s_period_is_two_years_in_order(runner: CliRunner, workspace: Workspace) -> None:
    before = dump_tables(url_of(workspace))
    for typed, problem in (
        ("2025-2023", "plan: period: '2025-2023' ends before it starts (give it as 2023-2025?)"),
        ("2023/25", "plan: period: '2023/25' is not a period: give two years, e.g. 2021-2023"),
        ("الخطة الخامسة", "plan: period: 'الخطة الخامسة' is not a period: give two years, e.g. 2021-2023"),
        ("2021-2031", "plan: period: '2021-2031' is 10 years; an OGP action plan runs at most 4"),
    ):
        refused = ogp(runner, "init", "--period", typed)
        assert refused.exit_code == 1 and refused.stderr == f"Error: {problem}\n", (typed, refused.stderr)
    assert dump_tables(url_of(workspace)) == before
    for typed in ("2023/2025", "٢٠٢٣–٢٠٢٥", " 2023 - 2025 "):
        ok(runner, "init", "--period", typed)
        assert json.loads(ok(runner, "plan", "show", "--json").stdout)["period"] == "2023-2025", typed


def test_mistyped_values_addresses_and_workspaces_are_named(
    runner: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    wrong = ogp(runner, "proposal", "add", "--title", "ت", "--org", "ج", "--value", "المشاركه الشعبيه ")
    assert wrong.exit_code == 0  # ta marbuta typed as ha: the same name
    wrong = ogp(runner, "proposal", "add", "--title", "ت", "--org", "ج", "--value", "الشفافية")
    assert wrong.exit_code == 2
    assert "public_participation (المشاركة الشعبية)" in wrong.stderr and "accountability (المساءلة)" in wrong.stderr
    (tmp_path / "proposals.csv").write_text("title,organization\nفكرة,جمعية\n", "utf-8")
    for args in (("--db", "proposals.csv", "status"), ("--db", "proposals.csv", "proposal", "list")):
        refused = ogp(runner, *args)
        assert refused.exit_code == 2, refused.output
        assert "proposals.csv is not a workspace: it is not a SQLite database" in refused.stderr
    copy_to = ogp(runner, "db", "copy", "--to", "proposals.csv")  # the same, named by its own option
    assert copy_to.exit_code == 2 and "Invalid value for '--to': " in copy_to.stderr
    assert "proposals.csv is not a workspace" in copy_to.stderr
    for typed, hint in (("example.org/report", "https://example.org/report"), ("moh.gov.jo/a/b.pdf", "https://moh.gov.jo/a/b.pdf")):
        refused = ogp(runner, "progress", "record", "M1", "--percent", "10", "--note", "ن", "--by", "government",
                      "--evidence", typed)  # fmt: skip
        assert refused.exit_code == 2
        assert f"'{typed}' is not a file here; a web address needs https:// ({hint})" in refused.stderr
    missing = ogp(runner, "progress", "record", "M1", "--percent", "10", "--note", "ن", "--by", "government",
                  "--evidence", "report.pdf")  # fmt: skip
    assert missing.exit_code == 2 and "File 'report.pdf' does not exist" in missing.stderr


def test_a_reissued_invitation_is_still_for_a_time_after_the_day_it_bears(
    runner: CliRunner, workspace: Workspace
) -> None:
    add(runner, "P-1")
    ok(runner, "interview", "schedule", "P-1", "--at", "2021-07-28 10:00", "--platform", "Zoom", "--dated", "2021-07-18")
    (invitation,) = json.loads(ok(runner, "letters", "list", "--json").stdout)
    before = dump_tables(url_of(workspace))
    late = ogp(runner, "letters", "void", invitation["reference"], "--reason", "خطأ", "--reissue", "--dated", "2021-07-30")
    assert late.exit_code == 1
    assert late.stderr == (
        f"Error: letter {invitation['reference']}: --dated: 2021-07-28 10:00 is not after the invitation's date "
        "(2021-07-30); an invitation is for a time still to come\n"
    )
    undated = ogp(runner, "letters", "void", invitation["reference"], "--reason", "خطأ", "--reissue")
    assert undated.exit_code == 1
    assert "2021-07-28 10:00 has already passed; an invitation is for a time still to come; give --dated" in undated.stderr
    assert dump_tables(url_of(workspace)) == before
    ok(runner, "letters", "void", invitation["reference"], "--reason", "خطأ", "--reissue", "--dated", "2021-07-19")


def test_a_ref_held_by_a_discarded_proposal_says_so(runner: CliRunner, workspace: Workspace, tmp_path: Path) -> None:
    add(runner, "P-1")
    ok(runner, "advance", "P-1", "discard", "--reason", "سُجّل مرتين")
    again = ogp(runner, "proposal", "add", "--ref", "p-1", "--title", "فكرة", "--org", "جمعية")
    assert again.exit_code == 1
    assert "'p-1' is already used by another proposal (discarded, it keeps its ref: give this one another" in again.stderr
    csv_file = tmp_path / "proposals.csv"
    csv_file.write_text("ref,title,organization\nP-1,فكرة,جمعية\n", "utf-8")
    imported = ogp(runner, "proposal", "import", str(csv_file))
    assert imported.exit_code == 1 and "(discarded, it keeps its ref" in imported.stderr
    add(runner, "P-2")
    taken = ogp(runner, "proposal", "add", "--ref", "P-2", "--title", "فكرة", "--org", "جمعية")
    assert taken.exit_code == 1 and "'P-2' is already used by another proposal" in taken.stderr
    assert "discarded" not in taken.stderr


def test_a_body_s_code_stays_its_own_and_letters_are_found_as_printed(
    runner: CliRunner, workspace: Workspace
) -> None:
    # The workspace has سجل الجمعيات with the code ROS: no other body may be named "Ros".
    before = dump_tables(url_of(workspace))
    for typed in ("Ros", " ros "):
        taken = ogp(runner, "entity", "add", typed, "--addressee", "السادة المحترمين")
        assert taken.exit_code == 1 and "is the code of سجل الجمعيات; name this body otherwise" in taken.stderr
    coded = ogp(runner, "entity", "add", "هيئة", "--code", "MOH", "--addressee", "السادة")
    assert coded.exit_code == 1  # MOH is already a code
    assert dump_tables(url_of(workspace)) == before
    referred(runner, "P-1")
    (letter,) = json.loads(ok(runner, "letters", "list", "--json").stdout)
    year, number = letter["reference"].rsplit("/", 2)[-2:]
    arabic = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    # As --digits arabic-indic prints it, then pasted with direction marks: the same letter.
    found = ogp(runner, "letters", "void", f"{year}/{number}".translate(arabic), "--reason", "خطأ")
    assert found.exit_code == 0, found.output
    pasted = ogp(runner, "letters", "void", "\u200f" + letter["reference"] + "\u200e", "--reason", "خطأ")
    assert pasted.exit_code == 1 and "is already void" in pasted.stderr  # found, not "no letter"


def test_an_empty_output_name_is_a_usage_error(runner: CliRunner, workspace: Workspace) -> None:
    for args in (("export", "proposals", "--out", ""), ("report", "plan", "--out", ""), ("proposal", "export", "")):
        refused = ogp(runner, *args)
        assert refused.exit_code == 2 and "names no file; give a file name" in refused.stderr, (args, refused.output)
        assert "Traceback" not in refused.output
