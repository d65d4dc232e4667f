"""Letters on their way out: who receives them, rendering with reference numbers, storing them.

Used by moves (`workflow.moves`) and by recorded steps that write letters without a move, such
as scheduling an interview. Rendering happens before anything changes; storing after the audit
entry exists, inside the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from documents.dates import gregorian_ar, gregorian_en, hijri_ar
from documents.request import LetterRequest, LetterTemplateError, RenderedLetter, Replaces
from documents.text import safe_filename
from states import Action, Addressees, Document, DocumentKind
from workflow.errors import DocumentError, InvalidInputError
from workflow.ledger import BatchChain, Step
from workflow.models import AuditEntry, Entity, Interview, Letter, Plan, Proposal, Response
from workflow.vocabulary import VALUE_NAMES_AR, VALUE_NAMES_EN, OgpValue, organisation_addressee

if TYPE_CHECKING:  # the renderer (Jinja2, python-docx) is imported by whoever makes one
    from documents.letters import LetterRenderer

LETTERHEAD_TOP = {"ar": "المملكة الأردنية الهاشمية", "en": "The Hashemite Kingdom of Jordan"}


def letterhead(plan: Plan, language: str) -> tuple[str, ...]:
    """The letterhead's lines in `language`: the kingdom, then the issuer's lines (' – ' separates them)."""
    issuer = plan.issuer if language == "ar" else plan.issuer_en
    return (LETTERHEAD_TOP[language], *[line.strip() for line in issuer.split(" – ")])


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


# The custom properties a stored letter carries: the audit entry that wrote it, so a letter already
# sent witnesses the chain as it stood (`ogp letters verify` reads them back).
PROPERTY_SEQ = "ogp-audit-seq"
PROPERTY_HASH = "ogp-audit-hash"
PROPERTY_REFERENCE = "ogp-reference"


@dataclass
class PendingLetter:
    """A letter rendered before anything changes, stored after; `content` is its final bytes."""

    document: Document
    recipient: Recipient
    year: int
    number: int
    reference: str
    issued_on: dt.date
    file_name: str
    rendered: RenderedLetter
    content: bytes = b""


# The steps whose letters are about an interview itself (sent before it is held, or about one that
# will not be): the rule that letters follow an interview held does not bind them.
_INTERVIEW_LETTERS = frozenset({Action.SCHEDULE_INTERVIEW.value, Action.CANCEL_INTERVIEW.value})


@dataclass
class Outbox:
    """The letters of one recorded step about one proposal."""

    session: Session
    plan: Plan
    proposal: Proposal
    letters: LetterRenderer
    now: dt.datetime
    event: str
    reason: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    # An earlier letter the new ones take the place of (a voided letter reissued, a moved interview).
    replaces: Replaces | None = None
    pending: list[PendingLetter] = field(default_factory=list)
    to: Entity | None = None  # the body a letter to `Addressees.NAMED_ENTITY` goes to
    dated: dt.date | None = None
    # The state a move left ("" for a step that moves nothing): a rejection from `submitted` was
    # never interviewed nor scored, and its letter must not say the proposal was evaluated.
    from_state: str = ""
    chain: BatchChain | None = None  # a batch's: its letters not yet written hold numbers too
    # The referral letters the proposal was sent, as a batch read them for all its proposals
    # (`sent_referrals`); None: read them here, when a letter closes its referrals.
    referrals: tuple[SentReferral, ...] | None = None

    def __post_init__(self) -> None:
        if self.dated is not None:
            record = f"proposal {self.proposal.ref}"
            if self.dated > self.now.astimezone().date():
                raise InvalidInputError(
                    record, "--dated", f"{self.dated} is in the future; a letter is dated when signed"
                )
            if self.dated < self.proposal.submitted_on:
                raise InvalidInputError(
                    record,
                    "--dated",
                    f"{self.dated} is before the proposal was submitted ({self.proposal.submitted_on})",
                )
            problem = self._before_the_record(self.dated)
            if problem:
                raise InvalidInputError(record, "--dated", problem)

    def _before_the_record(self, day: dt.date) -> str:
        """Why letters about the proposal cannot be dated `day`, or "": not before a letter already
        written about it (its register follows the order letters went out: a rejection cannot close
        a referral sent after it) — a void letter too, unless it is reissued (a void letter's
        reissue, now or earlier, may bear the date it should have had); not before an interview
        held with its proposers, for every letter but an interview's own invitation or
        cancellation (a referral says they were interviewed); nor before an answer already
        recorded from a body."""
        void = func.coalesce(Letter.void_reason, "") != ""
        reissued = select(Letter.replaces).where(Letter.proposal_id == self.proposal.id, Letter.replaces != "")
        replacing = self.replaces.reference if self.replaces is not None else ""
        last = self.session.execute(
            select(Letter.issued_on, Letter.reference, void.label("void"))
            .where(Letter.proposal_id == self.proposal.id)
            .where(~(void & (Letter.reference.in_(reissued) | (Letter.reference == replacing))))
            .order_by(Letter.issued_on.desc(), Letter.year.desc(), Letter.number.desc())
            .limit(1)
        ).first()
        if last is not None and day < last.issued_on:
            marked = " (void, not reissued)" if last.void else ""
            return f"{day} is before the letter {last.reference}{marked} about it, dated {last.issued_on}"
        if self.event not in _INTERVIEW_LETTERS:
            held = select(func.max(Interview.held_on)).where(Interview.proposal_id == self.proposal.id)
            held_on = self.session.scalar(held)
            if held_on is not None and day < held_on:
                return f"{day} is before the interview held with its proposers on {held_on}"
        answers = select(func.max(Response.responded_on)).where(Response.proposal_id == self.proposal.id)
        answered = self.session.scalar(answers)
        if answered is not None and day < answered:
            return f"{day} is before an answer recorded from a body on {answered}"
        return ""

    @property
    def issued_on(self) -> dt.date:
        """The letters' date: `dated` (a round held earlier, entered now), else today."""
        return self.dated or self.now.astimezone().date()

    def render(self, documents: Iterable[Document]) -> None:
        """Render every letter of `documents`, one per recipient."""
        self.render_to([(document, recipient) for document in documents for recipient in self.recipients(document)])

    def render_to(self, letters: Iterable[tuple[Document, Recipient]]) -> None:
        """Render each (document, recipient); reference numbers are taken inside the transaction,
        so a step that fails gives its numbers back and the register stays gap-free."""
        letters = list(letters)
        if not letters:  # a move that writes none (interview, shortlist) reads no register
            return
        issued_on = self.issued_on
        year = issued_on.year
        number = self.chain.last_number(year) if self.chain is not None else None
        if number is None:
            number = int(self.session.scalar(select(func.max(Letter.number)).where(Letter.year == year)) or 0)
        for document, recipient in letters:
            number += 1
            english_prefix = recipient.language == "en" and self.plan.letter_prefix_en
            prefix = self.plan.letter_prefix_en if english_prefix else self.plan.letter_prefix
            reference = f"{prefix}/{year}/{number:04d}" if prefix else f"{year}/{number:04d}"
            try:
                rendered = self.letters.render(self._request(document, recipient, reference, issued_on))
            except LetterTemplateError as exc:
                raise DocumentError(self.proposal.ref, document.kind.value, str(exc)) from exc
            # The year and number make the name unique: only the recipient part may be shortened.
            stem = f"{self.proposal.ref}_{document.kind.value}_{recipient.file_key}"
            self.pending.append(
                PendingLetter(
                    document,
                    recipient,
                    year,
                    number,
                    reference,
                    issued_on,
                    safe_filename(stem, f"_{year}-{number:04d}.docx"),
                    rendered,
                )
            )

    def attach(self, step: Step) -> None:
        """Hand the rendered letters to the recorded step: their register rows enter its audit entry;
        their bytes, stamped with that entry's number and hash, are stored once it exists."""
        rows = [
            Letter(
                proposal_id=self.proposal.id,
                audit_seq=0,  # set by the step to its entry's number
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
                digest=letter.rendered.digest,
                sha256="",
                content=b"",
                void_reason="",
                replaces=self.replaces.reference if self.replaces is not None else "",
            )
            for letter in self.pending
        ]

        def stamp(entry: AuditEntry) -> None:
            for letter, row in zip(self.pending, rows, strict=True):
                letter.content = letter.rendered.stamped(
                    {PROPERTY_SEQ: str(entry.seq), PROPERTY_HASH: entry.hash, PROPERTY_REFERENCE: letter.reference}
                )
                row.content, row.sha256 = letter.content, hashlib.sha256(letter.content).hexdigest()

        step.letters.extend(rows)
        step.stamp = stamp

    def recipients(self, document: Document, lead: Entity | None = None) -> list[Recipient]:
        """Who receives `document` for this proposal. `lead`: the body a commit would make its lead,
        for a dry run (the proposal's own lead is set only by the move itself)."""
        proposal = self.proposal
        match document.to:
            case Addressees.RELEVANT_ENTITIES:
                return [Recipient.body(entity) for entity in proposal.entities]
            case Addressees.LEAD_ENTITY:
                leader = lead or proposal.lead_entity
                return [Recipient.body(leader)] if leader else []
            case Addressees.PROPOSER:
                language = proposal.language
                addressee = organisation_addressee(language, proposal.organization)
                return [Recipient(proposal.organization, addressee, language)]
            case Addressees.REFERRED_ENTITIES if self.referrals is not None:
                bodies = dict.fromkeys(sent.entity_id for sent in self.referrals if sent.entity_id is not None)
                return [Recipient.body(self.session.get_one(Entity, entity_id)) for entity_id in bodies]
            case Addressees.REFERRED_ENTITIES:
                query = (
                    select(Entity)
                    .join(Letter, Letter.entity_id == Entity.id)
                    .where(Letter.proposal_id == proposal.id, Letter.kind == DocumentKind.REFERRAL.value)
                    .order_by(Letter.year, Letter.number)
                )
                return [Recipient.body(entity) for entity in dict.fromkeys(self.session.scalars(query))]
            case Addressees.NAMED_ENTITY:
                return [Recipient.body(self.to)] if self.to is not None else []

    def _referral_to(self, document: Document, recipient: Recipient) -> dict[str, Any]:
        """For a letter closing a referral: the referral letter it closes (the last one to that body,
        not voided), which the letter cites by number and date; {} otherwise."""
        if document.kind is not DocumentKind.REFERRAL_CLOSED or recipient.entity is None:
            return {}
        if self.referrals is not None:
            entity_id = recipient.entity.id
            to_it = [sent for sent in self.referrals if sent.entity_id == entity_id and not sent.voided]
            return {"referral": referral_context(to_it[-1])} if to_it else {}
        letter = self.session.execute(
            select(Letter.reference, Letter.issued_on)  # not the letter's bytes
            .where(
                Letter.proposal_id == self.proposal.id, Letter.entity_id == recipient.entity.id,
                Letter.kind == DocumentKind.REFERRAL.value, Letter.void_reason == "",
            )
            .order_by(Letter.year.desc(), Letter.number.desc())
            .limit(1)
        ).first()  # fmt: skip
        return {"referral": referral_context(letter)} if letter is not None else {}

    def _request(self, document: Document, recipient: Recipient, reference: str, issued_on: dt.date) -> LetterRequest:
        plan, proposal, arabic = self.plan, self.proposal, recipient.language == "ar"
        values = VALUE_NAMES_AR if arabic else VALUE_NAMES_EN
        return LetterRequest(
            kind=document.kind.value,
            reference=reference,
            issued_on=issued_on,
            addressee=recipient.addressee,
            letterhead=letterhead(plan, recipient.language),
            signatory_name=plan.signatory_name,
            signatory_title=plan.signatory_title if arabic else plan.signatory_title_en,
            language=recipient.language,
            logo=plan.logo,
            copy_to=tuple(plan.copy_to),
            digits=plan.digits,
            replaces=self.replaces,
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
                "event": self.event,
                "from_state": self.from_state,
                "reason": self.reason,
                "interview": {"date": "", "date_ar": "", "date_en": "", "time": "", "platform": ""},
                "referral": {"reference": "", "date": "", "date_ar": "", "date_hijri": "", "date_en": ""},
                "reply_within": plan.reply_within,
                **self._referral_to(document, recipient),
                **self.extra,
            },
        )


class Cited(Protocol):
    """A letter as another cites it (a `Letter`, or a row of its reference and date)."""

    @property
    def reference(self) -> str: ...
    @property
    def issued_on(self) -> dt.date: ...


@dataclass(frozen=True)
class SentReferral:
    """A referral letter a proposal was sent: to which body, its reference number and date, and
    whether it was voided; what a letter closing the referral addresses and cites."""

    entity_id: int | None
    reference: str
    issued_on: dt.date
    voided: bool


def closes_referrals(documents: Iterable[Document]) -> bool:
    """Whether letters of `documents` address or cite the referral letters a proposal was sent
    (and none is itself a referral, which a batch reading them beforehand would not see)."""
    documents = list(documents)
    reads = any(d.kind is DocumentKind.REFERRAL_CLOSED or d.to is Addressees.REFERRED_ENTITIES for d in documents)
    return reads and all(d.kind is not DocumentKind.REFERRAL for d in documents)


def sent_referrals(session: Session, proposal_ids: Iterable[int]) -> dict[int, tuple[SentReferral, ...]]:
    """proposal id → the referral letters it was sent, in register order (year, number); () for
    one sent none. A query per 500 proposals: for a batch whose letters close referrals, instead of
    a query for the recipients and one for each letter's citation, a proposal (`Outbox`)."""
    ids = sorted(set(proposal_ids))
    found: dict[int, list[SentReferral]] = {proposal_id: [] for proposal_id in ids}
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(Letter.proposal_id, Letter.entity_id, Letter.reference, Letter.issued_on, Letter.void_reason)
            .where(Letter.proposal_id.in_(ids[start : start + _CHUNK]), Letter.kind == DocumentKind.REFERRAL.value)
            .order_by(Letter.year, Letter.number)
        )
        for proposal_id, entity_id, reference, issued_on, void_reason in session.execute(query):
            found[proposal_id].append(SentReferral(entity_id, reference, issued_on, void_reason != ""))
    return {proposal_id: tuple(sent) for proposal_id, sent in found.items()}


_CHUNK = 500  # proposals a query names at most


def referral_context(letter: Cited) -> dict[str, str]:
    """How a letter cites an earlier referral letter: its reference number and its date, in the
    forms the templates use (`referral.reference`, `.date`, `.date_ar`, `.date_hijri`, `.date_en`)."""
    day = letter.issued_on
    return {
        "reference": letter.reference, "date": day.isoformat(), "date_ar": gregorian_ar(day),
        "date_hijri": hijri_ar(day), "date_en": gregorian_en(day),
    }  # fmt: skip
