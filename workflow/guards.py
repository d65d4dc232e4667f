"""The guards named in `states/`, as checks on a move. Each raises `GuardError` naming its rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from states import GUARD_RULES, SHORTLIST_PLACES, Guard, State
from workflow.errors import GuardError
from workflow.evaluation import agreeing_bodies, latest_responses, standing
from workflow.plans import count_in

if TYPE_CHECKING:
    from workflow.moves import Move


def _fail(move: Move, guard: Guard, detail: str = "") -> GuardError:
    return GuardError(move.proposal.ref, move.event.value, GUARD_RULES[guard], detail)


def has_interview(move: Move) -> None:
    if not move.proposal.interviews:
        raise _fail(move, Guard.HAS_INTERVIEW, "no interview is recorded")


def has_quorum(move: Move) -> None:
    result = standing(move.session, move.proposal, move.plan)
    if not result.complete:
        detail = f"scores so far: {', '.join(result.short_of_quorum())}; eligible members: {result.eligible}"
        raise _fail(move, Guard.HAS_QUORUM, detail)


def has_agreement(move: Move) -> None:
    if not agreeing_bodies(move.session, move.proposal):
        answers = latest_responses(move.session, move.proposal).values()
        detail = f"{len(answers)} declined" if answers else "no body has answered yet"
        raise _fail(move, Guard.HAS_AGREEMENT, detail)


def has_entity(move: Move) -> None:
    if not move.proposal.entity_links:
        raise _fail(move, Guard.HAS_ENTITY, "the proposal names none; add one with 'ogp proposal link'")


def has_reason(move: Move) -> None:
    if not move.reason:
        raise _fail(move, Guard.HAS_REASON)


def within_shortlist_size(move: Move) -> None:
    taken = count_in(move.session, move.plan, SHORTLIST_PLACES)
    if taken >= move.plan.shortlist_size:
        raise _fail(move, Guard.WITHIN_SHORTLIST_SIZE, f"{taken} of {move.plan.shortlist_size} places are taken")


def within_commitment_target(move: Move) -> None:
    committed = count_in(move.session, move.plan, {State.COMMITTED})
    if committed >= move.plan.commitment_target:
        raise _fail(
            move,
            Guard.WITHIN_COMMITMENT_TARGET,
            f"{committed} of {move.plan.commitment_target} commitments are made",
        )


CHECKS: dict[Guard, Callable[[Move], None]] = {
    Guard.HAS_INTERVIEW: has_interview,
    Guard.HAS_QUORUM: has_quorum,
    Guard.HAS_ENTITY: has_entity,
    Guard.HAS_AGREEMENT: has_agreement,
    Guard.HAS_REASON: has_reason,
    Guard.WITHIN_SHORTLIST_SIZE: within_shortlist_size,
    Guard.WITHIN_COMMITMENT_TARGET: within_commitment_target,
}
