"""Moving a proposal: guards, letters, state, audit entry and stored letters in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from transitions import MachineError

from states import Event, State, transition_for
from workflow import audit, fields
from workflow.errors import ConcurrentChangeError, InvalidInputError, TransitionNotAllowedError
from workflow.evaluation import agreeing_bodies
from workflow.guards import CHECKS
from workflow.machine import trigger
from workflow.models import AuditEntry, Entity, Plan, Proposal
from workflow.outbox import Outbox, PendingLetter
from workflow.plans import EntityIndex, current_plan
from workflow.proposals import get_proposal
from workflow.templates import renderer, templates_folder

__all__ = ["Move", "MoveResult", "PendingLetter", "advance"]


@dataclass
class Move:
    """One transition in progress; the machine calls its hooks in order."""

    session: Session
    plan: Plan
    proposal: Proposal
    event: Event
    actor: str
    reason: str
    now: dt.datetime
    outbox: Outbox
    from_state: State = field(init=False)
    entry: AuditEntry | None = None

    def __post_init__(self) -> None:
        self.from_state = self.proposal.state

    def check_guards(self) -> None:
        for guard in transition_for(self.event).guards:
            CHECKS[guard](self)

    def prepare(self) -> None:
        """Render every letter before anything changes: a broken template stops the move here."""
        self.outbox.render(transition_for(self.event).documents)

    def record(self) -> None:
        """After the state change: the audit entry, then the letters that point at it."""
        self.entry = audit.append(
            self.session,
            proposal=self.proposal,
            event=self.event.value,
            from_state=self.from_state.value,
            to_state=self.proposal.state.value,
            actor=self.actor,
            reason=self.reason,
            letters=self.outbox.hashes,
            at=self.now,
        )
        self.outbox.store(self.entry)


def _choose_lead(session: Session, proposal: Proposal, lead: str | None) -> Entity | None:
    """The body that leads the commitment: one that agreed; the one named, else the first to agree."""
    agreed = agreeing_bodies(session, proposal)
    if lead is None:
        return agreed[0] if agreed else None
    entity = EntityIndex(session).get(lead)
    if entity not in agreed:
        names = ", ".join(e.code or e.name for e in agreed) or "none yet"
        raise InvalidInputError(
            f"proposal {proposal.ref}", "--lead", f"{lead!r} has not agreed to lead it (bodies that agreed: {names})"
        )
    return entity


@dataclass(frozen=True)
class MoveResult:
    """What a move did."""

    proposal: Proposal
    entry: AuditEntry
    letters: list[PendingLetter]


def advance(
    session: Session,
    key: str | int,
    event: Event,
    *,
    actor: str,
    reason: str = "",
    now: dt.datetime | None = None,
    templates_dir: Path | None = None,
    workspace_folder: Path | None = None,
    lead: str | None = None,
) -> MoveResult:
    """Take `event` on a proposal: all of it (state, audit entry, letters) or none of it."""
    now = now or dt.datetime.now(dt.UTC)
    # Holding the plan row serialises moves: caps are counted, reference numbers and audit
    # sequence numbers allocated, with no other move in between (SQLite: BEGIN IMMEDIATE does it).
    plan = current_plan(session, lock=True)
    proposal = get_proposal(session, key)
    session.refresh(proposal)
    # Kept apart: after a failed flush the row's attributes can no longer be read.
    ref, from_state = proposal.ref, proposal.state
    row = transition_for(event)
    allowed = [s.value for s in row.sources]
    if from_state not in row.sources:
        raise TransitionNotAllowedError(ref, event.value, from_state.value, allowed)
    if lead is not None and event is not Event.COMMIT:
        raise InvalidInputError(f"proposal {ref}", "--lead", f"only 'commit' names a lead body, not {event.value!r}")
    if event is Event.COMMIT:
        proposal.lead_entity = _choose_lead(session, proposal, lead)
    # Only a move that writes letters needs the templates folder to exist.
    letters = renderer(templates_folder(plan, workspace_folder, templates_dir) if row.documents else None)
    reason = fields.line(reason, f"proposal {ref}", "--reason", limit=fields.REASON)
    outbox = Outbox(session, plan, proposal, letters, now, event.value, reason)
    move = Move(session, plan, proposal, event, actor, reason, now, outbox)
    try:
        trigger(proposal, event.value, move)
        session.flush()
    except MachineError as exc:  # the table and the machine disagree: report it as a refusal
        raise TransitionNotAllowedError(ref, event.value, from_state.value, allowed) from exc
    except StaleDataError as exc:
        raise ConcurrentChangeError(ref) from exc
    assert move.entry is not None
    return MoveResult(proposal, move.entry, outbox.pending)
