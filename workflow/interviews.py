"""Interviews with proposers: recording those held (with the seed's three questions), and
scheduling those to come, which invites the proposer by letter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from documents.dates import gregorian_ar, gregorian_en
from documents.request import Replaces
from states import Action, DocumentKind, State
from workflow import audit, fields, ledger
from workflow.dates import PLANNING_HORIZON, within
from workflow.errors import AlreadyScheduledError, InvalidInputError, WorkflowError
from workflow.members import MemberIndex
from workflow.models import AuditEntry, Base, Interview, InterviewMember, Letter, Proposal, ScheduledInterview
from workflow.outbox import Outbox, PendingLetter
from workflow.plans import current_plan
from workflow.proposals import LOOKUP_CHUNK, get_proposal
from workflow.templates import renderer, templates_folder

MAX_ANSWER = fields.LONG


def _long_text(value: str, record: str, option: str) -> str:
    return fields.block(value, record, option, limit=MAX_ANSWER)


def record_interview(
    session: Session,
    key: str | int,
    held_on: dt.date,
    *,
    actor: str,
    platform: str = "",
    notes: str = "",
    needs: str = "",
    plans: str = "",
    solves: str = "",
    members: Sequence[str] = (),
    now: dt.datetime | None = None,
) -> Interview:
    """Record that the working group interviewed the proposer, and what the proposer answered
    (a recorded step, while the proposal is submitted or interviewed). Returns the interview.

    Raises `InvalidInputError` for a day in the future or before the proposal was submitted, and
    `WorkflowError` for a day on which an interview of the proposal is already recorded (the same
    command run twice, or a file imported twice: one interview a day)."""
    proposal = get_proposal(session, key)
    index = MemberIndex(session)
    present = list(dict.fromkeys(index.get(name) for name in members))
    with ledger.recorded(session, Action.RECORD_INTERVIEW, actor=actor, now=now, proposal=proposal) as step:
        record = f"proposal {proposal.ref}"
        if held_on > step.now.astimezone().date():
            raise InvalidInputError(
                record, "--on", f"{held_on} is in the future; record an interview once it has taken place"
            )
        if held_on < proposal.submitted_on:
            raise InvalidInputError(
                record, "--on", f"{held_on} is before the proposal was submitted ({proposal.submitted_on})"
            )
        if held_on in days_held(session, [proposal.id]).get(proposal.id, ()):
            raise WorkflowError(f"{repeated_interview(proposal, held_on)}; nothing was recorded.")
        interview = Interview(
            proposal_id=proposal.id,
            held_on=held_on,
            platform=fields.line(platform, record, "--platform"),
            notes=_long_text(notes, record, "--notes"),
            needs=_long_text(needs, record, "--needs"),
            plans=_long_text(plans, record, "--plans"),
            solves=_long_text(solves, record, "--solves"),
            recorded_by=actor,
            recorded_at=audit.utc_stamp(step.now),
            members=[InterviewMember(member=member) for member in present],
        )
        session.add(interview)
        step.reason = f"interview held on {held_on.isoformat()}" + (
            f" ({interview.platform})" if interview.platform else ""
        )
    return interview


@dataclass(frozen=True)
class HeldInterview:
    """An interview to record in bulk (a row of an import), checked already against the record:
    the proposal may take the step, the date is not in the future nor before the submission, the
    members exist, and the texts are as stored (one line; blocks within `MAX_ANSWER`)."""

    proposal: Proposal
    held_on: dt.date
    member_ids: tuple[int, ...]
    platform: str = ""
    notes: str = ""
    needs: str = ""
    plans: str = ""
    solves: str = ""


# Interviews one pass of `record_interviews` writes and chains: bounds the memory of an import.
RECORD_CHUNK = 1000


def record_interviews(
    session: Session,
    held: Sequence[HeldInterview],
    *,
    actor: str,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[int]:
    """Record many interviews (an import): the recorded step `record_interview` for each, one
    audit entry each holding the rows `record_interview` would write, but written with bulk
    statements and chained in one pass (`ledger.append_steps`). Returns the interviews' ids, in
    order; `progress(n)` is called as they are recorded.

    The caller holds the record's lock since before the checks (`ledger.lock_record`), so what was
    checked still holds; a proposal may appear once."""
    moment = now or dt.datetime.now(dt.UTC)
    stamp = audit.utc_stamp(moment)
    ledger.lock_record(session)
    session.flush()
    interviews, links = Base.metadata.tables["interviews"], Base.metadata.tables["interview_members"]
    recorded: list[int] = []
    for start in range(0, len(held), RECORD_CHUNK):
        chunk = held[start : start + RECORD_CHUNK]
        rows: list[dict[str, Any]] = [
            {
                "proposal_id": item.proposal.id, "held_on": item.held_on, "platform": item.platform,
                "notes": item.notes, "recorded_by": actor, "recorded_at": stamp, "needs": item.needs,
                "plans": item.plans, "solves": item.solves,
            }
            for item in chunk
        ]  # fmt: skip
        ledger.insert_rows(session, interviews, rows)
        present = [
            [{"interview_id": row["id"], "member_id": member} for member in dict.fromkeys(item.member_ids)]
            for row, item in zip(rows, chunk, strict=True)
        ]
        ledger.insert_rows(session, links, [link for group in present for link in group])
        steps = []
        for row, item, group in zip(rows, chunk, present, strict=True):
            changes = [
                {
                    "t": "interviews",
                    "op": "insert",
                    "key": {"id": row["id"]},
                    "row": ledger.canonical_row("interviews", row),
                }
            ]
            changes += [
                {
                    "t": "interview_members",
                    "op": "insert",
                    "key": ledger.row_key("interview_members", link),
                    "row": link,
                }
                for link in group
            ]
            reason = f"interview held on {item.held_on.isoformat()}" + (f" ({item.platform})" if item.platform else "")
            proposal = item.proposal
            steps.append(ledger.BulkStep(proposal.id, proposal.ref, proposal.state, proposal.state, reason, changes))
        ledger.append_steps(session, Action.RECORD_INTERVIEW, steps, actor=actor, now=moment)
        recorded.extend(row["id"] for row in rows)
        if progress is not None:
            progress(len(chunk))
    return recorded


@dataclass(frozen=True)
class Scheduled:
    """What scheduling did: the plan, its audit entry, the invitation letter."""

    interview: ScheduledInterview
    entry: AuditEntry
    letters: list[PendingLetter]


def days_held(session: Session, proposal_ids: Iterable[int]) -> dict[int, set[dt.date]]:
    """The days on which each of these proposals' interviews were held: proposal id → days."""
    ids = sorted(set(proposal_ids))
    held: dict[int, set[dt.date]] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        query = select(Interview.proposal_id, Interview.held_on).where(
            Interview.proposal_id.in_(ids[start : start + LOOKUP_CHUNK])
        )
        for proposal_id, held_on in session.execute(query):
            held.setdefault(proposal_id, set()).add(held_on)
    return held


def repeated_interview(proposal: Proposal, held_on: dt.date) -> str:
    """The refusal of a second interview of `proposal` on a day one is already recorded for."""
    return f"an interview of proposal {proposal.ref} held on {held_on.isoformat()} is already recorded"


def schedule_interview(
    session: Session,
    key: str,
    at: dt.datetime,
    *,
    actor: str,
    platform: str = "",
    now: dt.datetime | None = None,
    templates_dir: Path | None = None,
    workspace_folder: Path | None = None,
    dated: dt.date | None = None,
    replace: bool = False,
) -> Scheduled:
    """Plan an interview and invite the proposer by letter (a recorded step, while submitted).

    `dated` dates the invitation (a round entered after it was sent). Refused with
    `InvalidInputError` when `at` is not after the invitation's date or is further ahead than
    `dates.PLANNING_HORIZON`; with `AlreadyScheduledError` when an interview is already scheduled
    with the proposer, unless `replace`: then that one is moved, and the new invitation names the
    letter it replaces (seed: one interview per proposer).
    """
    proposal = get_proposal(session, key)
    record = f"proposal {proposal.ref}"
    platform = fields.line(platform, record, "--platform")
    with ledger.recorded(session, Action.SCHEDULE_INTERVIEW, actor=actor, now=now, proposal=proposal) as step:
        problem = schedule_time_problem(at, step.now, dated)
        if problem:
            raise InvalidInputError(record, "--at", problem)
        slot = Slot.book(session, proposal, replace=replace)
        planned = slot.planned
        planned.at, planned.platform = at, platform
        planned.scheduled_by, planned.scheduled_at = actor, audit.utc_stamp(step.now)
        session.add(planned)
        step.reason = f"interview on {at:%Y-%m-%d %H:%M}" + (f" ({platform})" if platform else "") + slot.note
        plan = current_plan(session)
        letters = renderer(templates_folder(plan, workspace_folder, templates_dir))
        outbox = Outbox(
            session, plan, proposal, letters, step.now, Action.SCHEDULE_INTERVIEW,
            extra=interview_context(at, platform), replaces=slot.replaces, dated=dated,
        )  # fmt: skip
        outbox.render(step.spec.documents)
        outbox.attach(step)
    assert step.entry is not None
    return Scheduled(planned, step.entry, outbox.pending)


def schedule_time_problem(at: dt.datetime, now: dt.datetime, dated: dt.date | None = None) -> str:
    """Why an interview cannot be scheduled at `at` (local time), or "": an invitation is for a
    time after it is sent (`dated`, else `now`), no further ahead than `dates.PLANNING_HORIZON`."""
    local_now = now.astimezone().replace(tzinfo=None)
    sent = dt.datetime.combine(dated, dt.time.max) if dated else local_now
    if at <= sent:
        passed = f"is not after the invitation's date ({dated.isoformat()})" if dated else "has already passed"
        return f"{at:%Y-%m-%d %H:%M} {passed}; an invitation is for a time still to come"
    latest = sent.date() + PLANNING_HORIZON
    return within(
        at.date(), sent.date(), latest, what="an interview",
        earliest_is="the invitation's date", latest_is=f"{latest.isoformat()}, as far ahead as interviews are planned",
    )  # fmt: skip


@dataclass(frozen=True)
class Slot:
    """The proposer's one place in the interview schedule: a new row, or the one it replaces."""

    planned: ScheduledInterview
    replaces: Replaces | None = None  # the invitation letter the new one replaces
    note: str = ""  # for the audit entry's reason

    @classmethod
    def book(cls, session: Session, proposal: Proposal, *, replace: bool) -> Slot:
        """A new slot, or with `replace` the one already scheduled and not cancelled; raises
        `AlreadyScheduledError` when one is and `replace` is not given."""
        earlier = session.scalars(
            select(ScheduledInterview)
            .where(ScheduledInterview.proposal_id == proposal.id, ScheduledInterview.cancelled_reason == "")
            .order_by(ScheduledInterview.id.desc())
        ).first()
        if earlier is None:
            return cls(ScheduledInterview(proposal_id=proposal.id))
        invitation = _invitation(session, proposal)
        was = f"{earlier.at:%Y-%m-%d %H:%M}"
        if not replace:
            raise AlreadyScheduledError(proposal.ref, was, invitation.reference if invitation else "")
        if invitation is None:
            return cls(earlier, None, f", replacing the one of {was}")
        replaces = Replaces(invitation.reference, invitation.issued_on)
        return cls(earlier, replaces, f", replacing the one of {was} (invitation {invitation.reference})")


def _invitation(session: Session, proposal: Proposal) -> Letter | None:
    """The proposer's latest invitation still standing (not void), if any."""
    return session.scalars(
        select(Letter)
        .where(
            Letter.proposal_id == proposal.id,
            Letter.kind == DocumentKind.INVITATION.value,
            Letter.void_reason == "",
        )
        .order_by(Letter.year.desc(), Letter.number.desc())  # the register's order, which the chain vouches for
    ).first()


def interview_of(session: Session, entry: AuditEntry) -> ScheduledInterview | None:
    """The scheduled interview that `entry`'s step booked, moved or called off: the row of
    scheduled_interviews its audit entry records it wrote. None where the entry records none (one
    written before schema 0005, which kept no rows)."""
    keys = ledger.keys_written(entry, ScheduledInterview.__tablename__)
    return session.get(ScheduledInterview, keys[0]["id"]) if keys else None


def rescheduled_since(session: Session, planned: ScheduledInterview, entry: AuditEntry) -> AuditEntry | None:
    """The first step after `entry` that scheduled `planned` again (moved it: `--replace`), if any."""
    later = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.proposal_id == planned.proposal_id,
            AuditEntry.event == Action.SCHEDULE_INTERVIEW.value,
            AuditEntry.seq > entry.seq,
        )
        .order_by(AuditEntry.seq)
    )
    key = {"id": planned.id}
    return next((e for e in later if key in ledger.keys_written(e, ScheduledInterview.__tablename__)), None)


def held_since(session: Session, proposal_id: int, entry: AuditEntry) -> list[dt.date]:
    """The days of the proposal's interviews recorded as held by steps after `entry` (whatever
    day they were held on), earliest first: what an invitation written by `entry` led to. Steps
    written before schema 0005 record no rows, and count for nothing here."""
    later = session.scalars(
        select(AuditEntry).where(
            AuditEntry.proposal_id == proposal_id,
            AuditEntry.event == Action.RECORD_INTERVIEW.value,
            AuditEntry.seq > entry.seq,
        )
    )
    ids = [key["id"] for step in later for key in ledger.keys_written(step, Interview.__tablename__)]
    return sorted(session.scalars(select(Interview.held_on).where(Interview.id.in_(ids)))) if ids else []


def list_schedule(session: Session) -> list[ScheduledInterview]:
    """Every scheduled interview, soonest first."""
    return list(session.scalars(select(ScheduledInterview).order_by(ScheduledInterview.at, ScheduledInterview.id)))


def list_held(session: Session) -> list[Interview]:
    """Every interview recorded as held (scheduled or not), by the day held, then as recorded."""
    links = selectinload(Interview.members).selectinload(InterviewMember.member)
    query = select(Interview).options(selectinload(Interview.proposal), links)
    return list(session.scalars(query.order_by(Interview.held_on, Interview.id)))


def interview_context(at: dt.datetime, platform: str) -> dict[str, dict[str, str]]:
    """What an invitation or a cancellation letter says of the interview."""
    return {
        "interview": {
            "date": at.date().isoformat(),
            "date_ar": gregorian_ar(at.date()),
            "date_en": gregorian_en(at.date()),
            "time": f"{at:%H:%M}",
            "platform": platform,
        }
    }


def cancel_interview(
    session: Session,
    key: str,
    *,
    reason: str,
    actor: str,
    now: dt.datetime | None = None,
    templates_dir: Path | None = None,
    workspace_folder: Path | None = None,
    dated: dt.date | None = None,
) -> Scheduled:
    """Call off the interview scheduled with a proposer (a recorded step, while submitted, or once
    the proposal was turned down or withdrawn before it); if an invitation went out, a
    cancellation letter tells the proposer, with the reason. Raises `WorkflowError` when no
    interview is scheduled, or the proposal left `submitted` and an interview is recorded as held
    on or after the day of the one scheduled, `InvalidInputError` for a missing reason."""
    proposal = get_proposal(session, key)
    why = ledger.checked_reason(reason, f"proposal {proposal.ref}")
    with ledger.recorded(session, Action.CANCEL_INTERVIEW, actor=actor, now=now, proposal=proposal, reason=why) as step:
        planned = session.scalars(
            select(ScheduledInterview)
            .where(ScheduledInterview.proposal_id == proposal.id, ScheduledInterview.cancelled_reason == "")
            .order_by(ScheduledInterview.id.desc())
        ).first()
        if planned is None:
            raise WorkflowError(f"proposal {proposal.ref} has no interview scheduled; nothing was cancelled.")
        if proposal.state is not State.SUBMITTED:  # (an interview held before this one was booked: another)
            held = session.scalar(
                select(func.max(Interview.held_on)).where(
                    Interview.proposal_id == proposal.id, Interview.held_on >= planned.at.date()
                )
            )
            if held is not None:
                raise WorkflowError(
                    f"proposal {proposal.ref} is '{proposal.state.value}' and its interview was held on {held}; "
                    "nothing was cancelled."
                )
        planned.cancelled_reason = why
        invited = _invitation(session, proposal) is not None
        plan = current_plan(session)
        letters = renderer(templates_folder(plan, workspace_folder, templates_dir) if invited else None)
        outbox = Outbox(
            session, plan, proposal, letters, step.now, Action.CANCEL_INTERVIEW, why,
            extra=interview_context(planned.at, planned.platform), dated=dated,
        )  # fmt: skip
        if invited:
            outbox.render(step.spec.documents)
            outbox.attach(step)
    assert step.entry is not None
    return Scheduled(planned, step.entry, outbox.pending)
