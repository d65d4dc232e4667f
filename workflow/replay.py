"""`ogp audit verify`: the chain replayed from its first entry.

Each entry's hash and link are recomputed; each step is checked against the rules in `states/` as
the record then stood (the move was allowed from the replayed state, its guards held, the step
was allowed in that state); the rows each step wrote rebuild the record, which must equal the
tables row for row, field for field; every stored letter must be the one its entry recorded and
carry that entry's number and hash. The first divergence is named: the entry, or the table, the
row, the field, what the chain says and what the table says.

A milestone step is checked the same way against the milestone table as the record then stood:
the milestone's replayed state must allow it, a move must lead where the milestone's table says
and its guards (a reason, a later end month, progress with evidence) must have held; a milestone's
state changes only by its own moves.

Memory stays flat in the number of entries: entries and tables are streamed, and the rebuilt
record is kept in a temporary SQLite file, not in memory, as are the scores of proposals still in
evaluation (25 a proposal); only what the other guards need (states, members, answers,
milestones and their evidence) is held, per proposal.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import struct
import tempfile
from collections import Counter
from collections.abc import Callable, Collection, Generator, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from documents.package import read_package
from states import (
    EVALUATION_STATES,
    GUARD_RULES,
    MILESTONE_GUARD_RULES,
    MILESTONE_INITIAL,
    Action,
    MilestoneState,
    RecordedStep,
    State,
    step_for,
)
from workflow import audit
from workflow.errors import AuditChainError, RecordMismatchError
from workflow.evaluation import CriterionInfo, Tally, compute_tally, quorum_for
from workflow.guards import failures, milestone_failures
from workflow.ledger import (
    KEY_COLUMNS,
    RECORD_TABLES,
    canonical,
    canonical_row,
    milestone_label,
    plain_bytes,
    plain_json,
    row_key,
)
from workflow.models import AuditEntry
from workflow.names import name_key
from workflow.outbox import PROPERTY_HASH, PROPERTY_SEQ
from workflow.storedtypes import unchecked

Row = dict[str, Any]
BATCH = 250  # rows a read or a match takes at a time: entries of an import run to tens of KB each


@dataclass(frozen=True)
class ChainReport:
    """What `verify` found when everything holds."""

    entries: int
    head_seq: int
    head_hash: str
    letters: int
    proposals: int
    rows: int


# --- the rebuilt record, on disk ------------------------------------------------------------------


class RowStore:
    """The record the chain rebuilds: (table, key) → row, in a temporary SQLite file, with the
    latest writes held in memory and written out in batches (most rows are written once). Each
    key comes with its `order` (`_filed`), so that a table's rows read back in the order its
    database lists them.

    A row is filed as `ledger.plain_bytes` writes it, when it is put: a value the encoder cannot
    write (a whole number beyond 64 bits, from a crafted body) is refused by the entry that wrote
    it. Two rows file the same bytes exactly when the chain would write them the same."""

    FLUSH_AT = 2_000

    def __init__(self, folder: Path) -> None:
        self.db = sqlite3.connect(folder / "replay.db", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        # `seen`: matched by a row of the live table (`_match_table`), so a key two live rows hold
        # cannot match one rebuilt row twice.
        self.db.execute(
            "CREATE TABLE rows (t TEXT, o BLOB, k TEXT, v BLOB NOT NULL, seen INTEGER NOT NULL DEFAULT 0,"
            " PRIMARY KEY (t, o, k)) WITHOUT ROWID"
        )
        self.db.execute(
            "CREATE TABLE live (t TEXT, o BLOB, k TEXT, v BLOB NOT NULL, PRIMARY KEY (t, o, k)) WITHOUT ROWID"
        )
        self.db.execute("BEGIN")
        # (row, its bytes), or None: deleted.
        self.pending: dict[tuple[str, bytes, str], tuple[Row, bytes] | None] = {}
        # Per table, the largest integer id of a row ever put (`ident`): a row keyed by a larger one
        # cannot be held, so inserting it needs no lookup (most inserts: ids only grow).
        self.top: dict[str, int] = {}

    def get(self, table: str, order: bytes, key: str, ident: int | None = None) -> Row | None:
        """The row held under (`order`, `key`), as `_filed` gives them (`ident`: the integer id
        `key` is made of, if it is), or None."""
        held = self.pending.get((table, order, key), _NOT_HELD)
        if held is not _NOT_HELD:
            return None if held is None else held[0]  # type: ignore[index]
        if ident is not None and ident > self.top.get(table, ident - 1):  # larger than any put: not held
            return None
        found = self.db.execute("SELECT v FROM rows WHERE t = ? AND o = ? AND k = ?", (table, order, key)).fetchone()
        return None if found is None else orjson.loads(found[0])

    def put(self, table: str, order: bytes, key: str, row: Row, ident: int | None = None) -> None:
        """Hold `row` under (`order`, `key`); `ident` as for `get`. Raises TypeError for a value
        `ledger.plain_bytes` cannot write."""
        self.pending[(table, order, key)] = (row, plain_bytes(row))
        if ident is not None and ident > self.top.get(table, ident - 1):
            self.top[table] = ident
        if len(self.pending) >= self.FLUSH_AT:
            self.flush()

    def delete(self, table: str, order: bytes, key: str) -> None:
        self.pending[(table, order, key)] = None
        if len(self.pending) >= self.FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        """Write the rows held in memory to the file."""
        writes = [(*filed, held[1]) for filed, held in self.pending.items() if held is not None]
        deletes = [filed for filed, held in self.pending.items() if held is None]
        self.db.executemany("INSERT OR REPLACE INTO rows (t, o, k, v) VALUES (?, ?, ?, ?)", writes)
        self.db.executemany("DELETE FROM rows WHERE t = ? AND o = ? AND k = ?", deletes)
        self.pending.clear()

    def clear(self) -> None:
        self.pending.clear()
        self.top.clear()
        self.db.execute("DELETE FROM rows")

    def close(self) -> None:
        self.db.close()


_NOT_HELD = object()


class OpenScores:
    """The scores of the proposals still in evaluation, which the quorum and nothing-written
    guards look at, in the rebuilt record's file: (proposal, member, criterion) → value, each as
    the chain wrote it (JSON text), so a score that is not a number reaches the guard as it was.
    Keys are kept as `_score_key` writes them: whatever a crafted body holds there (null, a number
    too large for SQLite, text) is a key like another, and numbers equal in Python (1, 1.0, true)
    are one key, as they were one key of the dict this replaces."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.execute("CREATE TABLE scores (p TEXT, m TEXT, c TEXT, v TEXT, PRIMARY KEY (p, m, c)) WITHOUT ROWID")
        # Scores given since the last read or drop, written together before the next, or once
        # there are FLUSH_AT of them (a score import's entry gives 25; guards read them only when a
        # proposal moves).
        self.given: dict[tuple[str, str, str], str] = {}

    def put(self, proposal_id: Any, member: Any, criterion: Any, value: Any) -> None:
        key = (_score_key(proposal_id), _score_key(member), _score_key(criterion))
        self.given[key] = str(value) if type(value) is int else plain_json(value)  # as the chain wrote it
        if len(self.given) >= RowStore.FLUSH_AT:  # held a few at a time: memory stays flat
            self._write()

    def _write(self) -> None:
        if self.given:
            rows = [(*key, text) for key, text in self.given.items()]
            self.db.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?)", rows)
            self.given.clear()

    def drop(self, proposal_id: Any, member: Any, criterion: Any) -> None:
        self._write()
        key = (_score_key(proposal_id), _score_key(member), _score_key(criterion))
        self.db.execute("DELETE FROM scores WHERE p = ? AND m = ? AND c = ?", key)

    def drop_all(self, proposal_id: Any = None) -> None:
        """Forget one proposal's scores (it left evaluation), or everyone's (`None`)."""
        self._write()
        if proposal_id is None:
            self.db.execute("DELETE FROM scores")
        else:
            self.db.execute("DELETE FROM scores WHERE p = ?", (_score_key(proposal_id),))

    def of(self, proposal_id: Any) -> list[tuple[Any, Any, Any]]:
        """(member, criterion, value) of each score the proposal holds."""
        self._write()
        found = self.db.execute("SELECT m, c, v FROM scores WHERE p = ?", (_score_key(proposal_id),))
        return [(_from_text(m), _from_text(c), _from_text(v)) for m, c, v in found]

    def count(self, proposal_id: Any) -> int:
        self._write()
        found = self.db.execute("SELECT count(*) FROM scores WHERE p = ?", (_score_key(proposal_id),))
        return int(found.fetchone()[0])


def _from_text(text: str) -> Any:
    """A value `OpenScores` holds as JSON text, read back (a whole number, the usual, directly)."""
    return int(text) if text.isascii() and text.isdigit() else json.loads(text)


def _score_key(value: Any) -> str:
    """A key of `OpenScores` as JSON text, a whole number (an int, a bool, a float without a
    fraction) written as the int it equals."""
    if type(value) is int:
        return str(value)  # the usual key, written directly
    if isinstance(value, bool) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    return plain_json(value)


# --- what the guards need, per proposal -----------------------------------------------------------


@dataclass
class ProposalFacts:
    """One proposal as the chain says it stands."""

    ref: str
    state: State
    organisation: str
    interviews: int = 0
    entities: set[int] = field(default_factory=set)
    # entity → ((responded_on, response id), agreed) of its latest answer, in evaluation.ANSWER_ORDER
    answers: dict[int, tuple[tuple[str, int], bool]] = field(default_factory=dict)
    conflicts: set[int] = field(default_factory=set)
    letters: int = 0


@dataclass
class MilestoneRecord:
    """One milestone as the chain says it stands."""

    proposal_id: int
    state: MilestoneState
    end_month: str
    evidenced: set[int] = field(default_factory=set)  # its progress entries that carry evidence


@dataclass
class Record:
    """The facts the rules look at, rebuilt from the rows each step wrote."""

    scores: OpenScores
    plan: Row = field(default_factory=dict)
    criteria: dict[int, CriterionInfo] = field(default_factory=dict)
    positions: dict[int, int] = field(default_factory=dict)
    members: dict[int, tuple[bool, str]] = field(default_factory=dict)  # id → (active, organisation key)
    proposals: dict[int, ProposalFacts] = field(default_factory=dict)
    counts: Counter[State] = field(default_factory=Counter)
    milestones: dict[int, MilestoneRecord] = field(default_factory=dict)
    progress: dict[int, int] = field(default_factory=dict)  # progress entry → its milestone
    evidence: Counter[int] = field(default_factory=Counter)  # progress entry → its pieces of evidence

    def apply(self, table: str, before: Row | None, after: Row | None) -> None:
        """Follow one row's change (inserted: no `before`; deleted: no `after`)."""
        handler = _HANDLERS.get(table)
        if handler is not None:
            handler(self, before, after)

    def quorum(self) -> int:
        active = sum(1 for is_active, _ in self.members.values() if is_active)
        return quorum_for(self.plan.get("quorum"), active)

    def tally(self, proposal_id: int) -> Tally:
        facts = self.proposals[proposal_id]
        eligible = {
            member
            for member, (active, organisation) in self.members.items()
            if active and member not in facts.conflicts and organisation != facts.organisation
        }
        criteria = [self.criteria[c] for c in sorted(self.criteria, key=lambda c: self.positions[c])]
        return compute_tally(criteria, self.scores.of(proposal_id), eligible, self.quorum())


def _plans(record: Record, before: Row | None, after: Row | None) -> None:
    record.plan = dict(after or {})


def _criteria(record: Record, before: Row | None, after: Row | None) -> None:
    if after is None:
        assert before is not None
        record.criteria.pop(before["id"], None)
        return
    record.criteria[after["id"]] = CriterionInfo(after["id"], after["code"], after["weight"])
    record.positions[after["id"]] = after["position"]


def _members(record: Record, before: Row | None, after: Row | None) -> None:
    if after is None:
        assert before is not None
        record.members.pop(before["id"], None)
        return
    record.members[after["id"]] = (bool(after["active"]), name_key(after["organization"]))


def _proposals(record: Record, before: Row | None, after: Row | None) -> None:
    if before is not None:
        record.counts[State(before["state"])] -= 1
    if after is None:
        assert before is not None
        record.proposals.pop(before["id"], None)
        record.scores.drop_all(before["id"])
        return
    state = State(after["state"])
    record.counts[state] += 1
    facts = record.proposals.get(after["id"])
    if facts is None:
        facts = record.proposals[after["id"]] = ProposalFacts(after["ref"], state, "")
    facts.ref, facts.state, facts.organisation = after["ref"], state, name_key(after["organization"])
    if state not in EVALUATION_STATES:
        record.scores.drop_all(after["id"])  # final once decided: what guards look at no longer needs them


def _owner(record: Record, before: Row | None, after: Row | None) -> tuple[ProposalFacts | None, Row]:
    row = after if after is not None else before
    assert row is not None
    return record.proposals.get(row["proposal_id"]), row


def _interviews(record: Record, before: Row | None, after: Row | None) -> None:
    facts, _ = _owner(record, before, after)
    if facts is not None:
        facts.interviews += (after is not None) - (before is not None)


def _links(record: Record, before: Row | None, after: Row | None) -> None:
    facts, row = _owner(record, before, after)
    if facts is not None:
        (facts.entities.add if after is not None else facts.entities.discard)(row["entity_id"])


def _responses(record: Record, before: Row | None, after: Row | None) -> None:
    facts, row = _owner(record, before, after)
    if facts is None:
        return
    if after is None:
        facts.answers.pop(row["entity_id"], None)
        return
    order = (str(after["responded_on"]), int(after["id"]))  # ISO days compare as the days do
    latest = facts.answers.get(after["entity_id"])
    if latest is None or latest[0] <= order:
        facts.answers[after["entity_id"]] = (order, bool(after["agreed"]))


def _conflicts(record: Record, before: Row | None, after: Row | None) -> None:
    facts, row = _owner(record, before, after)
    if facts is None:
        return
    if after is None or after.get("late"):
        facts.conflicts.discard(row["member_id"])
    else:
        facts.conflicts.add(after["member_id"])


def _letters(record: Record, before: Row | None, after: Row | None) -> None:
    facts, _ = _owner(record, before, after)
    if facts is not None:
        facts.letters += (after is not None) - (before is not None)


def _scores(record: Record, before: Row | None, after: Row | None) -> None:
    facts, row = _owner(record, before, after)
    if facts is None or facts.state not in EVALUATION_STATES:
        return
    if after is None:
        record.scores.drop(row["proposal_id"], row["member_id"], row["criterion_id"])
    else:
        record.scores.put(row["proposal_id"], row["member_id"], row["criterion_id"], after["value"])


def _milestones(record: Record, before: Row | None, after: Row | None) -> None:
    if after is None:
        assert before is not None
        record.milestones.pop(before["id"], None)
        return
    found = record.milestones.get(after["id"])
    state = MilestoneState(after["state"])
    if found is None:
        record.milestones[after["id"]] = MilestoneRecord(after["proposal_id"], state, after["end_month"])
    else:
        found.proposal_id, found.state, found.end_month = after["proposal_id"], state, after["end_month"]


def _progress(record: Record, before: Row | None, after: Row | None) -> None:
    if after is None:
        assert before is not None
        record.progress.pop(before["id"], None)
    else:
        record.progress[after["id"]] = after["milestone_id"]
    _evidenced(record, (after or before or {})["id"])


def _evidence(record: Record, before: Row | None, after: Row | None) -> None:
    row = after if after is not None else before
    assert row is not None
    record.evidence[row["progress_id"]] += (after is not None) - (before is not None)
    _evidenced(record, row["progress_id"])


def _evidenced(record: Record, progress_id: int) -> None:
    """Keep each milestone's set of progress entries with evidence in step with the rows."""
    for milestone in record.milestones.values():
        milestone.evidenced.discard(progress_id)
    owner = record.milestones.get(record.progress.get(progress_id, -1))
    if owner is not None and record.evidence[progress_id] > 0:
        owner.evidenced.add(progress_id)


_HANDLERS: dict[str, Callable[[Record, Row | None, Row | None], None]] = {
    "plans": _plans,
    "criteria": _criteria,
    "members": _members,
    "proposals": _proposals,
    "interviews": _interviews,
    "proposal_entities": _links,
    "responses": _responses,
    "conflicts": _conflicts,
    "scores": _scores,
    "letters": _letters,
    "milestones": _milestones,
    "progress": _progress,
    "evidence": _evidence,
}


@dataclass
class ReplayFacts:
    """The guards' facts about one proposal, from the rebuilt record (see workflow/guards.py)."""

    record: Record
    proposal_id: int
    reason: str

    @property
    def shortlist_size(self) -> int:
        return int(self.record.plan.get("shortlist_size", 0))

    @property
    def commitment_target(self) -> int:
        return int(self.record.plan.get("commitment_target", 0))

    def interviews(self) -> int:
        return self.record.proposals[self.proposal_id].interviews

    def entities(self) -> int:
        return len(self.record.proposals[self.proposal_id].entities)

    def answers(self) -> tuple[int, int]:
        answers = self.record.proposals[self.proposal_id].answers.values()
        agreed = sum(1 for _, yes in answers if yes)
        return agreed, len(answers) - agreed

    def tally(self) -> Tally:
        return self.record.tally(self.proposal_id)

    def in_batch(self, states: Collection[State]) -> int:
        return 0  # each entry is replayed as the step alone: a batch's entries are each such a step

    def count_in(self, states: Collection[State]) -> int:
        return sum(self.record.counts[state] for state in states)

    def written(self) -> tuple[int, int]:
        facts = self.record.proposals[self.proposal_id]
        return facts.letters, self.record.scores.count(self.proposal_id)


@dataclass
class ReplayMilestoneFacts:
    """The milestone guards' facts, from the rebuilt record and the move's own row in the entry
    (see workflow/guards.py `MilestoneFacts`)."""

    record: Record
    milestone_id: int
    reason: str
    new_end: str

    @property
    def end_month(self) -> str:
        return self.record.milestones[self.milestone_id].end_month

    def evidenced_progress(self) -> int:
        return len(self.record.milestones[self.milestone_id].evidenced)


# --- the replay -----------------------------------------------------------------------------------


@dataclass
class Replay:
    """The chain read from its first entry, the record rebuilt as it goes."""

    session: Session
    store: RowStore
    record: Record = field(init=False)
    legacy_states: dict[int, tuple[int, str]] = field(default_factory=dict)
    legacy_letters: dict[int, list[str]] = field(default_factory=dict)
    hashes: dict[int, str] = field(default_factory=dict)  # entries that wrote letters: seq → hash
    position: str = ""  # the key of the live row last read, to name where an unreadable one is
    rebuilt: bool = False  # whether the record is known from a body (not only from legacy entries)

    def __post_init__(self) -> None:
        self.record = Record(OpenScores(self.store.db))

    def entry(self, row: Mapping[Any, Any]) -> None:
        """Replay one entry whose hash and link already hold."""
        seq = row["seq"]
        if row["body"] is None:
            if self.rebuilt:
                raise AuditChainError(seq, "it is written the old way (no body) after entries that have one.")
            if row["proposal_id"] is not None:
                self.legacy_states[row["proposal_id"]] = (seq, row["to_state"])
            if row["letters"]:
                self.legacy_letters[seq] = list(row["letters"])
                self.hashes[seq] = row["hash"]
            return
        try:
            body = orjson.loads(row["body"])
        except ValueError as exc:
            raise AuditChainError(seq, f"its body is not JSON ({exc}).") from exc
        problem = _shape_problem(body)
        if problem:
            raise AuditChainError(seq, f"its body is not an entry this program writes ({problem}).")
        self._columns_agree(seq, row, body)
        if body.get("letters"):
            self.hashes[seq] = row["hash"]
        if body["step"] == Action.CHECKPOINT:
            self._checkpoint(seq, body)
            return
        self._allowed(seq, body)
        before = self._milestone_states(body["changes"])
        self._write(seq, body["changes"])
        self._milestones_moved(seq, body, before)
        proposal = body.get("proposal")
        if proposal is not None:
            facts = self.record.proposals.get(proposal["id"])
            if facts is None or facts.state.value != body["to"]:
                now = facts.state.value if facts else "not there"
                raise AuditChainError(
                    seq, f"it says proposal {proposal['ref']} is '{body['to']}' after it, but its rows make it {now}."
                )
        self.rebuilt = True

    def _columns_agree(self, seq: int, row: Mapping[Any, Any], body: Mapping[str, Any]) -> None:
        proposal = body.get("proposal") or {}
        expected = {
            "actor": body.get("actor"), "event": body.get("step"), "from_state": body.get("from"),
            "to_state": body.get("to"), "reason": body.get("reason"), "letters": body.get("letters"),
            "proposal_id": proposal.get("id"), "proposal_ref": proposal.get("ref"),
        }  # fmt: skip
        for column, value in expected.items():
            if row[column] != value:
                raise AuditChainError(
                    seq, f"its column {column} says {row[column]!r} but the body its hash covers says {value!r}."
                )

    def _allowed(self, seq: int, body: Mapping[str, Any]) -> None:
        """The step was allowed where the record stood, by the rules in states/."""
        try:
            spec = step_for(body["step"])
        except KeyError:
            raise AuditChainError(seq, f"its step {body['step']!r} is not one the rules know.") from None
        proposal = body.get("proposal")
        if spec.states is None and spec.move is None:
            return
        if proposal is None or proposal["id"] not in self.record.proposals:
            raise AuditChainError(seq, f"{spec.name} names no proposal the record holds.")
        facts = self.record.proposals[proposal["id"]]
        if body.get("from") != facts.state.value:
            raise AuditChainError(
                seq, f"it says {facts.ref} was '{body.get('from')}', but the record had it '{facts.state.value}'."
            )
        allowed = spec.allowed
        if facts.state not in allowed:
            where = ", ".join(s.value for s in allowed)
            raise AuditChainError(
                seq, f"{spec.name} of {facts.ref} from '{facts.state.value}' is not allowed (only from: {where})."
            )
        if bool(body.get("late")) != (facts.state in spec.late_states):
            raise AuditChainError(seq, f"its late flag does not match {facts.ref}'s state '{facts.state.value}'.")
        if spec.milestone_states is not None:
            self._milestone_allowed(seq, body, spec)
        if spec.move is None:
            return
        if body.get("to") != spec.move.dest.value:
            raise AuditChainError(seq, f"{spec.name} leads to '{spec.move.dest.value}', not '{body.get('to')}'.")
        try:
            broken = failures(spec.move.guards, ReplayFacts(self.record, proposal["id"], body.get("reason", "")))
        except _UNREADABLE as exc:  # a value no step writes, in a crafted row
            raise AuditChainError(
                seq,
                f"{spec.name} of {facts.ref} cannot be checked: the rows before it hold values no step writes.",
            ) from exc
        if broken:
            guard, detail = broken[0]
            raise AuditChainError(
                seq,
                f"{spec.name} of {facts.ref} was not allowed: {GUARD_RULES[guard]} ({detail}) "
                "as the record then stood.",
            )

    def _milestone_allowed(self, seq: int, body: Mapping[str, Any], spec: RecordedStep) -> None:
        """A step about a milestone, against the milestone table as the record then stood."""
        about = body.get("milestone")
        if about is None or about["id"] not in self.record.milestones:
            raise AuditChainError(seq, f"{spec.name} names no milestone the record holds.")
        facts, name = self.record.milestones[about["id"]], milestone_label(about["id"])
        if facts.proposal_id != body["proposal"]["id"]:
            raise AuditChainError(seq, f"{name} is not a milestone of {body['proposal']['ref']}.")
        if about["from"] != facts.state.value:
            raise AuditChainError(
                seq, f"it says {name} was '{about['from']}', but the record had it '{facts.state.value}'."
            )
        allowed = spec.milestone_states or ()
        if facts.state not in allowed:
            where = ", ".join(s.value for s in allowed)
            raise AuditChainError(
                seq, f"{spec.name} of {name} from '{facts.state.value}' is not allowed (only from: {where})."
            )
        move = spec.milestone_move
        if move is None:
            return
        if about["to"] != move.dest.value:
            raise AuditChainError(seq, f"{spec.name} leads to '{move.dest.value}', not '{about['to']}'.")
        rows = [c["row"] for c in body["changes"] if c["t"] == "milestone_moves" and c["op"] == "insert"]
        if len(rows) != 1 or rows[0].get("milestone_id") != about["id"]:
            raise AuditChainError(seq, f"{spec.name} of {name} records no move of it.")
        facts_then = ReplayMilestoneFacts(
            self.record, about["id"], rows[0].get("reason", ""), rows[0].get("new_end_month", "")
        )
        try:
            broken = milestone_failures(move.guards, facts_then)
        except _UNREADABLE as exc:  # a value no step writes, in a crafted row
            raise AuditChainError(
                seq, f"{spec.name} of {name} cannot be checked: the rows before it hold values no step writes."
            ) from exc
        if broken:
            guard, detail = broken[0]
            raise AuditChainError(
                seq,
                f"{spec.name} of {name} was not allowed: {MILESTONE_GUARD_RULES[guard]} ({detail}) "
                "as the record then stood.",
            )

    def _milestone_states(self, changes: list[Mapping[str, Any]]) -> dict[int, MilestoneState | None]:
        """The state of each milestone the changes touch, before them (None: not yet there)."""
        touched = {c["key"].get("id") for c in changes if c["t"] == "milestones"}
        return {
            key: (self.record.milestones[key].state if key in self.record.milestones else None)
            for key in touched
            if isinstance(key, int)
        }

    def _milestones_moved(self, seq: int, body: Mapping[str, Any], before: Mapping[int, MilestoneState | None]) -> None:
        """A milestone is born planned, and changes state only by its own move, to where it says."""
        about = body.get("milestone")
        spec = step_for(body["step"])
        history = [c for c in body["changes"] if c["t"] == "milestone_moves"]
        if history and (spec.milestone_move is None or any(c["op"] != "insert" for c in history)):
            raise AuditChainError(seq, "it writes a milestone's history, which only adding a move of it may do.")
        for key, was in before.items():
            now = self.record.milestones.get(key)
            if now is None or now.state == was:
                continue
            name = milestone_label(key)
            if was is None:
                if now.state is not MILESTONE_INITIAL:
                    raise AuditChainError(
                        seq, f"it adds {name} as '{now.state.value}', not '{MILESTONE_INITIAL.value}'."
                    )
                continue
            if spec.milestone_move is None or about is None or about["id"] != key:
                raise AuditChainError(seq, f"it changes {name}'s state, which only a move of that milestone may do.")
        if spec.milestone_move is not None and about is not None:
            now = self.record.milestones.get(about["id"])
            if now is None or now.state.value != about["to"]:
                found = now.state.value if now else "not there"
                name = milestone_label(about["id"])
                raise AuditChainError(seq, f"it says {name} is '{about['to']}' after it, but its rows make it {found}.")

    def _write(self, seq: int, changes: list[Mapping[str, Any]]) -> None:
        for change in changes:
            table, op, fields = change["t"], change["op"], change["key"]
            key, order = _filed(table, fields)
            ident = fields["id"] if len(fields) == 1 and type(fields.get("id")) is int else None
            before = self.store.get(table, order, key, ident)
            if op == "insert":
                if before is not None:
                    raise AuditChainError(seq, f"it inserts {table} {key}, which the record already holds.")
                after: Row | None = dict(change["row"])
            elif op == "update":
                if before is None:
                    raise AuditChainError(seq, f"it updates {table} {key}, which the record does not hold.")
                for name, old in change["old"].items():
                    if before.get(name) != old:
                        raise AuditChainError(
                            seq, f"it says {table} {key} {name} was {old!r}, but the record had {before.get(name)!r}."
                        )
                after = {**before, **change["new"]}
            elif op == "delete":
                if before is None:
                    raise AuditChainError(seq, f"it deletes {table} {key}, which the record does not hold.")
                after = None
            else:
                raise AuditChainError(seq, f"it has a change of unknown kind {op!r}.")
            if after is None:
                self.store.delete(table, order, key)
            else:
                self.store.put(table, order, key, after, ident)
            try:
                self.record.apply(table, before, after)
            except _UNREADABLE as exc:  # a value no step writes, or a column missing, in a crafted row
                raise AuditChainError(seq, f"its change to {table} {key} holds values no step writes.") from exc

    def _checkpoint(self, seq: int, body: Mapping[str, Any]) -> None:
        """A checkpoint holds the record as it stood at an upgrade: what the chain knew of it before
        must agree; from here the record is the checkpoint's."""
        if any(change["op"] != "insert" for change in body["changes"]):
            raise AuditChainError(seq, "a checkpoint holds rows as they stood, not changes to them.")
        rows = {(c["t"], _key_text(c["key"])): c["row"] for c in body["changes"]}
        if self.rebuilt:
            for (table, key), value in self._stored():
                found = rows.get((table, key))
                if found is None:
                    raise AuditChainError(seq, f"the checkpoint lacks {table} {key}, which the chain wrote before it.")
                for name, chained in value.items():
                    if name in found and found[name] != chained:
                        raise AuditChainError(
                            seq, f"the checkpoint says {table} {key} {name} is {found[name]!r}; "
                            f"the chain before it says {chained!r}."
                        )  # fmt: skip
        else:
            states = {row["id"]: row["state"] for (table, _), row in rows.items() if table == "proposals"}
            for proposal_id, (legacy_seq, state) in self.legacy_states.items():
                if states.get(proposal_id, state) != state:
                    raise AuditChainError(
                        seq, f"the checkpoint has proposal #{proposal_id} '{states[proposal_id]}', but its last "
                        f"entry (#{legacy_seq}) left it '{state}'."
                    )  # fmt: skip
        self.store.clear()
        self.record.scores.drop_all()
        self.record = Record(self.record.scores)
        self._write(seq, body["changes"])
        self.rebuilt = True

    def _stored(self) -> Iterator[tuple[tuple[str, str], Row]]:
        self.store.flush()
        for table, key, value in self.store.db.execute("SELECT t, k, v FROM rows ORDER BY t, k"):
            yield (table, key), orjson.loads(value)


def _key_text(key: Mapping[str, Any]) -> str:
    """A row's key as the rebuilt record files it: `plain_json(key)`, written directly for the
    usual key, a lone integer id (every row is keyed four times in a replay)."""
    if len(key) == 1 and type(key.get("id")) is int:
        return f'{{"id":{key["id"]}}}'
    return plain_json(key)


# A key's order: its columns' values (KEY_COLUMNS, in that order), each a whole number shifted
# into 0 … 2**64 - 1, as big-endian bytes, which sort as the numbers do, as the database lists the
# rows (`_live_rows`). A key that is not whole numbers in range (only a crafted body writes one)
# sorts after all others, by its text.
_SHIFT = 1 << 63
_ORDERS = {n: struct.Struct(f">{n}Q").pack for n in (1, 2)}
_ORDER_ID = _ORDERS[1]
_UNORDERED = b"\xff" * 17
_BY_ID = frozenset(name for name, columns in KEY_COLUMNS.items() if columns == ("id",))


def _filed(table: str, key: Mapping[str, Any]) -> tuple[str, bytes]:
    """(`_key_text(key)`, its order) for a key of `table`: how the rebuilt record files a row."""
    if len(key) == 1 and table in _BY_ID:
        ident = key.get("id")
        if type(ident) is int and -_SHIFT <= ident < _SHIFT:  # the usual key, filed directly
            return f'{{"id":{ident}}}', _ORDER_ID(ident + _SHIFT)
    columns = KEY_COLUMNS.get(table, ())
    values = [key.get(name) for name in columns]
    numbers = [value for value in values if type(value) is int and -_SHIFT <= value < _SHIFT]
    if len(key) == len(numbers) == len(values) in _ORDERS:
        return _key_text(key), _ORDERS[len(numbers)](*(n + _SHIFT for n in numbers))
    return _key_text(key), _UNORDERED


# What reading a crafted body's values can raise, once its shape is checked (`_shape_problem`): a
# refusal naming the entry, never a traceback.
_UNREADABLE = (TypeError, ValueError, ArithmeticError, KeyError)
_CHANGE_FIELDS = {"insert": ("row",), "update": ("new", "old"), "delete": ("old",)}
_TABLE_NAMES = frozenset(t.name for t in RECORD_TABLES)


# The fields of every body, with the kinds each may hold.
_BODY_KINDS: tuple[tuple[str, tuple[type, ...]], ...] = (
    ("v", (int,)), ("step", (str,)), ("actor", (str,)), ("reason", (str,)), ("late", (bool,)),
    ("letters", (list,)), ("changes", (list,)), ("proposal", (dict, type(None))),
    ("from", (str, type(None))), ("to", (str, type(None))),
)  # fmt: skip


def _shape_problem(body: Any) -> str | None:
    """What is wrong with the shape of an entry's body, or None."""
    if not isinstance(body, dict):
        return "not an object"
    for name, types in _BODY_KINDS:
        if not isinstance(body.get(name, ...), types):
            return f"{name} is missing or of the wrong kind"
    proposal = body["proposal"]
    if proposal is not None and not (isinstance(proposal.get("id"), int) and isinstance(proposal.get("ref"), str)):
        return "proposal needs an id and a ref"
    milestone = body.get("milestone", {"id": 0, "from": "", "to": ""})
    if not (
        isinstance(milestone, dict)
        and isinstance(milestone.get("id"), int)
        and isinstance(milestone.get("from"), str)
        and isinstance(milestone.get("to"), str)
        and (proposal is not None or "milestone" not in body)
    ):
        return "milestone needs an id, a from and a to, and a proposal"
    for change in body["changes"]:
        if not isinstance(change, dict) or change.get("t") not in _TABLE_NAMES:
            return "a change names no table of the record"
        fields = _CHANGE_FIELDS.get(change.get("op"))  # type: ignore[arg-type]
        if fields is None or not isinstance(change.get("key"), dict):
            return f"a change to {change['t']} is of no known kind"
        for name in fields:  # a loop, not all(…): every change of every entry passes here
            if type(change.get(name)) is not dict:
                return f"a change to {change['t']} lacks its values"
    return None


def verify(session: Session, expected: audit.Head | None = None) -> ChainReport:
    """Replay the chain and compare the record it rebuilds with the tables; raise at the first
    divergence (`AuditChainError` for an entry, `RecordMismatchError` for a table).

    With `expected`, a head published earlier (`ogp audit head`), the chain must still hold that
    very entry: a chain rewritten and re-hashed from the start verifies on its own, not against it.
    """
    with tempfile.TemporaryDirectory(prefix="ogp-verify-") as folder:
        store = RowStore(Path(folder))
        try:
            return _verify(session, store, expected)
        finally:
            store.close()


def _verify(session: Session, store: RowStore, expected: audit.Head | None) -> ChainReport:
    replay = Replay(session, store)
    chain = Chain(expected)
    table = AuditEntry.__table__
    # Its letters as stored, whatever their shape: the entry's hash and body judge them.
    entries = session.execute(select(*unchecked(table)).order_by(table.c.seq).execution_options(yield_per=BATCH))
    with closing(entries):  # a server-side cursor on PostgreSQL: closed even when a check raises
        for entry in entries:
            chain.link(entry)
            try:
                replay.entry(entry._mapping)
            except _UNREADABLE as exc:  # what no step writes, in a body crafted and hashed anew
                raise AuditChainError(entry.seq, "its body holds values no step writes.") from exc
    chain.end()
    rows, letters = _compare_tables(session, replay)
    return ChainReport(chain.count, chain.count, chain.previous, letters, len(replay.record.proposals), rows)


@dataclass
class Chain:
    """The hash chain, followed entry by entry: numbering, links, hashes, the published head."""

    expected: audit.Head | None
    previous: str = audit.GENESIS
    count: int = 0
    seen_expected: bool = False

    def __post_init__(self) -> None:
        self.seen_expected = self.expected is None or self.expected.seq == 0

    def link(self, entry: Any) -> None:
        """Check the next entry (a row with the columns as attributes); raise `AuditChainError`."""
        seq, expected = entry.seq, self.expected
        if seq != self.count + 1:
            raise AuditChainError(self.count + 1, f"it is missing (the next entry is #{seq}): an entry was removed.")
        if entry.prev_hash != self.previous:
            raise AuditChainError(
                seq,
                f"it does not follow entry #{seq - 1} (its previous-hash does not match): "
                "an entry before it was removed, inserted or reordered.",
            )
        if audit.recomputed_hash(entry) != entry.hash:
            raise AuditChainError(
                seq,
                f"it was altered ({entry.proposal_ref or '-'} {entry.event}): its content no longer matches its hash.",
            )
        if expected is not None and seq == expected.seq:
            if entry.hash != expected.hash:
                raise AuditChainError(
                    seq,
                    f"its hash is {entry.hash}, but the head published as {expected} says {expected.hash}: "
                    "the chain was rewritten since it was published.",
                )
            self.seen_expected = True
        self.previous, self.count = entry.hash, seq

    def end(self) -> None:
        """After the last entry: the published head, if any, must have been met."""
        if not self.seen_expected:
            assert self.expected is not None
            raise AuditChainError(
                self.expected.seq,
                f"the chain ends at #{self.count}, before the head published as {self.expected}: entries were removed.",
            )


def _compare_tables(session: Session, replay: Replay) -> tuple[int, int]:
    """Every table against the rebuilt record; every letter's bytes against its entry. Returns
    (rows compared, letters checked); raises at the first divergence, as `_name_divergence` names it."""
    replay.store.flush()
    rows = letters = 0
    for table in RECORD_TABLES:
        replay.position = ""
        try:
            matched = _match_table(session, replay, table)
            if matched is None:
                _name_divergence(session, replay, table)
                raise AssertionError(f"{table.name} diverged, but no row could be named")  # pragma: no cover
        except (TypeError, ValueError, OverflowError, LookupError) as exc:  # reading a row the database gave
            where = f"the row after {replay.position}" if replay.position else "its first row"
            raise RecordMismatchError(
                table.name, where, "", "values of the kinds its columns hold", f"a value that cannot be read ({exc})"
            ) from exc
        rows += matched
        if table.name == "letters":
            letters = matched
    return rows, letters


def _live_rows(session: Session, table: Any) -> Generator[Mapping[Any, Any], None, None]:
    """`table`'s rows in key order, each a mapping of column name to value, streamed (a
    server-side cursor on PostgreSQL, closed after). JSON columns are read as stored, their shape
    unchecked (`storedtypes.unchecked`): a value of the wrong shape, or not JSON at all, is a field
    that differs from the chain, named as such, not a refusal to read the table."""
    keys = [table.c[column] for column in KEY_COLUMNS[table.name]]
    result = session.execute(select(*unchecked(table)).order_by(*keys).execution_options(yield_per=BATCH))
    names = [column.name for column in table.columns]
    with closing(result):
        for row in result:
            yield dict(zip(names, row, strict=True))  # a dict is faster to walk than a row's mapping


def _live_texts(session: Session, replay: Replay, table: Any) -> Generator[tuple[str, bytes, bytes], None, None]:
    """`table`'s rows in key order as the rebuilt record files them (`_row_texts`: key, order,
    values), a letter's bytes checked first (`_check_letter_bytes`); `replay.position` names the
    row last read, for a value that cannot be read in the next."""
    name = table.name
    with closing(_live_rows(session, table)) as rows:
        for row in rows:
            if name == "letters":
                _check_letter_bytes(replay, row)
            filed = _row_texts(name, row)
            replay.position = filed[0]
            yield filed


def _match_table(session: Session, replay: Replay, table: Any) -> int | None:
    """How many rows `table` holds, each the same as a rebuilt row of its key that no other live
    row matched, with no rebuilt row left over; None at the first difference (`_name_divergence`
    then names the first in key order). No copy of the table is written (the usual case, where
    everything matches): the rows are compared in order as they stream by, and only if that
    finds a difference (or the database lists them in another order) matched as a set."""
    matched = _match_in_order(session, replay, table)
    return matched if matched is not None else _match_as_set(session, replay, table)


def _match_in_order(session: Session, replay: Replay, table: Any) -> int | None:
    """How many rows `table` holds, if they are the rebuilt rows one for one, each in its place
    in key order (their `_filed` order, as the database lists them); None at the first that is not."""
    name = table.name
    rebuilt = replay.store.db.execute("SELECT k, v FROM rows WHERE t = ? ORDER BY o, k", (name,))
    matched = 0
    try:
        with closing(_live_texts(session, replay, table)) as rows:
            for key, _, value in rows:
                if rebuilt.fetchone() != (key, value):
                    return None
                matched += 1
        return matched if rebuilt.fetchone() is None else None
    finally:
        rebuilt.close()


def _match_as_set(session: Session, replay: Replay, table: Any) -> int | None:
    """`_match_table` by marking, for each live row, the one rebuilt row of its key and value that
    no live row marked before it, whatever order the database lists them in."""
    name, match = table.name, replay.store.db.cursor()
    matched = 0
    batch: list[tuple[str, bytes, str, bytes]] = []

    def match_batch() -> bool:
        # A batch matches when it marks as many rows as it holds. A row that marks none (no such
        # key, another value, a key an earlier live row matched) makes it short.
        match.executemany("UPDATE rows SET seen = 1 WHERE t = ? AND o = ? AND k = ? AND v = ? AND seen = 0", batch)
        done = match.rowcount == len(batch)
        batch.clear()
        return done

    with closing(_live_texts(session, replay, table)) as rows:
        for key, order, value in rows:
            batch.append((name, order, key, value))
            matched += 1
            if len(batch) >= BATCH and not match_batch():
                return None
    if batch and not match_batch():
        return None
    stored = replay.store.db.execute("SELECT count(*) FROM rows WHERE t = ?", (name,)).fetchone()[0]
    return matched if matched == stored else None


def _name_divergence(session: Session, replay: Replay, table: Any) -> None:
    """Raise for the first divergence between `table` and the rebuilt record: a row the chain
    wrote that is missing, else a row no entry wrote, else a field that differs (each the first in
    key order), by copying the table beside the rebuilt record and comparing the two."""
    name, db = table.name, replay.store.db
    with closing(_live_texts(session, replay, table)) as rows:
        for key, order, value in rows:
            added = db.execute("INSERT OR IGNORE INTO live VALUES (?, ?, ?, ?)", (name, order, key, value))
            if added.rowcount == 0:  # a table rebuilt without its key's constraint, behind the product's back
                raise RecordMismatchError(name, key, "", "one row", "more than one row", "its key must name one row")
    missing = db.execute(
        "SELECT r.k, r.v FROM rows r LEFT JOIN live l ON l.t = r.t AND l.o = r.o AND l.k = r.k "
        "WHERE r.t = ? AND l.k IS NULL ORDER BY r.o, r.k LIMIT 1",
        (name,),
    ).fetchone()
    if missing:
        raise RecordMismatchError(name, missing[0], "", "the row exists", "it is missing")
    extra = db.execute(
        "SELECT l.k FROM live l LEFT JOIN rows r ON l.t = r.t AND l.o = r.o AND l.k = r.k "
        "WHERE l.t = ? AND r.k IS NULL ORDER BY l.o, l.k LIMIT 1",
        (name,),
    ).fetchone()
    if extra:
        raise RecordMismatchError(name, extra[0], "", "no such row", "it is there", "no entry wrote it")
    differs = db.execute(
        "SELECT r.k, r.v, l.v FROM rows r JOIN live l ON l.t = r.t AND l.o = r.o AND l.k = r.k "
        "WHERE r.t = ? AND r.v <> l.v ORDER BY r.o, r.k LIMIT 1",
        (name,),
    ).fetchone()
    if differs:
        chained, found = orjson.loads(differs[1]), orjson.loads(differs[2])
        # Compared as the chain writes them: 1 and true, 1 and 1.0 are different values.
        def written(values: Mapping[str, Any], name: str) -> tuple[bool, str]:
            return name in values, plain_json(values.get(name))

        column = next((c for c in sorted({*chained, *found}) if written(chained, c) != written(found, c)), None)
        if column is None:  # pragma: no cover - the texts differ, so some column does
            raise RecordMismatchError(name, differs[0], "", _show(chained), _show(found))
        raise RecordMismatchError(name, differs[0], column, _show(chained.get(column)), _show(found.get(column)))


def _row_texts(name: str, row: Mapping[Any, Any]) -> tuple[str, bytes, bytes]:
    """A live row's key, its order and its values as the rebuilt record files them (`_filed`,
    `ledger.plain_bytes`); `RecordMismatchError` naming the row (and the field) for a value no step
    writes (a float or a list of them where the chain has integers: SQLite keeps what it is given
    in a table rebuilt behind the product's back)."""
    ident = row["id"] if name in _BY_ID else None
    try:
        if type(ident) is int and -_SHIFT <= ident < _SHIFT:  # the usual key, filed as `_filed` files it
            key, order = f'{{"id":{ident}}}', _ORDER_ID(ident + _SHIFT)
        else:
            key, order = _filed(name, row_key(name, row))
    except (TypeError, ValueError, OverflowError) as exc:
        shown = ", ".join(f"{column}={row[column]!r}" for column in KEY_COLUMNS[name])
        raise RecordMismatchError(
            name, shown, "", "a key of the kind its columns hold", f"a key that cannot be read ({exc})"
        ) from exc
    try:
        return key, order, plain_bytes(canonical_row(name, row))
    except (TypeError, ValueError, OverflowError) as exc:
        column = next((c for c, value in row.items() if not _writable(value)), "")
        raise RecordMismatchError(
            name, key, column, "values of the kinds its columns hold", f"a value that cannot be read ({exc})"
        ) from exc


def _writable(value: Any) -> bool:
    """Whether the chain could hold `value` (`canonical`, then `ledger.plain_bytes`)."""
    try:
        plain_bytes({"v": canonical(value)})
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _check_letter_bytes(replay: Replay, row: Mapping[Any, Any]) -> None:
    """A stored letter is the one its entry recorded: the digest of its parts, and (written from
    schema 0005 on) its custom properties naming that entry's number and hash."""
    name = f"letter {row['reference']} ({row['file_name']})"
    if not isinstance(row["content"], bytes | bytearray | memoryview):
        raise RecordMismatchError("letters", name, "content", "a .docx", f"no bytes ({type(row['content']).__name__})")
    content = bytes(row["content"])
    seq = row["audit_seq"]
    if hashlib.sha256(content).hexdigest() != row["sha256"]:
        raise RecordMismatchError("letters", name, "content", f"bytes with sha256 {row['sha256']}", "other bytes")
    legacy = replay.legacy_letters.get(seq)
    if legacy is not None:
        if row["sha256"] not in legacy:
            raise AuditChainError(
                seq,
                f"{name} is not the letter this entry recorded: "
                "its bytes do not match the sha256 kept in the audit trail.",
            )
        return
    try:
        reading = read_package(content)
    except ValueError as exc:
        raise RecordMismatchError("letters", name, "content", "a .docx", str(exc)) from exc
    if reading.digest != row["digest"]:
        raise RecordMismatchError(
            "letters", name, "content", f"parts with digest {row['digest']}", f"parts with digest {reading.digest}"
        )
    written_by = (reading.properties.get(PROPERTY_SEQ), reading.properties.get(PROPERTY_HASH))
    if written_by != (str(seq), replay.hashes.get(seq)):
        raise RecordMismatchError(
            "letters", name, "content", f"written by entry #{seq} {replay.hashes.get(seq)}",
            f"it names entry #{written_by[0]} {written_by[1]}",
        )  # fmt: skip
