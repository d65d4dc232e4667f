"""Importing proposals from CSV (as Excel writes it) or JSON: all of the file, or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from documents.text import FORMULA_STARTS, neutralise
from workflow.errors import ImportFileError, RowProblem
from workflow.evaluation import ScoreInput, record_score, score_problems
from workflow.models import Proposal, Score
from workflow.plans import EntityIndex, current_plan
from workflow.proposals import ProposalInput, store, validate


@dataclass(frozen=True)
class TableSpec:
    """The columns an import file may have, which it must have, and which hold lists."""

    columns: tuple[str, ...]
    required: tuple[str, ...]
    lists: tuple[str, ...] = ()


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
# People typing Arabic reach for the Arabic semicolon as often as the Latin one.
_LIST_SEPARATOR = re.compile("[;؛]")
MAX_FILE_BYTES = 50 * 1024 * 1024

Row = tuple[str, dict[str, Any]]


def import_proposals(session: Session, path: Path, *, actor: str, now: dt.datetime | None = None) -> list[Proposal]:
    """Register every proposal in the file, or none: any bad row refuses the whole file."""
    now = now or dt.datetime.now(dt.UTC)
    current_plan(session, lock=True)
    rows, problems = read_rows(path, PROPOSALS)
    entities = EntityIndex(session)
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


def read_rows(path: Path, spec: TableSpec) -> tuple[list[Row], list[RowProblem]]:
    """The file's rows as dicts of the known columns, and every problem of form found on the way."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [], [RowProblem("file", "", f"cannot read it: {exc.strerror or exc}")]
    if len(data) > MAX_FILE_BYTES:
        return [], [RowProblem("file", "", f"is {len(data)} bytes; at most {MAX_FILE_BYTES} are read")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return [], [
            RowProblem(
                f"line {line}",
                "",
                f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                "save the file as 'CSV UTF-8' or UTF-8 JSON",
            )
        ]
    if path.suffix.lower() == ".json" or (path.suffix.lower() != ".csv" and text.lstrip()[:1] in "[{"):
        return _json_rows(text, spec)
    return _csv_rows(text, spec)


def _csv_rows(text: str, spec: TableSpec) -> tuple[list[Row], list[RowProblem]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[RowProblem] = []
    try:
        header = next(reader)
    except StopIteration:
        return [], [RowProblem("line 1", "", "the file is empty")]
    except csv.Error as exc:
        return [], [RowProblem("line 1", "", f"not readable as CSV: {exc}")]
    names = [cell.strip().lower() for cell in header]
    problems.extend(_header_problems(names, "line 1", spec))
    if problems:  # rows read against a wrong header would only repeat its problems
        return [], problems
    rows: list[Row] = []
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(RowProblem(f"line {start}", "", f"not readable as CSV: {exc}"))
            break
        if not any(cell.strip() for cell in cells):
            continue
        where = f"line {start}"
        if len(cells) > len(names):
            problems.append(RowProblem(where, "", f"has {len(cells)} cells but the header names {len(names)} columns"))
            continue
        row: dict[str, Any] = {}
        for name, cell in zip(names, cells, strict=False):
            cell = _restore(cell)
            if name in spec.lists:
                row[name] = [item.strip() for item in _LIST_SEPARATOR.split(cell) if item.strip()]
            elif name in spec.columns:
                row[name] = cell
        rows.append((where, row))
    return rows, problems


def _restore(cell: str) -> str:
    """Undo `neutralise`, so an exported file imports back to the same text."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


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


def _header_problems(names: list[str], where: str, spec: TableSpec) -> list[RowProblem]:
    problems = []
    for name in names:
        if name not in spec.columns:
            problems.append(RowProblem(where, name, f"unknown column (known: {', '.join(spec.columns)})"))
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(RowProblem(where, name, "the column appears more than once"))
    for name in spec.required:
        if name not in names:
            problems.append(RowProblem(where, name, "required column is missing"))
    return problems


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _json_rows(text: str, spec: TableSpec) -> tuple[list[Row], list[RowProblem]]:
    try:
        document = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        return [], [RowProblem(f"line {exc.lineno}", "", f"not valid JSON: {exc.msg}")]
    except (ValueError, RecursionError) as exc:
        return [], [RowProblem("file", "", f"not acceptable JSON: {exc}")]
    if not isinstance(document, list):
        return [], [RowProblem("file", "", "must be a JSON array of objects, one a row")]
    rows: list[Row] = []
    problems: list[RowProblem] = []
    for index, item in enumerate(document, start=1):
        where = f"item {index}"
        if not isinstance(item, dict):
            problems.append(RowProblem(where, "", "must be a JSON object"))
            continue
        row: dict[str, Any] = {}
        for key, value in item.items():
            if key not in spec.columns:
                problems.append(RowProblem(where, key, f"unknown key (known: {', '.join(spec.columns)})"))
            elif key in spec.lists:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    problems.append(RowProblem(where, key, "must be an array of strings"))
                else:
                    row[key] = value
            elif value is None:
                continue
            elif isinstance(value, int) and not isinstance(value, bool) and key == "value":
                row[key] = str(value)  # a score may be a JSON number
            elif not isinstance(value, str):
                problems.append(RowProblem(where, key, f"must be a string, not {type(value).__name__}"))
            else:
                row[key] = value
        rows.append((where, row))
    return rows, problems


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
