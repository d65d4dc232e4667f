"""One ledger: every change to the record is one chained entry; decisions stand as taken; letters
already sent witness the chain; the replay catches what a person with database access could do."""

from __future__ import annotations

import io
import json
import os
import shutil
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cli import cli
from documents.package import read_package
from states import GUARD_RULES, STEPS, Action, Event, Guard, State
from tests.conftest import SessionFactory
from tests.helpers import NOW, bring_to, drop_audit_guards, register
from workflow import audit, db, ledger, replay
from workflow.db import Workspace
from workflow.errors import AuditChainError, RecordMismatchError
from workflow.evaluation import ScoreInput, list_criteria, record_score
from workflow.members import add_member
from workflow.models import AuditEntry, Letter, Member, Proposal
from workflow.outbox import PROPERTY_HASH, PROPERTY_SEQ

CRITERIA = ("importance", "global_trend", "ogp_values", "national_priorities", "government_mandate")


def ogp(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    return result


@contextmanager
def reading(url: str) -> Iterator[Session]:
    """A session on a workspace the CLI wrote, to look at what it wrote."""
    engine = db.make_engine(db.resolve(url))
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def head(runner: CliRunner) -> int:
    return int(ogp(runner, "audit", "head").stdout.split(":")[0])


def test_every_command_that_changes_the_record_appends_one_entry(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(
        "ref,title,organization,entities,submitted_on\nP-2,فكرة ثانية,جهة,MOH,2021-06-21\n", encoding="utf-8"
    )
    (tmp_path / "s.csv").write_text(
        "proposal,member,criterion,value\n" + "".join(f"P-1,ندى خاطر,{c},4\n" for c in CRITERIA), encoding="utf-8"
    )
    steps: list[tuple[tuple[str, ...], int, str]] = [
        (("init", "--quorum", "1"), 1, "configure_plan"),
        (("entity", "add", "وزارة البيئة", "--code", "MOENV"), 1, "add_entity"),
        (("member", "add", "ندى خاطر", "--org", "وزارة الاقتصاد الرقمي"), 1, "add_member"),
        (("member", "add", "مي عليمات", "--org", "وحدة الحكومة الشفافة"), 1, "add_member"),
        (("meeting", "add", "--on", "2021-07-15", "--attendee", "ندى خاطر"), 1, "add_meeting"),
        (("criterion", "set-weight", "importance", "2"), 1, "set_weight"),
        (("proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "جهة", "--submitted-on", "2021-06-20"), 1,
         "submit"),
        (("proposal", "import", str(tmp_path / "p.csv")), 1, "submit"),
        (("proposal", "link", "P-1", "--entity", "MODEE"), 1, "link"),
        (("interview", "schedule", "P-1", "--at", "2021-07-28 10:00", "--dated", "2021-07-18"), 1, "schedule_interview"),
        (("interview", "record", "P-1", "--on", "2021-07-28"), 1, "record_interview"),
        (("advance", "P-1", "interview"), 1, "interview"),
        (("score", "import", str(tmp_path / "s.csv")), 1, "score"),  # one entry per proposal scored
        (("score", "P-1", "--member", "ندى خاطر", "--criterion", "importance", "--value", "5"), 1, "score"),
        (("conflict", "declare", "--member", "مي عليمات", "--proposal", "P-1"), 1, "declare_conflict"),
        (("shortlist", "--top", "1"), 1, "shortlist"),
        (("advance", "P-1", "refer", "--dated", "2021-07-30"), 1, "refer"),
        (("followup", "P-1", "--entity", "MODEE", "--dated", "2021-07-31"), 1, "followup"),
        (("response", "record", "P-1", "--entity", "MODEE", "--agreed", "--on", "2021-08-01"), 1, "response"),
        (("advance", "P-1", "commit", "--dated", "2021-08-02"), 1, "commit"),  # its milestones move after it
        (("commitment", "edit", "P-1", "--ogp-id", "JO0070", "--start", "2021-10", "--end", "2023-06"), 1,
         "edit_commitment"),
        (("milestone", "add", "P-1", "--title", "نشر", "--start", "2021-10", "--end", "2022-03", "--responsible",
          "MODEE"), 1, "add_milestone"),
        (("milestone", "add", "P-1", "--title", "منصة", "--start", "2022-01", "--end", "2022-06", "--responsible",
          "MODEE"), 1, "add_milestone"),
        (("milestone", "advance", "M1", "start", "--dated", "2021-10-05"), 1, "milestone_start"),
        (("milestone", "advance", "M1", "complete"), 0, ""),  # refused: no progress with evidence yet
        (("progress", "record", "M1", "--percent", "100", "--note", "تم", "--by", "government", "--evidence",
          "https://example.org/m1", "--on", "2022-03-20"), 1, "record_progress"),
        (("milestone", "advance", "M1", "complete", "--dated", "2022-03-28"), 1, "milestone_complete"),
        (("milestone", "advance", "M2", "delay", "--reason", "تأخر التمويل", "--new-end", "2022-09"), 1,
         "milestone_delay"),
        (("milestone", "advance", "M2", "cancel", "--reason", "أُلغيت"), 1, "milestone_cancel"),
        (("plan", "timeline", "--published-on", "2021-05-16", "--co-creation-starts", "2021-06-01"), 1,
         "publish_timeline"),
        (("proposal", "add", "--ref", "P-3", "--title", "مكرر", "--org", "جهة", "--submitted-on", "2021-06-20"), 1,
         "submit"),
        (("proposal", "edit", "P-2", "--title", "فكرة ثانية مصححة", "--reason", "خطأ مطبعي"), 1, "edit_proposal"),
        (("proposal", "discard", "P-3", "--reason", "مكرر"), 1, "discard"),
        (("interview", "schedule", "P-2", "--at", "2021-07-29 10:00", "--dated", "2021-07-18"), 1, "schedule_interview"),
        (("interview", "cancel", "P-2", "--reason", "تعذر"), 1, "cancel_interview"),
        # The referral (an invitation for an interview long held cannot be reissued dated today).
        (("letters", "void", "2021/2", "--reason", "خطأ", "--reissue"), 1, "void_letter"),
        (("entity", "edit", "MOENV", "--name", "وزارة البيئة والمناخ", "--reason", "تغيّر الاسم"), 1, "edit_entity"),
        (("member", "edit", "مي عليمات", "--sector", "government", "--reason", "تصحيح"), 1, "edit_member"),
        (("member", "deactivate", "مي عليمات", "--reason", "غادرت"), 1, "deactivate_member"),
        (("member", "reactivate", "مي عليمات"), 1, "reactivate_member"),
        (("advance", "P-2", "interview"), 0, ""),  # refused: no interview recorded; nothing recorded
        (("interview", "record", "P-2", "--on", "2021-07-29"), 1, "record_interview"),
        (("advance", "P-2", "interview"), 1, "interview"),
        (("score", "P-2", "--member", "ندى خاطر", "--criterion", "importance", "--value", "2"), 1, "score"),
        (("score", "withdraw", "P-2", "--member", "ندى خاطر", "--criterion", "importance", "--reason", "خطأ"), 1,
         "withdraw_score"),
        (("advance", "P-2", "reject", "--reason", "خارج الصلاحيات"), 1, "reject"),
        (("publish", str(tmp_path / "site")), 1, "publish"),
    ]  # fmt: skip
    seen = set()
    for args, entries, event in steps:
        before = head(runner)
        done = ogp(runner, *args)
        assert done.exit_code == (0 if entries else 1), (args, done.output)
        after = head(runner)
        assert after - before == entries, args
        if not entries:
            continue
        seen.add(event)
        last = json.loads(ogp(runner, "audit", "verify", "--json").stdout)
        assert last["ok"] and last["entries"] == after, args
        with reading(os.environ["OGP_DB"]) as s:
            assert s.scalar(select(AuditEntry.event).where(AuditEntry.seq == after)) == event, args
    # Nothing changed, nothing recorded: the same settings again append no entry.
    before = head(runner)
    assert ogp(runner, "init", "--quorum", "1").exit_code == 0
    assert head(runner) == before
    # Every step declared in states/ was taken (but the checkpoint, which upgrades write).
    assert set(STEPS) - seen == {Action.CHECKPOINT.value, Event.WITHDRAW.value}


def test_every_event_of_the_demo_is_declared(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--dir", "d"], catch_exceptions=False)
    assert result.exit_code == 0
    with reading(str(tmp_path / "d" / "ogp.db")) as s:
        events = set(s.scalars(select(AuditEntry.event)))
    assert events <= set(STEPS)


def test_scores_imported_in_bulk_are_one_entry_a_proposal_that_replays(runner: CliRunner, tmp_path: Path) -> None:
    """The bulk path (issue 13) writes rows the session never flushes: each proposal's entry must
    still hold every row it wrote, inserts and updates alike, so the replay rebuilds the record."""
    ogp(runner, "init", "--quorum", "1")
    for name, org in (("ندى خاطر", "وزارة الاقتصاد الرقمي"), ("مي عليمات", "وحدة الحكومة الشفافة")):
        assert ogp(runner, "member", "add", name, "--org", org).exit_code == 0
    for ref in ("P-1", "P-2"):
        assert ogp(runner, "proposal", "add", "--ref", ref, "--title", f"فكرة {ref}", "--org", "جهة",
                   "--submitted-on", "2021-06-20").exit_code == 0  # fmt: skip
        assert ogp(runner, "interview", "record", ref, "--on", "2021-07-28").exit_code == 0
        assert ogp(runner, "advance", ref, "interview").exit_code == 0
    first = tmp_path / "first.csv"
    first.write_text(
        "proposal,member,criterion,value\n"
        + "".join(f"{ref},ندى خاطر,{c},4\n" for ref in ("P-1", "P-2") for c in CRITERIA),
        encoding="utf-8",
    )
    before = head(runner)
    assert ogp(runner, "score", "import", str(first)).stdout == "Imported 10 scores.\n"
    assert head(runner) - before == 2
    assert (
        ogp(runner, "score", "P-1", "--member", "ندى خاطر", "--criterion", "importance", "--value", "5").exit_code == 0
    )
    second = tmp_path / "second.json"
    revised = [{"proposal": "p-1", "member": "ندى خاطر", "criterion": "importance", "value": 3, "note": "بعد النقاش"}]
    revised += [{"proposal": "P-2", "member": "مي عليمات", "criterion": c, "value": 2} for c in CRITERIA]
    second.write_text(json.dumps(revised, ensure_ascii=False), encoding="utf-8")
    assert ogp(runner, "score", "import", str(second)).stdout == "Imported 6 scores.\n"
    verified = json.loads(ogp(runner, "audit", "verify", "--json").stdout)
    assert verified["ok"] and verified["entries"] == head(runner)
    url = os.environ["OGP_DB"]
    with reading(url) as s:
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(2)).all()
        assert [(e.event, e.proposal_ref) for e in reversed(last)] == [("score", "P-1"), ("score", "P-2")]
        assert last[1].reason == "ندى خاطر: importance 3 (was 5) — بعد النقاش"
        history = s.execute(
            text(
                "SELECT old_value, new_value FROM score_changes WHERE proposal_id = 1 AND criterion_id = 1 ORDER BY id"
            )
        ).all()
        assert [tuple(row) for row in history] == [(None, 4), (4, 5), (5, 3)]
    # A score changed behind the product's back, after the bulk import wrote it, is caught.
    with reading(url) as s:
        s.execute(text("UPDATE scores SET value = 5 WHERE proposal_id = 2 AND member_id = 2 AND criterion_id = 3"))
        s.commit()
    caught = ogp(runner, "audit", "verify")
    assert caught.exit_code == 1 and "scores" in caught.output, caught.output


def test_a_change_outside_a_recorded_step_is_refused(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "P-1")
    with session_scope() as s, pytest.raises(ledger.LedgerError, match="table proposals was changed outside"):
        s.scalars(select(Proposal)).one().title = "عنوان آخر"
        s.flush()
    with session_scope() as s:
        assert s.scalars(select(Proposal)).one().title == "منصة البيانات المفتوحة P-1"


def test_a_late_conflict_is_recorded_and_shown_but_the_decision_stands(runner: CliRunner) -> None:
    """Case c08: P-001 shortlisted, then a conflict declared on it."""
    for name, org in (("ندى خاطر", "وزارة الاقتصاد الرقمي"), ("مي عليمات", "وحدة الحكومة الشفافة")):
        assert ogp(runner, "member", "add", name, "--org", org).exit_code == 0
    assert ogp(runner, "proposal", "add", "--ref", "P-001", "--title", "فكرة", "--org", "جهة", "--entity", "MODEE",
               "--submitted-on", "2021-06-20").exit_code == 0  # fmt: skip
    assert ogp(runner, "interview", "record", "P-001", "--on", "2021-07-28").exit_code == 0
    assert ogp(runner, "advance", "P-001", "interview").exit_code == 0
    for member, value in (("ندى خاطر", "5"), ("مي عليمات", "3")):
        for code in CRITERIA:
            assert (
                ogp(runner, "score", "P-001", "--member", member, "--criterion", code, "--value", value).exit_code == 0
            )
    assert ogp(runner, "shortlist", "--top", "1").exit_code == 0
    ranked = ogp(runner, "ranking", "--all", "--json")
    assert ranked.exit_code == 0, ranked.output
    decided = json.loads(ranked.stdout)
    assert [(p["ref"], p["decided"], p["total"], p["scorers"], p["quorum"]) for p in decided] == [
        ("P-001", "shortlist", 4.0, 2, 2)
    ]

    late = ogp(runner, "conflict", "declare", "--member", "ندى خاطر", "--proposal", "P-001", "--reason", "قريبة")
    assert late.exit_code == 0
    assert late.stdout == (
        "Recorded a late declaration: ندى خاطر declared a conflict with P-001 after the decision on it; "
        "the decision stands as taken.\n"
    )
    after = json.loads(ogp(runner, "ranking", "--all", "--json").stdout)
    assert [(p["ref"], p["decided"], p["total"], p["scorers"], p["quorum"], p["late_conflicts"]) for p in after] == [
        ("P-001", "shortlist", 4.0, 2, 2, ["ندى خاطر"])
    ]
    shown = ogp(runner, "proposal", "show", "P-001")
    assert "Decided:      shortlist at rank 1 of 1, weighted mean 4.00 (2 of 2 members)" in shown.stdout
    assert "decided with a member later declared conflicted: ندى خاطر (قريبة); the decision stands as taken" in (
        shown.stdout
    )
    listed = json.loads(ogp(runner, "conflict", "list", "--json").stdout)
    assert [(c["member"], c["late"]) for c in listed] == [("ندى خاطر", True)]
    history = json.loads(ogp(runner, "history", "P-001", "--json").stdout)
    assert (history[-1]["event"], history[-1]["reason"]) == ("declare_conflict", "ندى خاطر: قريبة")
    assert ogp(runner, "audit", "verify").exit_code == 0


def test_letters_witness_the_chain_that_wrote_them(
    session_scope: SessionFactory, runner: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    with session_scope() as s:
        register(s, "P-1", entities=("MODEE",))
        bring_to(s, "P-1", State.REFERRED)
    exported = tmp_path / "sent"
    assert ogp(runner, "letters", "export", str(exported)).exit_code == 0
    (letter,) = exported.iterdir()
    reading = read_package(letter.read_bytes())
    with session_scope() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.event == "refer")).one()
        assert reading.properties[PROPERTY_SEQ] == str(entry.seq)
        assert reading.properties[PROPERTY_HASH] == entry.hash
        assert reading.digest in entry.letters
    assert docx.Document(io.BytesIO(letter.read_bytes())).paragraphs  # still a letter Word opens
    assert ogp(runner, "letters", "verify", str(exported)).exit_code == 0

    # A letter saved under a decomposed (NFD) name is still that letter.
    renamed_ok = exported / unicodedata.normalize("NFD", letter.name)
    letter.rename(renamed_ok)
    assert ogp(runner, "letters", "verify", str(exported)).exit_code == 0

    # Case c14: a copy of a real letter under a new name is not in the register: exit 1.
    shutil.copy(renamed_ok, exported / "P-1_referral_MODEE_2026-0999.docx")
    copied = ogp(runner, "letters", "verify", str(exported))
    assert copied.exit_code == 1
    assert "  not in the register: P-1_referral_MODEE_2026-0999.docx\n" in copied.stderr
    (exported / "P-1_referral_MODEE_2026-0999.docx").unlink()

    # The chain cut after the letter was sent: the letter names an entry the chain no longer holds.
    with session_scope() as s:
        refer = s.scalar(select(AuditEntry.seq).where(AuditEntry.event == "refer"))
        s.execute(text("DELETE FROM letters"))
        drop_audit_guards(s)
        s.execute(text("DELETE FROM audit_entries WHERE seq >= :seq"), {"seq": refer})
        s.execute(text("UPDATE proposals SET state = 'shortlisted'"))
    cut = ogp(runner, "letters", "verify", str(exported))
    assert cut.exit_code == 1
    assert (
        f"  written by entry #{refer}, which the chain no longer holds (the chain may have been cut after "
        f"#{refer - 1}): {renamed_ok.name}\n"
    ) in cut.stderr


def test_the_minutes_print_the_chain_head(runner: CliRunner, tmp_path: Path) -> None:
    assert ogp(runner, "member", "add", "ندى خاطر", "--org", "وزارة الاقتصاد الرقمي").exit_code == 0
    assert ogp(runner, "meeting", "add", "--on", "2021-07-28", "--attendee", "ندى خاطر").exit_code == 0
    published = ogp(runner, "audit", "head").stdout.strip()
    assert ogp(runner, "meeting", "minutes", "1", "--out", "m.docx").exit_code == 0
    cells = [c.text for t in docx.Document(str(tmp_path / "m.docx")).tables for r in t.rows for c in r.cells]
    seq, digest = published.split(":")
    assert "سجل التدقيق عند كتابة المحضر" in cells
    assert f"القيد رقم {seq}\n{digest}" in cells
    assert ogp(runner, "audit", "verify", "--expect-head", published).exit_code == 0


def test_an_illegal_move_appended_with_a_correct_hash_is_named(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "P-1")
    with session_scope() as s:  # a forger with the program's source appends rejected → committed
        proposal = s.scalars(select(Proposal)).one()
        last = audit.current_head(s)
        body = ledger.canonical_json(
            {"v": 2, "step": "commit", "actor": "mallory", "proposal": {"id": proposal.id, "ref": "P-1"},
             "from": "submitted", "to": "committed", "reason": "", "late": False, "letters": [],
             "changes": [{"t": "proposals", "op": "update", "key": {"id": proposal.id},
                          "new": {"state": "committed"}, "old": {"state": "submitted"}}]}
        )  # fmt: skip
        at = audit.utc_stamp(NOW)
        s.execute(
            text("INSERT INTO audit_entries (seq, at, actor, proposal_id, proposal_ref, event, from_state, to_state,"
                 " reason, letters, prev_hash, hash, body) VALUES (:seq, :at, 'mallory', :pid, 'P-1', 'commit',"
                 " 'submitted', 'committed', '', '[]', :prev, :hash, :body)"),
            {"seq": last.seq + 1, "at": at, "pid": proposal.id, "prev": last.hash, "body": body,
             "hash": audit.entry_hash(last.seq + 1, at, None, last.hash, body)},
        )  # fmt: skip
        s.execute(text("UPDATE proposals SET state = 'committed'"))
    with session_scope() as s, pytest.raises(AuditChainError) as broken:
        replay.verify(s)
    assert str(broken.value) == (
        f"audit chain broken at entry #{last.seq + 1}: commit of P-1 from 'submitted' is not allowed "
        "(only from: referred)."
    )


def test_members_are_named_in_the_chain(session_scope: SessionFactory) -> None:
    from workflow.members import add_member

    with session_scope() as s:
        add_member(s, "ندى خاطر", "وزارة", actor="aya", now=NOW)
    with session_scope() as s:
        entry = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        member = s.scalars(select(Member)).one()
        body = json.loads(entry.body or "{}")
        assert (entry.event, entry.actor, entry.proposal_id) == ("add_member", "aya", None)
        assert body["changes"] == [
            {"t": "members", "op": "insert", "key": {"id": member.id},
             "row": {"id": member.id, "name": "ندى خاطر", "organization": "وزارة", "sector": "civil-society",
                     "active": True, "login": None}}
        ]  # fmt: skip


@pytest.mark.parametrize("copy", ["added", "in place of another"])
def test_a_key_held_by_two_rows_behind_the_products_back_is_named(
    session_scope: SessionFactory, runner: CliRunner, copy: str
) -> None:
    """A table rebuilt without its keys' constraints, then given a second row with a key already
    held (here a letter's year and number, and every other column the record compares): added, or
    in place of another letter so that the count still agrees. `audit verify` names the row, never
    a traceback, and never passes."""
    with session_scope() as s:
        register(s, "P-1", entities=("MODEE", "ROS"))
        bring_to(s, "P-1", State.REFERRED)
    assert ogp(runner, "audit", "verify").exit_code == 0
    columns = [c.name for c in Letter.__table__.c]
    copied = ", ".join("id + 1000" if c == "id" else c for c in columns)
    with session_scope() as s:
        if s.get_bind().dialect.name == "postgresql":
            for constraint in ("uq_letters_year", "uq_letters_reference", "uq_letters_file_name"):
                s.execute(text(f"ALTER TABLE letters DROP CONSTRAINT {constraint}"))
        else:
            s.execute(text("CREATE TABLE letters_rebuilt AS SELECT * FROM letters"))
            s.execute(text("DROP TABLE letters"))
            s.execute(text("ALTER TABLE letters_rebuilt RENAME TO letters"))
        first, last = s.execute(text("SELECT min(id), max(id) FROM letters")).one()
        assert first != last
        if copy == "in place of another":
            s.execute(text("DELETE FROM letters WHERE id = :id"), {"id": last})
        s.execute(text(f"INSERT INTO letters ({', '.join(columns)}) SELECT {copied} FROM letters WHERE id = :id"),
                  {"id": first})  # fmt: skip
        (year, number) = s.execute(text("SELECT year, number FROM letters WHERE id = :id"), {"id": first}).one()
    verified = ogp(runner, "audit", "verify")
    assert verified.exit_code == 1
    assert f'at table letters, row {{"number":{number},"year":{year}}}' in verified.stderr
    assert "the chain says one row, the table says more than one row" in verified.stderr


@pytest.mark.parametrize("tampering", ["true for 1 in a JSON column", "a fraction as a letter number", "text as a letter's bytes"])
def test_values_of_a_kind_no_step_writes_are_named_not_a_traceback(
    session_scope: SessionFactory, runner: CliRunner, tampering: str
) -> None:
    """Values the product never writes, put in behind its back (SQLite keeps whatever it is given
    where a column's affinity allows): `audit verify` names the table and row, exit 1."""
    with session_scope() as s:
        register(s, "P-1", entities=("MODEE",))
        bring_to(s, "P-1", State.REFERRED)
    assert ogp(runner, "audit", "verify").exit_code == 0
    with session_scope() as s:
        postgres = s.get_bind().dialect.name == "postgresql"
        if postgres and tampering != "true for 1 in a JSON column":
            pytest.skip("PostgreSQL's column types refuse it")
        if tampering == "true for 1 in a JSON column":
            criteria = s.execute(text("SELECT criteria FROM decided_standings")).scalar_one()
            criteria = json.loads(criteria) if isinstance(criteria, str) else criteria
            code = next(c for c, facts in criteria.items() if facts.get("weight") == 1)
            criteria[code]["weight"] = True
            cast = "CAST(:v AS json)" if postgres else ":v"
            s.execute(text(f"UPDATE decided_standings SET criteria = {cast}"), {"v": json.dumps(criteria)})
            expected = "at table decided_standings, row {\"proposal_id\":1}, field criteria"
        elif tampering == "a fraction as a letter number":
            s.execute(text("UPDATE letters SET number = number + 0.5"))
            expected = "at table letters, row year="
        else:
            s.execute(text("UPDATE letters SET content = 'not a letter'"))
            expected = "field content: the chain says a .docx, the table says no bytes (str)"
    verified = ogp(runner, "audit", "verify")
    assert verified.exit_code == 1, verified.output
    assert expected in verified.stderr, verified.stderr


def test_a_letters_id_is_a_handle_the_workflow_never_orders_by(session_scope: SessionFactory, runner: CliRunner) -> None:
    """A letter's id is not part of the record the chain vouches for (its year and number are), so
    swapping two letters' ids behind the product's back verifies; then nothing the workflow decides
    may change with it: the bodies written to, in the register's order, stay as they were."""
    from workflow.evaluation import referred_bodies
    from workflow.followups import awaited_for
    from workflow.plans import current_plan
    from workflow.proposals import get_proposal

    def awaited(s: Session) -> list[tuple[str, str]]:
        replies = awaited_for(s, current_plan(s), get_proposal(s, "P-1"))
        return [(reply.entity.code or "", reply.referral.reference) for reply in replies]

    with session_scope() as s:
        register(s, "P-1", entities=("MODEE", "ROS"))
        bring_to(s, "P-1", State.REFERRED)
        before = [body.code for body in referred_bodies(s, get_proposal(s, "P-1"))]
        awaited_before = awaited(s)
    waiting = ogp(runner, "status", "--json").stdout
    assert before == ["MODEE", "ROS"] and "an answer from MODEE" in waiting
    with session_scope() as s:
        first, last = s.execute(text("SELECT min(id), max(id) FROM letters")).one()
        for old, new in ((first, -1), (last, first), (-1, last)):
            s.execute(text("UPDATE letters SET id = :new WHERE id = :old"), {"old": old, "new": new})
    assert ogp(runner, "audit", "verify").exit_code == 0
    with session_scope() as s:
        assert [body.code for body in referred_bodies(s, get_proposal(s, "P-1"))] == before
        assert awaited(s) == awaited_before
    assert ogp(runner, "status", "--json").stdout == waiting


# --- the proposal guards as the replay checks them, on scores it keeps on disk ----------------------


def forge_move(
    s: Session, step: str, proposal_id: int, ref: str, before: str, after: str, changes: list[object] | None = None
) -> int:
    """What a forger with the program's source could append: a correctly hashed step about `ref`,
    by default a move from `before` to `after` with the table changed to agree; returns its number."""
    last = audit.current_head(s)
    if changes is None:
        changes = [{"t": "proposals", "op": "update", "key": {"id": proposal_id}, "new": {"state": after},
                    "old": {"state": before}}]  # fmt: skip
    body = json.dumps(  # as the program writes a body, but taking any value a forger puts in it
        {"v": 2, "step": step, "actor": "mallory", "proposal": {"id": proposal_id, "ref": ref}, "from": before,
         "to": after, "reason": "مزوّر", "late": False, "letters": [], "changes": changes},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )  # fmt: skip
    at = audit.utc_stamp(NOW)
    s.execute(
        text("INSERT INTO audit_entries (seq, at, actor, proposal_id, proposal_ref, event, from_state, to_state,"
             " reason, letters, prev_hash, hash, body) VALUES (:seq, :at, 'mallory', :pid, :ref, :step,"
             " :before, :after, 'مزوّر', '[]', :prev, :hash, :body)"),
        {"seq": last.seq + 1, "at": at, "pid": proposal_id, "ref": ref, "step": step, "before": before,
         "after": after, "prev": last.hash, "body": body,
         "hash": audit.entry_hash(last.seq + 1, at, None, last.hash, body)},
    )  # fmt: skip
    s.execute(text("UPDATE proposals SET state = :after WHERE id = :pid"), {"after": after, "pid": proposal_id})
    return last.seq + 1


@pytest.mark.parametrize(
    ("scored", "step", "after", "rule", "detail"),
    [
        # One criterion of five scored: no quorum on the others, so no place on the shortlist.
        (1, "shortlist", "shortlisted", Guard.HAS_QUORUM, "(scores so far: global_trend 0 of 1, ogp_values 0 of 1, "
         "national_priorities 0 of 1, government_mandate 0 of 1; eligible members: 1)"),  # importance: scored
        # Every criterion scored: the scores refer to it, so it may be rejected, not discarded.
        (5, "discard", "discarded", Guard.NOTHING_WRITTEN, "(0 letters and 5 scores refer to it)"),
    ],
)
def test_a_forged_move_is_checked_against_the_scores_as_the_record_then_stood(
    session_scope: SessionFactory, scored: int, step: str, after: str, rule: Guard, detail: str
) -> None:
    """The replay keeps the open scores in its file, not in memory (issue 13: flat memory); the
    quorum and nothing-written guards still see each one the chain wrote."""
    with session_scope() as s:
        proposal = register(s, "P-1")
        bring_to(s, "P-1", State.INTERVIEWED)
        add_member(s, "عضو الاختبار", "جهة محايدة", "government", actor="tester")
        for criterion in list_criteria(s)[:scored]:
            record_score(s, ScoreInput("P-1", "عضو الاختبار", criterion.code, 4), actor="tester", now=NOW)
        proposal_id = proposal.id
    with session_scope() as s:
        replay.verify(s)  # the record as it stands holds
        seq = forge_move(s, step, proposal_id, "P-1", "interviewed", after)
    with session_scope() as s, pytest.raises(AuditChainError) as broken:
        replay.verify(s)
    message = str(broken.value)
    assert message == (
        f"audit chain broken at entry #{seq}: {step} of P-1 was not allowed: {GUARD_RULES[rule]} {detail} "
        "as the record then stood."
    )


def _score_row(row_id: object, proposal_id: object, member_id: object, criterion_id: object, value: object) -> dict:  # type: ignore[type-arg]
    row = {"id": row_id, "proposal_id": proposal_id, "member_id": member_id, "criterion_id": criterion_id,
           "value": value, "note": "", "updated_at": "2021-08-01T00:00:00.000000Z", "updated_by": "mallory"}  # fmt: skip
    return {"t": "scores", "op": "insert", "key": {"id": row_id}, "row": row}


def _proposal_row(row_id: object, state: str) -> dict:  # type: ignore[type-arg]
    row = {"id": row_id, "plan_id": 1, "ref": "P-X", "title": "t", "organization": "o", "email": "", "problem": "",
           "solution": "", "values": [], "submitted_on": "2021-06-20", "state": state, "language": "ar",
           "lead_entity_id": None}  # fmt: skip
    return {"t": "proposals", "op": "insert", "key": {"id": row_id}, "row": row}


@pytest.mark.parametrize(
    ("crafted", "then_shortlist"),
    [
        ([_score_row(9001, "PID", "MID", "CID", "x")], True),  # a score that is text
        ([_score_row(9001, "PID", "MID", "CID", [4])], True),  # a score that is a list
        ([_score_row(9001, "PID", 1.0, "CID", 5), _score_row(9002, "PID", True, "CID", 5)], True),  # one member thrice
        ([_score_row(9001, "PID", ["MID"], {"c": 1}, 4)], False),  # keys of other kinds
        ([_proposal_row(None, "interviewed"), _score_row(9001, None, "MID", "CID", 4)], False),  # no id
        ([_proposal_row(2**70, "shortlisted")], False),  # an id too large for SQLite
        ([_score_row(9001, {"x": 1}, "MID", "CID", 4)], False),  # an owner that is an object
        ([{"t": "proposals", "op": "update", "key": {"id": "PID"}, "new": {"state": "bogus"},
           "old": {"state": "interviewed"}}], False),  # a state no machine has
        ([{**_proposal_row(9002, "submitted"), "row": {**_proposal_row(9002, "x")["row"], "organization": 5}}], False),  # a number for a name
        ([{**_proposal_row(9003, "submitted"), "row": {"id": 9003, "ref": "P-Y"}}], False),  # columns missing
    ],
)
def test_a_crafted_score_or_proposal_row_is_refused_by_name_never_a_traceback(
    session_scope: SessionFactory, crafted: list[dict], then_shortlist: bool  # type: ignore[type-arg]
) -> None:
    """Rows no step writes, in a correctly hashed entry (review of issue 13's replay): `audit
    verify` names the entry or the table row, whatever the values; the scores it keeps on disk
    take any key a body can hold."""
    with session_scope() as s:
        proposal = register(s, "P-1")
        bring_to(s, "P-1", State.INTERVIEWED)
        add_member(s, "عضو الاختبار", "جهة محايدة", "government", actor="tester")
        criteria = list_criteria(s)
        for criterion in criteria:
            record_score(s, ScoreInput("P-1", "عضو الاختبار", criterion.code, 4), actor="tester", now=NOW)
        member_id = s.scalars(select(Member.id)).one()
        ids = {"PID": proposal.id, "MID": member_id, "CID": criteria[0].id}
        proposal_id = proposal.id
    changes = json.loads(json.dumps(crafted).replace('"PID"', str(ids["PID"])).replace('"MID"', str(ids["MID"]))
                         .replace('"CID"', str(ids["CID"])))  # fmt: skip
    with session_scope() as s:
        seq = forge_move(s, "score", proposal_id, "P-1", "interviewed", "interviewed", changes)
        if then_shortlist:
            seq = forge_move(s, "shortlist", proposal_id, "P-1", "interviewed", "shortlisted")
    with session_scope() as s, pytest.raises((AuditChainError, RecordMismatchError)) as refused:
        replay.verify(s)
    if then_shortlist and isinstance(refused.value, AuditChainError):
        assert f"entry #{seq}: shortlist of P-1" in str(refused.value), refused.value


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_body_holding_what_json_is_not_is_refused_as_not_json(session_scope: SessionFactory, constant: str) -> None:
    """Python's json module reads NaN and Infinity, which are not JSON and which no step writes; a
    correctly hashed body holding one is refused by name (filed, NaN would read as null): bodies are
    read by orjson, which takes JSON only."""
    with session_scope() as s:
        proposal = register(s, "P-1")
        proposal_id = proposal.id
    value = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[constant]
    with session_scope() as s:
        seq = forge_move(s, "edit_proposal", proposal_id, "P-1", "submitted", "submitted",
                         [{"t": "proposals", "op": "update", "key": {"id": proposal_id}, "new": {"lead_entity_id": value},
                           "old": {"lead_entity_id": None}}])  # fmt: skip
    with session_scope() as s, pytest.raises(AuditChainError) as refused:
        replay.verify(s)
    assert str(refused.value).startswith(f"audit chain broken at entry #{seq}: its body is not JSON (")


def test_the_first_divergence_named_is_the_first_in_key_order(session_scope: SessionFactory, runner: CliRunner) -> None:
    """Rows are compared in key order, numbers as numbers: of proposals 2 and 10 both altered, 2 is
    named (as text, {"id":10} would come first)."""
    with session_scope() as s:
        ids = [register(s, f"P-{n}").id for n in range(1, 11)]
    assert ogp(runner, "audit", "verify").exit_code == 0
    with session_scope() as s:
        s.execute(text("UPDATE proposals SET organization = 'جهة أخرى' WHERE id IN (:a, :b)"), {"a": ids[1], "b": ids[9]})
    verified = ogp(runner, "audit", "verify")
    assert verified.exit_code == 1
    assert f'at table proposals, row {{"id":{ids[1]}}}, field organization' in verified.stderr, verified.stderr


def test_rows_matched_as_a_set_verify_as_rows_matched_in_order(
    session_scope: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The comparison in key order is the quick path; when it fails (a database listing rows in an
    order of its own) the rows are matched as a set, which must reach the same verdict."""
    with session_scope() as s:
        register(s, "P-1", entities=("MODEE", "ROS"))
        bring_to(s, "P-1", State.REFERRED)
    with session_scope() as s:
        in_order = replay.verify(s)
    monkeypatch.setattr(replay, "_match_in_order", lambda *_: None)
    with session_scope() as s:
        as_a_set = replay.verify(s)
    assert as_a_set == in_order
    assert in_order.rows > 10 and in_order.letters == 2
    with session_scope() as s:
        s.execute(text("UPDATE proposals SET organization = 'جهة أخرى'"))
    with session_scope() as s, pytest.raises(RecordMismatchError) as diverged:
        replay.verify(s)
    assert 'row {"id":1}, field organization' in str(diverged.value)


@given(st.lists(st.tuples(st.integers(-(2**63), 2**63 - 1), st.integers(-(2**63), 2**63 - 1)), max_size=30),
       st.lists(st.integers(-(2**63), 2**63 - 1), max_size=30))  # fmt: skip
def test_a_keys_filed_order_is_the_order_of_its_numbers(pairs: list[tuple[int, int]], ids: list[int]) -> None:
    """The rebuilt record lists a table's rows as its database does (by key columns, numbers as
    numbers), so that the two are compared in one pass."""
    by_id = sorted(ids, key=lambda n: replay._filed("proposals", {"id": n})[1])
    assert by_id == sorted(ids)
    by_pair = sorted(pairs, key=lambda p: replay._filed("letters", {"number": p[1], "year": p[0]})[1])
    assert by_pair == sorted(pairs)
    assert all(replay._filed("proposals", {"id": n})[0] == f'{{"id":{n}}}' for n in ids)


def test_a_key_that_is_not_whole_numbers_is_filed_after_every_other() -> None:
    largest = replay._filed("proposals", {"id": 2**63 - 1})[1]
    for key in ({"id": 2**63}, {"id": 1.0}, {"id": "1"}, {"id": True}, {"id": None}, {"id": 1, "x": 2}):
        text_key, order = replay._filed("proposals", key)
        assert order > largest
        assert text_key == ledger.plain_json(key)


_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)  # no lone surrogate: no step stores one
def _holding(inner: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=4))


_CANONICAL = st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _TEXT, _holding, max_leaves=20)


@given(_CANONICAL)
def test_the_chain_serialises_as_pythons_json_module_does(data: object) -> None:
    """The text each entry's hash covers is the one `json.dumps` with sorted keys, no spaces and
    UTF-8 as is writes: anyone can recompute it with the standard library (control characters,
    U+2028, emoji and Arabic alike)."""
    expected = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert ledger.plain_json(data) == expected
    assert ledger.canonical_json(data) == expected


def test_a_batch_move_written_without_the_unit_of_work_still_checks_the_version(session_scope: SessionFactory) -> None:
    """In a batch a move that changes only its proposal's columns is written by one UPDATE of its
    own (`Step._write_state_alone`); like the session's flush it checks the version it read, so
    a row changed since is a refusal naming the proposal, and the chain and the table agree."""
    from workflow.errors import ConcurrentChangeError
    from workflow.moves import advance

    with session_scope() as s:
        register(s, "P-1")
    with pytest.raises(ConcurrentChangeError) as refused, session_scope() as s:  # rolled back, as a batch is
        proposal = s.scalars(select(Proposal)).one()
        s.connection().execute(text("UPDATE proposals SET version = version + 1"))  # not through the session
        chain = ledger.BatchChain.start(s, savepoints=False)
        advance(s, proposal, Event.WITHDRAW, actor="tester", reason="سحبها", current=True, chain=chain)
    assert "P-1" in str(refused.value)
    with session_scope() as s:
        proposal = s.scalars(select(Proposal)).one()
        chain = ledger.BatchChain.start(s, savepoints=False)
        advance(s, proposal, Event.WITHDRAW, actor="tester", reason="سحبها", current=True, chain=chain)
        chain.write()
        assert s.connection().execute(text("SELECT state, version FROM proposals")).one() == ("withdrawn", 2)
    with session_scope() as s:
        assert replay.verify(s).proposals == 1
        body = json.loads(audit.head(s).body or "{}")  # type: ignore[union-attr]
        assert [(c["t"], c["op"], c["new"], c["old"]) for c in body["changes"]] == [
            ("proposals", "update", {"state": "withdrawn"}, {"state": "submitted"})
        ]
