"""Registering, finding and interviewing proposals."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from documents import one_line, xml_safe
from documents.letters import LANGUAGES
from states import Action, State
from workflow import ledger
from workflow.errors import InvalidFieldsError, InvalidInputError, NotFoundError
from workflow.models import Entity, Proposal, ProposalEntity
from workflow.plans import EntityIndex, current_plan
from workflow.vocabulary import OgpValue, parse_value

REF_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_SHORT = 500
MAX_LONG = 20_000


@dataclass
class ProposalInput:
    """A proposal as a coordinator or a file gives it, before validation."""

    title: str
    organization: str
    ref: str = ""
    email: str = ""
    problem: str = ""
    solution: str = ""
    values: Sequence[str] = ()
    entities: Sequence[str] = ()
    submitted_on: str | dt.date | None = None
    language: str = ""


@dataclass
class CleanProposal:
    """A validated proposal, ready to store."""

    title: str
    organization: str
    ref: str
    email: str
    problem: str
    solution: str
    values: list[OgpValue]
    entities: list[Entity]
    submitted_on: dt.date
    language: str = "ar"
    problems: list[tuple[str, str]] = field(default_factory=list)


def parse_date(text: str) -> dt.date:
    """A date as YYYY-MM-DD, or D/M/YYYY as the seed writes it (28/7/2021)."""
    text = text.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        try:
            return dt.date(year, month, day)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a real date ({exc})") from exc
    raise ValueError(f"{text!r} is not a date: use YYYY-MM-DD (or D/M/YYYY)")


def _text(value: str, name: str, problems: list[tuple[str, str]], *, limit: int, multiline: bool) -> str:
    cleaned = xml_safe(value).strip() if multiline else one_line(value)
    if len(cleaned) > limit:
        problems.append((name, f"is {len(cleaned)} characters long; at most {limit} are allowed"))
    return cleaned


def validate(
    session: Session,
    raw: ProposalInput,
    entities: EntityIndex,
    today: dt.date,
    taken_refs: set[str] | None = None,
) -> CleanProposal:
    """Check every field of `raw`; problems are collected in `.problems`, not raised."""
    problems: list[tuple[str, str]] = []
    title = _text(raw.title, "title", problems, limit=MAX_SHORT, multiline=False)
    if not title:
        problems.append(("title", "is required"))
    organization = _text(raw.organization, "organization", problems, limit=MAX_SHORT, multiline=False)
    if not organization:
        problems.append(("organization", "is required"))
    email = one_line(raw.email)
    if email and not EMAIL_PATTERN.match(email):
        problems.append(("email", f"{email!r} is not an e-mail address"))
    problem = _text(raw.problem, "problem", problems, limit=MAX_LONG, multiline=True)
    solution = _text(raw.solution, "solution", problems, limit=MAX_LONG, multiline=True)

    ref = one_line(raw.ref)
    if ref:
        if not REF_PATTERN.match(ref):
            problems.append(("ref", f"{ref!r} must be 1–32 Latin letters, digits, '.', '-' or '_'"))
        elif ref.casefold() in (taken_refs or set()) or _ref_taken(session, ref):
            problems.append(("ref", f"{ref!r} is already used by another proposal"))

    values: list[OgpValue] = []
    for item in raw.values:
        if not item.strip():
            continue
        value = parse_value(item)
        if value is None:
            known = ", ".join(v.value for v in OgpValue)
            problems.append(("values", f"unknown OGP value {item.strip()!r} (known: {known})"))
        elif value not in values:
            values.append(value)

    found: list[Entity] = []
    for item in raw.entities:
        if not item.strip():
            continue
        entity = entities.find(item)
        if entity is None:
            problems.append(
                ("entities", f"unknown government body {item.strip()!r} (register it with 'ogp entity add')")
            )
        elif entity not in found:
            found.append(entity)

    submitted_on = today
    if isinstance(raw.submitted_on, dt.date):
        submitted_on = raw.submitted_on
    elif raw.submitted_on and raw.submitted_on.strip():
        try:
            submitted_on = parse_date(raw.submitted_on)
        except ValueError as exc:
            problems.append(("submitted_on", str(exc)))
    if submitted_on > today:
        problems.append(("submitted_on", f"{submitted_on} is in the future"))

    language = one_line(raw.language).lower() or "ar"
    if language not in LANGUAGES:
        problems.append(("language", f"{language!r} is not one of {', '.join(LANGUAGES)} (for the proposer's letters)"))

    return CleanProposal(
        title, organization, ref, email, problem, solution, values, found, submitted_on, language, problems
    )


def _ref_taken(session: Session, ref: str) -> bool:
    query = select(Proposal.id).where(func.lower(Proposal.ref) == ref.casefold())
    return session.scalar(query) is not None


def _next_ref(session: Session, taken: set[str]) -> str:
    number = int(session.scalar(select(func.count(Proposal.id))) or 0) + 1
    while True:
        ref = f"P-{number:03d}"
        if ref.casefold() not in taken and not _ref_taken(session, ref):
            return ref
        number += 1


def store(session: Session, clean: CleanProposal, *, actor: str, now: dt.datetime, taken: set[str]) -> Proposal:
    """Save a validated proposal: the recorded step `submit`, one audit entry."""
    with ledger.recorded(session, Action.SUBMIT, actor=actor, now=now) as step:
        plan = current_plan(session)
        proposal = Proposal(
            plan_id=plan.id,
            ref=clean.ref or _next_ref(session, taken),
            title=clean.title,
            organization=clean.organization,
            email=clean.email,
            problem=clean.problem,
            solution=clean.solution,
            values=[value.value for value in clean.values],
            submitted_on=clean.submitted_on,
            state=State.SUBMITTED,
            language=clean.language,
            lead_entity_id=None,
        )
        proposal.entity_links = [
            ProposalEntity(entity=entity, position=index) for index, entity in enumerate(clean.entities)
        ]
        session.add(proposal)
        session.flush()
        step.proposal = proposal
    taken.add(proposal.ref.casefold())
    return proposal


def add_proposal(session: Session, raw: ProposalInput, *, actor: str, now: dt.datetime | None = None) -> Proposal:
    """Register one proposal; refuse it whole if any field is bad."""
    now = now or dt.datetime.now(dt.UTC)
    current_plan(session, lock=True)
    clean = validate(session, raw, EntityIndex(session), now.astimezone().date())
    if clean.problems:
        record = f"proposal {clean.ref or (repr(clean.title) if clean.title else '(new)')}"
        if len(clean.problems) == 1:
            raise InvalidInputError(record, *clean.problems[0])
        raise InvalidFieldsError(record, clean.problems)
    return store(session, clean, actor=actor, now=now, taken=set())


def get_proposal(session: Session, key: str | int) -> Proposal:
    """A proposal by its number or its ref (any case)."""
    text = str(key).strip()
    proposal = None
    # A number is ASCII digits that fit the column ('¹' is a digit to str.isdigit, not to int());
    # a NUL is never in a ref, and PostgreSQL refuses it in a query.
    if text.isascii() and text.isdigit() and len(text) <= 9:
        proposal = session.get(Proposal, int(text))
    if proposal is None and text and "\x00" not in text:
        query = select(Proposal).where(func.lower(Proposal.ref) == text.casefold())
        proposal = session.scalars(query).first()
    if proposal is None:
        raise NotFoundError("proposal", repr(text))
    return proposal


def list_proposals(session: Session, state: State | None = None) -> list[Proposal]:
    """Proposals in registration order, optionally only those in `state`."""
    query = select(Proposal).order_by(Proposal.id)
    if state is not None:
        query = query.where(Proposal.state == state)
    return list(session.scalars(query))


def link_entities(
    session: Session, key: str | int, names: Sequence[str], *, actor: str, now: dt.datetime | None = None
) -> Proposal:
    """Add relevant government bodies to a proposal that has not been referred yet (a recorded step)."""
    proposal = get_proposal(session, key)
    index = EntityIndex(session)
    with ledger.recorded(session, Action.LINK, actor=actor, now=now, proposal=proposal, optional=True) as step:
        linked = {link.entity_id for link in proposal.entity_links}
        added = []
        for name in names:
            entity = index.get(name)
            if entity.id not in linked:
                proposal.entity_links.append(ProposalEntity(entity=entity, position=len(proposal.entity_links)))
                linked.add(entity.id)
                added.append(entity.code or entity.name)
        step.reason = "linked " + ", ".join(added)
    return proposal
