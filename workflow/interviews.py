"""Interviews with proposers: recording those held (with the seed's three questions), and
scheduling those to come, which invites the proposer by letter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents import one_line, xml_safe
from documents.dates import gregorian_ar, gregorian_en
from states import Action, DocumentKind
from workflow import audit, ledger
from workflow.errors import InvalidInputError, WorkflowError
from workflow.members import MemberIndex
from workflow.models import AuditEntry, Interview, InterviewMember, Letter, ScheduledInterview
from workflow.outbox import Outbox, PendingLetter
from workflow.plans import current_plan
from workflow.proposals import get_proposal
from workflow.templates import renderer, templates_folder

MAX_ANSWER = 20_000


def _long_text(value: str, record: str, option: str) -> str:
    cleaned = xml_safe(value).strip()
    if len(cleaned) > MAX_ANSWER:
        raise InvalidInputError(record, option, f"is {len(cleaned)} characters long; at most {MAX_ANSWER} are allowed")
    return cleaned


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
    (a recorded step, while the proposal is submitted or interviewed)."""
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
        interview = Interview(
            proposal_id=proposal.id,
            held_on=held_on,
            platform=one_line(platform)[:500],
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
    dated: dt.date | None = None,
) -> Scheduled:
    """Plan an interview and invite the proposer by letter (a recorded step, while submitted);
    `dated` dates the invitation (entered after it was sent)."""
    proposal = get_proposal(session, key)
    platform = one_line(platform)
    reason = f"interview on {at:%Y-%m-%d %H:%M}" + (f" ({platform})" if platform else "")
    with ledger.recorded(
        session, Action.SCHEDULE_INTERVIEW, actor=actor, now=now, proposal=proposal, reason=reason
    ) as step:
        plan = current_plan(session)
        planned = ScheduledInterview(
            proposal_id=proposal.id,
            at=at,
            platform=platform,
            scheduled_by=actor,
            scheduled_at=audit.utc_stamp(step.now),
        )
        session.add(planned)
        letters = renderer(templates_folder(plan, workspace_folder, templates_dir))
        extra = interview_context(at, platform)
        outbox = Outbox(
            session, plan, proposal, letters, step.now, Action.SCHEDULE_INTERVIEW, extra=extra, dated=dated
        )
        outbox.render(step.spec.documents)
        outbox.attach(step)
    assert step.entry is not None
    return Scheduled(planned, step.entry, outbox.pending)


def list_schedule(session: Session) -> list[ScheduledInterview]:
    """Every scheduled interview, soonest first."""
    return list(session.scalars(select(ScheduledInterview).order_by(ScheduledInterview.at, ScheduledInterview.id)))


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
    """Call off the interview scheduled with a proposer (a recorded step, while submitted); if an
    invitation went out, a cancellation letter tells the proposer, with the reason. Raises
    `WorkflowError` when no interview is scheduled, `InvalidInputError` for a missing reason."""
    proposal = get_proposal(session, key)
    why = ledger.checked_reason(reason, f"proposal {proposal.ref}")
    with ledger.recorded(
        session, Action.CANCEL_INTERVIEW, actor=actor, now=now, proposal=proposal, reason=why
    ) as step:
        planned = session.scalars(
            select(ScheduledInterview)
            .where(ScheduledInterview.proposal_id == proposal.id, ScheduledInterview.cancelled_reason == "")
            .order_by(ScheduledInterview.id.desc())
        ).first()
        if planned is None:
            raise WorkflowError(f"proposal {proposal.ref} has no interview scheduled; nothing was cancelled.")
        planned.cancelled_reason = why
        invited = session.scalar(
            select(Letter.id).where(
                Letter.proposal_id == proposal.id,
                Letter.kind == DocumentKind.INVITATION.value,
                Letter.void_reason == "",
            )
        )
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
