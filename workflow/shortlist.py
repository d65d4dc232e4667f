"""Shortlisting the best-ranked interviewed proposals at once, with the cut-line shown."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from states import SHORTLIST_PLACES, Event
from workflow.errors import InvalidInputError, WorkflowError
from workflow.evaluation import Standing, ranking
from workflow.moves import MoveResult, advance
from workflow.plans import count_in, current_plan


@dataclass(frozen=True)
class ShortlistResult:
    """Who was (or would be) shortlisted, and who stands just above and below the cut-line."""

    selected: list[Standing]
    ranked: list[Standing]
    moves: list[MoveResult]
    dry_run: bool

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
    """Shortlist the `top` best-ranked interviewed proposals in one transaction, or none of them."""
    plan = current_plan(session, lock=True)
    if top < 1:
        raise InvalidInputError("shortlist", "--top", f"must be at least 1, not {top}")
    ranked = ranking(session)
    if top > len(ranked):
        raise WorkflowError(f"Cannot shortlist the top {top}: only {len(ranked)} proposals are interviewed.")
    taken = count_in(session, plan, SHORTLIST_PLACES)
    if taken + top > plan.shortlist_size:
        raise WorkflowError(
            f"Cannot shortlist the top {top}: {taken} of the plan's {plan.shortlist_size} places are taken, "
            f"so at most {plan.shortlist_size - taken} more can be shortlisted; nothing was changed."
        )
    selected = ranked[:top]
    short = [f"{s.proposal.ref} ({', '.join(s.short_of_quorum())})" for s in selected if not s.complete]
    if short:
        raise WorkflowError(
            f"Cannot shortlist the top {top}: not scored by a quorum of eligible members on every criterion: "
            f"{'; '.join(short)}; nothing was changed."
        )
    moves = []
    if not dry_run:
        for place in selected:
            reason = f"ranked {place.rank} of {len(ranked)}, weighted mean {float(place.total or 0):.2f}"
            ref = place.proposal.ref
            moves.append(
                advance(
                    session,
                    ref,
                    Event.SHORTLIST,
                    actor=actor,
                    reason=reason,
                    now=now,
                    workspace_folder=workspace_folder,
                    standing=place,
                    ranked=len(ranked),
                )
            )
    return ShortlistResult(selected, ranked, moves, dry_run)
