"""What is due on a day (`ogp due`): replies awaited from bodies, milestones past their end month,
progress reports missing for the half-year, and OGP's calendar obligations; each with the
command that resolves it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from states import MILESTONE_FINAL, Action, MilestoneState, step_for
from workflow.commitments import list_commitments
from workflow.compliance import Status, compliance
from workflow.followups import awaited_replies
from workflow.milestones import label, milestones_of, standing_on
from workflow.models import Milestone, Proposal
from workflow.periods import HalfYear, last_day
from workflow.vocabulary import CIVIL_SOCIETY, GOVERNMENT, SIDES

OVERDUE, DUE = "overdue", "due"


@dataclass(frozen=True)
class DueItem:
    """One thing due: what kind, whether it is late, by when, what it is about, and how to resolve it."""

    kind: str  # "reply", "milestone", "progress", "requirement"
    status: str  # OVERDUE or DUE
    due_on: dt.date | None
    ref: str | None  # the proposal it is about, if any
    subject: str  # the body, the milestone, the half-year, the requirement
    what: str
    resolve: str


def replies(session: Session, day: dt.date) -> list[DueItem]:
    """Every reply awaited from a body about a referred proposal: overdue after its due day."""
    found = []
    for awaited in awaited_replies(session, day):
        body = awaited.entity.code or awaited.entity.name
        referral = awaited.referral
        what = f"reply from {awaited.entity.name} to referral {referral.reference} of {referral.issued_on}"
        if awaited.followups:
            last = awaited.followups[-1]
            what += f"; followed up {len(awaited.followups)} time(s), last {last.reference} of {last.issued_on}"
        found.append(
            DueItem(
                "reply", OVERDUE if awaited.overdue(day) else DUE, awaited.due_on, awaited.proposal.ref, body, what,
                f"ogp response record {awaited.proposal.ref} --entity {body} --agreed|--declined --on DATE"
                f" (or: ogp followup {awaited.proposal.ref} --entity {body})",
            )
        )  # fmt: skip
    return found


def _milestones(session: Session, proposal: Proposal, day: dt.date) -> list[Milestone]:
    """A commitment's milestones known on `day`: added by then, or planned to start by then (a
    round entered later, like letters with --dated, is judged on its own calendar)."""
    month = f"{day:%Y-%m}"
    return [
        m for m in milestones_of(session, proposal) if m.added_at[:10] <= day.isoformat() or m.start_month <= month
    ]


def late_milestones(session: Session, day: dt.date) -> list[DueItem]:
    """Milestones not delivered (nor cancelled) whose end month in force had passed on `day`."""
    found = []
    for proposal in list_commitments(session):
        for milestone in _milestones(session, proposal, day):
            standing = standing_on(milestone, day)
            if standing.state in MILESTONE_FINAL or day <= last_day(standing.end_month):
                continue
            name = label(milestone.id)
            what = (
                f"{name} «{milestone.title}» ({milestone.responsible.code or milestone.responsible.name}) was to end "
                f"in {standing.end_month}; it is {standing.state.value}"
            )
            resolve = (
                f"ogp milestone advance {name} complete"
                if standing.state is not MilestoneState.PLANNED
                else f"ogp milestone advance {name} start"
            ) + f" (or: ogp milestone advance {name} delay --reason … --new-end YYYY-MM)"
            found.append(DueItem("milestone", OVERDUE, last_day(standing.end_month), proposal.ref, name, what, resolve))
    return found


def _open_during(milestone: Milestone, half: HalfYear) -> bool:
    """Whether a milestone was to be worked on during `half`: begun by its end, not delivered or
    cancelled before it began."""
    if milestone.start_month > half.last_month:
        return False
    before = standing_on(milestone, half.start - dt.timedelta(days=1))
    return before.state not in MILESTONE_FINAL


def missing_progress(session: Session, day: dt.date) -> list[DueItem]:
    """For the half-year just ended (overdue) and the one under way (due at its end): each
    commitment whose open milestones lack a progress entry from a side dated in that half-year.
    A milestone that progress may no longer be recorded on (cancelled, by `day`) is not asked for
    it: nothing could resolve the item."""
    current = HalfYear.of(day)
    reportable = step_for(Action.RECORD_PROGRESS).milestone_states or tuple(MilestoneState)
    found = []
    for half in (current.previous(), current):
        status = OVERDUE if half.end < day else DUE
        for proposal in list_commitments(session):
            open_ones = [
                m
                for m in _milestones(session, proposal, day)
                if _open_during(m, half) and standing_on(m, day).state in reportable
            ]
            lacking: dict[str, list[str]] = {}
            for side in SIDES:
                for milestone in open_ones:
                    reported = [p for p in milestone.progress if p.side == side and half.contains(p.reported_on)]
                    if not reported:
                        lacking.setdefault(side, []).append(label(milestone.id))
            if not lacking:
                continue
            parts = [f"no {side} progress on {', '.join(names)}" for side, names in lacking.items()]
            first = (lacking.get(GOVERNMENT) or lacking[CIVIL_SOCIETY])[0]
            found.append(
                DueItem(
                    "progress", status, half.end, proposal.ref, str(half), "; ".join(parts),
                    f"ogp progress record {first} --percent N --note … --by government|civil-society --on DATE",
                )
            )  # fmt: skip
    return found


def obligations(session: Session, day: dt.date) -> list[DueItem]:
    """OGP's calendar requirements not met (overdue) or not yet due (due by their day)."""
    found = []
    for finding in compliance(session, day):
        if finding.status is Status.MET:
            continue
        status = OVERDUE if finding.status is Status.NOT_MET else DUE
        what = f"{finding.title}: {finding.detail}"
        found.append(DueItem("requirement", status, finding.due_on, None, finding.requirement, what, finding.resolve))
    return found


def due(session: Session, day: dt.date) -> list[DueItem]:
    """Everything due on `day`: overdue first, then by the day it is due (undated last)."""
    items = [*replies(session, day), *late_milestones(session, day), *missing_progress(session, day)]
    items += obligations(session, day)
    return sorted(items, key=lambda i: (i.status != OVERDUE, i.due_on or dt.date.max, i.kind, i.ref or "", i.subject))
