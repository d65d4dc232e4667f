"""Interviews with proposers: recording those held (with the seed's three questions), and
scheduling those to come, which invites the proposer by letter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents.dates import gregorian_ar, gregorian_en
from documents.letters import Replaces
from states import ACTION_DOCUMENTS, SCHEDULE_INTERVIEW, DocumentKind, State
from workflow import audit, fields
from workflow.dates import PLANNING_HORIZON, within
from workflow.errors import AlreadyScheduledError, InvalidInputError, WorkflowError
from workflow.members import MemberIndex
from workflow.models import AuditEntry, Interview, InterviewMember, Letter, Proposal, ScheduledInterview
from workflow.outbox import Outbox, PendingLetter
from workflow.plans import current_plan
from workflow.proposals import get_proposal
from workflow.templates import renderer, templates_folder

INTERVIEW_STATES = (State.SUBMITTED, State.INTERVIEWED)
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
    """Record that the working group interviewed the proposer, and what the proposer answered."""
    now = now or dt.datetime.now(dt.UTC)
    proposal = get_proposal(session, key)
    record = f"proposal {proposal.ref}"
    if proposal.state not in INTERVIEW_STATES:
        raise WorkflowError(
            f"Cannot record an interview for proposal {proposal.ref}: it is '{proposal.state.value}'; "
            f"interviews are recorded while it is {' or '.join(s.value for s in INTERVIEW_STATES)}."
        )
    if held_on > now.astimezone().date():
        raise InvalidInputError(
            record, "--on", f"{held_on} is in the future; record an interview once it has taken place"
        )
    if held_on < proposal.submitted_on:
        raise InvalidInputError(
            record, "--on", f"{held_on} is before the proposal was submitted ({proposal.submitted_on})"
        )
    index = MemberIndex(session)
    present = list(dict.fromkeys(index.get(name) for name in members))
    interview = Interview(
        proposal_id=proposal.id,
        held_on=held_on,
        platform=fields.line(platform, record, "--platform"),
        notes=_long_text(notes, record, "--notes"),
        needs=_long_text(needs, record, "--needs"),
        plans=_long_text(plans, record, "--plans"),
        solves=_long_text(solves, record, "--solves"),
        recorded_by=actor,
        recorded_at=audit.utc_stamp(now),
        members=[InterviewMember(member=member) for member in present],
    )
    session.add(interview)
    session.flush()
    return interview


@dataclass(frozen=True)
class Scheduled:
    """What scheduling did: the plan, its audit entry, the invitation letter."""

    interview: ScheduledInterview
    entry: AuditEntry
    letters: list[PendingLetter]


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
    replace: bool = False,
) -> Scheduled:
    """Plan an interview and invite the proposer by letter (recorded in the audit trail).

    Refused when `at` has passed or is further ahead than `dates.PLANNING_HORIZON`, and when an
    interview is already scheduled with the proposer unless `replace`: then that one is moved and
    the new invitation names the letter it replaces.
    """
    now = now or dt.datetime.now(dt.UTC)
    plan = current_plan(session, lock=True)
    proposal = get_proposal(session, key)
    if proposal.state is not State.SUBMITTED:
        raise WorkflowError(
            f"Cannot schedule an interview for proposal {proposal.ref}: it is '{proposal.state.value}'; "
            "interviews are scheduled while it is submitted."
        )
    record = f"proposal {proposal.ref}"
    problem = schedule_time_problem(at, now)
    if problem:
        raise InvalidInputError(record, "--at", problem)
    platform = fields.line(platform, record, "--platform")
    slot = Slot.book(session, proposal, replace=replace)
    planned = slot.planned
    planned.at, planned.platform, planned.scheduled_by, planned.scheduled_at = at, platform, actor, audit.utc_stamp(now)
    session.add(planned)
    documents = ACTION_DOCUMENTS[SCHEDULE_INTERVIEW]
    letters = renderer(templates_folder(plan, workspace_folder, templates_dir))
    extra = {
        "interview": {
            "date": at.date().isoformat(),
            "date_ar": gregorian_ar(at.date()),
            "date_en": gregorian_en(at.date()),
            "time": f"{at:%H:%M}",
            "platform": platform,
        }
    }
    outbox = Outbox(session, plan, proposal, letters, now, SCHEDULE_INTERVIEW, extra=extra, replaces=slot.replaces)
    outbox.render(documents)
    reason = f"interview on {at:%Y-%m-%d %H:%M}" + (f" ({platform})" if platform else "") + slot.note
    entry = audit.append(
        session, proposal=proposal, event=SCHEDULE_INTERVIEW, from_state=proposal.state.value,
        to_state=proposal.state.value, actor=actor, reason=reason, letters=outbox.hashes, at=now,
    )  # fmt: skip
    outbox.store(entry)
    session.flush()
    return Scheduled(planned, entry, outbox.pending)


def schedule_time_problem(at: dt.datetime, now: dt.datetime) -> str:
    """Why an interview cannot be scheduled at `at` (local time), or "": an invitation is for a
    time still to come, no further ahead than `dates.PLANNING_HORIZON`, on a day letters can be
    dated."""
    local_now = now.astimezone().replace(tzinfo=None)
    if at <= local_now:
        return f"{at:%Y-%m-%d %H:%M} has already passed; an invitation is for a time still to come"
    return within(
        at.date(), local_now.date(), local_now.date() + PLANNING_HORIZON, what="an interview",
        earliest_is="today", latest_is=f"{(local_now.date() + PLANNING_HORIZON).isoformat()}, as far ahead as "
        "interviews are planned",
    )  # fmt: skip


@dataclass(frozen=True)
class Slot:
    """The proposer's one place in the interview schedule: a new row, or the one it replaces."""

    planned: ScheduledInterview
    replaces: Replaces | None = None  # the invitation letter the new one replaces
    note: str = ""  # for the audit entry's reason

    @classmethod
    def book(cls, session: Session, proposal: Proposal, *, replace: bool) -> Slot:
        """A new slot, or with `replace` the one already scheduled (AlreadyScheduledError without)."""
        query = select(ScheduledInterview).where(ScheduledInterview.proposal_id == proposal.id)
        earlier = session.scalars(query.order_by(ScheduledInterview.id.desc())).first()
        if earlier is None:
            return cls(ScheduledInterview(proposal_id=proposal.id))
        invitation = session.scalars(
            select(Letter)
            .where(Letter.proposal_id == proposal.id, Letter.kind == DocumentKind.INVITATION.value)
            .order_by(Letter.id.desc())
        ).first()
        was = f"{earlier.at:%Y-%m-%d %H:%M}"
        if not replace:
            raise AlreadyScheduledError(proposal.ref, was, invitation.reference if invitation else "")
        if invitation is None:
            return cls(earlier, None, f", replacing the one of {was}")
        replaces = Replaces(invitation.reference, invitation.issued_on)
        return cls(earlier, replaces, f", replacing the one of {was} (invitation {invitation.reference})")


def list_schedule(session: Session) -> list[ScheduledInterview]:
    """Every scheduled interview, soonest first."""
    return list(session.scalars(select(ScheduledInterview).order_by(ScheduledInterview.at, ScheduledInterview.id)))
