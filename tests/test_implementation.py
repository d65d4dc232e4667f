"""After the commitment: the commitment in OGP's template, milestones moved by their own machine
under their guards, progress from both sides with evidence, and the replay checking all of it
against the milestone table as the record then stood (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from states import Completion, MilestoneEvent, MilestoneState, State
from tests.conftest import SessionFactory
from tests.helpers import NOW, bring_to, register
from workflow import audit, ledger, replay
from workflow.commitments import CommitmentChanges, commitment_text, edit_commitment
from workflow.errors import (
    AuditChainError,
    GuardError,
    InvalidInputError,
    NotFoundError,
    RecordMismatchError,
    StepNotAllowedError,
    TransitionNotAllowedError,
)
from workflow.milestones import (
    MilestoneStanding,
    add_milestone,
    advance_milestone,
    completion,
    get_milestone,
    standing_on,
)
from workflow.models import AuditEntry, Commitment, Evidence, Milestone, MilestoneMove, Progress, Proposal
from workflow.progress import (
    MAX_EVIDENCE_BYTES,
    EvidenceItem,
    checked_url,
    evidence_from,
    read_evidence_file,
    record_progress,
)

LATER = dt.datetime(2022, 6, 30, 9, tzinfo=dt.UTC)


def committed(session: Session, ref: str = "P-1") -> tuple[int, str]:
    """A committed proposal's (id, ref)."""
    register(session, ref, entities=("MODEE", "ROS"))
    bring_to(session, ref, State.COMMITTED)
    return session.scalars(select(Proposal.id).where(Proposal.ref == ref)).one(), ref


def milestone(session: Session, ref: str = "P-1", start: str = "2021-11", end: str = "2022-04") -> int:
    added = add_milestone(
        session, ref, title="نشر البيانات", output="بيانات منشورة", start=start, end=end, responsible="MODEE",
        actor="tester", now=LATER,
    )  # fmt: skip
    return added.id


def move(session: Session, mid: int, event: MilestoneEvent, **kwargs: object) -> None:
    kwargs.setdefault("now", LATER)
    advance_milestone(session, mid, event, actor="tester", **kwargs)  # type: ignore[arg-type]


def evidenced(session: Session, mid: int, side: str = "government", percent: int = 100) -> Progress:
    return record_progress(
        session, mid, percent=percent, note="نُشرت البيانات", side=side, actor="tester", now=LATER,
        evidence=[EvidenceItem(url="https://example.org/data"), EvidenceItem(file_name="a.csv", content=b"a,b\n")],
    )  # fmt: skip


# --- the commitment in OGP's template ---------------------------------------------------------------


def test_the_proposal_s_text_starts_the_commitment_and_edits_are_recorded(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        proposal_id, _ = committed(s)
        proposal = s.get(Proposal, proposal_id)
        assert proposal is not None
        start = commitment_text(s, proposal)
        assert (start.problem, start.description, start.edited) == (proposal.problem, proposal.solution, False)
    with session_scope() as s:
        before = audit.current_head(s).seq
        edit_commitment(
            s, "P-1",
            CommitmentChanges(ogp_id="JO0070", status_quo="طلبات ورقية", relevance=(("المساءلة", "نشر البيانات"),),
                              supporting=("ROS",), supporting_orgs=("مركز الشفافية الأردني", " "), start="2021-11",
                              end="2023-06"),
            actor="aya", now=LATER,
        )  # fmt: skip
        assert audit.current_head(s).seq == before + 1
    with session_scope() as s:
        text_now = commitment_text(s, s.get(Proposal, proposal_id))  # type: ignore[arg-type]
        assert text_now.problem == "صعوبة الوصول إلى البيانات."  # the proposal's, kept as the starting text
        assert (text_now.ogp_id, text_now.status_quo, text_now.start, text_now.end) == (
            "JO0070", "طلبات ورقية", "2021-11", "2023-06",
        )  # fmt: skip
        assert text_now.relevance == {"accountability": "نشر البيانات"}
        assert (text_now.supporting_codes, text_now.supporting_orgs) == (["ROS"], ["مركز الشفافية الأردني"])
        entry = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert (entry.event, entry.actor, entry.proposal_ref) == ("edit_commitment", "aya", "P-1")
        before = audit.current_head(s).seq
        edit_commitment(s, "P-1", CommitmentChanges(ogp_id="JO0070"), actor="aya", now=LATER)
        assert audit.current_head(s).seq == before  # changing nothing records nothing
        replay.verify(s)


def test_a_start_moved_past_the_end_kept_is_said_of_the_start(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        committed(s)
        edit_commitment(s, "P-1", CommitmentChanges(start="2021-11", end="2022-06"), actor="tester", now=LATER)
    with session_scope() as s, pytest.raises(InvalidInputError) as refused:
        edit_commitment(s, "P-1", CommitmentChanges(start="2022-09"), actor="tester", now=LATER)
    assert str(refused.value) == "commitment P-1: --start: 2022-09 is after the end month 2022-06"
    with session_scope() as s, pytest.raises(InvalidInputError) as refused:
        edit_commitment(s, "P-1", CommitmentChanges(end="2021-10"), actor="tester", now=LATER)
    assert str(refused.value) == "commitment P-1: --end: 2021-10 is before the start month 2021-11"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (CommitmentChanges(start="2021-11", end="2021-10"), "commitment P-1: --end: 2021-10 is before the start month 2021-11"),
        (CommitmentChanges(end="2024-01"), "commitment P-1: --end: 2024-01 is outside the plan's period 2021-2023"),
        # Outside the period is said of the month given, before any order between the two.
        (CommitmentChanges(start="2024-01", end="2023-06"), "commitment P-1: --start: 2024-01 is outside the plan's period 2021-2023"),
        (CommitmentChanges(start="2021-13"), "commitment P-1: --start: '2021-13' is not a month: use YYYY-MM, e.g. 2022-05"),
        (CommitmentChanges(ogp_id="JO 70"), "commitment P-1: --ogp-id: 'JO 70' is not an OGP commitment number (e.g. JO0070)"),
        (CommitmentChanges(relevance=(("openness", "x"),)), "commitment P-1: --relevance: unknown OGP value 'openness' (known: access_to_information (إتاحة الوصول إلى المعلومات), accountability (المساءلة), public_participation (المشاركة الشعبية), technology_innovation (الانفتاح على التكنولوجيا والابتكار))"),
        (CommitmentChanges(supporting=("MODEE",)), "commitment P-1: --supporting: وزارة الاقتصاد الرقمي والريادة leads the commitment; it cannot support it"),
    ],
)  # fmt: skip
def test_a_bad_commitment_field_is_named_and_nothing_changes(
    session_scope: SessionFactory, changes: CommitmentChanges, message: str
) -> None:
    with session_scope() as s:
        committed(s)
        head = audit.current_head(s)
    with session_scope() as s, pytest.raises(InvalidInputError) as refused:
        edit_commitment(s, "P-1", changes, actor="tester", now=LATER)
    assert str(refused.value) == message
    with session_scope() as s:
        assert audit.current_head(s) == head and s.scalar(select(Commitment.proposal_id)) is None


def test_only_a_committed_proposal_has_a_commitment_and_ogp_ids_are_unique(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        committed(s, "P-1")
        committed(s, "P-2")
        register(s, "P-3")
        edit_commitment(s, "P-1", CommitmentChanges(ogp_id="JO0070"), actor="tester", now=LATER)
    with session_scope() as s, pytest.raises(StepNotAllowedError) as refused:
        edit_commitment(s, "P-3", CommitmentChanges(ogp_id="JO0071"), actor="tester", now=LATER)
    assert str(refused.value) == (
        "Cannot edit the commitment of proposal P-3: it is 'submitted'; this is done only while it is committed."
    )
    with session_scope() as s, pytest.raises(InvalidInputError, match="JO0070 is already the OGP id of P-1"):
        edit_commitment(s, "P-2", CommitmentChanges(ogp_id="JO0070"), actor="tester", now=LATER)
    with session_scope() as s, pytest.raises(NotFoundError, match=r"no commitment P-3 \(the proposal is 'submitted'"):
        add_milestone(s, "P-3", title="x", output="", start="2021-11", end="2021-12", responsible="MOH", actor="t")


# --- milestones and their guards --------------------------------------------------------------------


def test_a_milestone_lives_through_its_table_and_the_chain_replays_it(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        committed(s)
        mid = milestone(s)
        move(s, mid, MilestoneEvent.START, dated=dt.date(2021, 11, 1))
        move(s, mid, MilestoneEvent.DELAY, reason="تأخر التمويل", new_end="2022-08", dated=dt.date(2022, 4, 20))
        evidenced(s, mid)
        move(s, mid, MilestoneEvent.COMPLETE, dated=dt.date(2022, 6, 29))
    with session_scope() as s:
        found = get_milestone(s, f"M{mid}")
        assert (found.state, found.end_month, found.planned_end_month) == (MilestoneState.COMPLETED, "2022-08", "2022-04")
        moves = [(m.event, m.from_state, m.to_state, m.dated.isoformat(), m.reason, m.new_end_month) for m in found.moves]
        assert moves == [
            ("start", "planned", "started", "2021-11-01", "", ""),
            ("delay", "started", "delayed", "2022-04-20", "تأخر التمويل", "2022-08"),
            ("complete", "delayed", "completed", "2022-06-29", "", ""),
        ]
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(4)).all()[::-1]
        assert [e.event for e in entries] == ["milestone_start", "milestone_delay", "record_progress", "milestone_complete"]
        delay = entries[1]
        assert delay.reason == f"M{mid} delay on 2022-04-20, new end month 2022-08: تأخر التمويل"
        assert json.loads(delay.body or "{}")["milestone"] == {"id": mid, "from": "started", "to": "delayed"}
        # Where it stood on a day is read back from its dated moves.
        assert standing_on(found, dt.date(2022, 3, 1)).state is MilestoneState.STARTED
        assert standing_on(found, dt.date(2022, 5, 1)).end_month == "2022-08"
        report = replay.verify(s)
        assert report.entries == audit.current_head(s).seq


def test_every_milestone_guard_names_its_rule(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        committed(s)
        mid = milestone(s)
        move(s, mid, MilestoneEvent.START)
        head = audit.current_head(s)
    refusals = [
        (MilestoneEvent.COMPLETE, {}, GuardError,
         f"Cannot complete milestone M{mid}: a progress entry with evidence must be recorded first "
         "(ogp progress record … --evidence FILE|URL) (no progress entry on it has evidence)."),
        (MilestoneEvent.DELAY, {"new_end": "2022-09"}, GuardError,
         f"Cannot delay milestone M{mid}: a reason is required (--reason)."),
        (MilestoneEvent.DELAY, {"reason": "تأخر"}, GuardError,
         f"Cannot delay milestone M{mid}: a new end month after the current one is required (--new-end YYYY-MM) "
         "(no new end month was given)."),
        (MilestoneEvent.DELAY, {"reason": "تأخر", "new_end": "2022-04"}, GuardError,
         f"Cannot delay milestone M{mid}: a new end month after the current one is required (--new-end YYYY-MM) "
         "(2022-04 is not after the end month in force, 2022-04)."),
        (MilestoneEvent.CANCEL, {}, GuardError, f"Cannot cancel milestone M{mid}: a reason is required (--reason)."),
        (MilestoneEvent.START, {}, TransitionNotAllowedError,
         f"Cannot start milestone M{mid}: it is 'started'; start is allowed from: planned, delayed."),
        (MilestoneEvent.START, {"new_end": "2022-09"}, TransitionNotAllowedError,
         f"Cannot start milestone M{mid}: it is 'started'; start is allowed from: planned, delayed."),
        (MilestoneEvent.CANCEL, {"reason": "x", "new_end": "2022-09"}, InvalidInputError,
         f"milestone M{mid}: --new-end: only 'delay' moves the end month, not 'cancel'"),
        (MilestoneEvent.CANCEL, {"reason": "x", "dated": dt.date(2022, 7, 1)}, InvalidInputError,
         f"milestone M{mid}: --dated: 2022-07-01 is in the future"),
        (MilestoneEvent.CANCEL, {"reason": "x", "dated": dt.date(2022, 6, 29)}, InvalidInputError,
         f"milestone M{mid}: --dated: 2022-06-29 is before its previous move, dated 2022-06-30"),
    ]  # fmt: skip
    for event, kwargs, error, message in refusals:
        with session_scope() as s, pytest.raises(error) as refused:
            move(s, mid, event, **kwargs)
        assert str(refused.value) == message
    with session_scope() as s:
        assert audit.current_head(s) == head
        assert get_milestone(s, mid).state is MilestoneState.STARTED
    with session_scope() as s:  # evidence from civil society counts; a URL alone is evidence
        record_progress(s, mid, percent=90, note="x", side="civil-society", actor="t", now=LATER,
                        evidence=[EvidenceItem(url="https://example.org/a")])  # fmt: skip
        move(s, mid, MilestoneEvent.COMPLETE)
        assert get_milestone(s, mid).state is MilestoneState.COMPLETED


def test_a_cancelled_milestone_takes_no_progress_and_a_milestone_of_a_final_state_no_move(
    session_scope: SessionFactory,
) -> None:
    with session_scope() as s:
        committed(s)
        mid = milestone(s)
        move(s, mid, MilestoneEvent.CANCEL, reason="دمج مع مرحلة أخرى")
    with session_scope() as s, pytest.raises(StepNotAllowedError) as refused:
        record_progress(s, mid, percent=10, note="x", side="government", actor="t", now=LATER)
    assert str(refused.value) == (
        f"Cannot record progress on milestone M{mid}: it is 'cancelled'; this is done only while it is "
        "planned or started or delayed or completed."
    )
    with session_scope() as s, pytest.raises(TransitionNotAllowedError, match="it is 'cancelled'; delay is allowed"):
        move(s, mid, MilestoneEvent.DELAY, reason="x", new_end="2022-09")


def test_milestone_months_stay_within_the_commitment_s(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        committed(s)
        edit_commitment(s, "P-1", CommitmentChanges(start="2021-11", end="2023-06"), actor="t", now=LATER)
        mid = milestone(s)
    cases = [
        ({"start": "2021-10", "end": "2022-01"}, "commitment P-1: --start: 2021-10 is before the commitment's start month 2021-11"),
        ({"start": "2022-01", "end": "2023-07"}, "commitment P-1: --end: 2023-07 is after the commitment's end month 2023-06"),
        ({"start": "2022-05", "end": "2022-01"}, "commitment P-1: --end: 2022-01 is before the start month 2022-05"),
        ({"start": "2022-5", "end": "2022-06"}, "commitment P-1: --start: '2022-5' is not a month: use YYYY-MM, e.g. 2022-05"),
    ]  # fmt: skip
    for months, message in cases:
        with session_scope() as s, pytest.raises(InvalidInputError) as refused:
            add_milestone(s, "P-1", title="x", output="", responsible="MOH", actor="t", now=LATER, **months)
        assert str(refused.value) == message
    with session_scope() as s, pytest.raises(InvalidInputError) as refused:
        edit_commitment(s, "P-1", CommitmentChanges(end="2022-03"), actor="t", now=LATER)
    assert str(refused.value) == f"commitment P-1: --end: 2022-03 is before M{mid}'s end month 2022-04"
    with session_scope() as s, pytest.raises(NotFoundError, match="no government body 'MOF'"):
        add_milestone(s, "P-1", title="x", output="", start="2022-01", end="2022-02", responsible="MOF", actor="t")


# --- progress and evidence --------------------------------------------------------------------------


def test_evidence_is_kept_with_its_sha256_in_the_chain_and_a_changed_file_is_caught(
    session_scope: SessionFactory,
) -> None:
    with session_scope() as s:
        committed(s)
        mid = milestone(s)
        entry = evidenced(s, mid)
        progress_id = entry.id
    digest = hashlib.sha256(b"a,b\n").hexdigest()
    with session_scope() as s:
        items = s.scalars(select(Evidence).where(Evidence.progress_id == progress_id).order_by(Evidence.position)).all()
        assert [(e.url, e.file_name, e.size, e.sha256) for e in items] == [
            ("https://example.org/data", "", 0, ""),
            ("", "a.csv", 4, digest),
        ]
        body = json.loads(s.scalars(select(AuditEntry.body).order_by(AuditEntry.seq.desc()).limit(1)).one() or "{}")
        rows = [c["row"] for c in body["changes"] if c["t"] == "evidence"]
        assert rows[1]["sha256"] == digest and rows[1]["content"] == f"sha256:{digest}"
        assert body["milestone"] == {"id": mid, "from": "planned", "to": "planned"}
        replay.verify(s)
    with session_scope() as s:
        s.execute(text("UPDATE evidence SET content = :c WHERE file_name = 'a.csv'"), {"c": b"a,b\nforged\n"})
    with session_scope() as s, pytest.raises(RecordMismatchError) as broken:
        replay.verify(s)
    assert "table evidence" in str(broken.value) and "field content" in str(broken.value)
    assert f'the chain says "sha256:{digest}"' in str(broken.value)


def test_progress_is_checked_field_by_field(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        committed(s)
        mid = milestone(s)
    cases = [
        ({"percent": 101}, f"milestone M{mid}: --percent: 101 is not between 0 and 100"),
        ({"side": "ministry"}, f"milestone M{mid}: --by: 'ministry' is not one of government, civil-society"),
        ({"note": "  "}, f"milestone M{mid}: --note: must not be empty: say what was done"),
        ({"reported_on": dt.date(2022, 7, 1)}, f"milestone M{mid}: --on: 2022-07-01 is in the future"),
        ({"evidence": [EvidenceItem(url="ftp://example.org/x")]},
         f"milestone M{mid}: --evidence: 'ftp://example.org/x' is not an http:// or https:// address with a host"),
    ]  # fmt: skip
    for change, message in cases:
        fields: dict[str, object] = {"percent": 10, "note": "x", "side": "government", **change}
        with session_scope() as s, pytest.raises(InvalidInputError) as refused:
            record_progress(s, mid, actor="t", now=LATER, **fields)  # type: ignore[arg-type]
        assert str(refused.value) == message
    with session_scope() as s:
        assert s.scalar(select(Progress.id)) is None


def test_urls_are_checked_as_web_addresses() -> None:
    assert checked_url(" https://example.org/a?b=1 ", "m") == "https://example.org/a?b=1"
    for bad, problem in (
        ("https://", "is not an http:// or https:// address with a host"),
        ("javascript:alert(1)", "is not an http:// or https:// address with a host"),
        ("https://exa mple.org", "holds spaces or control characters"),
        ("https://example.org/\x00", "holds spaces or control characters"),
        ("https://example.org:99999/", "is not a web address (Port out of range 0-65535)"),
        ("https://" + "a" * 2000, "a web address of 2008 characters; at most 2000"),
    ):
        with pytest.raises(InvalidInputError, match=problem.replace("(", r"\(").replace(")", r"\)")):
            checked_url(bad, "milestone M1")


def test_evidence_files_are_read_capped_and_only_when_regular(tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4")
    item = evidence_from(str(tmp_path / "report.pdf"), "milestone M1")
    assert (item.file_name, item.content, item.sha256) == ("report.pdf", b"%PDF-1.4", hashlib.sha256(b"%PDF-1.4").hexdigest())
    assert evidence_from("https://example.org/r", "milestone M1").url == "https://example.org/r"
    with pytest.raises(InvalidInputError, match=r"^milestone M1: --evidence: cannot read .*nope.pdf: No such file"):
        evidence_from(str(tmp_path / "nope.pdf"), "milestone M1")
    with pytest.raises(InvalidInputError, match=r"is not a regular file$"):
        read_evidence_file(tmp_path, "milestone M1")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInputError, match=r"pipe is not a regular file$"):
        read_evidence_file(fifo, "milestone M1")  # refused, not waited on
    big = tmp_path / "big.bin"
    with big.open("wb") as stream:
        stream.truncate(MAX_EVIDENCE_BYTES + 1)
    with pytest.raises(InvalidInputError, match=r"larger than 10485760 bytes; publish it and cite its web address"):
        read_evidence_file(big, "milestone M1")


# --- completion on the IRM's scale ------------------------------------------------------------------


def standing(state: MilestoneState, percent: int | None = None, *, begun: bool | None = None) -> MilestoneStanding:
    government = Progress(percent=percent) if percent is not None else None
    begun = state in (MilestoneState.STARTED, MilestoneState.COMPLETED) if begun is None else begun
    return MilestoneStanding(Milestone(), state, "2022-01", government, None, (), begun)


@pytest.mark.parametrize(
    ("milestones", "expected"),
    [
        ([], (Completion.NOT_STARTED, 0)),
        ([standing(MilestoneState.PLANNED)], (Completion.NOT_STARTED, 0)),
        ([standing(MilestoneState.CANCELLED)], (Completion.NOT_STARTED, 0)),
        ([standing(MilestoneState.STARTED)], (Completion.LIMITED, 0)),
        # Delayed before it ever started: not begun (the README's "none has begun").
        ([standing(MilestoneState.DELAYED)], (Completion.NOT_STARTED, 0)),
        ([standing(MilestoneState.DELAYED), standing(MilestoneState.PLANNED)], (Completion.NOT_STARTED, 0)),
        # Started, then delayed: it had begun.
        ([standing(MilestoneState.DELAYED, begun=True)], (Completion.LIMITED, 0)),
        ([standing(MilestoneState.PLANNED, 10)], (Completion.LIMITED, 10)),
        ([standing(MilestoneState.STARTED, 49), standing(MilestoneState.STARTED, 50)], (Completion.LIMITED, 49)),
        ([standing(MilestoneState.STARTED, 50), standing(MilestoneState.STARTED, 50)], (Completion.SUBSTANTIAL, 50)),
        ([standing(MilestoneState.COMPLETED), standing(MilestoneState.PLANNED)], (Completion.SUBSTANTIAL, 50)),
        ([standing(MilestoneState.COMPLETED), standing(MilestoneState.PLANNED), standing(MilestoneState.PLANNED)],
         (Completion.LIMITED, 33)),
        ([standing(MilestoneState.STARTED, 100)], (Completion.SUBSTANTIAL, 99)),
        ([standing(MilestoneState.COMPLETED), standing(MilestoneState.CANCELLED)], (Completion.COMPLETE, 100)),
    ],
)  # fmt: skip
def test_completion_follows_from_the_milestones(
    milestones: list[MilestoneStanding], expected: tuple[Completion, int]
) -> None:
    assert completion(milestones) == expected


# --- the replay against the milestone table ---------------------------------------------------------


def forge(
    s: Session, step: str, proposal: tuple[int, str], about: dict[str, object], changes: list[dict[str, object]]
) -> int:
    """What a forger with the program's source could append: a correctly hashed entry."""
    last = audit.current_head(s)
    proposal_id, ref = proposal
    body = ledger.canonical_json(
        {"v": 2, "step": step, "actor": "mallory", "proposal": {"id": proposal_id, "ref": ref},
         "from": "committed", "to": "committed", "reason": "", "late": False, "letters": [], "changes": changes,
         "milestone": about}
    )  # fmt: skip
    at = audit.utc_stamp(NOW)
    s.execute(
        text("INSERT INTO audit_entries (seq, at, actor, proposal_id, proposal_ref, event, from_state, to_state,"
             " reason, letters, prev_hash, hash, body) VALUES (:seq, :at, 'mallory', :pid, :ref, :step,"
             " 'committed', 'committed', '', '[]', :prev, :hash, :body)"),
        {"seq": last.seq + 1, "at": at, "pid": proposal_id, "ref": ref, "step": step, "prev": last.hash,
         "body": body, "hash": audit.entry_hash(last.seq + 1, at, None, last.hash, body)},
    )  # fmt: skip
    return last.seq + 1


def move_row(mid: int, event: str, before: str, after: str, reason: str = "", new_end: str = "") -> dict[str, object]:
    return {"t": "milestone_moves", "op": "insert", "key": {"id": 999},
            "row": {"id": 999, "milestone_id": mid, "event": event, "from_state": before, "to_state": after,
                    "dated": "2022-06-30", "reason": reason, "new_end_month": new_end, "recorded_by": "mallory",
                    "recorded_at": "2022-06-30T09:00:00.000000Z"}}  # fmt: skip


def state_change(mid: int, before: str, after: str) -> dict[str, object]:
    return {"t": "milestones", "op": "update", "key": {"id": mid}, "new": {"state": after}, "old": {"state": before}}


def test_an_illegal_milestone_move_appended_with_a_correct_hash_is_named(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        proposal = committed(s)
        mid = milestone(s)
    with session_scope() as s:  # planned → completed: the table allows no such move
        seq = forge(s, "milestone_complete", proposal, {"id": mid, "from": "planned", "to": "completed"},
                    [state_change(mid, "planned", "completed"), move_row(mid, "complete", "planned", "completed")])  # fmt: skip
        s.execute(text("UPDATE milestones SET state = 'completed'"))
    with session_scope() as s, pytest.raises(AuditChainError) as broken:
        replay.verify(s)
    assert str(broken.value) == (
        f"audit chain broken at entry #{seq}: milestone_complete of M{mid} from 'planned' is not allowed "
        "(only from: started, delayed)."
    )


def test_a_milestone_completed_without_evidence_as_the_record_then_stood_is_named(
    session_scope: SessionFactory,
) -> None:
    with session_scope() as s:
        proposal = committed(s)
        mid = milestone(s)
        move(s, mid, MilestoneEvent.START)
        record_progress(s, mid, percent=100, note="بلا دليل", side="government", actor="t", now=LATER)
    with session_scope() as s:
        seq = forge(s, "milestone_complete", proposal, {"id": mid, "from": "started", "to": "completed"},
                    [state_change(mid, "started", "completed"), move_row(mid, "complete", "started", "completed")])  # fmt: skip
    with session_scope() as s, pytest.raises(AuditChainError) as broken:
        replay.verify(s)
    assert str(broken.value) == (
        f"audit chain broken at entry #{seq}: milestone_complete of M{mid} was not allowed: a progress entry with "
        "evidence must be recorded first (ogp progress record … --evidence FILE|URL) (no progress entry on it has "
        "evidence) as the record then stood."
    )


def test_a_delay_without_a_later_end_month_and_a_state_changed_by_another_step_are_named(
    session_scope: SessionFactory,
) -> None:
    with session_scope() as s:
        proposal = committed(s)
        mid = milestone(s)
        move(s, mid, MilestoneEvent.START)
        head = audit.current_head(s)
    with session_scope() as s:
        seq = forge(s, "milestone_delay", proposal, {"id": mid, "from": "started", "to": "delayed"},
                    [state_change(mid, "started", "delayed"),
                     move_row(mid, "delay", "started", "delayed", "تأخر", "2022-03")])  # fmt: skip
    with session_scope() as s, pytest.raises(AuditChainError) as broken:
        replay.verify(s)
    assert str(broken.value) == (
        f"audit chain broken at entry #{seq}: milestone_delay of M{mid} was not allowed: a new end month after the "
        "current one is required (--new-end YYYY-MM) (2022-03 is not after the end month in force, 2022-04) as the "
        "record then stood."
    )
    assert seq == head.seq + 1


def test_a_milestone_s_state_changed_by_a_step_that_is_not_its_move_is_named(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        proposal = committed(s)
        mid = milestone(s)
    with session_scope() as s:  # disguised as progress, which milestone states allow
        seq = forge(s, "record_progress", proposal, {"id": mid, "from": "planned", "to": "planned"},
                    [state_change(mid, "planned", "completed")])  # fmt: skip
    with session_scope() as s, pytest.raises(AuditChainError) as broken:
        replay.verify(s)
    assert str(broken.value) == (
        f"audit chain broken at entry #{seq}: it changes M{mid}'s state, which only a move of that milestone may do."
    )


def test_a_milestone_move_with_no_milestone_named_or_a_wrong_from_is_named(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        proposal = committed(s)
        mid = milestone(s)
    with session_scope() as s:
        seq = forge(s, "milestone_start", proposal, {"id": mid, "from": "started", "to": "started"},
                    [state_change(mid, "planned", "started"), move_row(mid, "start", "planned", "started")])  # fmt: skip
    with session_scope() as s, pytest.raises(AuditChainError) as broken:
        replay.verify(s)
    assert str(broken.value) == (
        f"audit chain broken at entry #{seq}: it says M{mid} was 'started', but the record had it 'planned'."
    )


def test_milestone_moves_written_outside_a_step_are_refused(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        committed(s)
        mid = milestone(s)
    with session_scope() as s, pytest.raises(ledger.LedgerError, match="table milestones was changed outside"):
        s.get(Milestone, mid).state = MilestoneState.COMPLETED  # type: ignore[union-attr]
        s.flush()
    with session_scope() as s:
        assert s.get(Milestone, mid).state is MilestoneState.PLANNED  # type: ignore[union-attr]
        assert s.scalar(select(MilestoneMove.id)) is None


def test_supporting_actors_are_replaced_emptied_and_added_again_and_the_chain_follows(
    session_scope: SessionFactory,
) -> None:
    lists: tuple[tuple[tuple[str, ...] | None, tuple[str, ...] | None], ...] = (
        (("ROS",), ("جمعية أ", "جمعية ب")), (None, ("جمعية ج",)), (("MOH",), ("",)), ((), ()), (("ROS",), ("جمعية د",)),
    )  # fmt: skip
    with session_scope() as s:
        committed(s)
    for supporting, orgs in lists:
        with session_scope() as s:
            edit_commitment(s, "P-1", CommitmentChanges(supporting=supporting, supporting_orgs=orgs), actor="t", now=LATER)
            replay.verify(s)
    with session_scope() as s:
        text_now = commitment_text(s, s.scalars(select(Proposal)).one())
        assert (text_now.supporting_codes, text_now.supporting_orgs) == (["ROS"], ["جمعية د"])
