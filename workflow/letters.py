"""Stored letters: listing them, the outgoing register, writing and verifying their files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents import write_atomic
from workflow.models import AuditEntry, Letter
from workflow.names import name_key
from workflow.proposals import get_proposal


def list_letters(session: Session, proposal_key: str | None = None) -> list[Letter]:
    """Every stored letter (or one proposal's), in the order they were written."""
    query = select(Letter).order_by(Letter.id)
    if proposal_key is not None:
        query = query.where(Letter.proposal_id == get_proposal(session, proposal_key).id)
    return list(session.scalars(query))


def register(session: Session, year: int | None = None) -> list[Letter]:
    """The outgoing register: every letter by year and number."""
    query = select(Letter).order_by(Letter.year, Letter.number)
    if year is not None:
        query = query.where(Letter.year == year)
    return list(session.scalars(query))


def write_files(folder: Path, letters: Iterable[tuple[str, bytes]]) -> list[Path]:
    """Write (file name, bytes) pairs into `folder`, each atomically; return the paths."""
    return [write_atomic(folder, name, content) for name, content in letters]


@dataclass
class FolderCheck:
    """What one folder of letter files holds, against the audit trail."""

    folder: Path
    matching: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


@dataclass
class LetterCheck:
    """The result of `verify`: stored letters that do not match, and each folder's files."""

    stored: int
    bad_stored: list[str]
    folders: list[FolderCheck]

    @property
    def ok(self) -> bool:
        return not self.bad_stored and not any(f.altered for f in self.folders)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify(session: Session, folders: Sequence[Path], *, expect_all: Sequence[Path] = ()) -> LetterCheck:
    """Check every stored letter, and every .docx in `folders`, against the sha256 its move recorded.

    A file in a folder of `expect_all` (the workspace's own letters/) that is absent is reported
    as missing; an exported folder need not hold every letter.
    """
    recorded: dict[int, list[str]] = {}
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        if entry.letters:
            recorded[entry.seq] = list(entry.letters)
    letters = list_letters(session)
    bad = [
        f"{letter.reference} ({letter.file_name})"
        for letter in letters
        if _sha256(letter.content) != letter.sha256 or letter.sha256 not in recorded.get(letter.audit_seq, [])
    ]
    by_name = {letter.file_name: letter.sha256 for letter in letters}
    stored_name = {name_key(letter.file_name): letter.file_name for letter in letters}  # NFD, case … (names.py)
    checks = []
    for folder in folders:
        check = FolderCheck(folder)
        found = folder.glob("*.docx") if folder.is_dir() else ()
        present = {stored_name.get(name_key(p.name), p.name): p for p in found if p.is_file()}
        for name, path in sorted(present.items()):
            if name not in by_name:
                check.unknown.append(name)
            elif _sha256(path.read_bytes()) == by_name[name]:
                check.matching.append(name)
            else:
                check.altered.append(name)
        if folder in expect_all:
            check.missing = sorted(set(by_name) - set(present))
        checks.append(check)
    return LetterCheck(len(letters), bad, checks)
