"""The audit trail: append-only, hash-chained entries saying who changed the record, when, what and why.

An entry's `body` is the canonical JSON of the step (see workflow/ledger.py); its hash covers the
body's sha256 together with its sequence number, time, database role and the previous entry's
hash. On PostgreSQL the server computes those (function `ogp_append_entry`, migration 0005), so a
client can neither choose its place in the chain nor claim another role; on SQLite the client
does, under the database's write lock. Entries written before schema 0005 have no body and keep
the hash they were written with (`legacy_hash`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from workflow.models import AuditEntry, Proposal

GENESIS = "0" * 64
BODY_VERSION = 2
# What an entry before schema 0005 hashed: everything it said, and the hash of the entry before it.
LEGACY_HASHED_FIELDS = (
    "seq", "at", "actor", "proposal_id", "proposal_ref", "event",
    "from_state", "to_state", "reason", "letters", "prev_hash",
)  # fmt: skip
# The columns of an entry that repeat what its body says, for queries; `verify` checks they agree.
BODY_COLUMNS = {
    "actor": "actor",
    "event": "step",
    "from_state": "from",
    "to_state": "to",
    "reason": "reason",
    "letters": "letters",
}


def utc_stamp(moment: dt.datetime) -> str:
    """The canonical text of a moment, as hashed and stored: ISO 8601 UTC with microseconds."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sha256_text(value: str) -> str:
    """The hex sha256 of `value` in UTF-8."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def entry_hash(seq: int, at: str, db_role: str | None, prev_hash: str, body: str) -> str:
    """The hash of an entry with a body (schema 0005 on): the same formula as `ogp_append_entry`."""
    framed = f"ogp-audit/2\n{seq}\n{at}\n{db_role or ''}\n{prev_hash}\n{sha256_text(body)}"
    return sha256_text(framed)


def legacy_hash(entry: Any) -> str:
    """sha256 over an entry written before schema 0005: its fields and the previous entry's hash."""
    content: dict[str, Any] = {name: getattr(entry, name) for name in LEGACY_HASHED_FIELDS}
    if entry.db_role is not None:  # only where the database named a role, as it was then hashed
        content["db_role"] = entry.db_role
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return sha256_text(canonical)


def recomputed_hash(entry: Any) -> str:
    """What an entry's hash must be, by the rule it was written under (`entry`: an `AuditEntry`,
    or a row with its columns as attributes)."""
    if entry.body is None:
        return legacy_hash(entry)
    return entry_hash(entry.seq, entry.at, entry.db_role, entry.prev_hash, entry.body)


def head(session: Session) -> AuditEntry | None:
    """The newest entry."""
    return session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()


def append_entry(
    session: Session, *, seq: int, body: str, at: dt.datetime, after: Head | None = None, flush: bool = True
) -> AuditEntry:
    """Append entry `seq` with `body` (canonical JSON from workflow/ledger.py). The caller holds the
    record's lock, so `seq` is the next number; PostgreSQL's append function checks it anyway.
    `after`, the head the caller read under that lock (entry `seq - 1`), saves reading it again.
    With `flush=False` the entry is only added to the session (SQLite; on PostgreSQL the server
    writes it at once): the caller flushes it, with the letters that name it, in one go."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT ogp_append_entry(:seq, :body)"), {"seq": seq, "body": body})
        entry = session.get(AuditEntry, seq)
        assert entry is not None
        return entry
    content = json.loads(body)
    proposal = content["proposal"] or {}
    last = after if after is not None and after.seq == seq - 1 else current_head(session)
    entry = AuditEntry(
        seq=seq,
        at=utc_stamp(at),
        actor=content["actor"],
        proposal_id=proposal.get("id"),
        proposal_ref=proposal.get("ref"),
        event=content["step"],
        from_state=content["from"],
        to_state=content["to"],
        reason=content["reason"],
        letters=content["letters"],
        prev_hash=last.hash,
        db_role=None,
        body=body,
    )
    entry.hash = entry_hash(entry.seq, entry.at, entry.db_role, entry.prev_hash, body)
    session.add(entry)
    if flush:
        session.flush()
    return entry


def history(session: Session, proposal: Proposal) -> list[AuditEntry]:
    """Every entry about `proposal`, oldest first."""
    query = select(AuditEntry).where(AuditEntry.proposal_id == proposal.id).order_by(AuditEntry.seq)
    return list(session.scalars(query))


@dataclass(frozen=True)
class Head:
    """The newest entry's sequence number and hash: what gets published."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        """`SEQ:HASH` as `ogp audit head` prints it; ValueError otherwise."""
        seq, _, digest = text.strip().partition(":")
        if (
            not (seq.isascii() and seq.isdigit())
            or len(digest) != 64
            or any(c not in "0123456789abcdef" for c in digest)
        ):
            raise ValueError(
                f"{text!r} is not SEQ:HASH (a number, a colon and 64 hex digits, as 'ogp audit head' prints)"
            )
        return cls(int(seq), digest)


def current_head(session: Session) -> Head:
    """The chain's head (0 and the genesis hash for an empty chain)."""
    last = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    return Head(last.seq, last.hash) if last else Head(0, GENESIS)
