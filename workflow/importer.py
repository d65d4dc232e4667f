"""Importing proposals from CSV (as Excel writes it) or JSON: all of the file, or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from sqlalchemy.orm import Session

from documents.text import neutralise
from workflow.errors import ImportFileError, RowProblem
from workflow.evaluation import ScoreInput, record_score, score_problems
from workflow.models import Proposal, Score
from workflow.plans import EntityIndex, current_plan
from workflow.proposals import LikelyDuplicates, ProposalInput, store, validate
from workflow.spreadsheets import TableSpec, read_rows

PROPOSALS = TableSpec(
    columns=(
        "ref", "title", "organization", "email", "problem", "solution",
        "values", "entities", "submitted_on", "language",
    ),
    required=("title", "organization"),
    lists=("values", "entities"),
)  # fmt: skip
SCORES = TableSpec(
    columns=("proposal", "member", "criterion", "value", "note"), required=("proposal", "member", "criterion", "value")
)


def import_proposals(
    session: Session, path: Path, *, actor: str, now: dt.datetime | None = None, allow_duplicates: bool = False
) -> list[Proposal]:
    """Register every proposal in the file, or none: any bad row refuses the whole file.

    A row without a ref whose title and organisation match a proposal already registered, or an
    earlier row of the file, is refused as a likely duplicate unless `allow_duplicates`.
    """
    now = now or dt.datetime.now(dt.UTC)
    current_plan(session, lock=True)
    rows, problems = read_rows(path, PROPOSALS)
    entities = EntityIndex(session)
    likely = LikelyDuplicates(session)
    seen: dict[str, str] = {}
    cleaned = []
    for where, row in rows:
        raw = ProposalInput(
            ref=row.get("ref", ""),
            title=row.get("title", ""),
            organization=row.get("organization", ""),
            email=row.get("email", ""),
            problem=row.get("problem", ""),
            solution=row.get("solution", ""),
            values=row.get("values", []),
            entities=row.get("entities", []),
            submitted_on=row.get("submitted_on", ""),
            language=row.get("language", ""),
        )
        clean = validate(session, raw, entities, now.astimezone().date())
        problems.extend(RowProblem(where, name, reason) for name, reason in clean.problems)
        if not clean.ref and not allow_duplicates and clean.title and clean.organization:
            duplicate = likely.check(clean.title, clean.organization, where)
            if duplicate:
                problems.append(RowProblem(where, "title", duplicate))
        if clean.ref:
            key = clean.ref.casefold()
            if key in seen:
                problems.append(RowProblem(where, "ref", f"duplicate ref {clean.ref!r} (also at {seen[key]})"))
            seen.setdefault(key, where)
        cleaned.append(clean)
    if not rows and not problems:
        problems.append(RowProblem("line 1", "", "the file holds no proposals"))
    if problems:
        raise ImportFileError(str(path), sorted(problems, key=_position))
    taken = set(seen)
    return [store(session, clean, actor=actor, now=now, taken=taken) for clean in cleaned]


def _position(problem: RowProblem) -> int:
    """Where a problem stands in the file, so they are reported top to bottom."""
    number = problem.where.rsplit(" ", 1)[-1]
    return int(number) if number.isascii() and number.isdigit() else 0


def export_proposals(proposals: list[Proposal]) -> bytes:
    """Proposals as CSV in the import's own columns (plus state), UTF-8 with the BOM Excel wants,
    every formula-looking cell neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([*PROPOSALS.columns, "state"])
    for p in proposals:
        cells = [
            p.ref, p.title, p.organization, p.email, p.problem, p.solution, ";".join(p.values),
            ";".join(e.code or e.name for e in p.entities), p.submitted_on.isoformat(), p.language, p.state.value,
        ]  # fmt: skip
        writer.writerow([neutralise(cell) for cell in cells])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def import_scores(session: Session, path: Path, *, actor: str, now: dt.datetime | None = None) -> list[Score]:
    """Record every score in the file, or none: any bad row refuses the whole file."""
    now = now or dt.datetime.now(dt.UTC)
    rows, problems = read_rows(path, SCORES)
    seen: dict[tuple[int, int, int], str] = {}
    good: list[ScoreInput] = []
    for where, row in rows:
        raw = ScoreInput(
            proposal=row.get("proposal", ""),
            member=row.get("member", ""),
            criterion=row.get("criterion", ""),
            value=row.get("value", ""),
            note=row.get("note", ""),
        )
        found = score_problems(session, raw)
        problems.extend(RowProblem(where, column, reason) for column, reason in found.problems)
        if found.key is not None:
            if found.key in seen:
                problems.append(RowProblem(where, "", f"the same score is given twice (also at {seen[found.key]})"))
            seen.setdefault(found.key, where)
        good.append(raw)
    if not rows and not problems:
        problems.append(RowProblem("line 1", "", "the file holds no scores"))
    if problems:
        raise ImportFileError(str(path), sorted(problems, key=_position))
    return [record_score(session, raw, actor=actor, now=now) for raw in good]
