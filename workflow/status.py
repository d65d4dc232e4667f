"""What is going on: for each proposal, which moves are allowed now and what stands in the way of
the others; what each open proposal waits for and the command that would move it; the plan's
counts against its caps; what a move would do, explained instead of refused (`--dry-run`)."""

from __future__ import annotations

import datetime as dt
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from states import GUARD_RULES, OPEN, SHORTLIST_PLACES, Event, Guard, State, events_from, transition_for
from workflow import fields
from workflow.errors import InvalidInputError, WorkflowError
from workflow.evaluation import ANSWER_ORDER, ScoreSheet, eligible_members, standing
from workflow.guards import LiveFacts, failures
from workflow.models import (
    Entity,
    Interview,
    Letter,
    Member,
    Plan,
    Proposal,
    ProposalEntity,
    Response,
    ScheduledInterview,
    Score,
)
from workflow.outbox import Outbox
from workflow.plans import current_plan
from workflow.proposals import get_proposal, list_proposals
from workflow.templates import renderer, templates_folder


@dataclass(frozen=True)
class EventCheck:
    """Whether an event can be taken now, what stands in the way, and what it needs from the user."""

    event: str
    allowed: bool
    blockers: tuple[str, ...] = ()
    needs: str = ""  # e.g. "--reason"


def check_events(session: Session, proposal: Proposal, plan: Plan | None = None, reason: str = "") -> list[EventCheck]:
    """Every event of the proposal's state, its guards evaluated as the record stands now (a reason
    the user would give is not held against an event: it is named in `needs`)."""
    plan = plan or current_plan(session)
    facts = LiveFacts(session, plan, proposal, reason)
    checks = []
    for event in events_from(proposal.state):
        row = transition_for(event)
        failed = failures(row.guards, facts)
        needs = "--reason" if any(g is Guard.HAS_REASON for g, _ in failed) else ""
        blockers = tuple(f"{GUARD_RULES[g]} ({detail})" for g, detail in failed if g is not Guard.HAS_REASON)
        checks.append(EventCheck(event.value, not blockers, blockers, needs))
    return checks


@dataclass(frozen=True)
class MoveExplanation:
    """What `advance ID EVENT` would do, or what stands in the way."""

    ref: str
    event: str
    from_state: str
    to_state: str
    blockers: tuple[str, ...]
    letters: tuple[tuple[str, str], ...]  # (kind, addressee)

    @property
    def allowed(self) -> bool:
        return not self.blockers


def explain_move(
    session: Session,
    key: str,
    event: Event,
    *,
    reason: str = "",
    lead: str | None = None,
    dated: dt.date | None = None,
    templates_dir: Path | None = None,
    workspace_folder: Path | None = None,
) -> MoveExplanation:
    """Explain `event` on a proposal without taking it: the state it would reach, the letters it
    would write and to whom (a commit's to the lead body it would choose, or `lead`), or every rule
    that stands in the way. Where no rule does, its letters are rendered with the templates in
    force (`--templates`, else the workspace's) and bearing `dated`, as the move would, so that a
    template or a date that would refuse the move is named too. Changes nothing."""
    proposal = get_proposal(session, key)
    row = transition_for(event)
    if proposal.state not in row.sources:
        allowed = ", ".join(s.value for s in row.sources)
        blockers: tuple[str, ...] = (f"it is '{proposal.state.value}'; {event.value} is allowed from: {allowed}",)
        return MoveExplanation(proposal.ref, event.value, proposal.state.value, row.dest.value, blockers, ())
    from workflow.moves import choose_lead, lead_problem  # here: `ogp status` need not load the machine

    plan = current_plan(session)
    facts = LiveFacts(session, plan, proposal, reason)
    blockers = tuple(f"{GUARD_RULES[g]} ({detail})" for g, detail in failures(row.guards, facts))
    try:  # what the move refuses of its options, whatever the rules say
        fields.line(reason, f"proposal {proposal.ref}", "--reason", limit=fields.REASON)
    except InvalidInputError as exc:
        blockers += (f"--reason: {exc.problem}",)
    if lead is not None and lead_problem(event):
        blockers += (f"--lead: {lead_problem(event)}",)
    chosen = None
    if event is Event.COMMIT:

        try:
            chosen = choose_lead(session, proposal, lead)
        except WorkflowError as exc:
            blockers += (getattr(exc, "problem", None) or str(exc).removeprefix("Error: "),)
    writer = renderer(None)
    if row.documents:  # as the move itself: a templates folder that is not there refuses it
        try:
            writer = renderer(templates_folder(plan, workspace_folder, templates_dir))
        except WorkflowError as exc:
            blockers += (str(exc),)
    now = dt.datetime.now(dt.UTC)
    try:
        outbox = Outbox(
            session, plan, proposal, writer, now, event.value, reason, dated=dated, from_state=proposal.state.value
        )
    except InvalidInputError as exc:  # a --dated the letters may not bear
        blockers += (str(exc),)
        outbox = Outbox(session, plan, proposal, writer, now, event.value, reason, from_state=proposal.state.value)
    planned = [(doc, recipient) for doc in row.documents for recipient in outbox.recipients(doc, lead=chosen)]
    if not blockers and planned:
        try:  # rendering takes reference numbers but writes nothing: the register is untouched
            outbox.render_to(planned)
        except WorkflowError as exc:
            blockers += (str(exc).removesuffix(" nothing was changed.").removesuffix(";"),)
    letters = tuple((document.kind.value, recipient.addressee) for document, recipient in planned)
    return MoveExplanation(proposal.ref, event.value, proposal.state.value, row.dest.value, blockers, letters)


@dataclass(frozen=True)
class Waiting:
    """What an open proposal's next move waits for, and the command that would take it."""

    ref: str
    state: str
    next_event: str
    waits_for: tuple[str, ...]
    command: str


@dataclass
class OpenBook:
    """What `ogp status` reads once for every proposal, instead of a query or two per proposal
    (issue 13: a status of 10,000 proposals took 10 s): interviews recorded and planned, bodies
    linked, and for a referral the bodies written to and each one's latest answer."""

    interviews: Counter[int]  # proposal id → interviews recorded
    planned: dict[int, dt.datetime]  # proposal id → the interview last scheduled (not cancelled)
    links: Counter[int]  # proposal id → bodies linked
    # proposal id → entity id → (the body's code or name, its first referral letter's date), in
    # the order the referral letters were written (as `evaluation.referred_bodies`)
    written_to: dict[int, dict[int, tuple[str, dt.date]]]
    answers: dict[int, dict[int, bool]]  # proposal id → entity id → whether its latest answer agrees

    @classmethod
    def load(cls, session: Session) -> OpenBook:
        """Five queries, whatever the number of proposals."""
        counted = select(Interview.proposal_id, func.count()).group_by(Interview.proposal_id)
        interviews = Counter({proposal_id: n for proposal_id, n in session.execute(counted)})
        planned = {
            proposal_id: at
            for proposal_id, at in session.execute(
                select(ScheduledInterview.proposal_id, ScheduledInterview.at)
                .where(ScheduledInterview.cancelled_reason == "")
                .order_by(ScheduledInterview.id)
            )
        }
        linked = select(ProposalEntity.proposal_id, func.count()).group_by(ProposalEntity.proposal_id)
        links = Counter({proposal_id: n for proposal_id, n in session.execute(linked)})
        referrals = (
            select(Letter.proposal_id, Letter.entity_id, Entity.code, Entity.name, Letter.issued_on)
            .join(Entity, Entity.id == Letter.entity_id)
            .where(Letter.kind == "referral")
            .order_by(Letter.year, Letter.number)
        )
        written_to: dict[int, dict[int, tuple[str, dt.date]]] = {}
        for proposal_id, entity_id, code, name, sent in session.execute(referrals):
            if entity_id is None:  # joined with its body: never
                continue
            bodies = written_to.setdefault(proposal_id, {})
            first = bodies.setdefault(entity_id, (code or name, sent))
            if sent < first[1]:
                bodies[entity_id] = (first[0], sent)
        answers: dict[int, dict[int, bool]] = {}
        query = select(Response.proposal_id, Response.entity_id, Response.agreed).order_by(*ANSWER_ORDER)
        for proposal_id, entity_id, agreed in session.execute(query):
            answers.setdefault(proposal_id, {})[entity_id] = agreed
        return cls(interviews, planned, links, written_to, answers)


@dataclass
class _BookFacts(LiveFacts):
    """`LiveFacts` that take what an `OpenBook` read once instead of querying for one proposal."""

    book: OpenBook | None = None

    def interviews(self) -> int:
        assert self.book is not None
        return self.book.interviews[self.proposal.id]

    def entities(self) -> int:
        assert self.book is not None
        return self.book.links[self.proposal.id]

    def answers(self) -> tuple[int, int]:
        assert self.book is not None
        answers = self.book.answers.get(self.proposal.id, {})
        agreed = sum(1 for yes in answers.values() if yes)
        return agreed, len(answers) - agreed


def waiting_for(
    session: Session,
    proposal: Proposal,
    plan: Plan,
    today: dt.date,
    book: OpenBook,
    sheet: ScoreSheet | None = None,
    counted: dict[frozenset[State], int] | None = None,
) -> Waiting:
    """What the proposal's next move on the main path waits for (OGP's co-creation order: interview,
    scores, shortlist, referral, answers, commitment). `book`, `sheet` and `counted`: what the
    proposals stand on, the scores of every interviewed proposal and the counts by state, read
    once for many (`plan_status`)."""
    ref, state = proposal.ref, proposal.state
    facts = _BookFacts(session, plan, proposal, sheet=sheet, counted=counted, book=book)
    waits: list[str] = []
    if state is State.SUBMITTED:
        next_event, command = Event.INTERVIEW, f"ogp advance {ref} interview"
        if not facts.interviews():
            planned = book.planned.get(proposal.id)
            when = f" (scheduled for {planned:%Y-%m-%d %H:%M})" if planned else " (none scheduled)"
            waits.append(f"no interview recorded{when}")
            command = f"ogp interview record {ref} --on DATE"
    elif state is State.INTERVIEWED:
        next_event, command = Event.SHORTLIST, "ogp shortlist --top N --dry-run"
        waits += _missing_scores(session, proposal, plan, sheet)
    elif state is State.SHORTLISTED:
        next_event, command = Event.REFER, f"ogp advance {ref} refer"
        if not facts.entities():
            waits.append("no relevant government body is linked")
            command = f"ogp proposal link {ref} --entity CODE"
    else:  # referred
        next_event, command = Event.COMMIT, f"ogp advance {ref} commit"
        awaited = _awaited_answers(book, proposal, today) if facts.answers()[0] == 0 else []
        if awaited:  # no body has agreed yet: the next thing to do is to record an answer
            waits += [text for _, text in awaited]
            command = f"ogp response record {ref} --entity {shlex.quote(awaited[0][0])} --agreed|--declined"
        elif facts.answers()[0] == 0:
            waits.append("every body written to declined: reject it with a reason")
            next_event, command = Event.REJECT, f"ogp advance {ref} reject --reason TEXT"
        elif facts.count_in({State.COMMITTED}) >= plan.commitment_target:
            waits.append(f"the plan's {plan.commitment_target} commitments are made")
    if not waits:
        failed = failures(transition_for(next_event).guards, facts)
        waits = [f"{GUARD_RULES[g]} ({detail})" for g, detail in failed]
    return Waiting(ref, state.value, next_event.value, tuple(waits), command)


def _missing_scores(session: Session, proposal: Proposal, plan: Plan, sheet: ScoreSheet | None) -> list[str]:
    if sheet is not None and proposal.state not in sheet.states:
        sheet = None
    place = sheet.standing(proposal) if sheet is not None else standing(session, proposal, plan)
    if place.complete:
        return []
    if sheet is not None:
        eligible = sheet.eligible(proposal)
        given = {(member, criterion) for member, criterion, _ in sheet.given(proposal)}
    else:
        eligible = eligible_members(session, proposal)
        query = select(Score.member_id, Score.criterion_id).where(Score.proposal_id == proposal.id)
        given = {(member, criterion) for member, criterion in session.execute(query)}
    missing = []
    for member in eligible:
        codes = [c.code for c in plan.criteria if (member.id, c.id) not in given]
        if codes and len(codes) < len(plan.criteria):
            missing.append(f"{member.name}: {', '.join(codes)}")
        elif codes:
            missing.append(f"{member.name}: every criterion")
    short = ", ".join(place.short_of_quorum())
    return [f"quorum not reached ({short}; {place.quorum} of {place.eligible} eligible members needed)"] + [
        f"scores missing from {line}" for line in missing
    ]


def _awaited_answers(book: OpenBook, proposal: Proposal, today: dt.date) -> list[tuple[str, str]]:
    """The bodies written to that have not answered: (code or name, what is awaited from it)."""
    answered = book.answers.get(proposal.id, {})
    return [
        (label, f"an answer from {label}, written to {(today - sent).days} days ago")
        for entity_id, (label, sent) in book.written_to.get(proposal.id, {}).items()
        if entity_id not in answered
    ]


@dataclass
class Status:
    """The plan at a glance."""

    plan: Plan
    counts: Counter[str]
    shortlist_places: int
    active_members: int
    waiting: list[Waiting] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def plan_status(session: Session, today: dt.date | None = None) -> Status:
    """Counts per state against the plan's caps, what each open proposal waits for, and warnings
    (letters going out unsigned, no members or a quorum out of reach, an interview still
    scheduled, on `today` or later, with a proposal turned down or withdrawn before it was held)."""
    plan = current_plan(session)
    today = today or dt.date.today()
    counts = Counter(state.value for state in session.scalars(select(Proposal.state)))
    members = int(session.scalar(select(func.count(Member.id)).where(Member.active.is_(True))) or 0)
    places = sum(counts[s.value] for s in SHORTLIST_PLACES)
    status = Status(plan, counts, places, members)
    sheet = ScoreSheet(session, (State.INTERVIEWED,))
    counted: dict[frozenset[State], int] = {}
    book = OpenBook.load(session)
    for proposal in list_proposals(session):
        if proposal.state in OPEN:
            status.waiting.append(waiting_for(session, proposal, plan, today, book, sheet, counted))
    left = (
        select(Proposal.ref, Proposal.state, ScheduledInterview.at)
        .join(ScheduledInterview.proposal)
        .where(
            ScheduledInterview.cancelled_reason == "",
            ScheduledInterview.at >= dt.datetime.combine(today, dt.time()),
            Proposal.state.in_([State.REJECTED, State.WITHDRAWN]),
            ~select(Interview.id)
            .where(Interview.proposal_id == Proposal.id, Interview.held_on >= func.date(ScheduledInterview.at))
            .exists(),
        )
        .order_by(ScheduledInterview.at, Proposal.id)
    )
    for ref, state, at in session.execute(left):
        status.warnings.append(
            f"{ref} is {state.value} but its interview on {at:%Y-%m-%d %H:%M} is still scheduled: call it off "
            f"(the proposer is told, if invited) with 'ogp interview cancel {ref} --reason TEXT'"
        )
    if not plan.signatory_name:
        status.warnings.append("letters go out unsigned: no signatory name is set (ogp init --signatory-name NAME)")
    if not members:
        status.warnings.append("the working group has no active members: nothing can be scored (ogp member add)")
    elif plan.quorum and plan.quorum > members:
        status.warnings.append(
            f"the quorum ({plan.quorum}) is more than the {members} active members: no proposal can be shortlisted "
            "(ogp init --quorum N, or 0 for a majority)"
        )
    return status
