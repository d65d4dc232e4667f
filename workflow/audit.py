"""The audit trail: append-only, hash-chained entries saying who moved a proposal, when and why."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from workflow.errors import AuditChainError
from workflow.models import AuditEntry, Letter, Proposal

GENESIS = "0" * 64
SUBMIT_EVENT = "submit"


def utc_stamp(moment: dt.datetime) -> str:
    """The canonical text of a moment, as hashed and stored: ISO 8601 UTC with microseconds."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# What an entry's hash covers: everything it says, and the hash of the entry before it.
HASHED_FIELDS = (
    "seq", "at", "actor", "proposal_id", "proposal_ref", "event",
    "from_state", "to_state", "reason", "letters", "prev_hash",
)  # fmt: skip


def entry_hash(entry: AuditEntry) -> str:
    """sha256 over the entry's content and the previous entry's hash."""
    content = {name: getattr(entry, name) for name in HASHED_FIELDS}
    if entry.db_role is not None:  # only where the database names a role, so SQLite's hashes stay as they were
        content["db_role"] = entry.db_role
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def head(session: Session) -> AuditEntry | None:
    """The newest entry."""
    return session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()


def append(
    session: Session,
    *,
    proposal: Proposal,
    event: str,
    from_state: str | None,
    to_state: str,
    actor: str,
    reason: str,
    letters: list[str],
    at: dt.datetime,
) -> AuditEntry:
    """Add the next entry. The caller holds the plan lock, so appends never fork the chain."""
    last = head(session)
    entry = AuditEntry(
        seq=(last.seq + 1) if last else 1,
        at=utc_stamp(at),
        actor=actor,
        proposal_id=proposal.id,
        proposal_ref=proposal.ref,
        event=event,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        letters=letters,
        prev_hash=last.hash if last else GENESIS,
        db_role=database_role(session),
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    session.flush()
    return entry


def database_role(session: Session) -> str | None:
    """Who the database says we are (PostgreSQL's current_user); None where it cannot say."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return str(session.scalar(text("SELECT current_user")))


def history(session: Session, proposal: Proposal) -> list[AuditEntry]:
    """Every entry about `proposal`, oldest first."""
    query = select(AuditEntry).where(AuditEntry.proposal_id == proposal.id).order_by(AuditEntry.seq)
    return list(session.scalars(query))


@dataclass(frozen=True)
class ChainReport:
    """What `verify` found when the chain holds."""

    entries: int
    head_seq: int
    head_hash: str
    letters: int
    proposals: int


@dataclass(frozen=True)
class Head:
    """The newest entry's sequence number and hash: what gets published."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        seq, _, digest = text.strip().partition(":")
        if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(
                f"{text!r} is not SEQ:HASH (a number, a colon and 64 hex digits, as 'ogp audit head' prints)"
            )
        return cls(int(seq), digest)


def current_head(session: Session) -> Head:
    """The chain's head (0 and the genesis hash for an empty chain)."""
    last = head(session)
    return Head(last.seq, last.hash) if last else Head(0, GENESIS)


def verify(session: Session, expected: Head | None = None) -> ChainReport:
    """Recompute the chain and cross-check letters and proposal states; raise at the first break.

    With `expected`, a head published earlier, the chain must still hold that very entry: a
    chain rewritten and re-hashed from the start verifies on its own, but not against it.
    """
    previous_hash, expected_seq = GENESIS, 1
    seen_expected = expected is None or expected.seq == 0
    last_state: dict[int, tuple[int, str]] = {}
    listed_letters: dict[str, int] = {}
    count = 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        if entry.seq != expected_seq:
            raise AuditChainError(
                expected_seq,
                f"it is missing (the next entry is #{entry.seq}): an entry was removed.",
            )
        if entry.prev_hash != previous_hash:
            raise AuditChainError(
                entry.seq,
                f"it does not follow entry #{entry.seq - 1} (its previous-hash does not match): "
                "an entry before it was removed, inserted or reordered.",
            )
        if entry_hash(entry) != entry.hash:
            raise AuditChainError(
                entry.seq,
                f"it was altered ({entry.proposal_ref} {entry.event}): its content no longer matches its hash.",
            )
        if expected is not None and entry.seq == expected.seq:
            if entry.hash != expected.hash:
                raise AuditChainError(
                    entry.seq,
                    f"its hash is {entry.hash}, but the head published as {expected} says {expected.hash}: "
                    "the chain was rewritten since it was published.",
                )
            seen_expected = True
        last_state[entry.proposal_id] = (entry.seq, entry.to_state)
        for sha in entry.letters:
            listed_letters[sha] = entry.seq
        previous_hash, expected_seq, count = entry.hash, expected_seq + 1, count + 1

    if not seen_expected:
        assert expected is not None
        raise AuditChainError(
            expected.seq,
            f"the chain ends at #{expected_seq - 1}, before the head published as {expected}: entries were removed.",
        )
    letters = 0
    for letter in session.scalars(select(Letter).order_by(Letter.id)):
        actual = hashlib.sha256(letter.content).hexdigest()
        if actual != letter.sha256 or listed_letters.get(actual) != letter.audit_seq:
            raise AuditChainError(
                letter.audit_seq,
                f"letter {letter.reference} ({letter.file_name}) is not the letter this entry "
                "recorded: its bytes do not match the sha256 kept in the audit trail.",
            )
        letters += 1
    if letters != len(listed_letters):
        missing_seq = min(seq for sha, seq in listed_letters.items() if not _has_letter(session, sha))
        raise AuditChainError(missing_seq, "a letter it recorded is missing from the database.")

    proposals = 0
    for proposal in session.scalars(select(Proposal).order_by(Proposal.id)):
        seq, state = last_state.get(proposal.id, (0, ""))
        if state != proposal.state.value:
            raise AuditChainError(
                seq,
                f"proposal {proposal.ref} is '{proposal.state.value}' but its last audit entry "
                f"says '{state or 'nothing'}': its state was changed outside the workflow.",
            )
        proposals += 1
    return ChainReport(count, expected_seq - 1, previous_hash, letters, proposals)


def _has_letter(session: Session, sha: str) -> bool:
    return session.scalar(select(Letter.id).where(Letter.sha256 == sha).limit(1)) is not None
