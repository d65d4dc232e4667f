"""Building proposals and moving them, for tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from states import Event, State
from workflow.models import Proposal
from workflow.moves import MoveResult, advance
from workflow.proposals import ProposalInput, add_proposal, record_interview

NOW = dt.datetime(2021, 7, 28, 9, 30, tzinfo=dt.UTC)
PATH = (
    (State.INTERVIEWED, Event.INTERVIEW),
    (State.SHORTLISTED, Event.SHORTLIST),
    (State.REFERRED, Event.REFER),
    (State.COMMITTED, Event.COMMIT),
)


def register(session: Session, ref: str, entities: Sequence[str] = ("MODEE",), title: str = "") -> Proposal:
    raw = ProposalInput(
        title=title or f"منصة البيانات المفتوحة {ref}",
        organization="مركز الشفافية الأردني",
        ref=ref,
        email="info@example.org",
        problem="صعوبة الوصول إلى البيانات.",
        solution="نشر البيانات بصيغة مفتوحة.",
        values=("access_to_information",),
        entities=entities,
        submitted_on="2021-06-20",
    )
    return add_proposal(session, raw, actor="tester", now=NOW)


def move(session: Session, ref: str, event: Event, reason: str = "", **kwargs: object) -> MoveResult:
    kwargs.setdefault("now", NOW)
    return advance(session, ref, event, actor="tester", reason=reason, **kwargs)  # type: ignore[arg-type]


def bring_to(session: Session, ref: str, state: State) -> None:
    """Move a submitted proposal along the main path until it is in `state`."""
    for reached, event in PATH:
        if event is Event.INTERVIEW:
            record_interview(session, ref, dt.date(2021, 7, 28), actor="tester", platform="Zoom", now=NOW)
        move(session, ref, event)
        if reached is state:
            return


def drop_audit_guards(session: Session) -> None:
    """What someone with raw database access could do before tampering."""
    if session.bind is not None and session.bind.dialect.name == "sqlite":
        session.execute(text("DROP TRIGGER audit_entries_no_update"))
        session.execute(text("DROP TRIGGER audit_entries_no_delete"))
    else:
        session.execute(text("DROP TRIGGER audit_entries_no_change ON audit_entries"))
