"""Moving a proposal: guards, letters, state, audit entry and stored letters in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from transitions import MachineError

from documents import LetterRenderer, LetterRequest, LetterTemplateError, RenderedLetter, one_line, safe_filename
from states import Addressees, Document, DocumentKind, Event, State, transition_for
from workflow import audit
from workflow.errors import ConcurrentChangeError, DocumentError, InvalidInputError, TransitionNotAllowedError
from workflow.guards import CHECKS
from workflow.machine import trigger
from workflow.models import AuditEntry, Entity, Letter, Plan, Proposal
from workflow.plans import EntityIndex, current_plan
from workflow.proposals import get_proposal
from workflow.templates import renderer, templates_folder
from workflow.vocabulary import VALUE_NAMES_AR, VALUE_NAMES_EN, OgpValue, organisation_addressee

LETTERHEAD_TOP = {"ar": "المملكة الأردنية الهاشمية", "en": "The Hashemite Kingdom of Jordan"}


@dataclass(frozen=True)
class Recipient:
    """Who one letter goes to: a registered body, or the proposing organisation."""

    name: str
    addressee: str
    language: str
    entity: Entity | None = None

    @classmethod
    def body(cls, entity: Entity) -> Recipient:
        return cls(entity.name, entity.addressee, entity.language, entity)

    @property
    def file_key(self) -> str:
        if self.entity is not None:
            return self.entity.code or self.entity.name
        return self.name[:40]


@dataclass
class PendingLetter:
    """A letter rendered before the state changes, stored after."""

    document: Document
    recipient: Recipient
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
        """Render every letter before anything changes: a broken template stops the move here.

        Reference numbers are taken here too, inside the move's transaction, so a move that
        fails gives its numbers back and the register stays gap-free.
        """
        issued_on = self.now.astimezone().date()
        year = issued_on.year
        number = _last_number(self.session, year)
        for document in transition_for(self.event).documents:
            for recipient in self._recipients(document):
                number += 1
                reference = _reference(self.plan.letter_prefix, year, number)
                try:
                    rendered = self.letters.render(self._request(document, recipient, reference, issued_on))
                except LetterTemplateError as exc:
                    raise DocumentError(self.proposal.ref, document.kind.value, str(exc)) from exc
                stem = f"{self.proposal.ref}_{document.kind.value}_{recipient.file_key}_{year}-{number:04d}"
                self.pending.append(
                    PendingLetter(
                        document, recipient, year, number, reference, issued_on,
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
                    entity_id=letter.recipient.entity.id if letter.recipient.entity else None,
                    recipient=letter.recipient.addressee,
                    language=letter.recipient.language,
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

    def _recipients(self, document: Document) -> list[Recipient]:
        proposal = self.proposal
        match document.to:
            case Addressees.RELEVANT_ENTITIES:
                return [Recipient.body(entity) for entity in proposal.entities]
            case Addressees.LEAD_ENTITY:
                return [Recipient.body(proposal.lead_entity)] if proposal.lead_entity else []
            case Addressees.PROPOSER:
                language = proposal.language
                return [
                    Recipient(proposal.organization, organisation_addressee(language, proposal.organization), language)
                ]
            case Addressees.REFERRED_ENTITIES:
                query = (
                    select(Entity)
                    .join(Letter, Letter.entity_id == Entity.id)
                    .where(Letter.proposal_id == proposal.id, Letter.kind == DocumentKind.REFERRAL.value)
                    .order_by(Letter.id)
                )
                return [Recipient.body(entity) for entity in dict.fromkeys(self.session.scalars(query))]

    def _request(self, document: Document, recipient: Recipient, reference: str, issued_on: dt.date) -> LetterRequest:
        plan, proposal, arabic = self.plan, self.proposal, recipient.language == "ar"
        values = VALUE_NAMES_AR if arabic else VALUE_NAMES_EN
        issuer = plan.issuer if arabic else plan.issuer_en
        return LetterRequest(
            kind=document.kind.value,
            reference=reference,
            issued_on=issued_on,
            addressee=recipient.addressee,
            letterhead=(LETTERHEAD_TOP[recipient.language], *[line.strip() for line in issuer.split(" – ")]),
            signatory_name=plan.signatory_name,
            signatory_title=plan.signatory_title if arabic else plan.signatory_title_en,
            language=recipient.language,
            logo=plan.logo,
            copy_to=tuple(plan.copy_to),
            digits=plan.digits,
            context={
                "proposal": {
                    "ref": proposal.ref,
                    "title": proposal.title,
                    "organization": proposal.organization,
                    "problem": proposal.problem,
                    "solution": proposal.solution,
                    "ogp_values": [values[OgpValue(value)] for value in proposal.values],
                    "bodies": [entity.name for entity in proposal.entities],
                    "lead": proposal.lead_entity.name if proposal.lead_entity else "",
                },
                "recipient": {"name": recipient.name, "addressee": recipient.addressee},
                "plan": {"title": plan.title if arabic else plan.title_en, "period": plan.period},
                "event": self.event.value,
                "reason": self.reason,
            },
        )


def _last_number(session: Session, year: int) -> int:
    return int(session.scalar(select(func.max(Letter.number)).where(Letter.year == year)) or 0)


def _reference(prefix: str, year: int, number: int) -> str:
    return f"{prefix}/{year}/{number:04d}" if prefix else f"{year}/{number:04d}"


def _choose_lead(proposal: Proposal, lead: str | None, index: EntityIndex) -> Entity | None:
    """The body that leads the commitment: the one named, else the one set, else the first."""
    if lead is None:
        return proposal.lead_entity or (proposal.entities[0] if proposal.entities else None)
    entity = index.get(lead)
    if entity not in proposal.entities:
        names = ", ".join(e.code or e.name for e in proposal.entities)
        raise InvalidInputError(f"proposal {proposal.ref}", "--lead", f"{lead!r} is not one of its bodies ({names})")
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
        proposal.lead_entity = _choose_lead(proposal, lead, EntityIndex(session))
    # Only a move that writes letters needs the templates folder to exist.
    letters = renderer(templates_folder(plan, workspace_folder, templates_dir) if row.documents else None)
    move = Move(session, plan, proposal, event, actor, one_line(reason), now, letters)
    try:
        trigger(proposal, event.value, move)
        session.flush()
    except MachineError as exc:  # the table and the machine disagree: report it as a refusal
        raise TransitionNotAllowedError(ref, event.value, from_state.value, allowed) from exc
    except StaleDataError as exc:
        raise ConcurrentChangeError(ref) from exc
    assert move.entry is not None
    return MoveResult(proposal, move.entry, move.pending)
