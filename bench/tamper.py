"""The tamper matrix: what someone with write access to the database could do, and what catches it.

For every table of the record it tries, each on a fresh copy of one workspace: edit a value,
delete a row, insert a row, reorder two rows (swap their keys). On the audit trail itself: edit an
entry's body and a column, delete, insert, reorder, rewrite one entry and re-hash the chain from
the start (stored letters re-stamped too), append a correctly hashed illegal move, and cut the
newest entries off (the rows they wrote undone). Each try is then checked the three ways a person
can: `ogp audit verify`, `ogp audit verify --expect-head` against the head published before the
tampering, and `ogp letters verify DIR` on the letters already sent. An untouched copy must pass
all three (no false alarm). It prints one line per try: what was detected, by what, and whether
the message named the right table or entry.

    python bench/tamper.py                       # SQLite and PostgreSQL, on the demo workspace
    python bench/tamper.py --backend sqlite --small
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Connection, Table, UniqueConstraint, create_engine, func, select, text
from sqlalchemy.orm import Session

from documents.package import read_package, with_properties, zip_parts
from states import Event, MilestoneEvent
from workflow import audit, db, ledger, replay
from workflow.commitments import CommitmentChanges, edit_commitment
from workflow.compliance import publish_timeline
from workflow.demo import play
from workflow.errors import VerificationError
from workflow.evaluation import ScoreInput, declare_conflict, list_criteria, record_response, record_score
from workflow.followups import follow_up
from workflow.interviews import record_interview, schedule_interview
from workflow.letters import list_letters, write_files
from workflow.letters import verify as verify_letters
from workflow.members import add_meeting, add_member
from workflow.milestones import add_milestone, advance_milestone, list_milestones
from workflow.models import AuditEntry
from workflow.moves import advance
from workflow.outbox import PROPERTY_HASH
from workflow.plans import PlanSettings, add_entity, configure_plan
from workflow.progress import EvidenceItem, record_progress
from workflow.proposals import ProposalInput, add_proposal
from workflow.publish import publish, staged_site
from workflow.shortlist import shortlist_top

NOW = dt.datetime(2021, 7, 20, 9, 0, tzinfo=dt.UTC)
ACTOR = "coordinator"


# --- the workspace tampered with ------------------------------------------------------------------


def build_small(session: Session, folder: Path) -> None:
    """A small plan in which every table of the record holds at least two rows."""
    configure_plan(session, PlanSettings(quorum=2), actor=ACTOR, now=NOW)
    for name, code in (("وزارة الاقتصاد الرقمي والريادة", "MODEE"), ("سجل الجمعيات", "ROS"), ("وزارة الصحة", "MOH")):
        add_entity(session, name, code, actor=ACTOR, now=NOW)
    for name, org in (("مي", "وحدة الحكومة الشفافة"), ("ندى", "وزارة الاقتصاد الرقمي"), ("هيلدا", "مركز الشفافية")):
        add_member(session, name, org, actor=ACTOR, now=NOW)
    add_meeting(session, dt.date(2021, 7, 15), attendees=("مي", "ندى"), apologies=("هيلدا",), topics=("المعايير",),
                actor=ACTOR, now=NOW)  # fmt: skip
    add_meeting(session, dt.date(2021, 7, 16), attendees=("مي",), actor=ACTOR, now=NOW)
    for n, bodies in ((1, ("MODEE", "ROS")), (2, ("ROS",)), (3, ("MOH",)), (4, ("MOH",))):
        raw = ProposalInput(f"فكرة {n}", f"جمعية {n}", f"P-{n}", values=("accountability",), entities=bodies,
                            submitted_on="2021-06-20")  # fmt: skip
        add_proposal(session, raw, actor=ACTOR, now=NOW)
    for ref in ("P-1", "P-2"):
        schedule_interview(session, ref, dt.datetime(2021, 7, 28, 10), actor=ACTOR, now=NOW, workspace_folder=folder)
    later = NOW + dt.timedelta(days=10)
    for ref, present in (("P-1", ("مي", "ندى")), ("P-2", ("مي",)), ("P-3", ("ندى",))):
        record_interview(session, ref, dt.date(2021, 7, 28), actor=ACTOR, members=present, now=later)
        advance(session, ref, Event.INTERVIEW, actor=ACTOR, now=later)
    criteria = [c.code for c in list_criteria(session)]
    for ref, value in (("P-1", 5), ("P-2", 4), ("P-3", 2)):
        for member in ("مي", "ندى"):
            for code in criteria:
                record_score(session, ScoreInput(ref, member, code, value), actor=ACTOR, now=later)
    record_score(session, ScoreInput("P-3", "مي", criteria[0], 3, "بعد المراجعة"), actor=ACTOR, now=later)
    declare_conflict(session, "هيلدا", "P-3", reason="عضو في الجمعية", actor=ACTOR, now=later)
    declare_conflict(session, "هيلدا", "P-2", reason="قرابة", actor=ACTOR, now=later)
    shortlist_top(session, 2, actor=ACTOR, now=later, workspace_folder=folder)
    advance(session, "P-3", Event.REJECT, actor=ACTOR, reason="دون الأفكار المختارة", now=later,
            workspace_folder=folder)  # fmt: skip
    for ref in ("P-1", "P-2"):
        advance(session, ref, Event.REFER, actor=ACTOR, now=later, workspace_folder=folder)
    answered = later + dt.timedelta(days=5)
    record_response(session, "P-1", "MODEE", agreed=True, responded_on=None, note="", actor=ACTOR, now=answered)
    record_response(session, "P-2", "ROS", agreed=False, responded_on=None, note="لا", actor=ACTOR, now=answered)
    follow_up(session, "P-1", "ROS", actor=ACTOR, now=answered, workspace_folder=folder)
    advance(session, "P-1", Event.COMMIT, actor=ACTOR, now=answered, workspace_folder=folder)
    advance(session, "P-4", Event.WITHDRAW, actor=ACTOR, reason="انسحاب", now=answered, workspace_folder=folder)
    for day in (dt.date(2021, 8, 20), dt.date(2021, 8, 31)):  # two publications: the update log has two rows
        with staged_site(folder / "site") as staging:
            publish(session, staging, actor=ACTOR, published_on=day, now=dt.datetime.combine(day, dt.time(12), dt.UTC),
                    workspace_folder=folder)  # fmt: skip
    build_implementation(session)


def build_implementation(session: Session) -> None:
    """After the commitments: two commitments in OGP's template, milestones moved, progress from
    both sides with evidence (a file and a web address), the co-creation timeline published."""
    for published, starts in ((dt.date(2021, 5, 1), dt.date(2021, 6, 1)), (dt.date(2021, 5, 2), dt.date(2021, 6, 2))):
        publish_timeline(session, published, starts, actor=ACTOR, now=NOW)
    later = dt.datetime(2021, 9, 1, 9, tzinfo=dt.UTC)
    record_response(session, "P-2", "ROS", agreed=True, responded_on=None, note="نعم", actor=ACTOR, now=later)
    advance(session, "P-2", Event.COMMIT, actor=ACTOR, now=later)
    changes = CommitmentChanges(ogp_id="JO9901", status_quo="ورقي", supporting=("ROS",), supporting_orgs=("جمعية 1",),
                                relevance=(("accountability", "مساءلة"),), start="2021-10", end="2023-06")  # fmt: skip
    edit_commitment(session, "P-1", changes, actor=ACTOR, now=later)
    edit_commitment(session, "P-2", CommitmentChanges(ogp_id="JO9902", start="2021-10", end="2023-06"),
                    actor=ACTOR, now=later)  # fmt: skip
    for ref, title, start, end in (("P-1", "أولى", "2021-10", "2022-03"), ("P-1", "ثانية", "2022-01", "2022-06"),
                                   ("P-2", "ثالثة", "2021-10", "2022-12")):  # fmt: skip
        add_milestone(session, ref, title=title, output="مخرج", start=start, end=end, responsible="MODEE",
                      actor=ACTOR, now=later)  # fmt: skip
    first, second, third = (m.id for m in list_milestones(session))
    implemented = dt.datetime(2022, 3, 20, 9, tzinfo=dt.UTC)
    for mid in (first, second):
        advance_milestone(session, mid, MilestoneEvent.START, actor=ACTOR, dated=dt.date(2021, 10, 5), now=implemented)
    evidence = [EvidenceItem(file_name="a.csv", content=b"a,b\n1,2\n"), EvidenceItem(url="https://example.org/e")]
    record_progress(session, first, percent=100, note="تم", side="government", evidence=evidence, actor=ACTOR,
                    now=implemented)  # fmt: skip
    record_progress(session, first, percent=90, note="تقريباً", side="civil-society", actor=ACTOR, now=implemented)
    record_progress(session, third, percent=10, note="بداية", side="government", actor=ACTOR, now=implemented)
    advance_milestone(session, first, MilestoneEvent.COMPLETE, actor=ACTOR, now=implemented)
    advance_milestone(session, second, MilestoneEvent.DELAY, actor=ACTOR, reason="تأخر التمويل", new_end="2022-09",
                      now=implemented)  # fmt: skip


def build_demo(session: Session, folder: Path) -> None:
    """The demo's plan: ten proposals through every state."""
    play(session, actor=ACTOR, workspace_folder=folder)


# --- a copy of it, per try ------------------------------------------------------------------------


@dataclass
class Base:
    """The untouched workspace, the head published from it and the letters already sent."""

    url: str
    head: audit.Head
    sent: Path
    copies: Callable[[], contextlib.AbstractContextManager[str]]
    close: Callable[[], None] = lambda: None


def _sqlite_base(folder: Path, build: Callable[[Session, Path], None]) -> Base:
    path = folder / "base.db"
    base = _prepare(f"sqlite:///{path}", folder, build)
    counter = iter(range(1, 10_000))

    @contextlib.contextmanager
    def copy() -> Iterator[str]:
        target = folder / f"copy-{next(counter)}.db"
        shutil.copy(path, target)
        try:
            yield f"sqlite:///{target}"
        finally:
            target.unlink(missing_ok=True)

    base.copies = copy
    return base


def _postgres_base(folder: Path, build: Callable[[Session, Path], None], cluster: Any) -> Base:
    admin = create_engine(cluster.url_base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS ogp_tamper_base"))
        connection.execute(text("CREATE DATABASE ogp_tamper_base"))
    url = admin.url.set(database="ogp_tamper_base").render_as_string(hide_password=False)
    base = _prepare(url, folder, build)
    counter = iter(range(1, 10_000))

    @contextlib.contextmanager
    def copy() -> Iterator[str]:
        name = f"ogp_tamper_{next(counter)}"
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name} TEMPLATE ogp_tamper_base"))
        try:
            yield admin.url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    def close() -> None:
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS ogp_tamper_base WITH (FORCE)"))
        admin.dispose()

    base.copies, base.close = copy, close
    return base


def _prepare(url: str, folder: Path, build: Callable[[Session, Path], None]) -> Base:
    workspace = db.resolve(url, cwd=folder)
    engine = db.make_engine(workspace)
    try:
        db.upgrade(engine)
        with Session(engine) as session, session.begin():
            build(session, folder)
        sent = folder / "sent"
        with Session(engine) as session:
            head = audit.current_head(session)
            write_files(sent, [(letter.file_name, letter.content) for letter in list_letters(session)])
    finally:
        engine.dispose()
    return Base(url, head, sent, lambda: contextlib.nullcontext(url))


# --- the tampering, in SQL, past every guard a database owner can lift ----------------------------


@contextlib.contextmanager
def raw(url: str) -> Iterator[Connection]:
    """A connection with foreign keys and triggers out of the way, in one committed transaction."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":  # a plain engine: SQLite's foreign keys are off
                with connection.begin():
                    for trigger in ("audit_entries_no_update", "audit_entries_no_delete"):
                        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
                    yield connection
            else:
                with connection.begin():
                    connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
                    yield connection
    finally:
        engine.dispose()


def _table(name: str) -> Table:
    return next(t for t in (*ledger.RECORD_TABLES, AuditEntry.__table__) if t.name == name)  # type: ignore[misc]


def _rows(connection: Connection, table: Table, limit: int = 2) -> list[dict[str, Any]]:
    keys = [table.c[k] for k in ledger.KEY_COLUMNS.get(table.name, ("seq",))]
    return [dict(r) for r in connection.execute(select(table).order_by(*keys).limit(limit)).mappings()]


def _where(table: Table, row: dict[str, Any]) -> Any:
    keys = ledger.KEY_COLUMNS.get(table.name, ("seq",))
    clause = None
    for k in keys:
        term = table.c[k] == row[k]
        clause = term if clause is None else clause & term
    return clause


def _changed(value: Any, column: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=1)
    if isinstance(value, bytes | memoryview):
        return bytes(value) + b"\0"
    if isinstance(value, list):
        return [*value, "x"]
    if isinstance(value, dict):
        return {**value, "x": 1}
    if column.name == "state":
        return "withdrawn" if value != "withdrawn" else "rejected"
    if value is None:
        return 3 if str(column.type).upper().startswith("INT") else "x"
    return f"{value}x"


def edit(connection: Connection, name: str) -> str | None:
    table = _table(name)
    rows = _rows(connection, table, 1)
    if not rows:
        return None  # an empty table: nothing to edit
    row = rows[0]
    excluded = ledger.EXCLUDED_COLUMNS.get(name, frozenset())
    keys = ledger.KEY_COLUMNS[name]
    candidates = [c for c in table.columns if c.name not in excluded and c.name not in keys and not c.foreign_keys]
    column = table.c.subject if name == "letters" else candidates[0] if candidates else table.columns[keys[-1]]
    value = _changed(row[column.name], column) if candidates else row[column.name] + 1000  # a row of keys only
    connection.execute(table.update().where(_where(table, row)).values({column.name: value}))
    return f"{column.name} of {ledger.canonical_json(ledger.row_key(name, row))}"


def delete(connection: Connection, name: str) -> str | None:
    table = _table(name)
    rows = _rows(connection, table, 1)
    if not rows:
        return None
    row = rows[0]
    connection.execute(table.delete().where(_where(table, row)))
    return ledger.canonical_json(ledger.row_key(name, row))


def insert(connection: Connection, name: str) -> str:
    table = _table(name)
    rows = _rows(connection, table, 1)
    row = rows[0] if rows else _fabricated(table)
    keys = ledger.KEY_COLUMNS[name]
    if "id" in table.c:
        row["id"] = (connection.scalar(select(func.max(table.c.id))) or 0) + 1000
    unique = {c.name for c in table.columns if c.unique}
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            unique.add(next(iter(constraint.columns)).name)
    for column in {*unique, *(k for k in keys if k != "id")}:
        value = row[column]
        if value is not None:  # a value, and a key, that no row holds
            row[column] = value + 1000 if isinstance(value, int) else f"{value}x"
    connection.execute(table.insert().values(row))
    return ledger.canonical_json(ledger.row_key(name, row))


def _fabricated(table: Table) -> dict[str, Any]:
    """A plausible row for an empty table, typed column by column."""
    row: dict[str, Any] = {}
    for column in table.columns:
        kind = column.type.python_type
        row[column.name] = {int: 1, bool: True, dt.date: dt.date(2021, 7, 28), list: [], dict: {}, bytes: b"x"}.get(
            kind, "0" * 64 if getattr(column.type, "length", None) == 64 else "x"
        )
    return row


def reorder(connection: Connection, name: str) -> str | None:
    """Swap two rows' keys (every other value stays where it was); rows that hold nothing but
    their key are swapped on a key column, so the table really changes."""
    table = _table(name)
    rows = _rows(connection, table, 1000)
    if len(rows) < 2:
        return None  # one row (the plan): nothing to reorder
    first, second = rows[:2]
    keys = ledger.KEY_COLUMNS[name]
    if all(first[c.name] == second[c.name] for c in table.columns if c.name not in keys):
        # Rows of keys only (interview_members): move two members between two interviews.
        taken = {tuple(r[k] for k in keys) for r in rows}
        pair = next(
            ((a, b) for a in rows for b in rows
             if a[keys[0]] != b[keys[0]] and a[keys[1]] != b[keys[1]]
             and (b[keys[0]], a[keys[1]]) not in taken and (a[keys[0]], b[keys[1]]) not in taken),
            None,
        )  # fmt: skip
        if pair is None:
            return None  # every interview had the same members: swapping changes nothing
        first, second = pair
        keys = keys[:1]
    parking = {k: (first[k] + 100_000 if isinstance(first[k], int) else first[k]) for k in keys}
    connection.execute(table.update().where(_where(table, first)).values(parking))
    connection.execute(table.update().where(_where(table, second)).values({k: first[k] for k in keys}))
    connection.execute(table.update().where(_where(table, {**first, **parking})).values({k: second[k] for k in keys}))
    named = [ledger.canonical_json(ledger.row_key(name, row)) for row in (first, second)]
    return " and ".join(named)


# --- tampering with the chain itself --------------------------------------------------------------


def _entries(connection: Connection) -> list[dict[str, Any]]:
    table = AuditEntry.__table__
    return [dict(r) for r in connection.execute(select(table).order_by(table.c.seq)).mappings()]


def entry_body(connection: Connection, seq: int) -> int:
    connection.execute(
        text("UPDATE audit_entries SET body = replace(body, '\"actor\":\"coordinator\"', '\"actor\":\"mallory\"')"
             " WHERE seq = :seq"), {"seq": seq})  # fmt: skip
    return seq


def entry_column(connection: Connection, seq: int) -> int:
    connection.execute(text("UPDATE audit_entries SET actor = 'mallory' WHERE seq = :seq"), {"seq": seq})
    return seq


def entry_delete(connection: Connection, seq: int) -> int:
    connection.execute(text("DELETE FROM audit_entries WHERE seq = :seq"), {"seq": seq})
    return seq


def entry_insert(connection: Connection, seq: int) -> int:
    """Slip in, at `seq`, a well-formed entry linked to the one before it and correctly hashed."""
    connection.execute(text("UPDATE audit_entries SET seq = seq + 100000 WHERE seq >= :seq"), {"seq": seq})
    connection.execute(text("UPDATE audit_entries SET seq = seq - 99999 WHERE seq >= 100000"))
    before = next(e for e in _entries(connection) if e["seq"] == seq - 1)
    copied = {**before, "seq": seq, "actor": "mallory", "prev_hash": before["hash"]}
    if copied["body"] is not None:
        body = json.loads(copied["body"])
        body["actor"] = "mallory"
        copied["body"] = ledger.canonical_json(body)
    copied["hash"] = audit.recomputed_hash(_Attrs(copied))
    connection.execute(AuditEntry.__table__.insert().values(copied))
    return seq


def entry_reorder(connection: Connection, seq: int) -> int:
    connection.execute(text("UPDATE audit_entries SET seq = 100000 WHERE seq = :seq"), {"seq": seq})
    connection.execute(text("UPDATE audit_entries SET seq = :seq WHERE seq = :next"), {"seq": seq, "next": seq + 1})
    connection.execute(text("UPDATE audit_entries SET seq = :next WHERE seq = 100000"), {"next": seq + 1})
    return seq


def rehash_from_start(connection: Connection, seq: int) -> int:
    """Rewrite one entry's body and columns, re-hash every entry, re-stamp every stored letter."""
    previous = audit.GENESIS
    for entry in _entries(connection):
        if entry["seq"] == seq:
            body = json.loads(entry["body"])
            body["actor"] = entry["actor"] = "mallory"
            entry["body"] = ledger.canonical_json(body)
        entry["prev_hash"] = previous
        entry["hash"] = audit.recomputed_hash(_Attrs(entry))
        connection.execute(
            text("UPDATE audit_entries SET actor = :actor, body = :body, prev_hash = :prev_hash, hash = :hash"
                 " WHERE seq = :seq"), entry)  # fmt: skip
        previous = entry["hash"]
    _restamp_letters(connection)
    return seq


def _restamp_letters(connection: Connection) -> None:
    import hashlib

    hashes = {e["seq"]: e["hash"] for e in _entries(connection)}
    for letter_id, seq, content in connection.execute(text("SELECT id, audit_seq, content FROM letters")).all():
        content = bytes(content)
        with zipfile.ZipFile(BytesIO(content)) as archive:
            parts = [(info.filename, archive.read(info)) for info in archive.infolist()]
        properties = {**read_package(content).properties, PROPERTY_HASH: hashes[seq]}
        stamped = zip_parts(with_properties(parts, properties))
        connection.execute(
            text("UPDATE letters SET content = :c, sha256 = :h WHERE id = :id"),
            {"c": stamped, "h": hashlib.sha256(stamped).hexdigest(), "id": letter_id},
        )


class _Attrs:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def append_illegal_move(connection: Connection, seq: int) -> int:
    """A correctly hashed entry committing a rejected proposal (and the table changed to match)."""
    last = _entries(connection)[-1]
    rejected = connection.execute(text("SELECT id, ref FROM proposals WHERE state = 'rejected' ORDER BY id")).first()
    assert rejected is not None
    body = ledger.canonical_json(
        {"v": audit.BODY_VERSION, "step": "commit", "actor": ACTOR,
         "proposal": {"id": rejected.id, "ref": rejected.ref},
         "from": "rejected", "to": "committed", "reason": "", "late": False, "letters": [],
         "changes": [{"t": "proposals", "op": "update", "key": {"id": rejected.id}, "new": {"state": "committed"},
                      "old": {"state": "rejected"}}]}
    )  # fmt: skip
    new_seq, at = last["seq"] + 1, audit.utc_stamp(dt.datetime.now(dt.UTC))
    connection.execute(
        text("INSERT INTO audit_entries (seq, at, actor, proposal_id, proposal_ref, event, from_state, to_state,"
             " reason, letters, prev_hash, hash, db_role, body) VALUES (:seq, :at, :actor, :pid, :ref, 'commit',"
             " 'rejected', 'committed', '', '[]', :prev, :hash, :role, :body)"),
        {"seq": new_seq, "at": at, "actor": ACTOR, "pid": rejected.id, "ref": rejected.ref, "prev": last["hash"],
         "role": last["db_role"], "body": body,
         "hash": audit.entry_hash(new_seq, at, last["db_role"], last["hash"], body)},
    )  # fmt: skip
    connection.execute(text("UPDATE proposals SET state = 'committed' WHERE id = :id"), {"id": rejected.id})
    return new_seq


def truncate_tail(connection: Connection, seq: int) -> int:
    """Cut the entries from `seq` on and undo every row they wrote: the chain then holds on its own."""
    for entry in reversed([e for e in _entries(connection) if e["seq"] >= seq]):
        for change in reversed(json.loads(entry["body"])["changes"]):
            table = _table(change["t"])
            key = change["key"]
            where = _where(table, key)
            if change["op"] == "insert":
                connection.execute(table.delete().where(where))
            elif change["op"] == "update":
                connection.execute(table.update().where(where).values(_typed(table, change["old"])))
            else:
                connection.execute(table.insert().values(_typed(table, change["old"])))
        connection.execute(text("DELETE FROM audit_entries WHERE seq = :seq"), {"seq": entry["seq"]})
    return seq


def _typed(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        column = table.c[name]
        if value is not None and column.type.python_type in (dt.date, dt.datetime) and isinstance(value, str):
            value = column.type.python_type.fromisoformat(value)
        out[name] = value
    return out


# --- checking, as a person would ------------------------------------------------------------------


@dataclass
class Outcome:
    """One try and what caught it."""

    target: str
    kind: str
    detail: str
    verify: str = ""
    expect_head: str = ""
    letters: str = ""
    named: bool = False

    @property
    def detected(self) -> bool:
        return bool(self.verify or self.expect_head or self.letters)


def check(url: str, base: Base) -> tuple[str, str, str]:
    """(what audit verify said, what verify --expect-head said, what letters verify DIR said);
    an empty string where it found nothing."""
    engine = db.make_engine(db.resolve(url))
    said = []
    try:
        for expected in (None, base.head):
            with Session(engine) as session:
                try:
                    replay.verify(session, expected)
                    said.append("")
                except VerificationError as exc:
                    said.append(str(exc))
        with Session(engine) as session:
            result = verify_letters(session, [base.sent])
            folder = result.folders[0]
            bad = [*result.bad_stored, *folder.altered, *folder.unknown, *(n for n, _ in folder.orphaned)]
            said.append("; ".join(bad))
    finally:
        engine.dispose()
    return said[0], said[1], said[2]


TABLE_KINDS: dict[str, Callable[[Connection, str], str | None]] = {"edit": edit, "delete": delete, "insert": insert,
                                                           "reorder": reorder}  # fmt: skip
CHAIN_KINDS: dict[str, Callable[[Connection, int], int]] = {
    "edit body": entry_body, "edit column": entry_column, "delete": entry_delete, "insert": entry_insert,
    "reorder": entry_reorder, "re-hash from the start": rehash_from_start,
    "append an illegal move": append_illegal_move, "cut the newest entries": truncate_tail,
}  # fmt: skip


def run_matrix(base: Base) -> tuple[list[Outcome], tuple[str, str, str]]:
    """Every try on a fresh copy; and what the three checks say of an untouched copy."""
    outcomes = []
    with base.copies() as url:
        untouched = check(url, base)
    for table in ledger.RECORD_TABLES:
        for kind, tamper in TABLE_KINDS.items():
            with base.copies() as url:
                with raw(url) as connection:
                    detail = tamper(connection, table.name)
                if detail is None:
                    continue
                outcome = Outcome(table.name, kind, detail, *check(url, base))
                message = outcome.verify or outcome.expect_head
                outcome.named = f"table {table.name}," in message or (
                    table.name == "letters" and bool(outcome.letters or "letter" in message)
                )
                outcomes.append(outcome)
    for kind, tamper in CHAIN_KINDS.items():
        with base.copies() as url:
            with raw(url) as connection:
                entries = _entries(connection)
                middle = entries[len(entries) // 2]["seq"]
                if kind == "cut the newest entries":  # from the last entry that wrote letters already sent
                    middle = max(e["seq"] for e in entries if e["letters"])
                seq = tamper(connection, middle)
            outcome = Outcome("audit_entries", kind, f"entry #{seq}", *check(url, base))
            chain_error = outcome.verify or outcome.expect_head
            if kind == "re-hash from the start":  # only a head published before can tell
                outcome.named = "the chain was rewritten since it was published" in outcome.expect_head
            elif kind == "cut the newest entries":
                outcome.named = f"the chain ends at #{seq - 1}, before the head published" in outcome.expect_head
            else:
                outcome.named = f"entry #{seq}" in chain_error
            outcomes.append(outcome)
    return outcomes, untouched


def report(backend: str, outcomes: list[Outcome], untouched: tuple[str, str, str]) -> None:
    detected = sum(o.detected for o in outcomes)
    named = sum(o.named for o in outcomes)
    print(f"\n== {backend}: {len(outcomes)} tries, {detected} detected ({100 * detected / len(outcomes):.0f}%), "
          f"{named} named correctly; untouched copy: "
          f"{'no false alarm' if not any(untouched) else 'FALSE ALARM: ' + ' | '.join(untouched)}")  # fmt: skip
    print(f"{'table / chain':<22}{'tampering':<26}{'verify':<8}{'--expect-head':<15}{'letters DIR':<13}named")
    for o in outcomes:
        marks = ["yes" if said else "-" for said in (o.verify, o.expect_head, o.letters)]
        print(f"{o.target:<22}{o.kind:<26}{marks[0]:<8}{marks[1]:<15}{marks[2]:<13}{'yes' if o.named else 'NO'}")
    for o in outcomes:
        if not o.detected or not o.named:
            print(f"  !! {o.target} {o.kind} ({o.detail}): {o.verify or o.expect_head or o.letters or 'not detected'}")


def bases(backend: str, folder: Path, small: bool, stack: contextlib.ExitStack) -> Iterator[tuple[str, Base]]:
    build = build_small if small else build_demo
    if backend in ("both", "sqlite"):
        (folder / "sqlite").mkdir()
        yield "SQLite", _sqlite_base(folder / "sqlite", build)
    if backend in ("both", "postgresql"):
        from tests.pgcluster import PostgresCluster

        cluster = PostgresCluster()
        cluster.start()
        stack.callback(cluster.stop)
        if not cluster.url_base:
            print(f"PostgreSQL skipped: {cluster.reason}")
            return
        (folder / "postgresql").mkdir()
        yield "PostgreSQL", _postgres_base(folder / "postgresql", build, cluster)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--small", action="store_true", help="a small plan instead of the demo's")
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="ogp-tamper-") as folder, contextlib.ExitStack() as stack:
        for name, base in bases(args.backend, Path(folder), args.small, stack):
            stack.callback(base.close)
            outcomes, untouched = run_matrix(base)
            report(name, outcomes, untouched)
            failed |= any(untouched) or not all(o.detected and o.named for o in outcomes)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
