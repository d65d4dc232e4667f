"""The working group's judgement: criteria, scores, conflicts of interest, ranking, quorum, and the
ministries' responses to referrals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents import one_line
from states import SCORING_STATES, State
from workflow import audit, fields
from workflow.dates import supported
from workflow.errors import InvalidInputError, NotFoundError, WorkflowError
from workflow.members import MemberIndex
from workflow.models import (
    AuditEntry,
    Conflict,
    Criterion,
    Entity,
    Letter,
    Member,
    Plan,
    Proposal,
    Response,
    Score,
    ScoreChange,
)
from workflow.names import name_key
from workflow.plans import EntityIndex, current_plan
from workflow.proposals import get_proposal

# --- criteria --------------------------------------------------------------------------------------


def list_criteria(session: Session) -> list[Criterion]:
    """The plan's criteria, in the seed's order."""
    return list(current_plan(session).criteria)


def get_criterion(session: Session, key: str) -> Criterion:
    """A criterion by code, position or name (Arabic or English)."""
    wanted = name_key(key)
    for criterion in list_criteria(session):
        names = (criterion.code, str(criterion.position), criterion.name_ar, criterion.name_en)
        if wanted in {name_key(name) for name in names}:
            return criterion
    codes = ", ".join(c.code for c in list_criteria(session))
    raise NotFoundError("criterion", f"{key!r} (known: {codes})")


def set_weight(session: Session, key: str, weight: int) -> Criterion:
    """Change a criterion's weight in the ranking."""
    criterion = get_criterion(session, key)
    if not 0 <= weight <= 100:
        raise InvalidInputError(f"criterion {criterion.code}", "weight", f"{weight} is not between 0 and 100")
    criterion.weight = weight
    if not any(c.weight for c in list_criteria(session)):
        raise InvalidInputError(
            f"criterion {criterion.code}", "weight", "at least one criterion must weigh more than 0"
        )
    session.flush()
    return criterion


# --- conflicts of interest -------------------------------------------------------------------------


def same_organisation(member: Member, proposal: Proposal) -> bool:
    """Whether the member belongs to the proposing organisation (names compared as typed)."""
    return name_key(member.organization) == name_key(proposal.organization)


def declared_conflicts(session: Session, proposal: Proposal) -> dict[int, Conflict]:
    """The conflicts declared on a proposal, by member id."""
    query = select(Conflict).where(Conflict.proposal_id == proposal.id)
    return {c.member_id: c for c in session.scalars(query)}


def conflict_reason(session: Session, member: Member, proposal: Proposal) -> str | None:
    """Why `member` may not score `proposal`, or None if they may."""
    declared = declared_conflicts(session, proposal).get(member.id)
    if declared is not None:
        return f"declared a conflict of interest ({declared.reason or 'no reason given'})"
    if same_organisation(member, proposal):
        return f"belongs to the proposing organisation ({proposal.organization})"
    return None


def eligible_members(session: Session, proposal: Proposal) -> list[Member]:
    """Active members who may score `proposal`: not of its organisation, no declared conflict."""
    declared = declared_conflicts(session, proposal)
    members = session.scalars(select(Member).where(Member.active.is_(True)).order_by(Member.id))
    return [m for m in members if m.id not in declared and not same_organisation(m, proposal)]


def declare_conflict(
    session: Session, member_key: str, proposal_key: str, *, reason: str, actor: str, now: dt.datetime | None = None
) -> Conflict:
    """Record that a member has a conflict of interest with a proposal."""
    now = now or dt.datetime.now(dt.UTC)
    member = MemberIndex(session).get(member_key)
    proposal = get_proposal(session, proposal_key)
    if member.id in declared_conflicts(session, proposal):
        raise WorkflowError(f"{member.name} has already declared a conflict with proposal {proposal.ref}.")
    conflict = Conflict(
        member_id=member.id, proposal_id=proposal.id,
        reason=fields.line(reason, f"conflict of {member.name} with {proposal.ref}", "--reason", limit=fields.REASON),
        declared_at=audit.utc_stamp(now), declared_by=actor,
    )  # fmt: skip
    session.add(conflict)
    session.flush()
    return conflict


def list_conflicts(session: Session) -> list[Conflict]:
    """Every declared conflict."""
    return list(session.scalars(select(Conflict).order_by(Conflict.id)))


# --- scores ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreInput:
    """One score as a member or a file gives it."""

    proposal: str
    member: str
    criterion: str
    value: str | int
    note: str = ""


@dataclass
class ScoreCheck:
    """What is wrong with one score, column by column; and what it scores, when that is known."""

    problems: list[tuple[str, str]]
    key: tuple[int, int, int] | None = None
    found: tuple[Proposal, Member, Criterion, int] | None = None


def score_problems(session: Session, raw: ScoreInput) -> ScoreCheck:
    """Every problem with one score (an import reports them all), by the column it is in."""
    problems: list[tuple[str, str]] = []
    proposal = member = criterion = None
    value = 0
    try:
        proposal = get_proposal(session, raw.proposal)
    except NotFoundError as exc:
        problems.append(("proposal", str(exc)))
    try:
        member = MemberIndex(session).get(raw.member)
    except NotFoundError as exc:
        problems.append(("member", str(exc)))
    try:
        criterion = get_criterion(session, raw.criterion)
    except NotFoundError as exc:
        problems.append(("criterion", str(exc)))
    try:
        value = int(str(raw.value).strip())
    except ValueError:
        problems.append(("value", f"{raw.value!r} is not a whole number"))
    else:
        if criterion and not criterion.scale_min <= value <= criterion.scale_max:
            scale = f"{criterion.scale_min}–{criterion.scale_max}"
            problems.append(("value", f"{value} is outside {criterion.code}'s scale {scale}"))
    if proposal is not None and proposal.state not in SCORING_STATES:
        allowed = " or ".join(s.value for s in SCORING_STATES)
        problems.append(
            (
                "proposal",
                f"{proposal.ref} is '{proposal.state.value}'; scores are given and revised only while it is {allowed}",
            )
        )
    note_problem = fields.too_long(one_line(raw.note), fields.REASON)
    if note_problem:
        problems.append(("note", note_problem))
    if member is not None and not member.active:
        problems.append(("member", f"{member.name} is no longer an active member"))
    if member is not None and proposal is not None:
        reason = conflict_reason(session, member, proposal)
        if reason:
            problems.append(("member", f"{member.name} cannot score {proposal.ref}: {reason}"))
    if proposal is None or member is None or criterion is None:
        return ScoreCheck(problems)
    key = (proposal.id, member.id, criterion.id)
    return ScoreCheck(problems, key, None if problems else (proposal, member, criterion, value))


def record_score(session: Session, raw: ScoreInput, *, actor: str, now: dt.datetime | None = None) -> Score:
    """Give or revise a score; every change is kept in the score history."""
    now = now or dt.datetime.now(dt.UTC)
    check = score_problems(session, raw)
    if check.found is None:
        column, problem = check.problems[0]
        record = f"score of proposal {raw.proposal.strip()}"
        if column == "member" and "cannot score" in problem:
            raise WorkflowError(f"{problem}; the score was refused.")
        raise InvalidInputError(record, column if column == "value" else f"--{column}", problem)
    proposal, member, criterion, value = check.found
    note = fields.line(raw.note, f"score of proposal {proposal.ref}", "--note", limit=fields.REASON)
    query = select(Score).where(
        Score.proposal_id == proposal.id, Score.member_id == member.id, Score.criterion_id == criterion.id
    )
    score = session.scalars(query).first()
    old = score.value if score else None
    stamp = audit.utc_stamp(now)
    if score is None:
        score = Score(proposal_id=proposal.id, member_id=member.id, criterion_id=criterion.id, value=value)
        session.add(score)
    score.value, score.note, score.updated_at, score.updated_by = value, note, stamp, actor
    session.add(
        ScoreChange(
            proposal_id=proposal.id, member_id=member.id, criterion_id=criterion.id,
            old_value=old, new_value=value, note=note, at=stamp, actor=actor,
        )
    )  # fmt: skip
    session.flush()
    return score


def scores_of(session: Session, proposal: Proposal) -> list[Score]:
    """A proposal's current scores."""
    query = select(Score).where(Score.proposal_id == proposal.id).order_by(Score.member_id, Score.criterion_id)
    return list(session.scalars(query))


def score_history(session: Session, proposal: Proposal) -> list[ScoreChange]:
    """Every score given or revised on a proposal, oldest first."""
    query = select(ScoreChange).where(ScoreChange.proposal_id == proposal.id).order_by(ScoreChange.id)
    return list(session.scalars(query))


# --- quorum and ranking ----------------------------------------------------------------------------


def quorum_size(session: Session, plan: Plan) -> int:
    """How many eligible members must score every criterion: the setting, else a majority."""
    if plan.quorum:
        return plan.quorum
    members = session.scalars(select(Member.id).where(Member.active.is_(True))).all()
    return len(members) // 2 + 1


@dataclass(frozen=True)
class CriterionResult:
    code: str
    weight: int
    mean: Fraction | None
    scorers: int


@dataclass(frozen=True)
class Standing:
    """A proposal's place in the ranking."""

    proposal: Proposal
    criteria: tuple[CriterionResult, ...]
    total: Fraction | None
    scorers: int
    eligible: int
    quorum: int
    rank: int = 0

    @property
    def complete(self) -> bool:
        """Every criterion scored by a quorum of eligible members."""
        return all(c.scorers >= self.quorum for c in self.criteria)

    def short_of_quorum(self) -> list[str]:
        return [f"{c.code} {c.scorers} of {self.quorum}" for c in self.criteria if c.scorers < self.quorum]

    def key(self) -> tuple[object, ...]:
        # The documented order: complete before incomplete, higher weighted total, more members
        # scoring, higher mean on each criterion in the plan's order, earlier submission, lower id.
        means = tuple(-(c.mean or Fraction(-1)) for c in self.criteria)
        total = -(self.total if self.total is not None else Fraction(-1))
        return (not self.complete, total, -self.scorers, *means, self.proposal.submitted_on, self.proposal.id)


def standing(session: Session, proposal: Proposal, plan: Plan | None = None) -> Standing:
    """Weighted mean scores of one proposal, counting only eligible members."""
    plan = plan or current_plan(session)
    eligible = {m.id for m in eligible_members(session, proposal)}
    counted = [s for s in scores_of(session, proposal) if s.member_id in eligible]
    results = []
    for criterion in plan.criteria:
        values = [s.value for s in counted if s.criterion_id == criterion.id]
        mean = Fraction(sum(values), len(values)) if values else None
        results.append(CriterionResult(criterion.code, criterion.weight, mean, len(values)))
    weighted = [(r.weight, r.mean) for r in results if r.mean is not None and r.weight]
    weights = sum(w for w, _ in weighted)
    total = sum((w * m for w, m in weighted), Fraction(0)) / weights if weights else None
    scorers = len({s.member_id for s in counted})
    return Standing(proposal, tuple(results), total, scorers, len(eligible), quorum_size(session, plan))


def ranking(session: Session, states: tuple[State, ...] = (State.INTERVIEWED,)) -> list[Standing]:
    """Proposals in `states`, best first, by the documented order."""
    plan = current_plan(session)
    query = select(Proposal).where(Proposal.state.in_(list(states))).order_by(Proposal.id)
    rows = sorted((standing(session, p, plan) for p in session.scalars(query)), key=Standing.key)
    return [
        Standing(r.proposal, r.criteria, r.total, r.scorers, r.eligible, r.quorum, rank)
        for rank, r in enumerate(rows, start=1)
    ]


# --- responses to referrals ------------------------------------------------------------------------


def referred_bodies(session: Session, proposal: Proposal) -> list[Entity]:
    """The bodies a referral letter went to."""
    query = (
        select(Entity)
        .join(Letter, Letter.entity_id == Entity.id)
        .where(Letter.proposal_id == proposal.id, Letter.kind == "referral")
        .order_by(Letter.id)
    )
    return list(dict.fromkeys(session.scalars(query)))


def latest_responses(session: Session, proposal: Proposal) -> dict[int, Response]:
    """Each body's latest answer to the referral, by entity id."""
    query = select(Response).where(Response.proposal_id == proposal.id).order_by(Response.id)
    return {r.entity_id: r for r in session.scalars(query)}


def agreeing_bodies(session: Session, proposal: Proposal) -> list[Entity]:
    """Bodies whose latest answer is agreement, in the order they answered."""
    answers = sorted(latest_responses(session, proposal).values(), key=lambda r: r.id)
    return [r.entity for r in answers if r.agreed]


def record_response(
    session: Session,
    key: str,
    entity_key: str,
    *,
    agreed: bool,
    responded_on: dt.date | None,
    note: str,
    actor: str,
    now: dt.datetime | None = None,
) -> tuple[Response, AuditEntry]:
    """Record a body's answer to a referral letter; it enters the audit trail."""
    now = now or dt.datetime.now(dt.UTC)
    current_plan(session, lock=True)
    proposal = get_proposal(session, key)
    entity = EntityIndex(session).get(entity_key)
    record = f"proposal {proposal.ref}"
    if proposal.state is not State.REFERRED:
        raise WorkflowError(
            f"Cannot record a response for proposal {proposal.ref}: it is '{proposal.state.value}'; "
            "responses are recorded while it is referred."
        )
    written = referred_bodies(session, proposal)
    if entity not in written:
        names = ", ".join(e.code or e.name for e in written)
        raise InvalidInputError(record, "--entity", f"no referral letter went to {entity.name} (it went to: {names})")
    responded_on = responded_on or now.astimezone().date()
    if responded_on > now.astimezone().date():
        raise InvalidInputError(record, "--on", f"{responded_on} is in the future")
    problem = response_date_problem(proposal, responded_on)
    if problem:
        raise InvalidInputError(record, "--on", problem)
    response = Response(
        proposal_id=proposal.id, entity_id=entity.id, agreed=agreed, responded_on=responded_on,
        note=fields.line(note, record, "--note", limit=fields.REASON), recorded_by=actor,
        recorded_at=audit.utc_stamp(now),
    )  # fmt: skip
    session.add(response)
    session.flush()
    answer = "agreed" if agreed else "declined"
    reason = f"{entity.code or entity.name} {answer} on {responded_on.isoformat()}" + (
        f": {response.note}" if response.note else ""
    )
    entry = audit.append(
        session, proposal=proposal, event="response", from_state=proposal.state.value,
        to_state=proposal.state.value, actor=actor, reason=reason, letters=[], at=now,
    )  # fmt: skip
    return response, entry


def response_date_problem(proposal: Proposal, responded_on: dt.date) -> str:
    """Why a body cannot have answered on `responded_on`, or "": not before the proposal it
    answers was submitted, and only on a day letters can be dated."""
    if responded_on < proposal.submitted_on:
        return f"{responded_on} is before the proposal was submitted ({proposal.submitted_on})"
    try:
        supported(responded_on)
    except ValueError as exc:
        return str(exc)
    return ""


def list_responses(session: Session, key: str | None = None) -> list[Response]:
    """Every recorded response (or one proposal's), in the order recorded."""
    query = select(Response).order_by(Response.id)
    if key is not None:
        query = query.where(Response.proposal_id == get_proposal(session, key).id)
    return list(session.scalars(query))
