"""Guards, atomicity, stale writes and the audit trail, against SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from io import BytesIO
from pathlib import Path

import docx
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from documents.package import read_package, with_properties, zip_parts
from states import Event, State
from tests.conftest import SessionFactory
from tests.helpers import NOW, agree, bring_to, drop_audit_guards, move, register, score_all, seq_of
from workflow import audit, replay
from workflow.errors import (
    AuditChainError,
    ConcurrentChangeError,
    DocumentError,
    DuplicateError,
    GuardError,
    InvalidInputError,
    NotFoundError,
    RecordMismatchError,
    TransitionNotAllowedError,
    WorkflowError,
)
from workflow.interviews import record_interview
from workflow.models import AuditEntry, Letter, Proposal
from workflow.outbox import PROPERTY_HASH
from workflow.plans import PlanSettings, add_entity, configure_plan, current_plan
from workflow.proposals import ProposalInput, add_proposal, get_proposal, link_entities


def counts(session_scope: SessionFactory) -> tuple[int, int, dict[str, str]]:
    with session_scope() as s:
        entries = s.scalar(select(func.count(AuditEntry.seq))) or 0
        letters = s.scalar(select(func.count(Letter.id))) or 0
        states = {p.ref: p.state.value for p in s.scalars(select(Proposal))}
    return entries, letters, states


# --- the happy path ------------------------------------------------------------------------------


def test_a_proposal_walks_the_whole_path_with_one_audit_entry_per_step(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "P-1", entities=("MODEE", "ROS"))
    with session_scope() as s:
        bring_to(s, "P-1", State.COMMITTED)
    with session_scope() as s:
        proposal = get_proposal(s, "P-1")
        assert proposal.state is State.COMMITTED
        entries = audit.history(s, proposal)
        assert [(e.event, e.from_state, e.to_state) for e in entries] == [
            ("submit", None, "submitted"),
            ("record_interview", "submitted", "submitted"),
            ("interview", "submitted", "interviewed"),
            *[("score", "interviewed", "interviewed")] * 5,
            ("shortlist", "interviewed", "shortlisted"),
            ("refer", "shortlisted", "referred"),
            ("response", "referred", "referred"),
            ("commit", "referred", "committed"),
        ]
        assert {e.actor for e in entries} == {"tester"}
        letters = s.scalars(select(Letter).order_by(Letter.id)).all()
        assert [(letter.kind, letter.recipient) for letter in letters] == [
            ("referral", "معالي وزير الاقتصاد الرقمي والريادة المحترم"),
            ("referral", "عطوفة أمين سجل الجمعيات المحترم"),
            ("commitment", "معالي وزير الاقتصاد الرقمي والريادة المحترم"),  # the first body leads
            ("acceptance", "السادة مركز الشفافية الأردني المحترمين"),
        ]
        refer, commit = entries[9], entries[11]
        assert refer.letters == [letter.digest for letter in letters[:2]]
        assert commit.letters == [letter.digest for letter in letters[2:]]
        assert [letter.audit_seq for letter in letters] == [refer.seq] * 2 + [commit.seq] * 2
        assert [letter.reference for letter in letters] == [f"ت ح/5/2021/000{n}" for n in range(1, 5)]
        assert proposal.lead_entity is not None and proposal.lead_entity.code == "MODEE"
        report = replay.verify(s)
        # The plan, three bodies and the scoring member came first (the workspace fixture).
        assert (report.entries, report.letters, report.proposals) == (5 + len(entries), 4, 1)


def test_proposals_can_be_found_by_number_or_ref_in_any_case(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        added = register(s, "P-7")
        assert get_proposal(s, str(added.id)) is added
        assert get_proposal(s, "p-7") is added
        with pytest.raises(NotFoundError, match="no proposal 'P-404'"):
            get_proposal(s, "P-404")


def test_refs_are_numbered_when_not_given_and_never_reused(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "P-002")
        first = add_proposal(s, ProposalInput("فكرة", "منظمة"), actor="t", now=NOW)
        second = add_proposal(s, ProposalInput("فكرة أخرى", "منظمة"), actor="t", now=NOW)
        assert (first.ref, second.ref) == ("P-003", "P-004")


# --- guards --------------------------------------------------------------------------------------


def test_interview_needs_a_recorded_interview(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "P-1")
    with session_scope() as s, pytest.raises(GuardError) as refused:
        move(s, "P-1", Event.INTERVIEW)
    assert str(refused.value) == (
        "Cannot interview proposal P-1: an interview must be recorded first (ogp interview record) "
        "(no interview is recorded)."
    )
    assert counts(session_scope)[2] == {"P-1": "submitted"}


def test_refer_needs_a_relevant_body(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "P-1", entities=())
        bring_to(s, "P-1", State.SHORTLISTED)
    with session_scope() as s, pytest.raises(GuardError, match="at least one relevant government body is required"):
        move(s, "P-1", Event.REFER)
    with session_scope() as s:
        link_entities(s, "P-1", ["وزارة الصحه"], actor="tester")  # found despite the ta marbuta typed as ha
    with session_scope() as s:
        done = move(s, "P-1", Event.REFER)
        assert [letter.recipient.name for letter in done.letters] == ["وزارة الصحة"]


@pytest.mark.parametrize("event", [Event.REJECT, Event.WITHDRAW])
def test_reject_and_withdraw_need_a_reason(session_scope: SessionFactory, event: Event) -> None:
    with session_scope() as s:
        register(s, "P-1")
    for blank in ("", "   \n\t"):
        with session_scope() as s, pytest.raises(GuardError, match=r"a reason is required \(--reason\)"):
            move(s, "P-1", event, reason=blank)
    with session_scope() as s:
        done = move(s, "P-1", event, reason="  خارج   صلاحيات الحكومة ")
        assert done.entry.reason == "خارج صلاحيات الحكومة"


def test_the_shortlist_size_caps_shortlisted_and_beyond(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        configure_plan(s, PlanSettings(shortlist_size=2, commitment_target=1), actor="tester")
        for ref in ("A", "B", "C"):
            register(s, ref)
        bring_to(s, "A", State.COMMITTED)  # a committed proposal keeps its place
        bring_to(s, "B", State.SHORTLISTED)
        bring_to(s, "C", State.INTERVIEWED)
        score_all(s, "C")
    with session_scope() as s, pytest.raises(GuardError) as refused:
        move(s, "C", Event.SHORTLIST)
    assert str(refused.value) == (
        "Cannot shortlist proposal C: the plan's shortlist size may not be exceeded (2 of 2 places are taken)."
    )
    with session_scope() as s:  # a rejection frees a place
        move(s, "B", Event.REJECT, reason="لم توافق الجهة")
        move(s, "C", Event.SHORTLIST)
        assert get_proposal(s, "C").state is State.SHORTLISTED


def test_the_commitment_target_caps_committed(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        configure_plan(s, PlanSettings(shortlist_size=3, commitment_target=1), actor="tester")
        register(s, "A")
        register(s, "B")
        bring_to(s, "A", State.COMMITTED)
        bring_to(s, "B", State.REFERRED)
        agree(s, "B")
    with session_scope() as s, pytest.raises(GuardError, match=r"commitment target may not be exceeded \(1 of 1"):
        move(s, "B", Event.COMMIT)
    assert counts(session_scope)[2]["B"] == "referred"


def test_an_event_from_the_wrong_state_names_the_allowed_states(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "P-7")
        bring_to(s, "P-7", State.INTERVIEWED)
    with session_scope() as s, pytest.raises(TransitionNotAllowedError) as refused:
        move(s, "P-7", Event.REFER)
    assert str(refused.value) == "Cannot refer proposal P-7: it is 'interviewed'; refer is allowed from: shortlisted."
    with session_scope() as s:
        move(s, "P-7", Event.WITHDRAW, reason="انسحاب")
    with session_scope() as s, pytest.raises(TransitionNotAllowedError, match="it is 'withdrawn'"):
        move(s, "P-7", Event.REJECT, reason="late")


# --- one move, one transaction -------------------------------------------------------------------


def test_a_broken_template_changes_nothing(session_scope: SessionFactory, tmp_path: Path) -> None:
    with session_scope() as s:
        register(s, "P-1", entities=("MODEE", "ROS"))
        bring_to(s, "P-1", State.SHORTLISTED)
    before = counts(session_scope)
    broken = tmp_path / "templates"
    broken.mkdir()
    (broken / "referral.ar.j2").write_text(
        "{% block subject %}موضوع{% endblock %}\n{% block body %}\n{{ proposal.no_such_field }}\n{% endblock %}\n",
        encoding="utf-8",
    )
    with session_scope() as s, pytest.raises(DocumentError) as failed:
        move(s, "P-1", Event.REFER, templates_dir=broken)
    assert "template referral.ar.j2, line 3" in str(failed.value)
    assert "no_such_field" in str(failed.value)
    assert str(failed.value).endswith("nothing was changed.")
    assert counts(session_scope) == before
    with session_scope() as s:  # and the numbers the failed move would have used are still free
        done = move(s, "P-1", Event.REFER)
        assert [letter.number for letter in done.letters] == [1, 2]


def test_a_failing_database_write_rolls_back_state_and_audit(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "P-1")
        bring_to(s, "P-1", State.SHORTLISTED)
        # The letters' INSERT, the last write of the move, fails as a full disk would.
        if s.get_bind().dialect.name == "sqlite":
            s.execute(text("CREATE TRIGGER fail BEFORE INSERT ON letters BEGIN SELECT RAISE(ABORT, 'disk full'); END"))
        else:
            s.execute(
                text(
                    "CREATE FUNCTION fail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql"
                )
            )
            s.execute(text("CREATE TRIGGER fail BEFORE INSERT ON letters FOR EACH ROW EXECUTE FUNCTION fail()"))
    before = counts(session_scope)
    with pytest.raises(DBAPIError, match="disk full"), session_scope() as s:
        move(s, "P-1", Event.REFER)
    assert counts(session_scope) == before
    assert before[2] == {"P-1": "shortlisted"}


def test_a_move_based_on_a_stale_read_is_refused(session_scope: SessionFactory, engine: Engine) -> None:
    with session_scope() as s:
        register(s, "P-1")
        record_interview(s, "P-1", dt.date(2021, 7, 28), actor="t", now=NOW)
    with Session(engine) as s:
        stale = get_proposal(s, "P-1")  # held, so the session keeps this copy
        assert stale.version == 1
        # Someone else's write lands between our read and our write; `advance` re-reads the row
        # after taking the plan lock, so to reach the version check we keep the stale copy.
        s.execute(text("UPDATE proposals SET version = version + 1 WHERE ref = 'P-1'"))
        s.refresh = lambda *a, **k: None  # type: ignore[method-assign]
        with pytest.raises(ConcurrentChangeError) as refused:
            move(s, "P-1", Event.INTERVIEW)
        s.rollback()
    assert str(refused.value) == (
        "proposal P-1 was changed by someone else while this command ran; nothing was changed, try again."
    )
    assert counts(session_scope)[2] == {"P-1": "submitted"}


# --- audit trail ---------------------------------------------------------------------------------


def make_history(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        for ref in ("A", "B", "C"):
            register(s, ref)
        bring_to(s, "A", State.REFERRED)
        move(s, "B", Event.WITHDRAW, reason="انسحاب")


def test_the_database_refuses_to_change_or_remove_audit_entries(session_scope: SessionFactory) -> None:
    make_history(session_scope)
    with session_scope() as s:
        head = audit.current_head(s)
    for statement in (
        "UPDATE audit_entries SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM audit_entries WHERE seq = 2",
    ):
        with pytest.raises(DBAPIError, match="append-only"), session_scope() as s:
            s.execute(text(statement))
    with session_scope() as s:
        assert replay.verify(s, head).entries == head.seq


def test_verify_names_an_altered_entry(session_scope: SessionFactory) -> None:
    make_history(session_scope)
    with session_scope() as s:
        withdrawn = seq_of(s, "B", "withdraw")
        drop_audit_guards(s)
        s.execute(
            text("UPDATE audit_entries SET body = replace(body, 'انسحاب', 'حُذف') WHERE seq = :seq"), {"seq": withdrawn}
        )
    with session_scope() as s, pytest.raises(AuditChainError) as broken:
        replay.verify(s)
    assert broken.value.seq == withdrawn
    assert (
        str(broken.value)
        == f"audit chain broken at entry #{withdrawn}: it was altered (B withdraw): its content no longer matches its hash."
    )
    with session_scope() as s:  # the columns repeat what the body says: they cannot say otherwise
        s.execute(
            text("UPDATE audit_entries SET body = replace(body, 'حُذف', 'انسحاب') WHERE seq = :seq"), {"seq": withdrawn}
        )
        s.execute(text("UPDATE audit_entries SET reason = 'حُذف' WHERE seq = :seq"), {"seq": withdrawn})
    with session_scope() as s, pytest.raises(AuditChainError) as broken:
        replay.verify(s)
    assert str(broken.value) == (
        f"audit chain broken at entry #{withdrawn}: its column reason says 'حُذف' but the body its hash covers says 'انسحاب'."
    )


def test_verify_names_a_removed_entry(session_scope: SessionFactory) -> None:
    make_history(session_scope)
    with session_scope() as s:
        removed = seq_of(s, "A", "interview")
        drop_audit_guards(s)
        s.execute(text("DELETE FROM letters"))
        s.execute(text("DELETE FROM audit_entries WHERE seq = :seq"), {"seq": removed})
    with session_scope() as s, pytest.raises(AuditChainError) as broken:
        replay.verify(s)
    assert broken.value.seq == removed
    assert f"missing (the next entry is #{removed + 1}): an entry was removed" in str(broken.value)


def test_verify_names_reordered_entries(session_scope: SessionFactory) -> None:
    make_history(session_scope)
    with session_scope() as s:
        first = seq_of(s, "A", "record_interview")
        assert seq_of(s, "A", "interview") == first + 1
        drop_audit_guards(s)
        # Swap the two entries by renumbering through a free number.
        s.execute(text("UPDATE audit_entries SET seq = 1000 WHERE seq = :a"), {"a": first})
        s.execute(text("UPDATE audit_entries SET seq = :a WHERE seq = :b"), {"a": first, "b": first + 1})
        s.execute(text("UPDATE audit_entries SET seq = :b WHERE seq = 1000"), {"b": first + 1})
    with session_scope() as s, pytest.raises(AuditChainError) as broken:
        replay.verify(s)
    assert broken.value.seq == first
    assert f"does not follow entry #{first - 1}" in str(broken.value)


def test_verify_names_an_inserted_entry(session_scope: SessionFactory) -> None:
    make_history(session_scope)
    with session_scope() as s:
        at = seq_of(s, "A", "shortlist")
        drop_audit_guards(s)
        s.execute(text("DELETE FROM letters"))
        s.execute(text("UPDATE audit_entries SET seq = seq + 1000 WHERE seq >= :at"), {"at": at})
        s.execute(text("UPDATE audit_entries SET seq = seq - 999 WHERE seq >= :at"), {"at": at + 1000})
        s.execute(
            text(
                "INSERT INTO audit_entries (seq, at, actor, proposal_id, proposal_ref, event, from_state, to_state,"
                " reason, letters, prev_hash, hash, body) SELECT :at, at, 'mallory', proposal_id, proposal_ref, event,"
                " from_state, to_state, reason, letters, prev_hash, :h, body FROM audit_entries WHERE seq = :before"
            ),
            {"h": "f" * 64, "at": at, "before": at - 1},
        )
    with session_scope() as s, pytest.raises(AuditChainError) as broken:
        replay.verify(s)
    assert broken.value.seq == at


def test_verify_catches_a_state_changed_outside_the_workflow(session_scope: SessionFactory) -> None:
    make_history(session_scope)
    with session_scope() as s:
        s.execute(text("UPDATE proposals SET state = 'committed' WHERE ref = 'C'"))
    with session_scope() as s, pytest.raises(RecordMismatchError) as broken:
        replay.verify(s)
    assert str(broken.value) == (
        'the record differs from its audit chain at table proposals, row {"id":3}, field state: '
        'the chain says "submitted", the table says "committed".'
    )


def test_verify_catches_a_replaced_letter(session_scope: SessionFactory) -> None:
    make_history(session_scope)
    forged = docx.Document()
    forged.add_paragraph("forged")
    buffer = BytesIO()
    forged.save(buffer)
    with session_scope() as s:
        first = s.scalars(select(Letter.id).order_by(Letter.id)).first()
        s.execute(text("UPDATE letters SET content = :c WHERE id = :id"), {"c": buffer.getvalue(), "id": first})
    with session_scope() as s, pytest.raises(RecordMismatchError, match=r"table letters, row letter .*, field content"):
        replay.verify(s)
    with session_scope() as s:  # the same bytes under a forged sha256 are caught by their digest
        s.execute(
            text("UPDATE letters SET sha256 = :h WHERE id = :id"),
            {"h": hashlib.sha256(buffer.getvalue()).hexdigest(), "id": first},
        )
    with session_scope() as s, pytest.raises(RecordMismatchError, match=r"the chain says parts with digest"):
        replay.verify(s)


# --- input ---------------------------------------------------------------------------------------


def test_registration_refuses_bad_fields_and_names_each(session_scope: SessionFactory) -> None:
    before = counts(session_scope)
    with session_scope() as s, pytest.raises(InvalidInputError) as refused:
        add_proposal(
            s,
            ProposalInput("", "منظمة", email="not-an-email", values=("transparency",), entities=("NOPE",)),
            actor="t",
            now=NOW,
        )
    message = str(refused.value)
    assert message.startswith("proposal (new): title: is required; email: 'not-an-email' is not an e-mail address; ")
    assert "unknown OGP value 'transparency'" in message
    assert "unknown government body 'NOPE'" in message
    assert counts(session_scope) == before


def test_registration_cleans_control_characters(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        added = add_proposal(s, ProposalInput("منصة\x00 البيانات\x07", "منظمة\x1b"), actor="t", now=NOW)
        assert (added.title, added.organization) == ("منصة البيانات", "منظمة")


def test_interviews_must_have_happened_after_submission(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "P-1")
    with session_scope() as s, pytest.raises(InvalidInputError, match="is in the future"):
        record_interview(s, "P-1", dt.date(2021, 8, 1), actor="t", now=NOW)
    with (
        session_scope() as s,
        pytest.raises(InvalidInputError, match=r"before the proposal was submitted \(2021-06-20\)"),
    ):
        record_interview(s, "P-1", dt.date(2021, 6, 1), actor="t", now=NOW)
    with session_scope() as s:
        move(s, "P-1", Event.WITHDRAW, reason="x")
    with session_scope() as s, pytest.raises(WorkflowError, match="it is 'withdrawn'"):
        record_interview(s, "P-1", dt.date(2021, 7, 1), actor="t", now=NOW)


def test_bodies_are_unique_by_name_and_code(session_scope: SessionFactory) -> None:
    with session_scope() as s, pytest.raises(DuplicateError, match="code 'modee'"):
        add_entity(s, "جهة أخرى", "modee", actor="tester")
    with session_scope() as s, pytest.raises(DuplicateError, match="name 'سجل الجمعيات'"):
        add_entity(s, "سجلّ الجمعيات", actor="tester")  # the shadda does not make it another body
    with session_scope() as s:
        added = add_entity(s, "وزارة البيئة", actor="tester")
        assert added.addressee == "السادة وزارة البيئة المحترمين"


def test_plan_settings_refuse_caps_below_what_is_taken(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "A")
        register(s, "B")
        bring_to(s, "A", State.SHORTLISTED)
        bring_to(s, "B", State.SHORTLISTED)
    with session_scope() as s, pytest.raises(InvalidInputError, match="1 is fewer than the 2 proposals"):
        configure_plan(s, PlanSettings(shortlist_size=1), actor="tester")
    with session_scope() as s, pytest.raises(InvalidInputError, match="more than the shortlist size"):
        configure_plan(s, PlanSettings(commitment_target=9), actor="tester")
    with session_scope() as s:
        assert current_plan(s).shortlist_size == 7


def rehash_everything(session: Session, seq: int) -> None:
    """What someone with database access and this program's source could do: rewrite an entry
    (its body and its columns) and recompute every hash after it, so the chain verifies on its own."""
    previous = audit.GENESIS
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        if entry.seq == seq and entry.body is not None:
            body = json.loads(entry.body)
            body["actor"] = entry.actor = "mallory"
            entry.body = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        entry.prev_hash = previous
        entry.hash = audit.recomputed_hash(entry)
        previous = entry.hash
    session.flush()
    # …and stamp the stored letters again with the new hashes (through SQL: the program would not).
    for letter_id, seq, content in session.execute(text("SELECT id, audit_seq, content FROM letters")).all():
        with zipfile.ZipFile(BytesIO(content)) as archive:
            parts = [(info.filename, archive.read(info)) for info in archive.infolist()]
        new_hash = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))
        restamped = zip_parts(with_properties(parts, {**read_package(content).properties, PROPERTY_HASH: new_hash}))
        session.execute(
            text("UPDATE letters SET content = :c, sha256 = :h WHERE id = :id"),
            {"c": restamped, "h": hashlib.sha256(restamped).hexdigest(), "id": letter_id},
        )


def test_a_published_head_catches_a_chain_rewritten_from_the_start(session_scope: SessionFactory) -> None:
    make_history(session_scope)
    with session_scope() as s:
        published = audit.current_head(s)
        assert published.seq == seq_of(s, "B", "withdraw") and audit.Head.parse(str(published)) == published
        assert replay.verify(s, published).entries == published.seq
        cut = seq_of(s, "A", "refer")
    with session_scope() as s:
        drop_audit_guards(s)
        rehash_everything(s, 2)
    with session_scope() as s:
        assert replay.verify(s).entries == published.seq  # on its own, the rewritten chain holds
        with pytest.raises(AuditChainError) as broken:
            replay.verify(s, published)
    assert broken.value.seq == published.seq
    assert "the chain was rewritten since it was published" in str(broken.value)
    with session_scope() as s:
        s.execute(text("DELETE FROM letters WHERE audit_seq >= :cut"), {"cut": cut})
        s.execute(text("DELETE FROM audit_entries WHERE seq >= :cut"), {"cut": cut})
    with (
        session_scope() as s,
        pytest.raises(
            AuditChainError, match=rf"the chain ends at #{cut - 1}, before the head published as {published.seq}:"
        ),
    ):
        replay.verify(s, published)
    with pytest.raises(ValueError, match="is not SEQ:HASH"):
        audit.Head.parse("7:abc")
    with pytest.raises(ValueError, match="is not SEQ:HASH"):
        audit.Head.parse("¹:" + "a" * 64)


def test_odd_proposal_keys_are_no_proposal_not_a_crash(session_scope: SessionFactory) -> None:
    """Found by the hostile tests: '¹' passes str.isdigit but not int(); PostgreSQL refuses a NUL."""
    with session_scope() as s:
        register(s, "P-1")
        assert get_proposal(s, " p-1 ").ref == get_proposal(s, "1").ref == "P-1"
        for key in ("¹", "\x00", "P-1\x00", "9" * 30):
            with pytest.raises(NotFoundError, match="no proposal "):
                get_proposal(s, key)
