"""Batch moves (issue 13): `ogp advance ID… EVENT`, `--state`, `--from-file`, all or nothing by
default, `--skip-refused`, `--dry-run`, gap-free letter numbers, and the progress bar."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner, Result

import cli as cli_module
from cli import cli
from states import Event, State
from tests.conftest import SessionFactory
from tests.helpers import CRITERIA, SCORER, cli_to_shortlisted, dump_tables
from workflow.db import Workspace


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


def add(ogp, *refs: str) -> None:  # type: ignore[no-untyped-def]
    for ref in refs:
        added = ogp("proposal", "add", "--ref", ref, "--title", f"فكرة {ref}", "--org", f"جهة {ref}",
                    "--entity", "MODEE", "--submitted-on", "2021-06-20")  # fmt: skip
        assert added.exit_code == 0, added.output


def states(ogp) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {p["ref"]: p["state"] for p in json.loads(ogp("proposal", "list", "--all", "--json").stdout)}


def statements_of(ogp, *args: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The SQL statements `ogp ARGS` ran, each on one line; the command must succeed."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        done = ogp(*args)
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert done.exit_code == 0, done.output
    return statements


def test_named_proposals_move_together_each_its_own_entry(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    add(ogp, "P-1", "P-2", "P-3")
    moved = ogp("advance", "P-1", "P-3", "withdraw", "--reason", "انسحبت الجهة")
    assert moved.exit_code == 0, moved.output
    lines = moved.stdout.splitlines()
    assert re.fullmatch(r"P-1: submitted → withdrawn \(audit #\d+\)", lines[0])
    assert re.fullmatch(r"P-3: submitted → withdrawn \(audit #\d+\)", lines[1])
    assert lines[2].startswith("Moved 2 of 2 by 'withdraw'")
    assert states(ogp) == {"P-1": "withdrawn", "P-2": "submitted", "P-3": "withdrawn"}
    history = json.loads(ogp("history", "P-3", "--json").stdout)
    assert history[-1]["event"] == "withdraw" and history[-1]["reason"] == "انسحبت الجهة"
    assert ogp("audit", "verify").exit_code == 0


def test_one_refusal_names_every_refused_proposal_and_nothing_moves(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    add(ogp, "P-1", "P-2", "P-3")
    assert ogp("advance", "P-2", "withdraw", "--reason", "x").exit_code == 0
    before = dump_tables(url_of(workspace))
    refused = ogp("advance", "P-1", "P-2", "P-3", "P-9", "reject", "--reason", "خارج الصلاحيات")
    assert refused.exit_code == 1
    assert refused.stderr.startswith(
        "Error: 2 of 4 proposals cannot take 'reject'; nothing was moved (give --skip-refused to move the others):\n"
    )
    assert "  P-2: Cannot reject proposal P-2: it is 'withdrawn'" in refused.stderr
    assert "  P-9: no proposal 'P-9'" in refused.stderr
    assert "P-1:" not in refused.stderr and "P-3:" not in refused.stderr
    assert dump_tables(url_of(workspace)) == before
    assert not workspace.letters_dir.exists() or not any(workspace.letters_dir.iterdir())


def test_skip_refused_moves_the_others_and_letter_numbers_stay_gap_free(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    add(ogp, "P-1", "P-2", "P-3")
    cli_to_shortlisted(ogp, "P-1")
    cli_to_shortlisted(ogp, "P-3")
    # P-2 is only submitted: refused in the middle of the batch, after P-1 took its letter number.
    done = ogp("advance", "P-1", "P-2", "P-3", "refer", "--skip-refused")
    assert done.exit_code == 0, done.output
    assert "Skipped P-2: Cannot refer proposal P-2: it is 'submitted'" in done.stdout
    assert states(ogp) == {"P-1": "referred", "P-2": "submitted", "P-3": "referred"}
    register = json.loads(ogp("letters", "list", "--json").stdout)
    numbers = sorted(letter["number"] for letter in register)
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) == 2
    assert len(list(workspace.letters_dir.iterdir())) == 2
    assert ogp("audit", "verify").exit_code == 0
    assert ogp("letters", "verify").exit_code == 0


def test_every_proposal_in_a_state(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    add(ogp, "P-1", "P-2", "P-3")
    assert ogp("advance", "P-2", "withdraw", "--reason", "x").exit_code == 0
    done = ogp("advance", "--state", "submitted", "reject", "--reason", "لا يقع ضمن نطاق الخطة")
    assert done.exit_code == 0, done.output
    assert states(ogp) == {"P-1": "rejected", "P-2": "withdrawn", "P-3": "rejected"}
    none_left = ogp("advance", "--state", "submitted", "reject", "--reason", "x")
    assert (none_left.exit_code, none_left.stdout) == (0, "No proposals to reject.\n")


def test_from_file_rows_override_the_options(ogp, workspace: Workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add(ogp, "P-1", "P-2")
    batch = tmp_path / "batch.csv"
    batch.write_text("ref;reason;dated\nP-1;مكرر مع مقترح آخر;2021-07-01\np-2;;\n", encoding="utf-8")
    done = ogp("advance", "--from-file", str(batch), "reject", "--reason", "السبب العام")
    assert done.exit_code == 0, done.output
    reasons = {ref: json.loads(ogp("history", ref, "--json").stdout)[-1]["reason"] for ref in ("P-1", "P-2")}
    assert reasons == {"P-1": "مكرر مع مقترح آخر", "P-2": "السبب العام"}
    issued = {letter["ref"]: letter["issued_on"] for letter in json.loads(ogp("letters", "list", "--json").stdout)}
    assert issued["P-1"] == "2021-07-01"


def test_a_bad_batch_file_names_every_bad_row_and_changes_nothing(ogp, workspace: Workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add(ogp, "P-1")
    before = dump_tables(url_of(workspace))
    bad = tmp_path / "bad.csv"
    bad.write_text("ref,dated\n,2021-07-01\nP-1,31/31/2021\n", encoding="utf-8")
    refused = ogp("advance", "--from-file", str(bad), "reject", "--reason", "x")
    assert refused.exit_code == 1
    assert "line 2, column 'ref': is empty" in refused.stderr
    assert "line 3, column 'dated'" in refused.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("ref\n", encoding="utf-8")
    assert "the file names no proposals" in ogp("advance", "--from-file", str(empty), "reject").stderr
    no_ref = tmp_path / "no_ref.csv"
    no_ref.write_text("reason\nx\n", encoding="utf-8")
    assert ogp("advance", "--from-file", str(no_ref), "reject").exit_code == 1
    assert dump_tables(url_of(workspace)) == before


def test_dry_run_of_a_batch_says_what_would_happen_and_changes_nothing(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    add(ogp, "P-1", "P-2")
    cli_to_shortlisted(ogp, "P-1")
    before = dump_tables(url_of(workspace))
    trial = ogp("advance", "P-1", "P-2", "refer", "--dry-run")
    assert trial.exit_code == 0
    assert trial.stdout.splitlines()[0] == "Would move 1 of 2 by 'refer': P-1"
    assert trial.stdout.splitlines()[1].startswith("Would refuse P-2: Cannot refer proposal P-2")
    assert dump_tables(url_of(workspace)) == before
    assert not workspace.letters_dir.exists() or not any(workspace.letters_dir.iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("advance", "reject"), "name the proposals (ID ...), --state or --from-file"),
        (("advance", "P-1", "--state", "submitted", "reject"), "name the proposals one way only"),
        (("advance", "P-1", "fly"), "'fly' is not one of 'interview'"),
        (("advance", "P-1", "P\x00", "reject"), "P"),
    ],
)
def test_batch_usage_errors_exit_2(ogp, workspace: Workspace, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    add(ogp, "P-1")
    before = dump_tables(url_of(workspace))
    result = ogp(*args)
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert dump_tables(url_of(workspace)) == before


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_count_and_rate_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with cli_module.progress_bar(250, "reject") as step:
        for _ in range(250):
            step(1)
    assert re.search(r"reject \[#{30}\] 250/250 \([\d,]+/s\)\n$", terminal.getvalue())
    quiet = _Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    with cli_module.progress_bar(250, "reject", quiet=True) as step:
        step(250)
    with cli_module.progress_bar(10, "reject") as step:  # too short a batch for a bar
        step(10)
    assert quiet.getvalue() == ""
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    with cli_module.progress_bar(250, "reject") as step:
        step(250)
    assert pipe.getvalue() == ""


def test_interviews_and_responses_imported_then_moved_in_batches(ogp, workspace: Workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add(ogp, "P-1", "P-2")
    interviews = tmp_path / "interviews.csv"
    interviews.write_text("ref,held_on,platform\nP-1,28/7/2021,Zoom\nP-2,2021-07-28,Zoom\n", encoding="utf-8")
    done = ogp("interview", "import", str(interviews))
    assert (done.exit_code, done.stdout) == (0, "Recorded 2 interviews: P-1, P-2\n"), done.output
    assert ogp("advance", "--state", "submitted", "interview").exit_code == 0
    assert states(ogp) == {"P-1": "interviewed", "P-2": "interviewed"}
    before = dump_tables(url_of(workspace))
    bad = tmp_path / "bad.csv"
    bad.write_text("ref,held_on\nP-9,2021-07-28\nP-1,2099-07-28\n", encoding="utf-8")
    refused = ogp("interview", "import", str(bad))
    assert refused.exit_code == 1 and "line 2, column 'ref'" in refused.stderr, refused.stderr
    assert "line 3, column 'held_on'" in refused.stderr
    assert dump_tables(url_of(workspace)) == before
    assert ogp("member", "add", SCORER, "--org", "جهة محايدة", "--sector", "government").exit_code == 0
    for ref in ("P-1", "P-2"):
        for code in CRITERIA:
            assert ogp("score", ref, "--member", SCORER, "--criterion", code, "--value", "4").exit_code == 0
    assert ogp("advance", "P-1", "P-2", "shortlist").exit_code == 0
    # The letters of a round held earlier: dated so, as the answers below come after them.
    assert ogp("advance", "--state", "shortlisted", "refer", "--dated", "2021-08-02").exit_code == 0
    responses = tmp_path / "responses.csv"
    responses.write_text("ref,entity,agreed,responded_on\nP-1,MODEE,نعم,2021-08-10\nP-2,MODEE,no,2021-08-11\n",
                         encoding="utf-8")  # fmt: skip
    recorded = ogp("response", "import", str(responses), "--quiet")
    assert (recorded.exit_code, recorded.stdout) == (0, "Recorded 2 responses.\n"), recorded.output
    answers = {r["ref"]: r["agreed"] for r in json.loads(ogp("response", "list", "--json").stdout)}
    assert answers == {"P-1": True, "P-2": False}
    assert ogp("audit", "verify").exit_code == 0


def test_a_refused_row_of_a_batch_file_names_its_column_not_the_option(ogp, workspace: Workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A value a row gave is named by its line and column, as every importer names it; a value the
    command's option gave, which a row without its own takes, is named by the option, once."""
    add(ogp, "P-1", "P-2", "P-3")
    before = dump_tables(url_of(workspace))
    rows = tmp_path / "rows.csv"
    rows.write_text(f"ref,reason,lead\nP-1,{'x' * 2001},\nP-2,مكرر,MODEE\nP-3,,\n", encoding="utf-8")
    refused = ogp("advance", "--from-file", str(rows), "withdraw", "--reason", "y")
    assert (refused.exit_code, refused.stderr) == (
        1,
        "Error: 2 of 3 proposals cannot take 'withdraw'; nothing was moved (give --skip-refused to move the others):\n"
        "  P-1 (line 2, column 'reason'): is 2001 characters long; at most 2000 are allowed\n"
        "  P-2 (line 3, column 'lead'): only 'commit' names a lead body, not 'withdraw'\n",
    )
    too_long = ogp("advance", "--from-file", str(rows), "withdraw", "--reason", "y" * 2001)
    assert (too_long.exit_code, too_long.stderr) == (
        1, "Error: 'withdraw' of 3 proposals: --reason: is 2001 characters long; at most 2000 are allowed\n"
    )  # fmt: skip
    assert dump_tables(url_of(workspace)) == before


def test_a_batch_file_s_bad_cells_are_named_once_in_file_order(ogp, workspace: Workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add(ogp, "P-1")
    rows = tmp_path / "rows.json"
    rows.write_text('[{"ref": 5}, {"ref": "P-1", "ref": "P-1"}, {"reason": "x"}, {"ref": "P-1", "dated": [1]}]',
                    encoding="utf-8")  # fmt: skip
    refused = ogp("advance", "--from-file", str(rows), "reject", "--reason", "x")
    assert (refused.exit_code, refused.stderr) == (
        1,
        f"Error: {rows}: 4 problems, nothing was moved:\n"
        "  item 1, column 'ref': must be a string, not a number\n"
        "  item 2, column 'ref': is given twice in this item (keys must be unique)\n"
        "  item 3, column 'ref': is empty\n"
        "  item 4, column 'dated': must be a string, not an array\n",
    )


def test_a_batch_reads_its_proposals_at_once_and_no_register_for_moves_without_letters(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    """Issue 13: no query inside the per-proposal loop to find or re-read a proposal (a batch reads
    them under the record's lock in one query), and a move that writes no letter reads no register."""
    refs = [f"P-{n}" for n in range(1, 13)]
    add(ogp, *refs)

    def discard(*chosen: str) -> list[str]:
        return statements_of(ogp, "advance", *chosen, "discard", "--reason", "سُجّل مرتين")

    few, many = discard(*refs[:2]), discard(*refs[2:])
    reads = [[s for s in found if s.startswith("SELECT") and " FROM proposals" in s] for found in (few, many)]
    assert len(reads[0]) == len(reads[1]) >= 1, reads  # 2 proposals or 10: the same reads of them
    assert not any("max(letters.number)" in s for s in few + many)
    assert ogp("audit", "verify").exit_code == 0


def test_a_batch_closing_referrals_reads_them_at_once_and_cites_each_as_a_move_alone_does(  # type: ignore[no-untyped-def]
    ogp, workspace: Workspace
) -> None:
    """Issue 13: a reject batch reads the referral letters its proposals were sent in one query,
    not one for the recipients and one for each closing letter's citation a proposal; each closing
    letter still goes to every body a referral went to and cites the last referral to it that was
    not voided (P-2's first was voided and written again), as the move alone does (P-1)."""
    refs = [f"P-{n}" for n in range(1, 8)]  # the plan's 7 places
    add(ogp, *refs)
    for ref in refs:
        cli_to_shortlisted(ogp, ref)
    assert ogp("advance", *refs, "refer").exit_code == 0
    register = json.loads(ogp("letters", "list", "--json").stdout)
    voided = next(letter for letter in register if letter["ref"] == "P-2" and letter["kind"] == "referral")
    assert ogp("letters", "void", voided["reference"], "--reason", "عنوان خاطئ", "--reissue").exit_code == 0
    assert ogp("advance", "P-1", "reject", "--reason", "خارج الصلاحيات").exit_code == 0

    def reject(*chosen: str) -> list[str]:
        ran = statements_of(ogp, "advance", *chosen, "reject", "--reason", "خارج الصلاحيات")
        return [s for s in ran if s.startswith("SELECT") and " FROM letters" in s]

    few, many = reject("P-2", "P-3"), reject(*refs[3:])
    assert len(few) == len(many), (few, many)  # 2 proposals or 5: the same reads of the register
    register = json.loads(ogp("letters", "list", "--json").stdout)
    for ref in refs:
        referrals = [x for x in register if x["ref"] == ref and x["kind"] == "referral" and not x["void_reason"]]
        closing = [x for x in register if x["ref"] == ref and x["kind"] == "referral_closed"]
        assert [x["addressee"] for x in closing] == [x["addressee"] for x in referrals], ref
        text = "\n".join(p.text for p in docx.Document(str(workspace.letters_dir / closing[0]["file_name"])).paragraphs)
        assert referrals[-1]["reference"] in text, (ref, text)
    assert "P-2" in voided["ref"] and voided["reference"] not in "".join(
        p.text for p in docx.Document(
            str(workspace.letters_dir / next(x for x in register if x["ref"] == "P-2"
                                            and x["kind"] == "referral_closed")["file_name"])).paragraphs
    )  # fmt: skip
    assert ogp("audit", "verify").exit_code == 0


def test_a_commit_batch_naming_its_lead_indexes_the_bodies_once(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    """Issue 13: `--lead` is looked up among the bodies indexed once for the batch, not by reading
    every body again for each commitment; the lead is the body named."""
    assert ogp("init", "--shortlist-size", "10", "--commitment-target", "10").exit_code == 0
    refs = [f"P-{n}" for n in range(1, 8)]
    add(ogp, *refs)
    for ref in refs:
        cli_to_shortlisted(ogp, ref)
    assert ogp("advance", *refs, "refer").exit_code == 0
    for ref in refs:
        assert ogp("response", "record", ref, "--entity", "MODEE", "--agreed").exit_code == 0

    def commit(*chosen: str) -> list[str]:
        ran = statements_of(ogp, "advance", *chosen, "commit", "--lead", "modee")
        return [s for s in ran if s.startswith("SELECT") and " FROM entities" in s]

    few, many = commit("P-1", "P-2"), commit(*refs[2:])
    assert len(few) == len(many), (few, many)  # 2 commitments or 5: the same reads of the bodies
    listed = json.loads(ogp("commitment", "list", "--json").stdout)
    assert len(listed) == len(refs) and all("MODEE" in json.dumps(c, ensure_ascii=False) for c in listed), listed
    assert ogp("audit", "verify").exit_code == 0


def test_a_batch_refused_after_it_wrote_entries_and_letters_leaves_nothing_and_names_every_refusal(  # type: ignore[no-untyped-def]
    ogp, workspace: Workspace, session_scope: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All or nothing, a batch first moves in one savepoint, appending entries and letters as it
    goes (every move here: `WRITE_AT` 1); its first refusal (P-3) rolls all of that back, and every
    proposal is tried again to name each refusal (P-5 too). Nothing is left: no row, no entry, no
    letter number taken; the progress counts each proposal once."""
    from workflow.batch import BatchItem, BatchRefusedError, advance_many
    from workflow.ledger import BatchChain

    monkeypatch.setattr(BatchChain, "WRITE_AT", 1)
    refs = ["P-1", "P-2", "P-3", "P-4", "P-5", "P-6"]
    add(ogp, *refs)
    for ref in ("P-1", "P-2", "P-4", "P-6"):  # P-3 and P-5 stay submitted
        cli_to_shortlisted(ogp, ref)
    before = dump_tables(url_of(workspace))
    refused = ogp("advance", *refs, "refer")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: 2 of 6 proposals cannot take 'refer'; nothing was moved"), refused.stderr
    assert "  P-3: Cannot refer proposal P-3: it is 'submitted'" in refused.stderr
    assert "  P-5: Cannot refer proposal P-5: it is 'submitted'" in refused.stderr
    assert dump_tables(url_of(workspace)) == before
    assert not workspace.letters_dir.exists() or not any(workspace.letters_dir.iterdir())
    counted: list[int] = []
    with pytest.raises(BatchRefusedError), session_scope() as session:
        advance_many(session, [BatchItem(ref) for ref in refs], Event.REFER, actor="tester", progress=counted.append)
    assert sum(counted) == len(refs)
    assert dump_tables(url_of(workspace)) == before

    class Undo(Exception):
        pass

    # Refused, the batch has undone its moves itself: the same transaction can go on with them.
    with pytest.raises(Undo), session_scope() as session:
        with pytest.raises(BatchRefusedError):
            advance_many(session, [BatchItem(ref) for ref in refs], Event.REFER, actor="tester")
        movable = ("P-1", "P-2", "P-4", "P-6")
        again = advance_many(session, [BatchItem(ref) for ref in movable], Event.REFER, actor="tester")
        assert [(done.ref, done.from_state) for done in again.moved] == [(ref, "shortlisted") for ref in movable]
        raise Undo
    assert dump_tables(url_of(workspace)) == before
    done = ogp("advance", "P-1", "P-2", "P-4", "P-6", "refer")
    assert done.exit_code == 0, done.output
    register = json.loads(ogp("letters", "list", "--json").stdout)
    assert sorted(letter["number"] for letter in register) == [1, 2, 3, 4]
    assert ogp("audit", "verify").exit_code == 0
    assert ogp("letters", "verify").exit_code == 0


def test_a_batch_appends_its_entries_and_letters_a_few_at_a_time_each_as_one_move_would(  # type: ignore[no-untyped-def]
    ogp, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's entries and letters are held and appended every `BatchChain.WRITE_AT` moves (2
    here, so 5 moves take three writes): each entry follows the one before it, each letter names its
    own entry and takes the next number, a refused move in between gives its numbers back, and the
    letters and entries are exactly those one move at a time writes."""
    from workflow.ledger import BatchChain

    monkeypatch.setattr(BatchChain, "WRITE_AT", 2)
    refs = ["P-1", "P-2", "P-3", "P-4", "P-5", "P-6"]
    add(ogp, *refs)
    for ref in refs:
        if ref != "P-3":  # P-3 stays submitted: refused in the middle of the batch
            cli_to_shortlisted(ogp, ref)
    assert ogp("advance", "P-6", "refer").exit_code == 0  # one move alone, for comparison
    done = ogp("advance", *refs[:5], "refer", "--skip-refused")
    assert done.exit_code == 0, done.output
    assert "Skipped P-3: Cannot refer proposal P-3: it is 'submitted'" in done.stdout
    seqs = [int(n) for n in re.findall(r"\(audit #(\d+)\)", done.stdout)]
    assert len(seqs) == 4 and seqs == list(range(seqs[0], seqs[0] + 4))
    register = json.loads(ogp("letters", "list", "--json").stdout)
    assert sorted(letter["number"] for letter in register) == list(range(1, 6))  # one letter (MODEE) a move
    by_ref = {letter["ref"]: letter for letter in register}
    assert [by_ref[ref]["number"] for ref in ("P-6", "P-1", "P-2", "P-4", "P-5")] == [1, 2, 3, 4, 5]
    assert ogp("audit", "verify").exit_code == 0
    checked = ogp("letters", "verify")
    assert checked.exit_code == 0 and checked.stdout.startswith("Stored letters: 5 checked, 0 differ"), checked.output
    # Each entry of the batch writes what the lone move's entry writes: the same tables, the same
    # kinds of change, the same fields.
    history = {ref: json.loads(ogp("history", ref, "--json").stdout)[-1] for ref in ("P-6", "P-1", "P-5")}
    shapes = {
        ref: (entry["event"], entry["from_state"], entry["to_state"], entry["actor"], entry["reason"],
              [(c["table"], c["op"], sorted(c["fields"])) for c in entry["changes"]])
        for ref, entry in history.items()
    }  # fmt: skip
    assert shapes["P-1"] == shapes["P-5"] == shapes["P-6"], shapes
    assert [c[0] for c in shapes["P-6"][5]] == ["proposals", "letters"]


def test_a_batch_refuses_on_each_guard_as_a_move_alone_does(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    """A batch reads what its guards look at (interviews, bodies named, answers) for all its
    proposals at once; each refusal still names the proposal's own facts, word for word as the
    move alone says them."""
    add(ogp, "P-1", "P-2", "P-3", "P-4", "P-5")
    added = ogp("proposal", "add", "--ref", "P-6", "--title", "فكرة بلا جهة", "--org", "جهة P-6",
                "--submitted-on", "2021-06-20")  # fmt: skip
    assert added.exit_code == 0, added.output
    for ref in ("P-3", "P-4", "P-5", "P-6"):
        cli_to_shortlisted(ogp, ref)
    assert ogp("interview", "record", "P-1", "--on", "2021-07-28", "--platform", "Zoom").exit_code == 0
    assert ogp("advance", "P-3", "P-4", "P-5", "refer").exit_code == 0
    assert ogp("response", "record", "P-3", "--entity", "MODEE", "--declined").exit_code == 0
    assert ogp("response", "record", "P-5", "--entity", "MODEE", "--agreed").exit_code == 0
    cases = [
        (("P-1", "P-2"), "interview", "P-2"),  # no interview recorded for P-2
        (("P-6", "P-1"), "refer", "P-6"),  # P-6 names no body (P-1, only submitted, is refused too)
        (("P-3", "P-4", "P-5"), "commit", "P-3"),  # P-3's body declined
        (("P-3", "P-4", "P-5"), "commit", "P-4"),  # no body has answered P-4 yet
    ]
    before = dump_tables(url_of(workspace))
    for refs, event, refused_ref in cases:
        alone = ogp("advance", refused_ref, event)
        assert alone.exit_code == 1 and alone.stderr.startswith("Error: "), alone.output
        batch = ogp("advance", *refs, event)
        assert batch.exit_code == 1, batch.output
        assert f"  {refused_ref}: {alone.stderr.removeprefix('Error: ').strip()}\n" in batch.stderr, (
            alone.stderr, batch.stderr)  # fmt: skip
    assert "P-5:" not in batch.stderr  # P-5's body agreed
    assert dump_tables(url_of(workspace)) == before


def test_a_batch_counts_the_places_and_commitments_its_own_moves_take(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    """The plan's shortlist size and commitment target bind inside a batch as they do across
    commands: each move counts what the moves before it in the batch took."""
    assert ogp("init", "--shortlist-size", "3", "--commitment-target", "2").exit_code == 0
    refs = ["P-1", "P-2", "P-3", "P-4"]
    add(ogp, *refs)
    for ref in refs:
        for args in (("interview", "record", ref, "--on", "2021-07-28", "--platform", "Zoom"), ("advance", ref, "interview")):
            assert ogp(*args).exit_code == 0
    if SCORER not in ogp("member", "list").stdout:
        assert ogp("member", "add", SCORER, "--org", "جهة محايدة", "--sector", "government").exit_code == 0
    for ref in refs:
        for code in CRITERIA:
            assert ogp("score", ref, "--member", SCORER, "--criterion", code, "--value", "4").exit_code == 0
    shortlisted = ogp("advance", *refs, "shortlist", "--skip-refused")
    assert shortlisted.exit_code == 0, shortlisted.output
    # A refusal says how many of the places the batch's own moves took: refused, they hold none.
    assert "Skipped P-4: " in shortlisted.stdout, shortlisted.stdout
    assert ("(3 of 3 places are taken, 3 of them by the moves before it in this batch; a batch takes proposals in "
            "the order named, not by ranking: 'ogp shortlist --top N' does)") in shortlisted.stdout  # fmt: skip
    assert ogp("advance", "P-1", "P-2", "P-3", "refer").exit_code == 0
    for ref in ("P-1", "P-2", "P-3"):
        assert ogp("response", "record", ref, "--entity", "MODEE", "--agreed").exit_code == 0
    assert ogp("advance", "P-1", "commit").exit_code == 0
    committed = ogp("advance", "P-2", "P-3", "commit")
    assert committed.exit_code == 1
    assert "  P-3: " in committed.stderr and "P-2:" not in committed.stderr, committed.stderr
    assert "(2 of 2 commitments are made, 1 of them by the moves before it in this batch)" in committed.stderr
    alone = ogp("advance", "P-3", "commit", "--dry-run")
    assert "(1 of 2" not in alone.stdout  # alone, nothing of a batch is counted: P-3 may still move
    assert ogp("advance", "P-2", "P-3", "commit", "--skip-refused").exit_code == 0
    assert states(ogp) == {"P-1": "committed", "P-2": "committed", "P-3": "referred", "P-4": "interviewed"}
    assert ogp("audit", "verify").exit_code == 0


def test_a_commit_in_a_batch_writes_the_entry_a_commit_alone_writes(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    """The lead body and the state are one change of a commit's entry, alone or in a batch (a move
    alone reads the register while its letters are rendered, a batch does not: nothing is written
    before the move's one flush either way)."""
    refs = ["P-1", "P-2", "P-3"]
    add(ogp, *refs)
    for ref in refs:
        cli_to_shortlisted(ogp, ref)
    assert ogp("advance", *refs, "refer").exit_code == 0
    for ref in refs:
        assert ogp("response", "record", ref, "--entity", "MODEE", "--agreed").exit_code == 0
    assert ogp("advance", "P-1", "commit").exit_code == 0
    assert ogp("advance", "P-2", "P-3", "commit").exit_code == 0
    changes = {ref: [(c["table"], c["op"], sorted(c["fields"])) for c in json.loads(ogp("history", ref, "--json").stdout)[-1]["changes"]]
               for ref in refs}  # fmt: skip
    assert changes["P-1"] == changes["P-2"] == changes["P-3"], changes
    assert [fields for table, _, fields in changes["P-1"] if table == "proposals"] == [["lead_entity_id", "state"]]
    assert ogp("audit", "verify").exit_code == 0


@pytest.mark.parametrize(
    "args",
    [
        ("advance", "--state", "interviewed", "--state", "submitted", "withdraw", "--reason", "x"),
        ("advance", "--from-file", "FILE", "--from-file", "FILE", "withdraw", "--reason", "x"),
        ("proposal", "list", "--state", "submitted", "--state", "interviewed"),
    ],
)
def test_an_option_choosing_the_proposals_is_refused_when_given_twice(  # type: ignore[no-untyped-def]
    ogp, workspace: Workspace, tmp_path: Path, args: tuple[str, ...]
) -> None:
    """Click keeps the last of a repeated option: `--state interviewed --state submitted` would
    move the submitted ones only, the interviewed dropped without a word. Bad usage instead."""
    add(ogp, "P-1")
    batch = tmp_path / "batch.csv"
    batch.write_text("ref\nP-1\n", encoding="utf-8")
    before = dump_tables(url_of(workspace))
    refused = ogp(*(str(batch) if a == "FILE" else a for a in args))
    assert refused.exit_code == 2, refused.output
    assert "give it once, not 2 times" in refused.stderr
    assert dump_tables(url_of(workspace)) == before


def test_a_batch_refuses_once_what_would_refuse_each_of_its_proposals(  # type: ignore[no-untyped-def]
    ogp, workspace: Workspace, tmp_path: Path
) -> None:
    """No reason for an event that needs one, a --lead for another event than commit, a --lead
    naming no body: one refusal for the batch, not one per proposal; nothing moves. A body a
    row names is refused on that row, naming its column."""
    add(ogp, "P-1", "P-2", "P-3")
    before = dump_tables(url_of(workspace))
    required = "is required: say why (the audit trail keeps it); a file may give each row its own in a 'reason' column"
    cases = [  # (arguments, event, proposals, option, problem)
        (("--state", "submitted", "withdraw"), "withdraw", 3, "--reason", required),
        (("P-1", "P-2", "withdraw", "--reason", "x", "--lead", "MODEE"), "withdraw", 2, "--lead",
         "only 'commit' names a lead body, not 'withdraw'"),
        (("P-1", "P-2", "commit", "--lead", "NOPE"), "commit", 2, "--lead",
         "no government body 'NOPE' ('ogp entity list' shows them)"),
        (("P-1", "P-2", "withdraw", "--reason", "x" * 2001), "withdraw", 2, "--reason",
         "is 2001 characters long; at most 2000 are allowed"),
    ]  # fmt: skip
    for args, event, count, option, problem in cases:
        for trial in ((), ("--skip-refused",)):
            refused = ogp("advance", *args, *trial)
            assert (refused.exit_code, refused.stderr) == (
                1, f"Error: '{event}' of {count} proposals: {option}: {problem}\n"), (args, trial, refused.output)
        # A dry run says it and exits 0, as a dry run of one proposal lists what stands in its way.
        tried = ogp("advance", *args, "--dry-run")
        assert (tried.exit_code, tried.stdout) == (
            0, f"Would move none of {count} by '{event}': {option}: {problem}\nNothing was changed (dry run).\n"
        ), tried.output  # fmt: skip
    rows = tmp_path / "rows.csv"
    rows.write_text("ref,reason,lead\nP-1,مكرر,\nP-2,,\nP-3,خطأ,\n", encoding="utf-8")
    some = ogp("advance", "--from-file", str(rows), "withdraw", "--dry-run")
    assert some.exit_code == 0, some.output  # rows give reasons: each row is judged on its own
    assert "Would refuse P-2 (line 3): " in some.stdout and "a reason is required" in some.stdout, some.stdout
    assert "P-1 (line 2)" not in some.stdout and "P-3 (line 4)" not in some.stdout
    assert dump_tables(url_of(workspace)) == before
    rows.write_text("ref,lead\nP-1,NOPE\n", encoding="utf-8")
    cli_to_shortlisted(ogp, "P-1")
    assert ogp("advance", "P-1", "refer").exit_code == 0
    assert ogp("response", "record", "P-1", "--entity", "MODEE", "--agreed").exit_code == 0
    named = ogp("advance", "--from-file", str(rows), "commit", "--dry-run")
    assert "Would refuse P-1 (line 2, column 'lead'): no government body 'NOPE' (" in named.stdout, named.stdout
    moved_so_far = dump_tables(url_of(workspace))
    assert ogp("advance", "--from-file", str(rows), "commit").exit_code == 1
    assert dump_tables(url_of(workspace)) == moved_so_far


def test_a_file_proposal_export_wrote_is_taken_as_it_is(ogp, workspace: Workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Export the proposals of a state, pick rows in a spreadsheet, move them: the export's
    columns describing each proposal are read past (CSV and JSON); any other column is refused,
    so a misspelt 'reason' is never silently dropped."""
    add(ogp, "P-1", "P-2", "P-3")
    exported = tmp_path / "submitted.csv"
    assert ogp("proposal", "export", str(exported), "--state", "submitted").exit_code == 0
    lines = exported.read_text(encoding="utf-8-sig").splitlines()
    exported.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8-sig")  # the header, P-1 and P-2
    moved = ogp("advance", "--from-file", str(exported), "withdraw", "--reason", "سحبها مقدمها")
    assert moved.exit_code == 0, moved.output
    assert states(ogp) == {"P-1": "withdrawn", "P-2": "withdrawn", "P-3": "submitted"}
    as_json = tmp_path / "rows.json"
    as_json.write_text(json.dumps([{"ref": "P-3", "title": "x", "state": "submitted", "reason": "مكرر"}]), encoding="utf-8")
    assert ogp("advance", "--from-file", str(as_json), "withdraw", "--dry-run").exit_code == 0
    before = dump_tables(url_of(workspace))
    typo = tmp_path / "typo.csv"
    typo.write_text("ref,reasn\nP-3,مكرر\n", encoding="utf-8")
    refused = ogp("advance", "--from-file", str(typo), "withdraw", "--reason", "x")
    assert refused.exit_code == 1
    assert "line 1, column 'reasn': unknown column (known: ref, reason, lead, dated; an export's other columns are read past)" in refused.stderr, refused.stderr
    assert dump_tables(url_of(workspace)) == before


def test_a_dry_run_of_one_proposal_names_the_options_the_move_refuses(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    """A --lead for another event than commit, a --reason too long: the move refuses them, so
    its dry run must not say it would move (found by a new user: it did)."""
    add(ogp, "P-1")
    assert ogp("interview", "record", "P-1", "--on", "2021-07-28", "--platform", "Zoom").exit_code == 0
    before = dump_tables(url_of(workspace))
    for args, blocker in (
        (("P-1", "interview", "--lead", "MODEE"), "--lead: only 'commit' names a lead body, not 'interview'"),
        (("P-1", "withdraw", "--reason", "x" * 2001), "--reason: is 2001 characters long; at most 2000 are allowed"),
    ):
        moved = ogp("advance", *args)
        assert moved.exit_code == 1 and blocker.split(": ", 1)[1] in moved.stderr, moved.output
        tried = ogp("advance", *args, "--dry-run")
        assert tried.exit_code == 0 and tried.stdout.startswith("Would not move P-1: "), tried.output
        assert f"  - {blocker}\n" in tried.stdout, tried.stdout
    assert dump_tables(url_of(workspace)) == before


def test_a_cell_holding_only_invisible_marks_is_an_empty_cell(ogp, workspace: Workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A reason cell holding only a right-to-left mark or a zero-width space (Arabic spreadsheets
    leave them) is empty: the option stands for its row, and without one the batch is refused
    once (an attacker found it refused once per row, and the mark overriding a good --reason)."""
    add(ogp, "P-1", "P-2")
    rows = tmp_path / "rows.csv"
    rows.write_text("ref,reason,lead\nP-1,\u200f,\u200b\nP-2,\u200b \u200f,\n", encoding="utf-8")
    before = dump_tables(url_of(workspace))
    refused = ogp("advance", "--from-file", str(rows), "withdraw")
    assert refused.exit_code == 1 and refused.stderr.startswith("Error: 'withdraw' of 2 proposals: --reason: is required")
    assert dump_tables(url_of(workspace)) == before
    moved = ogp("advance", "--from-file", str(rows), "withdraw", "--reason", "سحبها مقدمها")
    assert moved.exit_code == 0, moved.output
    assert states(ogp) == {"P-1": "withdrawn", "P-2": "withdrawn"}
    reasons = [e["reason"] for ref in ("P-1", "P-2") for e in json.loads(ogp("history", ref, "--json").stdout)[-1:]]
    assert reasons == ["سحبها مقدمها", "سحبها مقدمها"]


def test_the_proposals_in_a_state_are_listed_under_the_records_lock(session_scope: SessionFactory) -> None:
    """`advance --state S` lists its proposals after taking the record's lock, held until its
    batch ends: on PostgreSQL a move made while the batch waited for the lock would otherwise
    leave a stale list, and the batch would refuse the proposal that moved (SQLite's transaction
    holds the lock from its start)."""
    from sqlalchemy import text

    from tests.helpers import register
    from workflow.batch import items_in_state
    from workflow.ledger import RECORD_LOCK

    with session_scope() as session:
        register(session, "P-1")
    with session_scope() as session:
        assert [item.key for item in items_in_state(session, State.SUBMITTED)] == ["P-1"]
        if session.get_bind().dialect.name == "postgresql":
            held = session.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :key AND granted"
                     " AND pid = pg_backend_pid()"), {"key": RECORD_LOCK},
            ).scalar_one()  # fmt: skip
            assert held == 1
