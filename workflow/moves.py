"""Moving a proposal: a recorded step whose guards, letters, state change, audit entry and stored
letters are one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from transitions import MachineError

from states import Event, State, transition_for
from workflow import fields, guards, ledger
from workflow.errors import ConcurrentChangeError, InvalidInputError, TransitionNotAllowedError
from workflow.evaluation import Standing, agreeing_bodies, ranking, record_decided_standing
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
    step: ledger.Step
    outbox: Outbox
    # The standing the working group decides on, when the move takes the proposal out of evaluation.
    decided: tuple[Standing, int] | None = None
    lead: Entity | None = None
    known: guards.KnownFacts | None = None
    from_state: State = field(init=False)
    entry: AuditEntry | None = None

    def __post_init__(self) -> None:
        self.from_state = self.proposal.state

    def check_guards(self) -> None:
        # The standing the move keeps was ranked in this transaction, under the record's lock: its
        # tally is the proposal's now, so the quorum guard need not read the scores again.
        known = self.decided[0].tally if self.decided is not None else None
        facts = guards.LiveFacts(
            self.session, self.plan, self.proposal, self.step.reason, known_tally=known, known=self.known
        )
        guards.check(transition_for(self.event).guards, facts, self.proposal.ref, self.event.value)

    def prepare(self) -> None:
        """Render every letter before anything changes: a broken template stops the move here."""
        if self.event is Event.COMMIT:
            self.proposal.lead_entity = self.lead  # the letters go to it
        # Nothing is written while the letters are rendered: a commit's lead is written with its
        # state, one change of its entry, whether the rendering queries the database (a move
        # alone reads the register) or not (a batch holds what it would read).
        with self.session.no_autoflush:
            self.outbox.render(transition_for(self.event).documents)

    def record(self) -> None:
        """After the state change: the decided standing, the audit entry, then the letters."""
        if self.decided is not None:
            place, ranked = self.decided
            record_decided_standing(self.session, place, ranked, self.event.value)
        self.outbox.attach(self.step)
        self.entry = self.step.finish()


def choose_lead(
    session: Session, proposal: Proposal, lead: str | None, known: guards.KnownFacts | None = None
) -> Entity | None:
    """The body that leads the commitment: one that agreed; the one named (`lead`, a code or name),
    else the first to agree; None when none has agreed. `known`: the answers a batch read for all
    its proposals. Raises `InvalidInputError` when the body named is unknown or has not agreed."""
    if known is not None and known.agreeing is not None and proposal.id in known.agreeing:
        agreed = [session.get_one(Entity, entity_id) for entity_id in known.agreeing[proposal.id]]
    else:
        agreed = agreeing_bodies(session, proposal)
    if lead is None:
        return agreed[0] if agreed else None
    bodies = known.bodies if known is not None and known.bodies is not None else EntityIndex(session)
    entity = bodies.find(lead)
    if entity is None:
        raise InvalidInputError(f"proposal {proposal.ref}", "--lead", unknown_lead(lead))
    if entity not in agreed:
        names = ", ".join(e.code or e.name for e in agreed) or "none yet"
        raise InvalidInputError(
            f"proposal {proposal.ref}", "--lead", f"{lead!r} has not agreed to lead it (bodies that agreed: {names})"
        )
    return entity


def lead_problem(event: Event) -> str:
    """What is wrong with naming a lead body (`--lead`) for `event`: only a commitment has one."""
    return "" if event is Event.COMMIT else f"only 'commit' names a lead body, not {event.value!r}"


def unknown_lead(lead: str) -> str:
    """The problem of a `--lead` that names no body."""
    return f"no government body {lead!r} ('ogp entity list' shows them)"


@dataclass(frozen=True)
class MoveResult:
    """What a move did."""

    proposal: Proposal
    entry: AuditEntry
    letters: list[PendingLetter]


def _decided(
    session: Session, proposal: Proposal, place: Standing | None, count: int | None
) -> tuple[Standing, int] | None:
    """The standing to keep when a move takes `proposal` out of `interviewed`: the one the caller
    ranked it on among `count` (a shortlist, which ranked them all once), else its place in the
    ranking now."""
    if proposal.state is not State.INTERVIEWED:
        return None
    if place is not None and count is not None:
        return place, count
    ranked = ranking(session)
    if place is None:
        place = next(p for p in ranked if p.proposal is not None and p.proposal.id == proposal.id)
    return place, len(ranked)


def advance(
    session: Session,
    key: str | int | Proposal,
    event: Event,
    *,
    actor: str,
    reason: str = "",
    now: dt.datetime | None = None,
    templates_dir: Path | None = None,
    workspace_folder: Path | None = None,
    lead: str | None = None,
    standing: Standing | None = None,
    ranked: int | None = None,
    dated: dt.date | None = None,
    current: bool = False,
    chain: ledger.BatchChain | None = None,
    known: guards.KnownFacts | None = None,
) -> MoveResult:
    """Take `event` on a proposal: all of it (state, decided standing, audit entry, letters) or none.

    `standing` (with `ranked`, how many were ranked) is the place the caller decided on, kept as
    the decided standing; without it a move out of `interviewed` keeps the proposal's place now.
    `dated` dates the move's letters (a round held earlier); the audit entry keeps the real time.
    `key` is a ref or a number (`proposals.get_proposal`), or the proposal itself; the step re-reads
    it under the record's lock, unless `current` says the caller read it after taking that lock in
    this transaction (a batch, `workflow.batch`). `chain`: the batch's `ledger.BatchChain`, which
    appends the move's entry and letters with the batch's (`MoveResult.entry` is then not in the
    session and has no hash yet: the chain computes it when it writes the entry). `known`: facts
    the batch read for all its proposals at once (`guards.KnownFacts`), which the guards take
    instead of reading them again.
    Raises `TransitionNotAllowedError`, `GuardError`, `InvalidInputError`, `DocumentError`,
    `ConcurrentChangeError`.
    """
    proposal = key if isinstance(key, Proposal) else get_proposal(session, key)
    why = fields.line(reason, f"proposal {proposal.ref}", "--reason", limit=fields.REASON)
    step = ledger.begin(
        session, event.value, actor=actor, now=now, reason=why, proposal=proposal, current=current, chain=chain
    )
    try:
        return _move(
            session, step, proposal, event, templates_dir, workspace_folder, lead, standing, ranked, dated, known
        )
    except BaseException:
        step.abandon()
        raise


def _move(
    session: Session,
    step: ledger.Step,
    proposal: Proposal,
    event: Event,
    templates_dir: Path | None,
    workspace_folder: Path | None,
    lead: str | None,
    standing: Standing | None,
    ranked: int | None,
    dated: dt.date | None,
    known: guards.KnownFacts | None,
) -> MoveResult:
    plan = current_plan(session)
    # Kept apart: after a failed flush the row's attributes can no longer be read.
    ref, from_state = proposal.ref, proposal.state
    row = transition_for(event)
    allowed = [s.value for s in row.sources]
    if from_state not in row.sources:
        raise TransitionNotAllowedError(ref, event.value, from_state.value, allowed)
    if lead is not None and (problem := lead_problem(event)):
        raise InvalidInputError(f"proposal {ref}", "--lead", problem)
    chosen = choose_lead(session, proposal, lead, known) if event is Event.COMMIT else None
    decided = _decided(session, proposal, standing, ranked)
    # Only a move that writes letters needs the templates folder to exist.
    letters = renderer(templates_folder(plan, workspace_folder, templates_dir) if row.documents else None)
    referrals = known.referrals if known is not None else None
    outbox = Outbox(
        session, plan, proposal, letters, step.now, event.value, step.reason, dated=dated,
        from_state=from_state.value, chain=step.chain,
        referrals=referrals.get(proposal.id, ()) if referrals is not None else None,
    )  # fmt: skip
    move = Move(session, plan, proposal, event, step, outbox, decided, chosen, known)
    try:
        trigger(proposal, event.value, move)
    except MachineError as exc:  # the table and the machine disagree: report it as a refusal
        raise TransitionNotAllowedError(ref, event.value, from_state.value, allowed) from exc
    except StaleDataError as exc:
        raise ConcurrentChangeError(ref) from exc
    assert move.entry is not None
    return MoveResult(proposal, move.entry, outbox.pending)
