"""Corrections: fixing what was typed wrong about a proposal, a body or a member, and members
leaving or rejoining the working group. Each is a recorded step with a reason; its audit entry
keeps the old and the new values. Letters already written are never rewritten."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents import one_line
from documents.text import LANGUAGES
from states import Action, step_for
from workflow import ledger
from workflow.errors import DuplicateError, InvalidFieldsError, InvalidInputError, WorkflowError
from workflow.members import LOGIN_PATTERN, MemberIndex
from workflow.models import Entity, Member, Proposal, ProposalEntity
from workflow.names import name_key
from workflow.plans import CODE_PATTERN, EntityIndex, check_body_names
from workflow.proposals import ProposalInput, get_proposal, validate
from workflow.vocabulary import RANKS, SECTORS, addressee_line, organisation_addressee


@dataclass(frozen=True)
class ProposalEdit:
    """What a coordinator corrects on a proposal; None leaves a field as it is."""

    title: str | None = None
    organization: str | None = None
    email: str | None = None
    problem: str | None = None
    solution: str | None = None
    values: Sequence[str] | None = None
    entities: Sequence[str] | None = None


def edit_proposal(
    session: Session, key: str, edit: ProposalEdit, *, reason: str, actor: str, now: dt.datetime | None = None
) -> tuple[Proposal, list[str]]:
    """Correct a proposal while it is open (a recorded step); return it and the fields changed.

    Fields are checked as at registration; bodies change only before the proposal is referred.
    Raises `InvalidInputError`/`InvalidFieldsError`, `StepNotAllowedError`, or `WorkflowError`
    when nothing would change.
    """
    proposal = get_proposal(session, key)
    record = f"proposal {proposal.ref}"
    why = ledger.checked_reason(reason, record)
    with ledger.recorded(session, Action.EDIT_PROPOSAL, actor=actor, now=now, proposal=proposal, reason=why) as step:
        # Bodies are a proposal's addressees once it is referred: they change only while linkable.
        if edit.entities is not None and proposal.state not in step_for(Action.LINK).allowed:
            raise InvalidInputError(
                record, "--entity", f"it is '{proposal.state.value}': its bodies were written to and stay as they were"
            )
        current = [e.code or e.name for e in proposal.entities]
        raw = ProposalInput(
            title=proposal.title if edit.title is None else edit.title,
            organization=proposal.organization if edit.organization is None else edit.organization,
            email=proposal.email if edit.email is None else edit.email,
            problem=proposal.problem if edit.problem is None else edit.problem,
            solution=proposal.solution if edit.solution is None else edit.solution,
            values=list(proposal.values) if edit.values is None else edit.values,
            entities=current if edit.entities is None else edit.entities,
            submitted_on=proposal.submitted_on,
            language=proposal.language,
        )
        clean = validate(session, raw, EntityIndex(session), step.now.astimezone().date())
        if clean.problems:
            raise InvalidFieldsError(record, clean.problems)
        changed = []
        for name in ("title", "organization", "email", "problem", "solution"):
            if getattr(edit, name) is not None and getattr(proposal, name) != getattr(clean, name):
                setattr(proposal, name, getattr(clean, name))
                changed.append(name)
        values = [v.value for v in clean.values]
        if edit.values is not None and list(proposal.values) != values:
            proposal.values = values
            changed.append("values")
        if edit.entities is not None and [e.id for e in proposal.entities] != [e.id for e in clean.entities]:
            proposal.entity_links.clear()
            session.flush()  # the old links go before the new ones come, so a body may keep its place
            proposal.entity_links.extend(
                ProposalEntity(entity=entity, position=index) for index, entity in enumerate(clean.entities)
            )
            changed.append("entities")
        if not changed:
            raise WorkflowError(f"{record}: nothing to correct, every field given is as it was; nothing was recorded.")
    return proposal, changed


@dataclass(frozen=True)
class EntityEdit:
    """What a coordinator corrects on a government body; None leaves a field as it is."""

    name: str | None = None
    code: str | None = None
    addressee: str | None = None
    rank: str | None = None
    title: str | None = None
    language: str | None = None


def edit_entity(
    session: Session, key: str, edit: EntityEdit, *, reason: str, actor: str, now: dt.datetime | None = None
) -> tuple[Entity, list[str]]:
    """Correct a government body (a recorded step); return it and the fields changed. Letters
    already written keep the addressee they were written to. Raises `InvalidInputError`,
    `DuplicateError`, `NotFoundError`, or `WorkflowError` when nothing would change."""
    entity = EntityIndex(session).get(key)
    record = f"government body {entity.code or entity.name!r}"
    why = ledger.checked_reason(reason, record)
    with ledger.recorded(session, Action.EDIT_ENTITY, actor=actor, now=now, reason=f"{entity.name}: {why}"):
        wanted: dict[str, object] = {}
        if edit.name is not None:
            name = one_line(edit.name)
            if not name:
                raise InvalidInputError(record, "--name", "must not be empty")
            check_body_names(session, record, name=name, other_than=entity, options=("--name", "--code"))
            wanted["name"] = name
        if edit.code is not None:
            code = edit.code.strip() or None
            if code is not None and not CODE_PATTERN.match(code):
                raise InvalidInputError(record, "--code", f"{code!r} must be 1–32 Latin letters, digits, '-' or '_'")
            check_body_names(session, record, code=code, other_than=entity, options=("--name", "--code"))
            wanted["code"] = code
        language = edit.language or entity.language
        if language not in LANGUAGES:
            raise InvalidInputError(record, "--language", f"{language!r} is not one of {', '.join(LANGUAGES)}")
        wanted["language"] = language
        if edit.rank is not None or edit.title is not None:
            if edit.addressee is not None:
                raise InvalidInputError(
                    record, "--addressee", "give either --addressee or --rank with --title, not both"
                )
            rank, title = edit.rank or entity.rank, one_line(edit.title or entity.title or "")
            if rank not in RANKS:
                raise InvalidInputError(record, "--rank", f"{rank!r} is not one of {', '.join(RANKS)}")
            if not title:
                raise InvalidInputError(record, "--title", "a rank needs the official's title, e.g. 'وزير الصحة'")
            wanted.update(rank=rank, title=title, addressee=addressee_line(language, rank, title))
        elif edit.addressee is not None:
            addressee = one_line(edit.addressee) or organisation_addressee(
                language, str(wanted.get("name", entity.name))
            )
            wanted.update(addressee=addressee, rank=None, title=None)
        elif entity.rank is None and entity.addressee == organisation_addressee(entity.language, entity.name):
            # Addressed by its name («السادة … المحترمين»): a corrected name or language is how it is addressed.
            wanted["addressee"] = organisation_addressee(language, str(wanted.get("name", entity.name)))
        changed = [field for field, value in wanted.items() if getattr(entity, field) != value]
        if not changed:
            raise WorkflowError(f"{record}: nothing to correct, every field given is as it was; nothing was recorded.")
        for field in changed:
            setattr(entity, field, wanted[field])
    return entity, changed


@dataclass(frozen=True)
class MemberEdit:
    """What a coordinator corrects on a member; None leaves a field as it is ("" clears a login)."""

    name: str | None = None
    organization: str | None = None
    sector: str | None = None
    login: str | None = None


def edit_member(
    session: Session, key: str, edit: MemberEdit, *, reason: str, actor: str, now: dt.datetime | None = None
) -> tuple[Member, list[str]]:
    """Correct a member (a recorded step); return the member and the fields changed. Decisions
    already taken keep the standing they were taken on. Raises `InvalidInputError`,
    `DuplicateError`, `NotFoundError`, or `WorkflowError` when nothing would change."""
    member = MemberIndex(session).get(key)
    record = f"member {member.name!r}"
    why = ledger.checked_reason(reason, record)
    with ledger.recorded(session, Action.EDIT_MEMBER, actor=actor, now=now, reason=f"{member.name}: {why}"):
        wanted: dict[str, object] = {}
        if edit.name is not None:
            name = one_line(edit.name)
            if not name:
                raise InvalidInputError(record, "--name", "must not be empty")
            for other in session.scalars(select(Member).where(Member.id != member.id)):
                if name_key(other.name) == name_key(name):
                    raise DuplicateError("member", "name", other.name)
            wanted["name"] = name
        if edit.organization is not None:
            organization = one_line(edit.organization)
            if not organization:
                raise InvalidInputError(record, "--org", "must not be empty")
            wanted["organization"] = organization
        if edit.sector is not None:
            if edit.sector not in SECTORS:
                raise InvalidInputError(record, "--sector", f"{edit.sector!r} is not one of {', '.join(SECTORS)}")
            wanted["sector"] = edit.sector
        if edit.login is not None:
            login = edit.login.strip() or None
            if login is not None and not LOGIN_PATTERN.match(login):
                raise InvalidInputError(record, "--login", f"{login!r} is not a database login name")
            if login is not None and session.scalar(
                select(Member.id).where(Member.login == login, Member.id != member.id)
            ):
                raise DuplicateError("member", "login", login)
            wanted["login"] = login
        changed = [field for field, value in wanted.items() if getattr(member, field) != value]
        if not changed:
            raise WorkflowError(f"{record}: nothing to correct, every field given is as it was; nothing was recorded.")
        for field in changed:
            setattr(member, field, wanted[field])
    return member, changed


def set_member_active(
    session: Session, key: str, active: bool, *, reason: str, actor: str, now: dt.datetime | None = None
) -> Member:
    """A member leaves the working group (no longer counted for quorum, no longer scores) or
    rejoins it; a recorded step. Raises `WorkflowError` if the member already is so."""
    member = MemberIndex(session).get(key)
    record = f"member {member.name!r}"
    why = ledger.checked_reason(reason, record, required=not active)
    action = Action.REACTIVATE_MEMBER if active else Action.DEACTIVATE_MEMBER
    with ledger.recorded(session, action, actor=actor, now=now, reason=f"{member.name}: {why}".rstrip(": ")):
        if member.active == active:
            already = "an active member" if active else "no longer an active member"
            raise WorkflowError(f"{member.name} is already {already}; nothing was recorded.")
        member.active = active
    return member
