"""The ledger: every change to the record is one recorded step (lock, check, write, chain, letters),
and every row the step writes is captured, as canonical values, in the audit entry it appends.

A service opens a step (`begin`, or `recorded` as a context manager), makes its changes through the
session as usual, and `finish`es it. Each flush inside the step is captured by a session listener:
the rows inserted (every column), updated (the columns that changed, old and new) and deleted
(the row as it was). `finish` appends the entry whose hash covers those changes, then stores the
step's letters, stamped with the entry's sequence number and hash. A flush that changes the record
outside a step is refused: nothing changes the record without entering the chain.

`ogp audit verify` (workflow/replay.py) rebuilds the record from these changes and compares it with
the tables; `canonical_row` is the one definition of a row's values both sides use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import orjson
from sqlalchemy import Integer, String, Table, event, func, inspect, select, text
from sqlalchemy.orm import PassiveFlag, Session, SessionTransaction, UOWTransaction
from sqlalchemy.orm.attributes import get_history, set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from states import STEPS, Action, MilestoneState, RecordedStep, State
from workflow import audit, fields
from workflow.errors import InvalidInputError, StepNotAllowedError
from workflow.models import AuditEntry, Base, Letter, Milestone, Proposal

# The record: every table but the audit trail itself (and Alembic's bookkeeping).
RECORD_TABLES: tuple[Table, ...] = tuple(t for t in Base.metadata.sorted_tables if t.name != "audit_entries")
RECORD_TABLE_NAMES = frozenset(t.name for t in RECORD_TABLES)
TABLE_ORDER = {t.name: index for index, t in enumerate(RECORD_TABLES)}
# How a row is named in the chain: its primary key, except letters, named by their register number.
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    **{t.name: tuple(c.name for c in t.primary_key.columns) for t in RECORD_TABLES},
    "letters": ("year", "number"),
}
# Columns that are not part of the record's values: a letter's id is only a handle, and its bytes
# are covered by its digest (and its sha256 follows from its bytes); a proposal's version counter
# only detects concurrent writes.
EXCLUDED_COLUMNS: dict[str, frozenset[str]] = {
    "letters": frozenset({"id", "content", "sha256"}),
    "proposals": frozenset({"version"}),
}
STEP_KEY = "ogp_step"
# PostgreSQL: one advisory lock stands for "the record"; every recorded step takes it, as does the
# server's append function, so steps happen one at a time and the chain never forks. (Not a row
# lock: a member's login may not lock the plan row for update.)
RECORD_LOCK = 7_274_001


class LedgerError(RuntimeError):
    """A programming error: the record was changed outside a recorded step."""


def canonical(value: Any) -> Any:
    """A value as the chain writes it: JSON types only; dates in ISO 8601; bytes by their sha256."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value  # the common case first: `audit verify` canonicalises every row of the record
    if isinstance(value, Enum):
        return canonical(value.value)
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): canonical(item) for key, item in value.items()}
    raise TypeError(f"no canonical form for {type(value).__name__}")


def canonical_json(data: Any) -> str:
    """The one serialisation the chain hashes: sorted keys, no spaces, UTF-8 as is; the text
    Python's `json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))` writes
    for the same data (tests/test_ledger.py compares the two), written by orjson, several times
    faster (a score import serialises 10,000 bodies of 25 rows)."""
    return plain_bytes(canonical(data)).decode()


def plain_json(data: Any) -> str:
    """`canonical_json` of data already in canonical form (JSON types only: what `canonical`
    returns), without walking it again; raises TypeError for anything else."""
    return plain_bytes(data).decode()


def plain_bytes(data: Any) -> bytes:
    """`plain_json` as UTF-8 bytes, as orjson writes it: 1, 1.0 and true stay different values.
    Raises TypeError for anything but JSON types, and for a whole number beyond 64 bits."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def canonical_row(table: str, values: Mapping[Any, Any]) -> dict[str, Any]:
    """A row's recorded values, from a mapping of column name to value (ORM object or table row)."""
    excluded = EXCLUDED_COLUMNS.get(table, frozenset())
    # `canonical`'s common case (text, a whole number, nothing) is taken inline: `audit verify`
    # passes every row of the record here.
    return {
        name: value if type(value) in _AS_IS else canonical(value)
        for name, value in values.items()
        if name not in excluded
    }


# Types `canonical` returns unchanged, matched exactly: type(True) is bool, which goes through it.
_AS_IS = frozenset({str, int, type(None)})


def row_key(table: str, row: Mapping[Any, Any]) -> dict[str, Any]:
    """The columns that name a row in the chain, with their canonical values."""
    return {name: canonical(row[name]) for name in KEY_COLUMNS[table]}


def object_values(obj: Any) -> tuple[str, dict[str, Any]]:
    """(table name, column name → value) of a mapped object, as it stands in the session; for an
    object not yet written, an unset column takes its default, as the INSERT will give it."""
    state = inspect(obj)
    mapper = state.mapper
    unwritten = state.transient or state.pending
    values = {}
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        value = getattr(obj, prop.key)
        if value is None and unwritten and column.default is not None and column.default.is_scalar:
            value = column.default.arg  # type: ignore[attr-defined]
        values[column.name] = value
    return mapper.local_table.name, values


def _delta(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The columns of a persistent object that this flush changed: (new values, old values)."""
    state = inspect(obj)
    new: dict[str, Any] = {}
    old: dict[str, Any] = {}
    for prop in state.mapper.column_attrs:
        # Not `state.attrs[key].history`: `attrs` is memoized on the object, an AttributeState for
        # every attribute it has, kept as long as the object (5,000 shortlisted: 6 MB).
        history = get_history(obj, prop.key, passive=PassiveFlag.PASSIVE_NO_INITIALIZE)
        if not history.added:
            continue
        name = prop.columns[0].name
        before = history.deleted[0] if history.deleted else None
        after = history.added[0]
        if canonical(before) == canonical(after) and history.deleted:
            continue
        new[name], old[name] = after, before
    return new, old


@dataclass
class Step:
    """A recorded step in progress: what it is, who takes it, and every row it has written."""

    session: Session
    spec: RecordedStep
    actor: str
    now: dt.datetime
    reason: str = ""
    proposal: Proposal | None = None
    from_state: State | None = None
    late: bool = False
    milestone: Milestone | None = None
    milestone_from: MilestoneState | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    letters: list[Letter] = field(default_factory=list)
    stamp: Callable[[AuditEntry], None] | None = None
    entry: AuditEntry | None = None
    sealed: bool = False
    savepoint: SessionTransaction | None = None
    chain: BatchChain | None = None  # a batch's: the entry and letters are appended with the batch's

    def capture(self, session: Session) -> None:
        """Add what one flush wrote to the step's changes (called by the session listener)."""
        new = sorted((o for o in session.new if _is_record(o)), key=_order)
        dirty = sorted((o for o in session.dirty if _is_record(o) and o not in session.new), key=_order)
        deleted = sorted((o for o in session.deleted if _is_record(o)), key=_order, reverse=True)
        for obj in new:
            table, values = object_values(obj)
            row = canonical_row(table, values)
            self.changes.append({"t": table, "op": "insert", "key": row_key(table, values), "row": row})
        for obj in dirty:
            table, values = object_values(obj)
            after, before = _delta(obj)
            excluded = EXCLUDED_COLUMNS.get(table, frozenset())
            after = {k: v for k, v in after.items() if k not in excluded}
            if not after:
                continue
            self.changes.append(
                {
                    "t": table,
                    "op": "update",
                    "key": row_key(table, values),
                    "new": canonical_row(table, after),
                    "old": canonical_row(table, {k: before[k] for k in after}),
                }
            )
        for obj in deleted:
            table, values = object_values(obj)
            self.changes.append(
                {"t": table, "op": "delete", "key": row_key(table, values), "old": canonical_row(table, values)}
            )

    def body(self, seq: int) -> dict[str, Any]:
        """What the entry says, before the server or the client adds seq, time, role and hashes."""
        letters = []
        for letter in self.letters:
            letter.audit_seq = seq
            table, values = object_values(letter)
            letters.append(
                {"t": table, "op": "insert", "key": row_key(table, values), "row": canonical_row(table, values)}
            )
        proposal = self.proposal
        about_milestone = {}
        if self.milestone is not None and self.milestone_from is not None:
            # Which milestone, and its state before and after: what the replay checks a milestone
            # step against (states.RecordedStep.milestone_states / milestone_move).
            about_milestone["milestone"] = {
                "id": self.milestone.id,
                "from": self.milestone_from.value,
                "to": self.milestone.state.value,
            }
        return {
            **about_milestone,
            "v": audit.BODY_VERSION,
            "step": self.spec.name,
            "actor": self.actor,
            "proposal": {"id": proposal.id, "ref": proposal.ref} if proposal is not None else None,
            "from": self.from_state.value if self.from_state is not None else None,
            "to": proposal.state.value if proposal is not None else None,
            "reason": self.reason,
            "late": self.late,
            "letters": [letter.digest for letter in self.letters],
            "changes": self.changes + letters,
        }

    def finish(self) -> AuditEntry:
        """Append the step's audit entry, then store its letters stamped with the entry; return it.
        In a batch (`chain`), the entry and the letters are handed to the batch's `BatchChain`,
        which appends them with the others (the entry returned is then not in the session)."""
        session = self.session
        if self.chain is None or not self._write_state_alone():
            session.flush()
        if self.chain is not None:
            return self._finish_in(self.chain)
        last = audit.current_head(session)
        seq = last.seq + 1
        entry = audit.append_entry(
            session, seq=seq, body=canonical_json(self.body(seq)), at=self.now, after=last, flush=False
        )
        self.entry, self.sealed = entry, True
        if self.stamp is not None:
            self.stamp(entry)  # the letters' final bytes name the entry that wrote them
        session.add_all(self.letters)
        session.flush()  # the entry, then its letters (they refer to it): one flush
        session.info.pop(STEP_KEY, None)
        if self.savepoint is not None:
            self.savepoint.commit()
        return entry

    def _write_state_alone(self) -> bool:
        """In a batch, where the step changed nothing but columns of its proposal (the usual move:
        its state), write them with one UPDATE instead of the session's unit of work, and record
        the change as a flush would (`capture`): the same statement, the same version check
        (`StaleDataError` if the row changed meanwhile), the same change in the entry, without
        the unit of work's sorting and bookkeeping (a fifth of a move that writes no letter).
        False, having written nothing, for any other step (a row added or deleted, another object
        changed, a relationship set): the session flushes it. Uses three of SQLAlchemy's internals
        that every version since 2.0 has (`_dirty_states`, `_commit_all`, `_register_altered`:
        what its own flush does with the object it wrote); the floors' run tests them on 2.0.30."""
        session, proposal = self.session, self.proposal
        if proposal is None or session.new or session.deleted:
            return False
        state = inspect(proposal)
        modified = session.identity_map._dirty_states()  # the objects a flush would look at
        if len(modified) != 1 or state not in modified or state.mapper is not _PROPOSALS:
            return False
        changed = set(state.committed_state)
        if not changed <= _PROPOSAL_COLUMNS or "version" in changed:
            return False  # a relationship (its foreign key is set by the flush), or the version itself
        new, old = _delta(proposal)
        if not new:
            return False
        version = proposal.version
        values = {**new, "version": version + 1}
        table = Base.metadata.tables["proposals"]
        done = session.connection().execute(  # not through the session: no autoflush
            table.update().where(table.c.id == proposal.id, table.c.version == version).values(values)
        )
        if done.rowcount != 1:
            raise StaleDataError(f"proposals row {proposal.id} changed since it was read (version {version})")
        set_committed_value(proposal, "version", version + 1)
        # As a flush leaves what it wrote: clean, and known to the transaction as altered, so that
        # rolling it back (a batch refused whole) expires the proposal rather than keep the state.
        state._commit_all(state.dict, session.identity_map)
        session._register_altered([state])
        excluded = EXCLUDED_COLUMNS["proposals"]
        after = {k: v for k, v in new.items() if k not in excluded}
        self.changes.append(
            {
                "t": "proposals", "op": "update", "key": row_key("proposals", {"id": proposal.id}),
                "new": canonical_row("proposals", after), "old": canonical_row("proposals", {k: old[k] for k in after}),
            }
        )  # fmt: skip
        return True

    def _finish_in(self, chain: BatchChain) -> AuditEntry:
        seq = chain.next_seq
        body = self.body(seq)
        text_body = canonical_json(body)
        self.sealed = True
        self.session.info.pop(STEP_KEY, None)
        if self.savepoint is not None:
            self.savepoint.commit()
        self.entry = chain.add(seq, body, text_body, self.now, self.letters, self.stamp)
        return self.entry

    def abandon(self) -> None:
        """Undo whatever the step wrote (back to its savepoint) and close it."""
        if self.session.info.get(STEP_KEY) is self:
            self.session.info.pop(STEP_KEY, None)
        if self.savepoint is not None and self.savepoint.is_active:
            self.savepoint.rollback()


_PROPOSALS = inspect(Proposal)
# The column attributes of proposals (their keys are their columns' names).
_PROPOSAL_COLUMNS = frozenset(prop.key for prop in _PROPOSALS.column_attrs)


def _is_record(obj: Any) -> bool:
    return inspect(obj).mapper.local_table.name in RECORD_TABLE_NAMES


def _order(obj: Any) -> tuple[int, str]:
    table, values = object_values(obj)
    return TABLE_ORDER[table], canonical_json(row_key(table, values))


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    step: Step | None = session.info.get(STEP_KEY)
    if step is not None and not step.sealed:
        step.capture(session)
        return
    allowed = {id(letter) for letter in step.letters} if step is not None else set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if (
            _is_record(obj)
            and id(obj) not in allowed
            and (obj in session.new or obj in session.deleted or _delta(obj)[0])
        ):
            table, _ = object_values(obj)
            raise LedgerError(
                f"the table {table} was changed outside a recorded step; every change must enter the chain"
            )


event.listen(Session, "after_flush", _after_flush)


def lock_record(session: Session) -> None:
    """Take the record's write lock until the transaction ends (SQLite's BEGIN IMMEDIATE holds it)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RECORD_LOCK})


def milestone_refusal(name: str, milestone: Milestone) -> StepNotAllowedError | None:
    """The refusal of step `name` (not a milestone move: those name their own table) on
    `milestone` in its current state, or None where `states.STEPS` allows it."""
    spec = STEPS[name]
    allowed = spec.milestone_states
    if spec.milestone_move is not None or allowed is None or milestone.state in allowed:
        return None
    return StepNotAllowedError(
        milestone_label(milestone.id),
        spec.name,
        spec.does,
        milestone.state.value,
        [s.value for s in allowed],
        record="milestone",
    )


def milestone_label(milestone_id: int) -> str:
    """How a milestone is named to people: M and its number."""
    return f"M{milestone_id}"


def state_refusal(name: str, proposal: Proposal) -> StepNotAllowedError | None:
    """The refusal of step `name` (not a move: moves name their own table) on `proposal` in its
    current state, or None where `states.STEPS` allows it."""
    spec = STEPS[name]
    if spec.move is not None or spec.states is None or proposal.state in spec.allowed:
        return None
    allowed = [s.value for s in spec.allowed]
    return StepNotAllowedError(proposal.ref, spec.name, spec.does, proposal.state.value, allowed)


def begin(
    session: Session,
    name: str,
    *,
    actor: str,
    now: dt.datetime | None = None,
    reason: str = "",
    proposal: Proposal | None = None,
    milestone: Milestone | None = None,
    current: bool = False,
    chain: BatchChain | None = None,
) -> Step:
    """Open the recorded step `name` (declared in `states.STEPS`) under the record's lock.

    For a step about a proposal, the proposal is re-read and its state must allow the step
    (raises `StepNotAllowedError` naming the states that do); moves check their own table. A step
    about one of its milestones re-reads the milestone and checks its state the same way.
    `current`: the caller read `proposal` in this transaction after taking the record's lock (a
    batch reads all of its proposals at once), so it is not read again. `chain`: the batch's
    `BatchChain`, which appends the step's entry and letters with the batch's.
    """
    if session.info.get(STEP_KEY) is not None:
        raise LedgerError("a recorded step is already open in this session")
    lock_record(session)
    session.flush()
    spec = STEPS[name]
    step = Step(session, spec, actor, now or dt.datetime.now(dt.UTC), reason, proposal, chain=chain)
    if proposal is not None:
        if not current:
            session.refresh(proposal)
        step.from_state = proposal.state
        refusal = state_refusal(name, proposal)
        if refusal is not None:
            raise refusal
        step.late = spec.move is None and proposal.state in spec.late_states
    if milestone is not None:
        session.refresh(milestone)
        step.milestone, step.milestone_from = milestone, milestone.state
        refusal = milestone_refusal(name, milestone)
        if refusal is not None:
            raise refusal
    # A step is all or nothing even inside a longer transaction (the demo, a batch that skips
    # refusals): it runs in a savepoint that a refusal rolls back. A batch whose first refusal
    # ends it (`BatchChain.savepoints` false) holds one savepoint for all its steps instead.
    if chain is None or chain.savepoints:
        step.savepoint = session.begin_nested()
    session.info[STEP_KEY] = step
    return step


@contextmanager
def recorded(
    session: Session,
    name: str,
    *,
    actor: str,
    now: dt.datetime | None = None,
    reason: str = "",
    proposal: Proposal | None = None,
    milestone: Milestone | None = None,
    optional: bool = False,
) -> Iterator[Step]:
    """`begin` … `finish` as a block: the entry is appended when the block ends without error.

    With `optional`, a block that changed nothing appends nothing (setting a value to what it is).
    """
    step = begin(session, name, actor=actor, now=now, reason=reason, proposal=proposal, milestone=milestone)
    try:
        yield step
        session.flush()
        if optional and not step.changes and not step.letters:
            step.abandon()
        else:
            step.finish()
    except BaseException:
        step.abandon()
        raise


@dataclass(frozen=True)
class BulkStep:
    """One entry of `append_steps`: a step about one proposal whose rows the caller has already
    written (by bulk statements, not through the session's flush), and those rows as changes in
    the chain's canonical form (`canonical_row`, `row_key`: JSON types only)."""

    proposal_id: int
    proposal_ref: str
    from_state: State | None  # None: the step registers the proposal
    to_state: State
    reason: str
    changes: list[dict[str, Any]]


# Column types whose values the SQLite driver takes as they are (int, str, None), so rows of
# only these go to it without SQLAlchemy's per-row processing.
_PLAIN_TYPES = (Integer, String)


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` (column → value, every row the same columns) into `table` in as few
    statements as the driver allows. For a table keyed by an integer `id` the database gives,
    each row's "id" is set to the key it got, for the chain (`BulkStep.changes`).

    SQLite gives a new row the largest id plus one (no AUTOINCREMENT in this schema), and the
    caller holds its write lock: the ids are taken the same way here, so the rows go in one
    executemany (asking SQLite to return ids in order would cost a statement a row). PostgreSQL
    returns them, in order, from batched INSERT … RETURNING."""
    if not rows:
        return
    keyed = "id" in table.c and table.c.id.primary_key
    if session.get_bind().dialect.name == "postgresql" and keyed:
        returning = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        for row, new_id in zip(rows, session.execute(returning, rows).scalars(), strict=True):
            row["id"] = new_id
        return
    if keyed:
        start = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one() + 1
        for offset, row in enumerate(rows):
            row["id"] = start + offset
    columns = list(rows[0])
    if session.get_bind().dialect.name == "sqlite" and all(isinstance(table.c[c].type, _PLAIN_TYPES) for c in columns):
        names = ", ".join(f'"{name}"' for name in columns)
        marks = ", ".join("?" for _ in columns)
        session.connection().exec_driver_sql(
            f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', [tuple(row[c] for c in columns) for row in rows]
        )
        return
    session.execute(table.insert(), rows)


def append_steps(
    session: Session, name: str, steps: Sequence[BulkStep], *, actor: str, now: dt.datetime | None = None
) -> list[int]:
    """Append one chained entry per item of `steps`, all of the recorded step `name`, in one pass:
    the bodies are built and hashed in order and appended with one statement (on PostgreSQL by the
    server's `ogp_append_entries`, which chains each as `ogp_append_entry` does). Returns the
    entries' sequence numbers, in order.

    For imports of many rows (issue 13): the caller holds the record's lock (`lock_record`) for the
    whole transaction, has checked every step against `states.STEPS` and the record as it stands,
    and wrote the rows itself; each body says exactly what `Step.body` would for the same rows, so
    `ogp audit verify` replays them like any other entry. Raises `LedgerError` if a step is open.
    """
    if session.info.get(STEP_KEY) is not None:
        raise LedgerError("a recorded step is already open in this session")
    if not steps:
        return []
    spec = STEPS[name]
    if spec.move is not None or spec.milestone_states is not None:
        raise LedgerError(f"{name} cannot be appended in bulk: it moves a proposal or a milestone")
    moment = now or dt.datetime.now(dt.UTC)
    head = audit.current_head(session)
    first = head.seq + 1
    bodies = []
    for offset, step in enumerate(steps):
        if spec.states is not None and step.from_state not in spec.allowed:
            raise LedgerError(f"{name} is not allowed on {step.proposal_ref} in its state {step.from_state}")
        body = {
            "v": audit.BODY_VERSION,
            "step": spec.name,
            "actor": actor,
            "proposal": {"id": step.proposal_id, "ref": step.proposal_ref},
            "from": step.from_state.value if step.from_state is not None else None,
            "to": step.to_state.value,
            "reason": step.reason,
            "late": step.from_state is not None and step.from_state in spec.late_states,
            "letters": [],
            "changes": step.changes,
        }
        bodies.append((first + offset, plain_json(body), step))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT ogp_append_entries(:first, :bodies)"),
            {"first": first, "bodies": [text_body for _, text_body, _ in bodies]},
        )
        return [seq for seq, _, _ in bodies]
    at = audit.utc_stamp(moment)
    previous = head.hash
    rows = []
    for seq, text_body, step in bodies:
        rows.append(entry_row(seq, at, previous, text_body, actor=actor, event=spec.name, step=step))
        previous = rows[-1]["hash"]
    session.execute(Base.metadata.tables["audit_entries"].insert(), rows)
    return [seq for seq, _, _ in bodies]


def entry_row(
    seq: int, at: str, previous: str, text_body: str, *, actor: str, event: str, step: BulkStep | Mapping[str, Any]
) -> dict[str, Any]:
    """The audit_entries row (column → value) of entry `seq` with `text_body` after the entry whose
    hash is `previous`, as SQLite stores it (no database role); its columns say what the body
    says: `step` is the `BulkStep`, or the body itself (a dict as `Step.body` makes it)."""
    proposal_id: int | None
    ref: str | None
    if isinstance(step, BulkStep):
        proposal_id, ref, reason, letters = step.proposal_id, step.proposal_ref, step.reason, []
        before, after = (step.from_state.value if step.from_state is not None else None), step.to_state.value
    else:
        about = step["proposal"] or {}
        proposal_id, ref, reason, letters = about.get("id"), about.get("ref"), step["reason"], step["letters"]
        before, after = step["from"], step["to"]
    return {
        "seq": seq, "at": at, "actor": actor, "proposal_id": proposal_id, "proposal_ref": ref, "event": event,
        "from_state": before, "to_state": after, "reason": reason, "letters": letters, "prev_hash": previous,
        "db_role": None, "body": text_body, "hash": audit.entry_hash(seq, at, None, previous, text_body),
    }  # fmt: skip


@dataclass
class _Chained:
    """One step of a batch, finished and waiting to be appended."""

    seq: int
    body: dict[str, Any]
    text_body: str
    at: dt.datetime
    letters: list[Letter]
    stamp: Callable[[AuditEntry], None] | None


@dataclass
class BatchChain:
    """The entries of a batch of recorded steps (`workflow.batch`, `shortlist`), chained as each
    step finishes and appended, with the letters they wrote, every `WRITE_AT` steps and at the end
    (`write`): a statement or two for many entries instead of a head query and a flush each. Each
    entry is the one the step would have appended alone, with the same number, body and hash.

    The batch holds the record's lock from `start` to its transaction's end, so the head read
    there stays the head. A step's letter numbers continue from the batch's own (`last_number`):
    letters not yet written are not in the register a query would read. A step that is refused
    hands nothing to the chain, so numbers stay gap-free. The caller must `write` before its
    transaction commits; a batch refused whole is rolled back instead.

    `savepoints`: whether each step runs in a savepoint of its own, which a refusal rolls back
    while the batch goes on. A batch that ends at its first refusal and rolls back everything it
    did (a shortlist; a batch move's first try, `workflow.batch`) need not pay for them: two
    statements and the session's bookkeeping, a fifth of a move that writes no letter."""

    session: Session
    head: audit.Head
    savepoints: bool = True
    waiting: list[_Chained] = field(default_factory=list)
    numbers: dict[int, int] = field(default_factory=dict)  # year → the last number this batch took
    WRITE_AT = 200  # steps held at most (their letters' bytes with them)

    @classmethod
    def start(cls, session: Session, *, savepoints: bool = True) -> BatchChain:
        """Take the record's lock and read the head the batch's entries follow."""
        lock_record(session)
        return cls(session, audit.current_head(session), savepoints=savepoints)

    @property
    def next_seq(self) -> int:
        return self.head.seq + len(self.waiting) + 1

    def last_number(self, year: int) -> int | None:
        """The last register number this batch's letters took in `year`, or None (read the register)."""
        return self.numbers.get(year)

    def add(
        self,
        seq: int,
        body: dict[str, Any],
        text_body: str,
        at: dt.datetime,
        letters: list[Letter],
        stamp: Callable[[AuditEntry], None] | None,
    ) -> AuditEntry:
        """Hold a finished step's entry and letters; return the entry as it will be, but for its
        hash and time (not in the session: `write` computes them, or PostgreSQL's server does)."""
        if seq != self.next_seq:
            raise LedgerError(f"entry #{seq} is not the batch's next (#{self.next_seq})")
        self.waiting.append(_Chained(seq, body, text_body, at, letters, stamp))
        for letter in letters:
            self.numbers[letter.year] = max(self.numbers.get(letter.year, 0), letter.number)
        about = body["proposal"] or {}
        entry = AuditEntry(
            seq=seq, actor=body["actor"], proposal_id=about.get("id"), proposal_ref=about.get("ref"),
            event=body["step"], from_state=body["from"], to_state=body["to"], reason=body["reason"],
            letters=body["letters"], body=text_body,
        )  # fmt: skip
        if len(self.waiting) >= self.WRITE_AT:
            self.write()
        return entry

    def write(self) -> None:
        """Append the entries held, in order, then their letters stamped with them."""
        if not self.waiting:
            return
        session, waiting = self.session, self.waiting
        if session.get_bind().dialect.name == "postgresql":
            session.execute(
                text("SELECT ogp_append_entries(:first, :bodies)"),
                {"first": waiting[0].seq, "bodies": [step.text_body for step in waiting]},
            )
            table = Base.metadata.tables["audit_entries"]
            found = session.execute(
                select(table.c.seq, table.c.hash).where(table.c.seq >= waiting[0].seq).order_by(table.c.seq)
            )
            hashes = {seq: digest for seq, digest in found}
        else:
            rows, previous = [], self.head.hash
            for step in waiting:
                rows.append(
                    entry_row(step.seq, audit.utc_stamp(step.at), previous, step.text_body,
                              actor=step.body["actor"], event=step.body["step"], step=step.body)
                )  # fmt: skip
                previous = rows[-1]["hash"]
            session.execute(Base.metadata.tables["audit_entries"].insert(), rows)
            hashes = {row["seq"]: row["hash"] for row in rows}
        letters = []
        for step in waiting:
            if step.stamp is not None:  # the letters' final bytes name the entry that wrote them
                step.stamp(AuditEntry(seq=step.seq, hash=hashes[step.seq]))
            for letter in step.letters:
                _, values = object_values(letter)
                values.pop("id", None)  # the database gives it
                letters.append(values)
        if letters:
            session.execute(Base.metadata.tables["letters"].insert(), letters)
        last = waiting[-1].seq
        self.head = audit.Head(last, hashes[last])
        self.waiting = []


def keys_written(entry: AuditEntry, table: str) -> list[dict[str, Any]]:
    """The keys of the rows of `table` that `entry`'s step inserted, updated or deleted, in the
    order its body records them; [] for an entry written before schema 0005 (it has no body)."""
    if entry.body is None:
        return []
    changes = json.loads(entry.body).get("changes", [])
    return [change["key"] for change in changes if change["t"] == table]


def current_step(session: Session) -> Step | None:
    """The step open in `session`, if any."""
    step: Step | None = session.info.get(STEP_KEY)
    return step


def snapshot_changes(session: Session, tables: Sequence[Table] = RECORD_TABLES) -> Iterator[dict[str, Any]]:
    """Every row of the record as an insert, table by table: what a checkpoint entry holds
    (`tables`: the record's tables as this schema has them, or as reflected from an older one)."""
    for table in tables:
        keys = [table.c[name] for name in KEY_COLUMNS[table.name]]
        for row in session.execute(select(table).order_by(*keys)).mappings():
            yield {
                "t": table.name,
                "op": "insert",
                "key": row_key(table.name, row),
                "row": canonical_row(table.name, row),
            }


def checkpoint(session: Session, *, actor: str, reason: str, now: dt.datetime | None = None) -> AuditEntry:
    """Append a checkpoint entry holding the whole record as it stands (after a schema upgrade:
    entries before it were written under an older schema, and from here everything replays)."""
    step = begin(session, Action.CHECKPOINT, actor=actor, now=now, reason=reason)
    try:
        step.changes.extend(snapshot_changes(session))
        return step.finish()
    except BaseException:
        step.abandon()
        raise


def checked_reason(reason: str, record: str, *, required: bool = True) -> str:
    """A step's reason, on one line (see `fields.line`): required for corrections and refusals
    of record, at most `fields.REASON` characters. Raises `InvalidInputError` naming `record` and
    `--reason`."""
    cleaned = fields.line(reason, record, "--reason", limit=fields.REASON)
    if required and not cleaned:
        raise InvalidInputError(record, "--reason", "is required: say why, for the record")
    return cleaned
