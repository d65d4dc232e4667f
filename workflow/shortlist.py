"""Shortlisting the best-ranked interviewed proposals at once, with the cut-line shown."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from states import SHORTLIST_PLACES, Event, State, transition_for
from workflow.errors import InvalidInputError, WorkflowError
from workflow.evaluation import Standing, ranking
from workflow.guards import KnownFacts
from workflow.ledger import BatchChain
from workflow.models import Plan
from workflow.moves import MoveResult, advance
from workflow.plans import count_in, current_plan


@dataclass(frozen=True)
class ShortlistResult:
    """Who was (or would be) shortlisted, and who stands just above and below the cut-line."""

    selected: list[Standing]
    ranked: list[Standing]
    moves: list[MoveResult]
    dry_run: bool
    # What stands in the way (a dry run explains instead of refusing); empty when it can be done.
    blockers: list[str] = field(default_factory=list)

    @property
    def above(self) -> Standing | None:
        return self.selected[-1] if self.selected else None

    @property
    def below(self) -> Standing | None:
        rest = self.ranked[len(self.selected) :]
        return rest[0] if rest else None

    @property
    def tie_rule(self) -> str:
        """What separates the two proposals at the cut-line, when their totals are equal."""
        above, below = self.above, self.below
        if above is None or below is None or above.total != below.total:
            return ""
        if above.scorers != below.scorers:
            return "more members scored it"
        for mine, theirs in zip(above.criteria, below.criteria, strict=True):
            if mine.mean != theirs.mean:
                return f"a higher mean on {mine.code}"
        if above.proposal.submitted_on != below.proposal.submitted_on:
            return "submitted earlier"
        return "registered earlier"


def shortlist_top(
    session: Session,
    top: int,
    *,
    actor: str,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    workspace_folder: Path | None = None,
) -> ShortlistResult:
    """Shortlist the `top` best-ranked interviewed proposals in one transaction, or none of them.

    With `dry_run` nothing changes and nothing is refused: the result says who would be shortlisted,
    the cut-line, and what stands in the way (`blockers`). Raises `WorkflowError` naming every
    blocker otherwise.
    """
    plan = current_plan(session, lock=True)
    if top < 1:
        raise InvalidInputError("shortlist", "--top", f"must be at least 1, not {top}")
    ranked = ranking(session)
    selected = ranked[:top]
    blockers = []
    taken = count_in(session, plan, SHORTLIST_PLACES)
    if top > len(ranked):
        if not ranked:
            blockers.append("no proposal is interviewed yet")
        elif taken:
            # Not "try --top N": after a shortlist, the interviewed ones left are those it passed over.
            blockers.append(
                f"only {len(ranked)} interviewed proposals are not shortlisted yet; {taken} already hold a place "
                f"(--top counts the proposals to shortlist now, not the shortlist's size)"
            )
        else:
            blockers.append(f"only {len(ranked)} proposals are interviewed (try --top {len(ranked)})")
    if taken + top > plan.shortlist_size:
        left = plan.shortlist_size - taken
        blockers.append(
            f"--top {top} is more than the {left} place{'' if left == 1 else 's'} left "
            f"({taken} of the plan's {plan.shortlist_size} are taken)"
        )
    short = [f"{s.proposal.ref} ({', '.join(s.short_of_quorum())})" for s in selected if not s.complete]
    if short:
        blockers.append(f"not scored by a quorum of eligible members on every criterion: {'; '.join(short)}")
    if blockers and not dry_run:
        raise WorkflowError(f"Cannot shortlist the top {top}: {'; '.join(blockers)}; nothing was changed.")
    moves: list[MoveResult] = []
    if not dry_run:
        # A refused move refuses the whole shortlist: the moves run in one savepoint, rolled back
        # before the refusal is raised, rather than one savepoint each.
        with session.begin_nested():
            moves = _shortlist(
                session, plan, selected, len(ranked), actor=actor, now=now, workspace_folder=workspace_folder
            )
    return ShortlistResult(selected, ranked, moves, dry_run, blockers)


def _shortlist(
    session: Session,
    plan: Plan,
    selected: list[Standing],
    ranked: int,
    *,
    actor: str,
    now: dt.datetime | None,
    workspace_folder: Path | None,
) -> list[MoveResult]:
    """Move each of `selected` (ranked among `ranked`) to the shortlist, one recorded step each,
    the steps chained by one `BatchChain` without a savepoint each; raises at the first refusal."""
    chain = BatchChain.start(session, savepoints=False)
    guards = transition_for(Event.SHORTLIST).guards
    known = KnownFacts.read(session, plan, {place.proposal.id for place in selected}, guards)
    moves = []
    for place in selected:
        reason = f"ranked {place.rank} of {ranked}, weighted mean {float(place.total or 0):.2f}"
        moves.append(
            advance(
                session,
                place.proposal,  # read by `ranking` under the record's lock: not read again
                Event.SHORTLIST,
                actor=actor,
                reason=reason,
                now=now,
                workspace_folder=workspace_folder,
                standing=place,
                ranked=ranked,
                current=True,
                chain=chain,
                known=known,
            )
        )
        known.moved(State.INTERVIEWED, State.SHORTLISTED)
    chain.write()
    return moves
