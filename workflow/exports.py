"""Exports: the record as tables with stable, documented columns (`ogp export KIND`), for a
spreadsheet, a report or another program. Each kind's columns are fixed here; the README lists them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from states import State
from workflow import views
from workflow.evaluation import decided_places, list_criteria, list_responses, ranking
from workflow.letters import register
from workflow.models import AuditEntry, Score
from workflow.proposals import list_proposals


@dataclass(frozen=True)
class Table:
    """An export: its columns, in order, and its rows."""

    columns: tuple[str, ...]
    rows: list[dict[str, Any]]


def _proposals(session: Session) -> Table:
    columns = (
        "ref", "title", "organization", "email", "problem", "solution", "values", "entities",
        "submitted_on", "language", "state", "lead",
    )  # fmt: skip
    rows = []
    for p in list_proposals(session):
        rows.append(
            {
                "ref": p.ref,
                "title": p.title,
                "organization": p.organization,
                "email": p.email,
                "problem": p.problem,
                "solution": p.solution,
                "values": list(p.values),
                "entities": [e.code or e.name for e in p.entities],
                "submitted_on": p.submitted_on.isoformat(),
                "language": p.language,
                "state": p.state.value,
                "lead": (p.lead_entity.code or p.lead_entity.name) if p.lead_entity else "",
            }
        )
    return Table(columns, rows)


def _scores(session: Session) -> Table:
    columns = ("ref", "member", "criterion", "value", "note", "updated_at", "updated_by")
    query = select(Score).order_by(Score.proposal_id, Score.member_id, Score.criterion_id)
    refs = {p.id: p.ref for p in list_proposals(session)}
    rows = [
        {"ref": refs[s.proposal_id], "member": s.member.name, "criterion": s.criterion.code, "value": s.value,
         "note": s.note, "updated_at": s.updated_at, "updated_by": s.updated_by}
        for s in session.scalars(query)
    ]  # fmt: skip
    return Table(columns, rows)


def _ranking(session: Session) -> Table:
    codes = [c.code for c in list_criteria(session)]
    columns = ("rank", "ref", "title", "state", "total", *codes, "scorers", "eligible", "quorum", "complete", "decided")
    decided_states = (State.SHORTLISTED, State.REFERRED, State.COMMITTED, State.REJECTED, State.WITHDRAWN)
    places = [views.standing_view(p) for p in ranking(session)]
    places += [views.decided_place_view(p) for p in decided_places(session, decided_states)]
    rows = []
    for place in places:
        means = {code: place["criteria"].get(code, {}).get("mean") for code in codes}
        rows.append({**{k: place[k] for k in columns if k in place}, **means, "decided": place["decided"] or ""})
    return Table(columns, rows)


def _responses(session: Session) -> Table:
    columns = ("ref", "entity", "agreed", "on", "note", "recorded_by", "recorded_at")
    refs = {p.id: p.ref for p in list_proposals(session)}
    return Table(columns, [views.response_view(r, refs[r.proposal_id]) for r in list_responses(session)])


def _register(session: Session) -> Table:
    columns = (
        "reference", "issued_on", "kind", "ref", "entity", "addressee", "language", "subject", "file_name",
        "sha256", "audit_seq", "void_reason", "replaces",
    )  # fmt: skip
    return Table(columns, [views.letter_view(letter) for letter in register(session)])


def _history(session: Session) -> Table:
    columns = ("seq", "at", "actor", "db_role", "ref", "event", "from_state", "to_state", "reason", "letters", "hash")
    rows = []
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        rows.append(
            {"seq": entry.seq, "at": entry.at, "actor": entry.actor, "db_role": entry.db_role or "",
             "ref": entry.proposal_ref or "", "event": entry.event, "from_state": entry.from_state or "",
             "to_state": entry.to_state or "", "reason": entry.reason, "letters": len(entry.letters),
             "hash": entry.hash}
        )  # fmt: skip
    return Table(columns, rows)


KINDS: dict[str, Callable[[Session], Table]] = {
    "proposals": _proposals,
    "scores": _scores,
    "ranking": _ranking,
    "responses": _responses,
    "register": _register,
    "history": _history,
}


def export(session: Session, kind: str) -> Table:
    """The table of `kind` (one of `KINDS`): its columns and rows, as the record stands."""
    return KINDS[kind](session)
