"""Moving a proposal: guards, letters, state, audit entry and stored letters in one transaction."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from transitions import MachineError

from documents import (
    LetterRenderer,
    LetterRequest,
    LetterTemplateError,
    RenderedLetter,
    one_line,
    safe_filename,
)
from states import Addressees, Document, Event, State, transition_for
from workflow import audit
from workflow.errors import ConcurrentChangeError, DocumentError, TransitionNotAllowedError
from workflow.guards import CHECKS
from workflow.machine import trigger
from workflow.models import AuditEntry, Entity, Letter, Plan, Proposal
from workflow.plans import current_plan
from workflow.proposals import get_proposal
from workflow.vocabulary import VALUE_NAMES_AR, OgpValue


@functools.cache
def renderer(templates_dir: Path | None = None) -> LetterRenderer:
    """One renderer per templates folder, so each template is compiled once per process."""
    return LetterRenderer(templates_dir)


@dataclass
class PendingLetter:
    """A letter rendered before the state changes, stored after."""

    document: Document
    entity: Entity | None
    year: int
    number: int
    reference: str
    issued_on: dt.date
    file_name: str
    rendered: RenderedLetter


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
    letters: LetterRenderer
    from_state: State = field(init=False)
    pending: list[PendingLetter] = field(default_factory=list)
    entry: AuditEntry | None = None

    def __post_init__(self) -> None:
        self.from_state = self.proposal.state

    def check_guards(self) -> None:
        for guard in transition_for(self.event).guards:
            CHECKS[guard](self)

    def prepare(self) -> None:
        """Render every letter before anything changes: a broken template stops the move here."""
        issued_on = self.now.astimezone().date()
        year = issued_on.year
        number = _last_number(self.session, year)
        for document in transition_for(self.event).documents:
            for entity in self._addressees(document):
                number += 1
                reference = _reference(self.plan.letter_prefix, year, number)
                request = self._request(document, entity, reference, issued_on)
                try:
                    rendered = self.letters.render(request)
                except LetterTemplateError as exc:
                    raise DocumentError(self.proposal.ref, document.kind.value, str(exc)) from exc
                stem = f"{self.proposal.ref}_{document.kind.value}_{entity.code or entity.name}_{year}-{number:04d}"
                self.pending.append(
                    PendingLetter(
                        document, entity, year, number, reference, issued_on,
                        safe_filename(stem, ".docx"), rendered,
                    )
                )  # fmt: skip

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
            letters=[letter.rendered.sha256 for letter in self.pending],
            at=self.now,
        )
        for letter in self.pending:
            self.session.add(
                Letter(
                    proposal_id=self.proposal.id,
                    audit_seq=self.entry.seq,
                    kind=letter.document.kind.value,
                    entity_id=letter.entity.id if letter.entity else None,
                    year=letter.year,
                    number=letter.number,
                    reference=letter.reference,
                    issued_on=letter.issued_on,
                    subject=letter.rendered.subject,
                    file_name=letter.file_name,
                    sha256=letter.rendered.sha256,
                    content=letter.rendered.content,
                )
            )

    def _addressees(self, document: Document) -> list[Entity]:
        match document.to:
            case Addressees.RELEVANT_ENTITIES:
                return self.proposal.entities

    def _request(self, document: Document, entity: Entity, reference: str, issued_on: dt.date) -> LetterRequest:
        proposal = self.proposal
        return LetterRequest(
            kind=document.kind.value,
            reference=reference,
            issued_on=issued_on,
            addressee=entity.addressee,
            letterhead=("المملكة الأردنية الهاشمية", *self.plan.issuer.split(" – ")),
            signatory_name=self.plan.signatory_name,
            signatory_title=self.plan.signatory_title,
            context={
                "proposal": {
                    "ref": proposal.ref,
                    "title": proposal.title,
                    "organization": proposal.organization,
                    "problem": proposal.problem,
                    "solution": proposal.solution,
                    "ogp_values": [VALUE_NAMES_AR[OgpValue(value)] for value in proposal.values],
                },
                "entity": {"name": entity.name, "code": entity.code or "", "addressee": entity.addressee},
                "plan": {"title": self.plan.title, "period": self.plan.period},
            },
        )


def _last_number(session: Session, year: int) -> int:
    return int(session.scalar(select(func.max(Letter.number)).where(Letter.year == year)) or 0)


def _reference(prefix: str, year: int, number: int) -> str:
    return f"{prefix}/{year}/{number:04d}" if prefix else f"{year}/{number:04d}"


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
    move = Move(session, plan, proposal, event, actor, one_line(reason), now, renderer(templates_dir))
    try:
        trigger(proposal, event.value, move)
        session.flush()
    except MachineError as exc:  # the table and the machine disagree: report it as a refusal
        raise TransitionNotAllowedError(ref, event.value, from_state.value, allowed) from exc
    except StaleDataError as exc:
        raise ConcurrentChangeError(ref) from exc
    assert move.entry is not None
    return MoveResult(proposal, move.entry, move.pending)
