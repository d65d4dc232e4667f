"""Stored letters: listing them and writing their files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents import write_atomic
from workflow.models import Letter
from workflow.proposals import get_proposal


def list_letters(session: Session, proposal_key: str | None = None) -> list[Letter]:
    """Every stored letter (or one proposal's), in the order they were written."""
    query = select(Letter).order_by(Letter.id)
    if proposal_key is not None:
        query = query.where(Letter.proposal_id == get_proposal(session, proposal_key).id)
    return list(session.scalars(query))


def write_files(folder: Path, letters: Iterable[tuple[str, bytes]]) -> list[Path]:
    """Write (file name, bytes) pairs into `folder`, each atomically; return the paths."""
    return [write_atomic(folder, name, content) for name, content in letters]
