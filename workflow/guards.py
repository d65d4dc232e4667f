"""The guards named in `states/`, as rules over the facts of one proposal.

Each rule returns None when it holds, or what stands in the way. The facts come from the database
for a move being taken (`LiveFacts`), or from the record rebuilt out of the chain when `ogp audit
verify` replays a move (workflow/replay.py): one rule, both times.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from states import GUARD_RULES, SHORTLIST_PLACES, Guard, State
from workflow.errors import GuardError
from workflow.evaluation import Tally, latest_answers, standing
from workflow.models import Interview, Letter, Plan, Proposal, ProposalEntity, Score


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


def within_shortlist_size(facts: Facts) -> str | None:
    taken = facts.count_in(SHORTLIST_PLACES)
    return None if taken < facts.shortlist_size else f"{taken} of {facts.shortlist_size} places are taken"


def within_commitment_target(facts: Facts) -> str | None:
    made = facts.count_in({State.COMMITTED})
    if made < facts.commitment_target:
        return None
    return f"{made} of {facts.commitment_target} commitments are made"


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


@dataclass
class LiveFacts:
    """The facts of a proposal as the database holds them now."""

    session: Session
    plan: Plan
    proposal: Proposal
    reason: str = ""

    @property
    def shortlist_size(self) -> int:
        return self.plan.shortlist_size

    @property
    def commitment_target(self) -> int:
        return self.plan.commitment_target

    def interviews(self) -> int:
        query = select(func.count(Interview.id)).where(Interview.proposal_id == self.proposal.id)
        return int(self.session.scalar(query) or 0)

    def entities(self) -> int:
        query = select(func.count()).select_from(ProposalEntity).where(ProposalEntity.proposal_id == self.proposal.id)
        return int(self.session.scalar(query) or 0)

    def answers(self) -> tuple[int, int]:
        answers = latest_answers(self.session, self.proposal)
        agreed = sum(1 for yes in answers.values() if yes)
        return agreed, len(answers) - agreed

    def tally(self) -> Tally:
        return standing(self.session, self.proposal, self.plan).tally

    def count_in(self, states: Collection[State]) -> int:
        query = select(func.count(Proposal.id)).where(
            Proposal.plan_id == self.plan.id, Proposal.state.in_(list(states))
        )
        return int(self.session.scalar(query) or 0)

    def written(self) -> tuple[int, int]:
        letters = select(func.count(Letter.id)).where(Letter.proposal_id == self.proposal.id)
        scores = select(func.count(Score.id)).where(Score.proposal_id == self.proposal.id)
        return int(self.session.scalar(letters) or 0), int(self.session.scalar(scores) or 0)
