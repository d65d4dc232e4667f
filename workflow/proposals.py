"""Registering, finding and interviewing proposals."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from documents import clean_block, one_line
from documents.letters import LANGUAGES
from states import Action, State
from workflow import ledger
from workflow.dates import OGP_LAUNCH, parse_date
from workflow.errors import InvalidFieldsError, InvalidInputError, NotFoundError
from workflow.keys import parse_key
from workflow.models import Entity, Proposal, ProposalEntity
from workflow.names import name_key
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


def _text(value: str, name: str, problems: list[tuple[str, str]], *, limit: int, multiline: bool) -> str:
    cleaned = clean_block(value) if multiline else one_line(value)
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
    email = _text(raw.email, "email", problems, limit=MAX_SHORT, multiline=False)
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
    elif submitted_on < OGP_LAUNCH:
        problems.append(
            ("submitted_on", f"{submitted_on} is before the OGP was launched ({OGP_LAUNCH}); no proposal can be older")
        )

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


def add_proposal(
    session: Session,
    raw: ProposalInput,
    *,
    actor: str,
    now: dt.datetime | None = None,
    allow_duplicates: bool = False,
) -> Proposal:
    """Register one proposal; refuse it whole if any field is bad, or if it has no ref and a
    proposal with the same title and organisation exists (unless `allow_duplicates`)."""
    now = now or dt.datetime.now(dt.UTC)
    current_plan(session, lock=True)
    clean = validate(session, raw, EntityIndex(session), now.astimezone().date())
    if not clean.ref and not allow_duplicates and clean.title and clean.organization:
        duplicate = LikelyDuplicates(session).check(clean.title, clean.organization, "this proposal")
        if duplicate:
            clean.problems.append(("title", duplicate))
    if clean.problems:
        record = f"proposal {clean.ref or (repr(clean.title) if clean.title else '(new)')}"
        if len(clean.problems) == 1:
            raise InvalidInputError(record, *clean.problems[0])
        raise InvalidFieldsError(record, clean.problems)
    return store(session, clean, actor=actor, now=now, taken=set())


def get_proposal(session: Session, key: str | int) -> Proposal:
    """A proposal by its ref (any case) or its number; NotFoundError if there is none.

    A bare number is the ref if a proposal has that ref, else the proposal with that number;
    `#3` is always proposal number 3 (the rule is `workflow.keys`). Only text that could be a
    ref reaches the database, so a NUL or a stray control character is "no proposal" on
    PostgreSQL exactly as on SQLite.
    """
    text = str(key).strip()
    try:
        parsed = parse_key(text)
    except ValueError:
        raise NotFoundError("proposal", repr(text)) from None
    proposal = None
    if not parsed.number_only and REF_PATTERN.match(parsed.text):
        query = select(Proposal).where(func.lower(Proposal.ref) == parsed.text.casefold())
        proposal = session.scalars(query).first()
    if proposal is None and parsed.number is not None:
        proposal = session.get(Proposal, parsed.number)
    if proposal is None:
        raise NotFoundError("proposal", repr(text))
    return proposal


class LikelyDuplicates:
    """Proposals with the same title and organisation (compared by `names.name_key`): a file
    imported twice, or a proposal typed in again, without refs to tell them apart."""

    def __init__(self, session: Session) -> None:
        self._seen: dict[tuple[str, str], str] = {}
        for ref, title, organization in session.execute(select(Proposal.ref, Proposal.title, Proposal.organization)):
            self._seen.setdefault((name_key(title), name_key(organization)), f"proposal {ref}")

    def check(self, title: str, organization: str, where: str) -> str:
        """The problem if a proposal with this title and organisation is already known (then "")
        and remember this one as found at `where` (e.g. "line 3")."""
        key = (name_key(title), name_key(organization))
        earlier = self._seen.setdefault(key, where)
        if earlier == where:
            return ""
        return (
            f"likely a duplicate of {earlier} (same title and organisation); "
            "give --allow-duplicates if it is another proposal"
        )


@dataclass(frozen=True)
class ProposalFilter:
    """Which proposals a listing shows: in `state`; whose title, organisation, problem, solution or
    ref contain `search`; linked to body `entity`; serving OGP value `value`; proposed by `org`.
    Text is compared as names are (`names.name_key`: hamza, ta marbuta, tashkeel and
    invisible marks do not matter). Discarded proposals only with `include_discarded`."""

    state: State | None = None
    search: str = ""
    entity: str = ""
    value: str = ""
    org: str = ""
    include_discarded: bool = False


def list_proposals(session: Session, state: State | None = None, where: ProposalFilter | None = None) -> list[Proposal]:
    """Proposals in registration order, optionally only those in `state` or matching `where`.
    Raises `NotFoundError` for an unknown body, `InvalidInputError` for an unknown OGP value."""
    where = where or ProposalFilter(state=state, include_discarded=True)
    query = select(Proposal).order_by(Proposal.id)
    if where.state is not None:
        query = query.where(Proposal.state == where.state)
    elif not where.include_discarded:
        query = query.where(Proposal.state != State.DISCARDED)
    if where.entity:
        entity = EntityIndex(session).get(where.entity)
        query = query.where(Proposal.entity_links.any(ProposalEntity.entity_id == entity.id))
    value = None
    if where.value:
        value = parse_value(where.value)
        if value is None:
            known = ", ".join(v.value for v in OgpValue)
            raise InvalidInputError("proposal list", "--value", f"unknown OGP value {where.value!r} (known: {known})")
    found = list(session.scalars(query))
    if value is not None:
        found = [p for p in found if value.value in p.values]
    if where.org:
        org = name_key(where.org)
        found = [p for p in found if name_key(p.organization) == org]
    if where.search:
        needle = name_key(where.search)
        found = [
            p for p in found
            if any(needle in name_key(text) for text in (p.ref, p.title, p.organization, p.problem, p.solution))
        ]  # fmt: skip
    return found


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
