"""Registering, finding and interviewing proposals."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, load_only, selectinload

from documents import clean_block, one_line
from documents.text import LANGUAGES
from states import Action, State
from workflow import ledger
from workflow.dates import happened, parse_date
from workflow.errors import InvalidFieldsError, InvalidInputError, NotFoundError
from workflow.keys import MAX_NUMBER, parse_key
from workflow.listing import ProposalFilter, kept
from workflow.models import Base, Entity, Proposal, ProposalEntity
from workflow.names import name_key
from workflow.plans import EntityIndex, current_plan
from workflow.vocabulary import OgpValue, known_values, parse_value

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
    record_refs: set[str] | None = None,
) -> CleanProposal:
    """Check every field of `raw`; problems are collected in `.problems`, not raised.
    `record_refs`: every ref the record holds, casefolded, when already loaded (`record_refs`; an
    import checks thousands of rows without a query each)."""
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
        elif ref.isdigit() and int(ref) > MAX_NUMBER:  # typed back, it would read as a number too large
            problems.append(
                ("ref", f"{ref!r}: an all-digit ref may be at most {MAX_NUMBER} (add a letter, e.g. P-{ref})")
            )
        elif ref.casefold() in (taken_refs or set()) or (
            ref.casefold() in record_refs if record_refs is not None else _ref_taken(session, ref)
        ):
            problems.append(("ref", f"{ref!r} is already used by another proposal{_holder(session, ref)}"))

    values: list[OgpValue] = []
    for item in raw.values:
        if not item.strip():
            continue
        value = parse_value(item)
        if value is None:
            known = known_values()
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
    implausible = happened(submitted_on, today, what="a proposal")
    if implausible:
        problems.append(("submitted_on", implausible))

    language = one_line(raw.language).lower() or "ar"
    if language not in LANGUAGES:
        problems.append(("language", f"{language!r} is not one of {', '.join(LANGUAGES)} (for the proposer's letters)"))

    return CleanProposal(
        title, organization, ref, email, problem, solution, values, found, submitted_on, language, problems
    )


def record_refs(session: Session) -> set[str]:
    """Every ref the record holds, casefolded (refs are Latin: as `lower(ref)` compares them)."""
    return {ref.casefold() for ref in session.scalars(select(Proposal.ref))}


def _holder(session: Session, ref: str) -> str:
    """What a message adds about the proposal holding `ref`: its state when that is discarded (a
    proposal registered by mistake keeps its ref, which a coordinator may not think of), else ""."""
    state = session.scalar(select(Proposal.state).where(func.lower(Proposal.ref) == ref.casefold()))
    if state is State.DISCARDED:
        return " (discarded, it keeps its ref: give this one another, or leave ref empty for the next free one)"
    return ""


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


# Proposals one pass of `store_many` writes and chains: bounds the memory of a large import.
STORE_CHUNK = 1000


def store_many(
    session: Session,
    cleaned: Sequence[CleanProposal],
    *,
    actor: str,
    now: dt.datetime,
    taken: set[str],
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Save many validated proposals (an import): the recorded step `submit` for each, one audit
    entry each holding the rows `store` would write, but written with bulk statements and chained
    in one pass (`ledger.append_steps`). Returns their refs, in order; `progress(n)` is called as
    they are stored.

    `taken`: the refs already in use, casefolded (the record's and the file's); a proposal without
    a ref gets the next free `P-NNN` after the number of proposals, as `store` gives it. The caller
    holds the record's lock (`plans.current_plan(lock=True)`)."""
    ledger.lock_record(session)
    session.flush()
    plan_id = current_plan(session).id
    count = int(session.scalar(select(func.count(Proposal.id))) or 0)
    refs: list[str] = []
    proposals_table, links_table = Base.metadata.tables["proposals"], Base.metadata.tables["proposal_entities"]
    for start in range(0, len(cleaned), STORE_CHUNK):
        chunk = cleaned[start : start + STORE_CHUNK]
        rows: list[dict[str, Any]] = []
        for clean in chunk:
            ref = clean.ref
            if not ref:
                number = count + 1
                while f"P-{number:03d}".casefold() in taken:
                    number += 1
                ref = f"P-{number:03d}"
            taken.add(ref.casefold())
            count += 1
            rows.append(
                {
                    "plan_id": plan_id, "ref": ref, "title": clean.title, "organization": clean.organization,
                    "email": clean.email, "problem": clean.problem, "solution": clean.solution,
                    "values": [value.value for value in clean.values], "submitted_on": clean.submitted_on,
                    "state": State.SUBMITTED, "version": 1, "language": clean.language, "lead_entity_id": None,
                }
            )  # fmt: skip
        ledger.insert_rows(session, proposals_table, rows)
        links = [
            [
                {"proposal_id": row["id"], "entity_id": entity.id, "position": index}
                for index, entity in enumerate(clean.entities)
            ]
            for row, clean in zip(rows, chunk, strict=True)
        ]
        ledger.insert_rows(session, links_table, [link for group in links for link in group])
        steps = []
        for row, group in zip(rows, links, strict=True):
            changes = [
                {
                    "t": "proposals",
                    "op": "insert",
                    "key": {"id": row["id"]},
                    "row": ledger.canonical_row("proposals", row),
                }
            ]
            changes += [  # in the order the proposer named the bodies
                {
                    "t": "proposal_entities",
                    "op": "insert",
                    "key": ledger.row_key("proposal_entities", link),
                    "row": link,
                }
                for link in group
            ]
            steps.append(ledger.BulkStep(row["id"], row["ref"], None, State.SUBMITTED, "", changes))
        ledger.append_steps(session, Action.SUBMIT, steps, actor=actor, now=now)
        refs.extend(row["ref"] for row in rows)
        if progress is not None:
            progress(len(chunk))
    return refs


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


# Keys a single `IN (…)` names at most: well inside SQLite's and PostgreSQL's limits on parameters.
LOOKUP_CHUNK = 500


_LIGHT = (Proposal.id, Proposal.ref, Proposal.state, Proposal.organization, Proposal.version)


def find_proposals(session: Session, keys: Iterable[str], *, light: bool = False) -> dict[str, Proposal]:
    """The proposals many keys name, by the rule of `get_proposal`, in a query or two (a file's
    rows are checked without a query per row): key → proposal; a key that names none is left out.
    `light`: only their id, ref, state, organisation and version are read at first (what checking
    a score needs; the texts of 10,000 proposals are 25 MB), the rest when it is first used."""
    light_options = [load_only(*_LIGHT)] if light else []
    parsed = {}
    for key in dict.fromkeys(keys):
        try:
            parsed[key] = parse_key(str(key).strip())
        except ValueError:
            continue
    by_ref: dict[str, Proposal] = {}
    refs = sorted({k.text.casefold() for k in parsed.values() if not k.number_only and REF_PATTERN.match(k.text)})
    for start in range(0, len(refs), LOOKUP_CHUNK):
        query = select(Proposal).options(*light_options)
        query = query.where(func.lower(Proposal.ref).in_(refs[start : start + LOOKUP_CHUNK]))
        by_ref.update((p.ref.casefold(), p) for p in session.scalars(query))
    by_id: dict[int, Proposal] = {}
    # A bare number is a row number only where no proposal has it as its ref.
    numbers = sorted(
        {k.number for k in parsed.values() if k.number is not None and (k.number_only or k.text not in by_ref)}
    )
    for start in range(0, len(numbers), LOOKUP_CHUNK):
        query = select(Proposal).options(*light_options).where(Proposal.id.in_(numbers[start : start + LOOKUP_CHUNK]))
        by_id.update((p.id, p) for p in session.scalars(query))
    found: dict[str, Proposal] = {}
    for key, k in parsed.items():
        proposal = by_ref.get(k.text.casefold()) if not k.number_only and REF_PATTERN.match(k.text) else None
        if proposal is None and k.number is not None:
            proposal = by_id.get(k.number)
        if proposal is not None:
            found[key] = proposal
    return found


# What a title typed again may differ by and still be the same: punctuation and spacing around and
# between its words ("بوابة المشاركة." is "بوابة المشاركة"), Arabic punctuation included.
_PUNCTUATION = re.compile(r"[\s\.,;:!?\-–—_'\"«»()\[\]،؛؟]+")


def _duplicate_key(text: str) -> str:
    return _PUNCTUATION.sub(" ", name_key(text)).strip()


class LikelyDuplicates:
    """Proposals with the same title and organisation (compared by `names.name_key`, and
    punctuation and spacing left out): a file imported twice, or a proposal typed in again,
    without refs to tell them apart."""

    def __init__(self, session: Session) -> None:
        self._seen: dict[tuple[str, str], str] = {}
        for ref, title, organization in session.execute(select(Proposal.ref, Proposal.title, Proposal.organization)):
            self._seen.setdefault((_duplicate_key(title), _duplicate_key(organization)), f"proposal {ref}")

    def check(self, title: str, organization: str, where: str) -> str:
        """The problem if a proposal with this title and organisation is already known (then "")
        and remember this one as found at `where` (e.g. "line 3")."""
        key = (_duplicate_key(title), _duplicate_key(organization))
        earlier = self._seen.setdefault(key, where)
        if earlier == where:
            return ""
        return (
            f"likely a duplicate of {earlier} (same title and organisation); "
            "give --allow-duplicates if it is another proposal"
        )


def list_proposals(session: Session, state: State | None = None, where: ProposalFilter | None = None) -> list[Proposal]:
    """Proposals in registration order, optionally only those in `state` or matching `where`.
    Raises `NotFoundError` for an unknown body, `InvalidInputError` for an unknown OGP value."""
    where = where or ProposalFilter(state=state, include_discarded=True)
    # The linked bodies in one more query for all, not one per proposal (a listing shows them).
    links = selectinload(Proposal.entity_links).selectinload(ProposalEntity.entity)
    query = _filtered(session, select(Proposal).options(links, selectinload(Proposal.lead_entity)), where)
    keep = kept(where)
    return [
        p for p in session.scalars(query)
        if keep(p.values, p.organization, (p.ref, p.title, p.organization, p.problem, p.solution))
    ]  # fmt: skip


def _filtered(session: Session, query: Any, where: ProposalFilter) -> Any:
    """`query` (a select over proposals, of any columns) narrowed to `where`'s state and body, in
    registration order."""
    query = query.order_by(Proposal.id)
    if where.state is not None:
        query = query.where(Proposal.state == where.state)
    elif not where.include_discarded:
        query = query.where(Proposal.state != State.DISCARDED)
    if where.entity:
        entity = EntityIndex(session).get(where.entity)
        query = query.where(Proposal.entity_links.any(ProposalEntity.entity_id == entity.id))
    return query


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
