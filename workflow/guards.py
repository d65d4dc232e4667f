"""The guards named in `states/`, as rules over the facts of one proposal or one milestone.

Each rule returns None when it holds, or what stands in the way. The facts come from the database
for a move being taken (`LiveFacts`, `LiveMilestoneFacts`), or from the record rebuilt out of the
chain when `ogp audit verify` replays a move (workflow/replay.py): one rule, both times.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from states import GUARD_RULES, MILESTONE_GUARD_RULES, SHORTLIST_PLACES, Guard, MilestoneGuard, State
from workflow.errors import GuardError
from workflow.evaluation import ANSWER_ORDER, ScoreSheet, Tally, latest_answers, standing
from workflow.models import (
    Evidence,
    Interview,
    Letter,
    Milestone,
    Plan,
    Progress,
    Proposal,
    ProposalEntity,
    Response,
    Score,
)
from workflow.plans import EntityIndex, count_in

if TYPE_CHECKING:
    from workflow.outbox import SentReferral


class Facts(Protocol):
    """What the guards look at, about one proposal and its plan."""

    @property
    def reason(self) -> str: ...
    @property
    def shortlist_size(self) -> int: ...
    @property
    def commitment_target(self) -> int: ...

    def interviews(self) -> int: ...
    def entities(self) -> int: ...
    def answers(self) -> tuple[int, int]: ...  # bodies whose latest answer agrees, declines
    def tally(self) -> Tally: ...
    def count_in(self, states: Collection[State]) -> int: ...
    # Of `count_in(states)`, those the moves before this one in the same batch made (0 alone).
    def in_batch(self, states: Collection[State]) -> int: ...
    def written(self) -> tuple[int, int]: ...  # letters about the proposal, scores given it


def has_interview(facts: Facts) -> str | None:
    return None if facts.interviews() else "no interview is recorded"


def has_quorum(facts: Facts) -> str | None:
    result = facts.tally()
    if result.complete:
        return None
    return f"scores so far: {', '.join(result.short_of_quorum())}; eligible members: {result.eligible}"


def has_entity(facts: Facts) -> str | None:
    return None if facts.entities() else "the proposal names none; add one with 'ogp proposal link'"


def has_agreement(facts: Facts) -> str | None:
    agreed, declined = facts.answers()
    if agreed:
        return None
    return f"{declined} declined" if declined else "no body has answered yet"


def has_reason(facts: Facts) -> str | None:
    return None if facts.reason else "no reason was given"


# The states each counting guard counts the plan's proposals in.
_COUNTED: dict[Guard, frozenset[State]] = {
    Guard.WITHIN_SHORTLIST_SIZE: frozenset(SHORTLIST_PLACES),
    Guard.WITHIN_COMMITMENT_TARGET: frozenset({State.COMMITTED}),
}


def within_shortlist_size(facts: Facts) -> str | None:
    states = _COUNTED[Guard.WITHIN_SHORTLIST_SIZE]
    taken = facts.count_in(states)
    if taken < facts.shortlist_size:
        return None
    detail = f"{taken} of {facts.shortlist_size} places are taken" + _by_batch(facts, states)
    if facts.in_batch(states) > 0:  # a batch's order is its own, not the working group's ranking
        detail += "; a batch takes proposals in the order named, not by ranking: 'ogp shortlist --top N' does"
    return detail


def within_commitment_target(facts: Facts) -> str | None:
    states = _COUNTED[Guard.WITHIN_COMMITMENT_TARGET]
    made = facts.count_in(states)
    if made < facts.commitment_target:
        return None
    return f"{made} of {facts.commitment_target} commitments are made" + _by_batch(facts, states)


def _by_batch(facts: Facts, states: frozenset[State]) -> str:
    """How many of a count the batch's earlier moves make: a refused batch moves nothing, so
    without it "5 of 5 are made" would name places that no proposal holds once it is refused."""
    earlier = facts.in_batch(states)
    return f", {earlier} of them by the moves before it in this batch" if earlier > 0 else ""


def nothing_written(facts: Facts) -> str | None:
    letters, scores = facts.written()
    if not letters and not scores:
        return None
    return f"{letters} letters and {scores} scores refer to it"


RULES: dict[Guard, Callable[[Facts], str | None]] = {
    Guard.HAS_INTERVIEW: has_interview,
    Guard.HAS_QUORUM: has_quorum,
    Guard.HAS_ENTITY: has_entity,
    Guard.HAS_AGREEMENT: has_agreement,
    Guard.HAS_REASON: has_reason,
    Guard.WITHIN_SHORTLIST_SIZE: within_shortlist_size,
    Guard.WITHIN_COMMITMENT_TARGET: within_commitment_target,
    Guard.NOTHING_WRITTEN: nothing_written,
}


def failures(guards: Sequence[Guard], facts: Facts) -> list[tuple[Guard, str]]:
    """Every guard of `guards` that does not hold, with what stands in the way."""
    found = []
    for guard in guards:
        detail = RULES[guard](facts)
        if detail is not None:
            found.append((guard, detail))
    return found


def check(guards: Sequence[Guard], facts: Facts, ref: str, event: str) -> None:
    """Raise `GuardError` for the first guard that does not hold (its rule and what stands in the way)."""
    for guard, detail in failures(guards, facts)[:1]:
        raise GuardError(ref, event, GUARD_RULES[guard], "" if guard is Guard.HAS_REASON else detail)


# Proposal ids a single `IN (…)` names at most (as `proposals.LOOKUP_CHUNK`).
_CHUNK = 500


@dataclass
class KnownFacts:
    """Facts of many proposals read at once for a batch (a query per kind and 500 proposals, not one
    per proposal and guard), under the record's lock. Per proposal, only kinds no move changes, so
    they hold for the whole batch: each is proposal id → value, or None where the batch's guards
    do not look at that kind. The plan's counts of proposals by state, which its moves do change,
    the batch keeps true by telling each move (`moved`)."""

    interviews: Mapping[int, int] | None = None  # interviews recorded
    entities: Mapping[int, int] | None = None  # bodies named
    answers: Mapping[int, tuple[int, int]] | None = None  # bodies whose latest answer agrees, declines
    # The bodies whose latest answer agrees, by entity id, in the order they answered (as
    # `evaluation.agreeing_bodies`): whom a commitment may name as its lead.
    agreeing: Mapping[int, tuple[int, ...]] | None = None
    counts: dict[frozenset[State], int] | None = None  # the plan's proposals in each set of states counted
    by_batch: Counter[frozenset[State]] = field(default_factory=Counter)  # of `counts`, what the batch moved in
    # Not for a guard: the referral letters each proposal was sent, where the batch's letters close
    # them (`outbox.sent_referrals`; a move writes no referral letter while it closes them).
    referrals: Mapping[int, tuple[SentReferral, ...]] | None = None
    # Nor this: the government bodies by code and name, where the batch's moves name a lead body
    # (`moves.choose_lead`), indexed once rather than once a move.
    bodies: EntityIndex | None = None

    @classmethod
    def read(
        cls, session: Session, plan: Plan, proposal_ids: Collection[int], guards: Collection[Guard]
    ) -> KnownFacts:
        """What `guards` look at, for each of `proposal_ids` (a proposal with none of a kind is 0)."""
        ids = sorted(proposal_ids)
        chunks = [ids[start : start + _CHUNK] for start in range(0, len(ids), _CHUNK)]

        def counted(table: Any) -> dict[int, int]:
            found = dict.fromkeys(ids, 0)
            for chunk in chunks:
                query = select(table.proposal_id, func.count()).where(table.proposal_id.in_(chunk))
                found.update((proposal_id, n) for proposal_id, n in session.execute(query.group_by(table.proposal_id)))
            return found

        answers: dict[int, tuple[int, int]] | None = None
        agreeing: dict[int, tuple[int, ...]] | None = None
        if Guard.HAS_AGREEMENT in guards:
            latest: dict[int, dict[int, tuple[Any, int, bool]]] = {proposal_id: {} for proposal_id in ids}
            for chunk in chunks:
                query = select(Response.proposal_id, Response.entity_id, *ANSWER_ORDER, Response.agreed)
                query = query.where(Response.proposal_id.in_(chunk)).order_by(*ANSWER_ORDER)
                for proposal_id, entity_id, on, number, agreed in session.execute(query):
                    latest[proposal_id][entity_id] = (on, number, agreed)  # the last in ANSWER_ORDER stands
            answers, agreeing = {}, {}
            for proposal_id, by_entity in latest.items():
                agreeing_count = sum(1 for _, _, yes in by_entity.values() if yes)
                answers[proposal_id] = (agreeing_count, len(by_entity) - agreeing_count)
                ordered = sorted(by_entity.items(), key=lambda item: item[1][:2])
                agreeing[proposal_id] = tuple(entity_id for entity_id, (_, _, yes) in ordered if yes)
        counts = None
        counting = [states for guard, states in _COUNTED.items() if guard in guards]
        if counting:
            counts = {states: count_in(session, plan, states) for states in counting}
        return cls(
            interviews=counted(Interview) if Guard.HAS_INTERVIEW in guards else None,
            entities=counted(ProposalEntity) if Guard.HAS_ENTITY in guards else None,
            answers=answers,
            agreeing=agreeing,
            counts=counts,
        )

    def moved(self, before: State, after: State) -> None:
        """A move of the batch took a proposal from `before` to `after`: keep `counts` true."""
        for states in self.counts or {}:
            assert self.counts is not None
            change = (after in states) - (before in states)
            self.counts[states] += change
            self.by_batch[states] += change



@dataclass
class LiveFacts:
    """The facts of a proposal as the database holds them now."""

    session: Session
    plan: Plan
    proposal: Proposal
    reason: str = ""
    # Read once for many proposals (`ogp status`): the scores sheet, and counts by state set.
    sheet: ScoreSheet | None = None
    counted: dict[frozenset[State], int] | None = None
    # The proposal's tally, when the caller computed it in this transaction under the record's
    # lock (a move out of `interviewed` ranks the proposal to keep its standing: `moves._decided`).
    known_tally: Tally | None = None
    known: KnownFacts | None = None  # read once for a batch, under the record's lock

    @property
    def shortlist_size(self) -> int:
        return self.plan.shortlist_size

    @property
    def commitment_target(self) -> int:
        return self.plan.commitment_target

    def interviews(self) -> int:
        if self.known is not None and self.known.interviews is not None and self.proposal.id in self.known.interviews:
            return self.known.interviews[self.proposal.id]
        query = select(func.count(Interview.id)).where(Interview.proposal_id == self.proposal.id)
        return int(self.session.scalar(query) or 0)

    def entities(self) -> int:
        if self.known is not None and self.known.entities is not None and self.proposal.id in self.known.entities:
            return self.known.entities[self.proposal.id]
        query = select(func.count()).select_from(ProposalEntity).where(ProposalEntity.proposal_id == self.proposal.id)
        return int(self.session.scalar(query) or 0)

    def answers(self) -> tuple[int, int]:
        if self.known is not None and self.known.answers is not None and self.proposal.id in self.known.answers:
            return self.known.answers[self.proposal.id]
        answers = latest_answers(self.session, self.proposal)
        agreed = sum(1 for yes in answers.values() if yes)
        return agreed, len(answers) - agreed

    def tally(self) -> Tally:
        if self.known_tally is not None:
            return self.known_tally
        if self.sheet is not None and self.proposal.state in self.sheet.states:
            return self.sheet.standing(self.proposal).tally
        return standing(self.session, self.proposal, self.plan).tally

    def in_batch(self, states: Collection[State]) -> int:
        return self.known.by_batch[frozenset(states)] if self.known is not None else 0

    def count_in(self, states: Collection[State]) -> int:
        key = frozenset(states)
        if self.known is not None and self.known.counts is not None and key in self.known.counts:
            return self.known.counts[key]
        if self.counted is not None and key in self.counted:
            return self.counted[key]
        found = count_in(self.session, self.plan, key)
        if self.counted is not None:
            self.counted[key] = found
        return found

    def written(self) -> tuple[int, int]:
        letters = select(func.count(Letter.id)).where(Letter.proposal_id == self.proposal.id)
        scores = select(func.count(Score.id)).where(Score.proposal_id == self.proposal.id)
        return int(self.session.scalar(letters) or 0), int(self.session.scalar(scores) or 0)


# --- a milestone's guards ---------------------------------------------------------------------------


class MilestoneFacts(Protocol):
    """What the milestone guards look at: the move asked for, and the milestone as it stands."""

    @property
    def reason(self) -> str: ...
    @property
    def new_end(self) -> str: ...  # the end month a delay asks for ("" if none was given)
    @property
    def end_month(self) -> str: ...  # the end month in force

    def evidenced_progress(self) -> int: ...  # progress entries on the milestone with evidence


def milestone_has_reason(facts: MilestoneFacts) -> str | None:
    return None if facts.reason else "no reason was given"


def later_end(facts: MilestoneFacts) -> str | None:
    if not facts.new_end:
        return "no new end month was given"
    if facts.new_end <= facts.end_month:  # YYYY-MM compares as text in calendar order
        return f"{facts.new_end} is not after the end month in force, {facts.end_month}"
    return None


def has_evidence(facts: MilestoneFacts) -> str | None:
    return None if facts.evidenced_progress() else "no progress entry on it has evidence"


MILESTONE_RULES: dict[MilestoneGuard, Callable[[MilestoneFacts], str | None]] = {
    MilestoneGuard.HAS_REASON: milestone_has_reason,
    MilestoneGuard.LATER_END: later_end,
    MilestoneGuard.HAS_EVIDENCE: has_evidence,
}


def milestone_failures(guards: Sequence[MilestoneGuard], facts: MilestoneFacts) -> list[tuple[MilestoneGuard, str]]:
    """Every milestone guard of `guards` that does not hold, with what stands in the way."""
    found = []
    for guard in guards:
        detail = MILESTONE_RULES[guard](facts)
        if detail is not None:
            found.append((guard, detail))
    return found


def check_milestone(guards: Sequence[MilestoneGuard], facts: MilestoneFacts, label: str, event: str) -> None:
    """Raise `GuardError` for the first milestone guard that does not hold."""
    for guard, detail in milestone_failures(guards, facts)[:1]:
        shown = "" if guard is MilestoneGuard.HAS_REASON else detail
        raise GuardError(label, event, MILESTONE_GUARD_RULES[guard], shown, record="milestone")


@dataclass
class LiveMilestoneFacts:
    """The facts of a milestone as the database holds them now."""

    session: Session
    milestone: Milestone
    reason: str = ""
    new_end: str = ""

    @property
    def end_month(self) -> str:
        return self.milestone.end_month

    def evidenced_progress(self) -> int:
        query = (
            select(func.count(func.distinct(Progress.id)))
            .join(Evidence, Evidence.progress_id == Progress.id)
            .where(Progress.milestone_id == self.milestone.id)
        )
        return int(self.session.scalar(query) or 0)
