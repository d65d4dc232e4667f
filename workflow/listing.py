"""`ogp proposal list`: the proposals a filter finds, read with SQLAlchemy Core on a plain
connection.

A listing is the command coordinators run most, often in a loop of a script. It needs neither
the ORM nor the declarative models (`workflow.models`), whose imports cost more than the listing
itself (issue 13: `ogp proposal list --json` on 10,000 proposals within 1.5x the import of
`sqlalchemy.orm`). The few columns it reads are named below as light `table()` clauses; the
schema itself stays in `workflow.models`, and tests hold these clauses to it column for column.
Only a listing by body (`--entity`) loads the models, to find the body as every command does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Date, Integer, String, Text, column, exists, select, table

from states import State
from workflow.errors import InvalidInputError, StoredValueError
from workflow.names import name_key
from workflow.storedtypes import ValueCodes
from workflow.vocabulary import known_values, parse_value

PROPOSALS = table(
    "proposals",
    column("id", Integer), column("ref", String), column("title", Text), column("organization", Text),
    column("problem", Text), column("solution", Text), column("values", ValueCodes("proposals.values")),
    column("submitted_on", Date), column("state", String), column("version", Integer), column("language", String),
    column("lead_entity_id", Integer),
)  # fmt: skip
ENTITIES = table("entities", column("id", Integer), column("code", String), column("name", Text))
PROPOSAL_ENTITIES = table(
    "proposal_entities", column("proposal_id", Integer), column("entity_id", Integer), column("position", Integer)
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


def proposal_listing(connection: Connection, where: ProposalFilter) -> list[dict[str, Any]]:
    """What `ogp proposal list` shows of each proposal `where` finds, in registration order: dicts
    in the shape of `views.proposal_view` (id, ref, title, organization, state, submitted_on as
    ISO text, entities as codes or names in the proposer's order, version, language, lead).

    Three queries whatever the number of proposals. Raises `InvalidInputError` for an unknown
    OGP value and `NotFoundError` for an unknown body, as `proposals.list_proposals` does, and
    `StoredValueError` for a proposal holding what no step writes (changed with another tool), or
    `storedtypes.StoredShapeError` where that is OGP values that are not a list of texts."""
    p = PROPOSALS.c
    columns = (p.id, p.ref, p.title, p.organization, p.state, p.submitted_on, p.version, p.language, p.lead_entity_id)
    # What only a filter reads: the OGP values (a JSON column, decoded row by row) and the texts.
    extra = (p["values"],) if where.value else ()  # p.values is the collection's own method
    texts = (p.problem, p.solution) if where.search else ()
    query = select(*columns, *extra, *texts).order_by(p.id)
    if where.state is not None:
        query = query.where(p.state == where.state.value)
    elif not where.include_discarded:
        query = query.where(p.state != State.DISCARDED.value)
    if where.entity:
        link = PROPOSAL_ENTITIES.c
        body = _body_id(connection, where.entity)
        query = query.where(exists().where(link.proposal_id == p.id, link.entity_id == body))
    rows: Sequence[Sequence[Any]] = connection.execute(query).all()
    e, link = ENTITIES.c, PROPOSAL_ENTITIES.c
    bodies = {id_: code or name for id_, code, name in connection.execute(select(e.id, e.code, e.name))}
    _check(rows, len(columns), bool(extra), bodies)
    if where.value or where.org or where.search:
        keep = kept(where)
        start = len(columns) + len(extra)
        rows = [
            row for row in rows
            if keep(row[len(columns)] if extra else [], row[3], (row[1], row[2], row[3], *row[start:]))
        ]  # fmt: skip
    named: dict[int, list[str]] = {}
    links = select(link.proposal_id, link.entity_id).order_by(link.proposal_id, link.position)
    for proposal_id, entity_id in connection.execute(links).all():  # all(): a row at a time costs twice
        if entity_id not in bodies:
            raise StoredValueError(f"proposal #{proposal_id} names body #{entity_id}, which is not there")
        named.setdefault(proposal_id, []).append(bodies[entity_id])
    # Rows are unpacked by position: a Row's attribute lookup costs as much as the rest together.
    return [
        {
            "id": id_, "ref": ref, "title": title, "organization": organization, "state": state,
            "submitted_on": submitted_on.isoformat(), "entities": named.get(id_, []), "version": version,
            "language": language, "lead": bodies[lead] if lead is not None else None,
        }
        for id_, ref, title, organization, state, submitted_on, version, language, lead, *_ in rows
    ]  # fmt: skip


def _check(rows: Sequence[Sequence[Any]], width: int, with_values: bool, bodies: dict[int, str]) -> None:
    """Refuse (`StoredValueError`) a row holding what no step writes, before it is filtered or
    shown: a state no machine has, text that is not text, a day that is no date, a lead body that
    is not there (OGP values that are not a list of texts are refused as they are read, by their
    column's type). The product's own rows always pass; these come only from a change made with
    another tool."""
    for row in rows:
        id_, ref, title, organization, state, submitted_on, _, _, lead = row[:width]
        where = f"proposals #{id_}"
        if state not in _STATES:
            raise StoredValueError(f"{where}: state {state!r}")
        if not all(type(text) is str for text in (ref, title, organization, *row[width + with_values :])):
            raise StoredValueError(f"{where}: a ref, title, organisation, problem or solution that is not text")
        if not isinstance(submitted_on, dt.date):
            raise StoredValueError(f"{where}: submitted_on {submitted_on!r}")
        if lead is not None and (type(lead) is not int or lead not in bodies):
            raise StoredValueError(f"{where}: lead_entity_id {lead!r}, which no body has")


_STATES = frozenset(state.value for state in State)


def _body_id(connection: Connection, key: str) -> int:
    """The id of the body `key` names (a code in any case, or a name as people type it), found
    as every command finds one (`plans.EntityIndex`); `NotFoundError` if none."""
    from sqlalchemy.orm import Session

    from workflow.plans import EntityIndex

    with Session(bind=connection) as session:
        return EntityIndex(session).get(key).id


def kept(where: ProposalFilter) -> Callable[[list[str], str, Sequence[str]], bool]:
    """Whether a proposal (its OGP values, organisation, and the texts searched: ref, title,
    organisation, problem, solution) matches `where`'s value, organisation and search, compared
    as names are (`names.name_key`). Raises `InvalidInputError` for an unknown OGP value."""
    value = None
    if where.value:
        value = parse_value(where.value)
        if value is None:
            known = known_values()
            raise InvalidInputError("proposal list", "--value", f"unknown OGP value {where.value!r} (known: {known})")
    org = name_key(where.org) if where.org else None
    needle = name_key(where.search) if where.search else None

    def keep(values: list[str], organization: str, texts: Sequence[str]) -> bool:
        if value is not None and value.value not in values:
            return False
        if org is not None and name_key(organization) != org:
            return False
        return needle is None or any(needle in name_key(text) for text in texts)

    return keep
