"""A commitment's milestones: adding them, moving them through their life (the milestone machine),
where each stood on a given day, and the commitment's completion on the IRM's scale."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from transitions import MachineError

from states import (
    SUBSTANTIAL_FROM_PERCENT,
    Action,
    Completion,
    MilestoneEvent,
    MilestoneState,
    milestone_step_name,
    milestone_transition_for,
)
from workflow import audit, fields, guards, ledger
from workflow.commitments import check_months, committed_on, get_commitment
from workflow.dates import happened
from workflow.errors import ConcurrentChangeError, InvalidInputError, NotFoundError, TransitionNotAllowedError
from workflow.machine import trigger_milestone
from workflow.models import AuditEntry, Commitment, Milestone, MilestoneMove, Progress, Proposal
from workflow.periods import parse_month
from workflow.plans import EntityIndex, current_plan
from workflow.vocabulary import CIVIL_SOCIETY, GOVERNMENT

LABEL_PATTERN = re.compile(r"^m?-?(\d{1,9})$", re.IGNORECASE)
label = ledger.milestone_label


def get_milestone(session: Session, key: str | int) -> Milestone:
    """A milestone by its number, written 7, M7 or M-7."""
    match = LABEL_PATTERN.match(str(key).strip())
    milestone = session.get(Milestone, int(match.group(1))) if match else None
    if milestone is None:
        raise NotFoundError("milestone", repr(str(key).strip()))
    return milestone


def list_milestones(session: Session, key: str | None = None) -> list[Milestone]:
    """Every milestone (or one commitment's), by commitment then in the order they were added."""
    query = select(Milestone).order_by(Milestone.proposal_id, Milestone.position, Milestone.id)
    if key is not None:
        query = query.where(Milestone.proposal_id == get_commitment(session, key).id)
    return list(session.scalars(query))


def add_milestone(
    session: Session,
    key: str | int,
    *,
    title: str,
    output: str,
    start: str,
    end: str,
    responsible: str,
    actor: str,
    now: dt.datetime | None = None,
) -> Milestone:
    """Add a milestone to a commitment (a recorded step, on a committed proposal): a verifiable
    output between two months, within the commitment's months (or the plan's period), carried
    out by a responsible body. Raises `InvalidInputError`, `NotFoundError`, `StepNotAllowedError`."""
    proposal = get_commitment(session, key)
    record = f"commitment {proposal.ref}"
    entity = EntityIndex(session).get(responsible)
    title = fields.line(title, record, "--title")
    output = fields.block(output, record, "--output", limit=fields.REASON)
    if not title:
        raise InvalidInputError(record, "--title", "must not be empty")
    months = []
    for value, option in ((start, "--start"), (end, "--end")):
        try:
            months.append(parse_month(value))
        except ValueError as exc:
            raise InvalidInputError(record, option, str(exc)) from exc
    start, end = months
    with ledger.recorded(session, Action.ADD_MILESTONE, actor=actor, now=now, proposal=proposal) as step:
        check_months(current_plan(session), record, start, end, "--start", "--end")
        template = session.get(Commitment, proposal.id)
        if template is not None:
            if template.start_month and start < template.start_month:
                raise InvalidInputError(
                    record, "--start", f"{start} is before the commitment's start month {template.start_month}"
                )
            if template.end_month and end > template.end_month:
                raise InvalidInputError(
                    record, "--end", f"{end} is after the commitment's end month {template.end_month}"
                )
        count = session.scalar(select(func.count(Milestone.id)).where(Milestone.proposal_id == proposal.id))
        milestone = Milestone(
            proposal_id=proposal.id, position=int(count or 0) + 1, title=title, output=output,
            start_month=start, end_month=end, planned_end_month=end, responsible_id=entity.id,
            state=MilestoneState.PLANNED, added_by=actor, added_at=audit.utc_stamp(step.now),
        )  # fmt: skip
        session.add(milestone)
        session.flush()
        step.reason = f"{label(milestone.id)} «{title}» {start} → {end}, {entity.code or entity.name}"
    return milestone


@dataclass
class MilestoneMoveHooks:
    """One milestone move in progress; the milestone machine calls its hooks in order."""

    session: Session
    milestone: Milestone
    event: MilestoneEvent
    step: ledger.Step
    dated: dt.date
    new_end: str
    reason: str
    from_state: MilestoneState = field(init=False)
    row: MilestoneMove | None = None
    entry: AuditEntry | None = None

    def __post_init__(self) -> None:
        self.from_state = self.milestone.state

    def check_guards(self) -> None:
        facts = guards.LiveMilestoneFacts(self.session, self.milestone, self.reason, self.new_end)
        guards.check_milestone(
            milestone_transition_for(self.event).guards, facts, label(self.milestone.id), self.event.value
        )

    def prepare(self) -> None:
        """A milestone move writes no letter: nothing to prepare before the state changes."""

    def record(self) -> None:
        """After the state change: the new end month, the move's row, the audit entry."""
        milestone = self.milestone
        if self.event is MilestoneEvent.DELAY:
            milestone.end_month = self.new_end
        self.row = MilestoneMove(
            milestone_id=milestone.id, event=self.event.value, from_state=self.from_state.value,
            to_state=MilestoneState(milestone.state).value, dated=self.dated, reason=self.reason,
            new_end_month=self.new_end, recorded_by=self.step.actor, recorded_at=audit.utc_stamp(self.step.now),
        )  # fmt: skip
        self.session.add(self.row)
        # The entry says which milestone and when; the guards (and the replay) read the move's row.
        said = f"{label(milestone.id)} {self.event.value} on {self.dated.isoformat()}"
        if self.new_end:
            said += f", new end month {self.new_end}"
        self.step.reason = said + (f": {self.reason}" if self.reason else "")
        self.entry = self.step.finish()


@dataclass(frozen=True)
class MilestoneMoveResult:
    """What a milestone move did."""

    milestone: Milestone
    move: MilestoneMove
    entry: AuditEntry


def advance_milestone(
    session: Session,
    key: str | int,
    event: MilestoneEvent,
    *,
    actor: str,
    reason: str = "",
    dated: dt.date | None = None,
    new_end: str | None = None,
    now: dt.datetime | None = None,
) -> MilestoneMoveResult:
    """Take `event` on a milestone: all of it (state, end month, move row, audit entry) or none.

    `dated` is the day it happened (default: today); `new_end` (YYYY-MM) is a delay's new end
    month. Raises `TransitionNotAllowedError`, `GuardError`, `StepNotAllowedError`,
    `ConcurrentChangeError`, and `InvalidInputError` naming `--dated` for a day refused by
    `dates.happened` (in the future, before the OGP's launch or before the commitment was made,
    `commitments.committed_on`) or before the milestone's previous move.
    """
    milestone = get_milestone(session, key)
    proposal = milestone.proposal
    name = label(milestone.id)
    record = f"milestone {name}"
    reason = fields.line(reason, record, "--reason", limit=fields.REASON)
    step = ledger.begin(
        session, milestone_step_name(event), actor=actor, now=now, proposal=proposal, milestone=milestone
    )
    try:
        return _move(session, step, milestone, event, dated, new_end, reason, record)
    except BaseException:
        step.abandon()
        raise


def _move(
    session: Session,
    step: ledger.Step,
    milestone: Milestone,
    event: MilestoneEvent,
    dated: dt.date | None,
    new_end: str | None,
    reason: str,
    record: str,
) -> MilestoneMoveResult:
    name, from_state = label(milestone.id), milestone.state
    row = milestone_transition_for(event)
    allowed = [s.value for s in row.sources]
    if from_state not in row.sources:
        raise TransitionNotAllowedError(name, event.value, from_state.value, allowed, record="milestone")
    if new_end is not None and event is not MilestoneEvent.DELAY:
        raise InvalidInputError(record, "--new-end", f"only 'delay' moves the end month, not {event.value!r}")
    if new_end:
        try:
            new_end = parse_month(new_end)
        except ValueError as exc:
            raise InvalidInputError(record, "--new-end", str(exc)) from exc
    today = step.now.astimezone().date()
    dated = dated or today
    made = committed_on(session, milestone.proposal)
    problem = happened(
        dated, today, what="a milestone's move", since=made, since_is=f"the commitment was made ({made})"
    )
    if problem:
        raise InvalidInputError(record, "--dated", problem)
    last = session.scalar(select(func.max(MilestoneMove.dated)).where(MilestoneMove.milestone_id == milestone.id))
    if last is not None and dated < last:
        raise InvalidInputError(record, "--dated", f"{dated} is before its previous move, dated {last}")
    hooks = MilestoneMoveHooks(session, milestone, event, step, dated, new_end or "", reason)
    try:
        trigger_milestone(milestone, event.value, hooks)
    except MachineError as exc:  # the table and the machine disagree: report it as a refusal
        raise TransitionNotAllowedError(name, event.value, from_state.value, allowed, record="milestone") from exc
    except StaleDataError as exc:
        raise ConcurrentChangeError(milestone.proposal.ref) from exc
    assert hooks.entry is not None and hooks.row is not None
    return MilestoneMoveResult(milestone, hooks.row, hooks.entry)


# --- where a milestone stood, and the commitment's completion ---------------------------------------


@dataclass(frozen=True)
class MilestoneStanding:
    """A milestone as it stood on a day: its state and end month then, the latest progress each
    side had reported by then, and the delays recorded by then."""

    milestone: Milestone
    state: MilestoneState
    end_month: str
    government: Progress | None
    civil_society: Progress | None
    delays: tuple[MilestoneMove, ...]
    # Whether work on it had begun by then: it was started (a milestone delayed before it ever
    # started has not begun) or delivered.
    begun: bool = False

    @property
    def percent(self) -> int:
        """The government's figure (a delivered milestone counts 100); civil society's stands beside it."""
        if self.state is MilestoneState.COMPLETED:
            return 100
        return self.government.percent if self.government is not None else 0


def standing_on(milestone: Milestone, day: dt.date | None = None) -> MilestoneStanding:
    """Where `milestone` stood at the end of `day` (None: as the record stands)."""
    moves = [m for m in milestone.moves if day is None or m.dated <= day]
    state = MilestoneState(moves[-1].to_state) if moves else MilestoneState.PLANNED
    delays = tuple(m for m in moves if m.event == MilestoneEvent.DELAY.value)
    end = delays[-1].new_end_month if delays else milestone.planned_end_month
    reported = [p for p in milestone.progress if day is None or p.reported_on <= day]

    def latest(side: str) -> Progress | None:
        ordered = sorted((p for p in reported if p.side == side), key=lambda p: (p.reported_on, p.id))
        return ordered[-1] if ordered else None

    begun = state is MilestoneState.COMPLETED or any(m.event == MilestoneEvent.START.value for m in moves)
    return MilestoneStanding(milestone, state, end, latest(GOVERNMENT), latest(CIVIL_SOCIETY), delays, begun)


def completion(standings: Sequence[MilestoneStanding]) -> tuple[Completion, int]:
    """A commitment's completion on the IRM's scale, and the mean progress it rests on: complete
    when every milestone not cancelled is delivered; not started while none has begun or reported
    progress; substantial from `SUBSTANTIAL_FROM_PERCENT` of mean progress; limited below."""
    counted = [s for s in standings if s.state is not MilestoneState.CANCELLED]
    if not counted:
        return Completion.NOT_STARTED, 0
    # An undelivered milestone never counts as 100, whatever figure was reported for it.
    percents = [100 if s.state is MilestoneState.COMPLETED else min(s.percent, 99) for s in counted]
    mean = sum(percents) // len(percents)  # shown rounded down, so 49.5% never reads as 50%
    if all(s.state is MilestoneState.COMPLETED for s in counted):
        return Completion.COMPLETE, 100
    if not any(percents) and not any(s.begun or s.state is MilestoneState.STARTED for s in counted):
        return Completion.NOT_STARTED, 0  # planned, or delayed before they ever started
    if sum(percents) >= SUBSTANTIAL_FROM_PERCENT * len(percents):  # the exact mean against the line
        return Completion.SUBSTANTIAL, mean
    return Completion.LIMITED, mean


def commitment_completion(milestones: Sequence[Milestone], day: dt.date | None = None) -> tuple[Completion, int]:
    """`completion` of a commitment's milestones as they stood on `day`."""
    return completion([standing_on(m, day) for m in milestones])


def milestones_of(session: Session, proposal: Proposal) -> list[Milestone]:
    """One commitment's milestones, in order."""
    query = select(Milestone).where(Milestone.proposal_id == proposal.id).order_by(Milestone.position, Milestone.id)
    return list(session.scalars(query))
