"""Building proposals and moving them, for tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from states import Event, State
from workflow.db import resolve
from workflow.evaluation import ScoreInput, list_criteria, record_response, record_score
from workflow.interviews import record_interview
from workflow.members import MemberIndex, add_member
from workflow.models import AuditEntry, Base, Proposal
from workflow.moves import MoveResult, advance
from workflow.proposals import ProposalInput, add_proposal, get_proposal

NOW = dt.datetime(2021, 7, 28, 9, 30, tzinfo=dt.UTC)
# A day still ahead whenever the suite runs: an invitation is for a time still to come.
SOON = (dt.date.today() + dt.timedelta(days=30)).isoformat()
# The name under which tests/test_cli_property.py puts what it ran on its test's report (plain
# counts), printed at the end of the pytest run by tests/conftest.py.
CLI_PROPERTY_RUN = "cli_property_run"
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


TESTER = "عضو الاختبار"


def score_all(session: Session, ref: str, value: int = 4, member: str = TESTER) -> None:
    """`member` (added to the working group if need be) scores `ref` on every criterion."""
    if MemberIndex(session).find(member) is None:
        add_member(session, member, "جهة محايدة", "government", actor="tester")
    for criterion in list_criteria(session):
        record_score(session, ScoreInput(ref, member, criterion.code, value), actor="tester", now=NOW)


def agree(session: Session, ref: str, entity: str | None = None) -> None:
    """A relevant body (the first, unless named) agrees to take the proposal on."""
    proposal = get_proposal(session, ref)
    entity = entity or (proposal.entities[0].code or proposal.entities[0].name)
    record_response(session, ref, entity, agreed=True, responded_on=None, note="", actor="tester", now=NOW)


def bring_to(session: Session, ref: str, state: State) -> None:
    """Move a submitted proposal along the main path until it is in `state`, with the interview,
    scores and agreement each step needs."""
    for reached, event in PATH:
        if event is Event.INTERVIEW:
            record_interview(session, ref, dt.date(2021, 7, 28), actor="tester", platform="Zoom", now=NOW)
        if event is Event.SHORTLIST:
            score_all(session, ref)
        if event is Event.COMMIT:
            agree(session, ref)
        move(session, ref, event)
        if reached is state:
            return


def seq_of(session: Session, ref: str, event: str) -> int:
    """The sequence number of the newest entry that took `event` on proposal `ref`."""
    query = select(AuditEntry.seq).where(AuditEntry.proposal_ref == ref, AuditEntry.event == event)
    found = session.scalar(query.order_by(AuditEntry.seq.desc()).limit(1))
    assert found is not None, (ref, event)
    return int(found)


def drop_audit_guards(session: Session) -> None:
    """What someone with raw database access could do before tampering."""
    if session.bind is not None and session.bind.dialect.name == "sqlite":
        session.execute(text("DROP TRIGGER audit_entries_no_update"))
        session.execute(text("DROP TRIGGER audit_entries_no_delete"))
    else:
        session.execute(text("DROP TRIGGER audit_entries_no_change ON audit_entries"))


def dump_tables(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the workspace at `url`, in key order: compare two dumps to
    prove a refused command changed no record."""
    engine = create_engine(resolve(url).url)
    try:
        with engine.connect() as connection:
            return {
                table.name: [tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key))]
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


CRITERIA = ("importance", "global_trend", "ogp_values", "national_priorities", "government_mandate")
SCORER = "عضو محايد"


def cli_to_shortlisted(invoke: Callable[..., Any], ref: str) -> None:
    """From the command line: interview `ref`, have a neutral member score it, shortlist it.
    `invoke(*args)` runs one `ogp` command and returns click's Result."""
    if SCORER not in invoke("member", "list").stdout:
        invoke("member", "add", SCORER, "--org", "جهة محايدة", "--sector", "government")
    for args in (
        ("interview", "record", ref, "--on", "2021-07-28", "--platform", "Zoom"),
        ("advance", ref, "interview"),
        *[("score", ref, "--member", SCORER, "--criterion", code, "--value", "4") for code in CRITERIA],
        ("advance", ref, "shortlist"),
    ):
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.output)
