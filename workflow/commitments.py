"""The commitment in OGP's template: its text, dates and supporting actors, written after the commit.

Until a commitment is first edited, the proposal's problem and solution stand as its problem and
description; the first edit stores them, with the changes asked for, as its starting text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from states import Action, DocumentKind, State
from workflow import audit, fields, ledger
from workflow.errors import InvalidInputError, NotFoundError
from workflow.models import Commitment, CommitmentPartner, Entity, Letter, Milestone, Plan, Proposal
from workflow.periods import parse_month
from workflow.plans import PERIOD_PATTERN, EntityIndex, current_plan
from workflow.proposals import get_proposal
from workflow.vocabulary import OgpValue, known_values, parse_value

# OGP's own commitment numbers: a country code and a number (JO0070), or a SAMPLE label.
OGP_ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,31}$")
TEXT_FIELDS = ("problem", "status_quo", "description", "how_it_solves")


@dataclass(frozen=True)
class CommitmentChanges:
    """What `ogp commitment edit` may change; None (or nothing given) leaves a field as it is."""

    ogp_id: str | None = None
    problem: str | None = None
    status_quo: str | None = None
    description: str | None = None
    how_it_solves: str | None = None
    # (OGP value, how the commitment is relevant to it); an empty text removes the value.
    relevance: Sequence[tuple[str, str]] = ()
    supporting: Sequence[str] | None = None  # government bodies, by code or name: replaces the list
    supporting_orgs: Sequence[str] | None = None  # organisations as written: replaces the list
    start: str | None = None  # YYYY-MM
    end: str | None = None


@dataclass(frozen=True)
class CommitmentText:
    """A commitment as its template reads, edited or not (plain values)."""

    proposal: Proposal
    ogp_id: str
    problem: str
    status_quo: str
    description: str
    how_it_solves: str
    relevance: dict[str, str]
    supporting: list[str] = field(default_factory=list)  # bodies' names
    supporting_codes: list[str] = field(default_factory=list)  # bodies' codes (or names)
    supporting_orgs: list[str] = field(default_factory=list)
    start: str = ""
    end: str = ""
    edited: bool = False
    edited_by: str = ""
    edited_at: str = ""


def plan_months(plan: Plan) -> tuple[str, str] | None:
    """The first and last month of the plan's period when it reads YYYY-YYYY (2021-2023; every
    period set since `plans.parse_period` does; one stored before may be free text: then None)."""
    match = PERIOD_PATTERN.match(plan.period or "")
    if not match:
        return None
    return f"{match.group(1)}-01", f"{match.group(2)}-12"


def get_commitment(session: Session, key: str | int) -> Proposal:
    """A committed proposal by its number or ref; refuses one that is not committed."""
    proposal = get_proposal(session, key)
    if proposal.state is not State.COMMITTED:
        raise NotFoundError(
            "commitment", f"{proposal.ref} (the proposal is '{proposal.state.value}'; only committed ones are)"
        )
    return proposal


def committed_on(session: Session, proposal: Proposal) -> dt.date:
    """The day `proposal` became a commitment: the date of its first commitment letter to the lead
    body (a void one too: a letter voided and reissued later does not move the day the commitment
    was made); its submission if it has none. Nothing done on the commitment (a milestone's move,
    a progress report) can be older."""
    first = select(func.min(Letter.issued_on)).where(
        Letter.proposal_id == proposal.id, Letter.kind == DocumentKind.COMMITMENT.value
    )
    return session.scalar(first) or proposal.submitted_on


def list_commitments(session: Session) -> list[Proposal]:
    """The plan's commitments, in registration order."""
    query = select(Proposal).where(Proposal.state == State.COMMITTED).order_by(Proposal.id)
    return list(session.scalars(query))


def commitment_text(session: Session, proposal: Proposal) -> CommitmentText:
    """The commitment's template as it reads now: its edited text, or the proposal's starting text."""
    row = session.get(Commitment, proposal.id)
    if row is None:
        return CommitmentText(proposal, "", proposal.problem, "", proposal.solution, "", {})
    bodies = [p.entity for p in row.partners if p.entity is not None]
    return CommitmentText(
        proposal,
        row.ogp_id,
        row.problem,
        row.status_quo,
        row.description,
        row.how_it_solves,
        dict(row.relevance),
        [entity.name for entity in bodies],
        [entity.code or entity.name for entity in bodies],
        [p.organization for p in row.partners if p.entity is None],
        row.start_month,
        row.end_month,
        True,
        row.edited_by,
        row.edited_at,
    )


def _month(value: str, record: str, option: str) -> str:
    try:
        return parse_month(value)
    except ValueError as exc:
        raise InvalidInputError(record, option, str(exc)) from exc


def check_months(
    plan: Plan, record: str, start: str, end: str, start_option: str, end_option: str, *, kept_end: bool = False
) -> None:
    """A span of months within the plan's period (when the period reads YYYY-YYYY) and in order.
    Raises `InvalidInputError` naming the option at fault: a month outside the period first; for
    months out of order, the end, or the start where the end was kept as it stood (`kept_end`:
    only the start was given, so the start is what moved past the end)."""
    span = plan_months(plan)
    if span is not None:
        for month, option in ((start, start_option), (end, end_option)):
            if month and not span[0] <= month <= span[1]:
                raise InvalidInputError(record, option, f"{month} is outside the plan's period {plan.period}")
    if start and end and end < start:
        if kept_end:
            raise InvalidInputError(record, start_option, f"{start} is after the end month {end}")
        raise InvalidInputError(record, end_option, f"{end} is before the start month {start}")


def edit_commitment(
    session: Session, key: str | int, changes: CommitmentChanges, *, actor: str, now: dt.datetime | None = None
) -> Commitment:
    """Write or change a commitment's text in OGP's template (a recorded step, on a committed
    proposal). Changing nothing records nothing. Raises `InvalidInputError`, `DuplicateError`,
    `NotFoundError`, `StepNotAllowedError`."""
    proposal = get_proposal(session, key)
    record = f"commitment {proposal.ref}"
    index = EntityIndex(session)
    supporting = None
    if changes.supporting is not None:
        supporting = list(dict.fromkeys(index.get(name) for name in changes.supporting if name.strip()))
    orgs = None
    if changes.supporting_orgs is not None:
        named = (fields.line(x, record, "--supporting-org") for x in changes.supporting_orgs)
        orgs = list(dict.fromkeys(o for o in named if o))
    relevance: dict[str, str] = {}
    for value_name, text in changes.relevance:
        value = parse_value(value_name)
        if value is None:
            known = known_values()
            raise InvalidInputError(record, "--relevance", f"unknown OGP value {value_name.strip()!r} (known: {known})")
        relevance[value.value] = fields.block(text, record, "--relevance")
    with ledger.recorded(
        session, Action.EDIT_COMMITMENT, actor=actor, now=now, proposal=proposal, optional=True
    ) as step:
        plan = current_plan(session)
        row = session.get(Commitment, proposal.id)
        if row is None:
            row = Commitment(
                proposal_id=proposal.id, ogp_id="", problem=proposal.problem, status_quo="",
                description=proposal.solution, how_it_solves="", relevance={}, start_month="", end_month="",
                edited_by=actor, edited_at=audit.utc_stamp(step.now),
            )  # fmt: skip
            session.add(row)
        if changes.ogp_id is not None:
            ogp_id = changes.ogp_id.strip()
            if ogp_id and not OGP_ID_PATTERN.match(ogp_id):
                raise InvalidInputError(record, "--ogp-id", f"{ogp_id!r} is not an OGP commitment number (e.g. JO0070)")
            taken = session.scalar(
                select(Proposal.ref)
                .join(Commitment, Commitment.proposal_id == Proposal.id)
                .where(Commitment.ogp_id == ogp_id, Commitment.proposal_id != proposal.id)
            )
            if ogp_id and taken:
                raise InvalidInputError(record, "--ogp-id", f"{ogp_id} is already the OGP id of {taken}")
            row.ogp_id = ogp_id
        for name in TEXT_FIELDS:
            value = getattr(changes, name)
            if value is not None:
                setattr(row, name, fields.block(value, record, "--" + name.replace("_", "-")))
        if relevance:
            merged = {**row.relevance, **relevance}
            row.relevance = {code: merged[code] for code in (v.value for v in OgpValue) if merged.get(code)}
        start = _month(changes.start, record, "--start") if changes.start is not None else row.start_month
        end = _month(changes.end, record, "--end") if changes.end is not None else row.end_month
        kept_end = changes.end is None and changes.start is not None
        check_months(plan, record, start, end, "--start", "--end", kept_end=kept_end)
        _check_milestones_inside(session, proposal, record, start, end)
        row.start_month, row.end_month = start, end
        if supporting is not None or orgs is not None:
            _set_partners(session, proposal, row, supporting, orgs, record)
        session.flush()
        if step.changes:
            row.edited_by, row.edited_at = actor, audit.utc_stamp(step.now)
        step.reason = f"the commitment of {proposal.ref} in OGP's template"
    return row


def _check_milestones_inside(session: Session, proposal: Proposal, record: str, start: str, end: str) -> None:
    query = select(Milestone).where(Milestone.proposal_id == proposal.id).order_by(Milestone.id)
    for milestone in session.scalars(query):
        label = ledger.milestone_label(milestone.id)
        if start and milestone.start_month < start:
            raise InvalidInputError(
                record, "--start", f"{start} is after {label}'s start month {milestone.start_month}"
            )
        if end and milestone.planned_end_month > end:
            raise InvalidInputError(
                record, "--end", f"{end} is before {label}'s end month {milestone.planned_end_month}"
            )


def _set_partners(
    session: Session,
    proposal: Proposal,
    row: Commitment,
    supporting: list[Entity] | None,
    orgs: list[str] | None,
    record: str,
) -> None:
    bodies = [p.entity for p in row.partners if p.entity is not None] if supporting is None else supporting
    names = [p.organization for p in row.partners if p.entity is None] if orgs is None else orgs
    for entity in bodies:
        if proposal.lead_entity_id == entity.id:
            raise InvalidInputError(record, "--supporting", f"{entity.name} leads the commitment; it cannot support it")
    wanted = [(entity.id, "") for entity in bodies] + [(None, name) for name in names]
    # Rows are rewritten in place, then added or deleted at the end, never deleted and added in one
    # flush (SQLite would give a new row the number of one just deleted, and the chain would hold
    # the insert before the delete). Deleted explicitly: the ledger sees `session.delete`, not a
    # row a collection lets go of.
    partners = list(row.partners)
    for partner, (entity_id, organization) in zip(partners, wanted, strict=False):
        partner.entity_id, partner.organization = entity_id, organization
    for position, (entity_id, organization) in enumerate(wanted[len(partners) :], start=len(partners)):
        row.partners.append(CommitmentPartner(entity_id=entity_id, organization=organization, position=position))
    for partner in partners[len(wanted) :]:
        session.delete(partner)
