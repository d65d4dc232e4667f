"""Importing proposals from CSV (as Excel writes it) or JSON: all of the file, or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from documents import clean_block, one_line
from documents.text import neutralise
from states import Action, State
from workflow import fields, ledger
from workflow.dates import parse_date
from workflow.errors import (
    RowProblem,
)
from workflow.evaluation import (
    CheckedScores,
    GivenResponse,
    Referrals,
    ScoreBook,
    ScoreInput,
    record_responses,
    record_scores,
    score_problems,
)
from workflow.interviews import MAX_ANSWER, HeldInterview, days_held, record_interviews, repeated_interview
from workflow.members import MemberIndex
from workflow.models import Entity, Interview, Proposal, Response
from workflow.names import name_key
from workflow.plans import EntityIndex, current_plan
from workflow.proposals import (
    LOOKUP_CHUNK,
    LikelyDuplicates,
    ProposalInput,
    find_proposals,
    record_refs,
    store_many,
    validate,
)
from workflow.roles import check_acting_as
from workflow.spreadsheets import TableSpec, iter_rows, read_rows, refusal

# The columns an export of proposals adds to the import's: read back only where they say what an
# import registers (a proposal just submitted, with no lead body); the later steps of a proposal
# are the working group's moves, which no file can stand in for.
EXPORTED = ("state", "lead")
PROPOSAL_COLUMNS = (
    "ref", "title", "organization", "email", "problem", "solution", "values", "entities", "submitted_on", "language",
)  # fmt: skip
PROPOSALS = TableSpec(
    columns=(*PROPOSAL_COLUMNS, *EXPORTED),  # an export's file reads back
    required=("title", "organization"),
    lists=("values", "entities"),
)  # fmt: skip
SCORES = TableSpec(
    columns=("proposal", "member", "criterion", "value", "note"), required=("proposal", "member", "criterion", "value")
)
INTERVIEWS = TableSpec(
    columns=("ref", "held_on", "platform", "members", "notes", "needs", "plans", "solves"),
    required=("ref", "held_on"),
    lists=("members",),
)
RESPONSES = TableSpec(
    columns=("ref", "entity", "agreed", "responded_on", "note"), required=("ref", "entity", "agreed"), flags=("agreed",)
)
# What the `agreed` column of a responses file takes, compared as names are (`names.name_key`: any
# case, Arabic-Indic digits, invisible marks); in JSON also true/false and 1/0.
AGREED = ("yes", "y", "true", "1", "agreed", "نعم", "موافق")
DECLINED = ("no", "n", "false", "0", "declined", "لا", "غير موافق")
_AGREED_KEYS = {name_key(word): True for word in AGREED} | {name_key(word): False for word in DECLINED}



def import_proposals(
    session: Session,
    path: Path,
    *,
    actor: str,
    now: dt.datetime | None = None,
    allow_duplicates: bool = False,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Register every proposal in the file, or none: any bad row refuses the whole file (raises
    `ImportFileError` naming every bad row, line and column). Returns the refs registered, in the
    file's order; `progress(n)` is called as rows are registered (a progress bar on the command
    line). Written in bulk, one recorded step `submit` per proposal (`proposals.store_many`).

    A row without a ref whose title and organisation match a proposal already registered, or an
    earlier row of the file, is refused as a likely duplicate unless `allow_duplicates`.
    """
    now = now or dt.datetime.now(dt.UTC)
    current_plan(session, lock=True)
    rows, problems = read_rows(path, PROPOSALS)
    read = len(problems)  # what reading the file found, before the checks
    entities = EntityIndex(session)
    likely = LikelyDuplicates(session)
    existing = record_refs(session)
    seen: dict[str, str] = {}
    cleaned = []
    today = now.astimezone().date()
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
        clean = validate(session, raw, entities, today, record_refs=existing)
        problems.extend(RowProblem(where, name, reason) for name, reason in clean.problems)
        problems.extend(RowProblem(where, name, reason) for name, reason in _exported_problems(row))
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
        raise refusal(path, problems, read, PROPOSALS)
    return store_many(session, cleaned, actor=actor, now=now, taken=existing | set(seen), progress=progress)


def _exported_problems(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What is wrong with an exported row's `state` and `lead` (`EXPORTED`), as (column, problem)."""
    state = _cell(row, "state").strip()
    if state and name_key(state) != name_key(State.SUBMITTED.value):
        return [("state", f"{state!r}: an import registers proposals as submitted, and no file stands in for "
                 "the moves since (keep the submitted rows only, e.g. 'ogp proposal export FILE --state "
                 "submitted'; 'ogp db copy' moves a whole workspace)")]  # fmt: skip
    if _cell(row, "lead").strip():
        return [("lead", "a lead body is named when a proposal is committed, not at registration")]
    return []


def export_proposals(proposals: list[Proposal]) -> bytes:
    """Proposals as CSV in the import's own columns plus `EXPORTED` (the state, and the lead body
    of a commitment), UTF-8 with the BOM Excel wants, every formula-looking cell neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([*PROPOSAL_COLUMNS, *EXPORTED])
    for p in proposals:
        lead = (p.lead_entity.code or p.lead_entity.name) if p.lead_entity else ""
        cells = [
            p.ref, p.title, p.organization, p.email, p.problem, p.solution, ";".join(p.values),
            ";".join(e.code or e.name for e in p.entities), p.submitted_on.isoformat(), p.language, p.state.value,
            lead,
        ]  # fmt: skip
        writer.writerow([neutralise(cell) for cell in cells])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@dataclass(frozen=True)
class ScoreImport:
    """What `import_scores` did: scores recorded, and rows that gave a score as it already stood."""

    recorded: int
    unchanged: int


# Rows of a score file read and checked at a time: the proposals they name are looked up together
# (a few queries a block, none a row), and no more than a block of rows is held as read.
SCORE_BLOCK = 5000


def import_scores(
    session: Session,
    path: Path,
    *,
    actor: str,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> ScoreImport:
    """Record every score in the file, or none: any bad row refuses the whole file (raises
    `ImportFileError` naming every bad row, line and column). Returns how many scores were
    recorded and how many rows were unchanged: a row giving a score the value and note it already
    has records nothing (a file imported twice). `progress(n)` is called as they are.

    The file is read a block of rows at a time (`SCORE_BLOCK`); what a row is checked against is
    loaded once for the block (`evaluation.ScoreBook`), and of each good row only what it scores is
    kept, as integers (`evaluation.CheckedScores`). The scores are written in bulk, one recorded step per
    proposal (`evaluation.record_scores`)."""
    now = now or dt.datetime.now(dt.UTC)
    # The lock first: what is checked below still holds when it is recorded, so each score is
    # checked once, not again inside its step.
    current_plan(session, lock=True)
    read: list[RowProblem] = []  # what reading the file finds, before the checks
    problems: list[RowProblem] = []
    rows = iter_rows(path, SCORES, read)
    book = ScoreBook(session, ())
    # The scores given so far, each as one number (a score file may hold 250,000 rows); a score
    # given again is a problem whose reason, naming the row that gave it first, is written once
    # the file is read (`_name_first_rows`: only then is the file read for their lines again).
    seen: set[int | tuple[int, int, int]] = set()
    twice: dict[int | tuple[int, int, int], list[int]] = {}  # score → its later rows' places in `problems`
    good = CheckedScores()
    count = 0
    while block := list(itertools.islice(rows, SCORE_BLOCK)):
        count += len(block)
        book.add(str(row.get("proposal", "")) for _, row in block)
        for where, row in block:
            raw = _score_input(row)
            found = score_problems(session, raw, book=book)
            problems.extend(RowProblem(where, column, reason) for column, reason in found.problems)
            if found.key is not None:
                key = _packed(found.key)
                if key in seen:
                    twice.setdefault(key, []).append(len(problems))
                    problems.append(RowProblem(where, "", ""))  # named by `_name_first_rows`
                seen.add(key)
            if found.found is not None and not problems and not read:  # once a row is bad, none is recorded
                good.add(*found.found, raw.note)
        if problems or read:
            good.clear()
    del seen
    if twice:
        _name_first_rows(session, path, book, twice, problems)
    if not count and not read and not problems:
        problems.append(RowProblem("line 1", "", "the file holds no scores"))
    if read or problems:
        raise refusal(path, read + problems, len(read), SCORES)
    for member in good.members():
        check_acting_as(session, member, "score")  # a member's own login scores only for them
    recorded = record_scores(session, good, actor=actor, now=now, progress=progress)
    return ScoreImport(recorded, len(good) - recorded)


def _score_input(row: Mapping[str, Any]) -> ScoreInput:
    """The score one row of a score file gives, as `score_problems` checks it."""
    return ScoreInput(
        proposal=row.get("proposal", ""),
        member=row.get("member", ""),
        criterion=row.get("criterion", ""),
        value=row.get("value", ""),
        note=row.get("note", ""),
    )


def _name_first_rows(
    session: Session,
    path: Path,
    book: ScoreBook,
    twice: dict[int | tuple[int, int, int], list[int]],
    problems: list[RowProblem],
) -> None:
    """Write the reason of each row of a score file that gives a score again (`twice`: the score →
    the places in `problems` of its later rows), naming the row that gave it first and, where the
    two differ, both values (which one was meant, only the coordinator knows), found by reading
    the file once more."""
    # score → (where, value, which score: its proposal, member and criterion as typed) of its first row
    first: dict[int | tuple[int, int, int], tuple[str, str, str]] = {}
    again: dict[int | tuple[int, int, int], list[str]] = {}  # score → the values its later rows give
    for where, row in iter_rows(path, SCORES, []):
        checked = score_problems(session, _score_input(row), book=book)
        key = None if checked.key is None else _packed(checked.key)
        if key is None or key not in twice:
            continue
        # The value as read (٤, 04 and 4 are one), or as typed where it cannot be read.
        value = str(checked.found[3]) if checked.found is not None else one_line(str(row.get("value", "")))
        if key in first:
            again.setdefault(key, []).append(value)
        else:
            named = ", ".join(one_line(str(row.get(column, ""))) for column in ("proposal", "member", "criterion"))
            first[key] = (where, value, named)
    for key, places in twice.items():
        earlier, value, named = first.get(key, ("", "", ""))  # none only if the file changed while it was read
        values = again.get(key, [])
        for number, place in enumerate(places):
            score = f"the score ({named})" if named else "the same score"
            reason = f"{score} is given twice" + (f" (also at {earlier})" if earlier else "")
            later = values[number] if number < len(values) else value
            if earlier and later != value:
                reason += f", as {later} here and {value} there"
            problems[place] = RowProblem(problems[place].where, "", reason)


def _packed(key: tuple[int, int, int]) -> int | tuple[int, int, int]:
    """A score's key (proposal, member, criterion ids) as one number, which takes a third of the
    memory of the tuple; the tuple itself for ids a number could not keep apart."""
    proposal_id, member_id, criterion_id = key
    if proposal_id >= 0 and 0 <= member_id < 1 << 20 and 0 <= criterion_id < 1 << 20:
        return (proposal_id << 40) | (member_id << 20) | criterion_id
    return key


def parse_agreed(text: str) -> bool:
    """Whether a body agreed, as a responses file says it (`AGREED` / `DECLINED`); ValueError
    naming the value otherwise."""
    answer = _AGREED_KEYS.get(name_key(text))
    if answer is None:
        raise ValueError(f"{text.strip()!r} is neither yes nor no (use yes/no, true/false, 1/0 or نعم/لا)")
    return answer


@dataclass(frozen=True)
class _InterviewRow:
    where: str
    proposal: Proposal
    held_on: dt.date
    members: tuple[str, ...]  # as `#id`: the members the row was checked against
    platform: str
    notes: str
    needs: str
    plans: str
    solves: str


def import_interviews(
    session: Session,
    path: Path,
    *,
    actor: str,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Interview]:
    """Record every interview in the file (`ref`, `held_on`, `platform`, `members`, `notes`,
    `needs`, `plans`, `solves`), each as the recorded step `record_interview`, or none. Returns
    the interviews recorded, in the file's order; `progress(n)` is called as they are recorded.

    Every row is checked first, under the record's lock, against proposals, members and the
    step's rules loaded once; every problem of every row is raised together as `ImportFileError`,
    nothing recorded. A proposal named by two rows is refused, and so is an interview on a day one
    is already recorded for (a file imported twice). The interviews are then written in bulk
    (`interviews.record_interviews`).
    """
    now = now or dt.datetime.now(dt.UTC)
    ledger.lock_record(session)  # what is checked stays so until every row is recorded
    rows, problems = read_rows(path, INTERVIEWS)
    read = len(problems)  # what reading the file found, before the checks
    today = now.astimezone().date()
    proposals = find_proposals(session, (_cell(row, "ref").strip() for _, row in rows))
    members = MemberIndex(session)
    held_before = days_held(session, (p.id for p in proposals.values()))
    seen: dict[int, str] = {}
    good: list[_InterviewRow] = []
    for where, row in rows:
        found: list[tuple[str, str]] = []
        proposal = _proposal(_cell(row, "ref"), proposals, Action.RECORD_INTERVIEW, found)
        held_on = _date(_cell(row, "held_on"), "held_on", found, required=True)
        if held_on is not None and held_on > today:
            found.append(("held_on", f"{held_on} is in the future; record an interview once it has taken place"))
        elif held_on is not None and proposal is not None and held_on < proposal.submitted_on:
            found.append(("held_on", f"{held_on} is before the proposal was submitted ({proposal.submitted_on})"))
        elif held_on is not None and proposal is not None and held_on in held_before.get(proposal.id, ()):
            found.append(("held_on", repeated_interview(proposal, held_on)))
        present = []
        for name in row.get("members", []):
            member = members.find(name) if name.strip() else None
            if member is not None:
                present.append(f"#{member.id}")
            elif name.strip():
                found.append(("members", f"unknown member {name.strip()!r} (add them with 'ogp member add')"))
        platform = _checked(one_line(_cell(row, "platform")), "platform", fields.SHORT, found)
        answers = {
            name: _checked(clean_block(_cell(row, name)), name, MAX_ANSWER, found)
            for name in ("notes", "needs", "plans", "solves")
        }
        if proposal is not None:
            if proposal.id in seen:
                found.append(("ref", f"proposal {proposal.ref} is named twice (also at {seen[proposal.id]})"))
            seen.setdefault(proposal.id, where)
        problems.extend(RowProblem(where, column, reason) for column, reason in found)
        if not found and proposal is not None and held_on is not None:
            good.append(_InterviewRow(where, proposal, held_on, tuple(present), platform, **answers))
    if not rows and not problems:
        problems.append(RowProblem("line 1", "", "the file holds no interviews"))
    if problems:
        raise refusal(path, problems, read, INTERVIEWS)

    held = [
        HeldInterview(
            item.proposal,
            item.held_on,
            tuple(int(member[1:]) for member in item.members),
            item.platform,
            item.notes,
            item.needs,
            item.plans,
            item.solves,
        )
        for item in good
    ]
    ids = record_interviews(session, held, actor=actor, now=now, progress=progress)
    return _loaded(session, Interview, ids, joinedload(Interview.proposal))  # what the caller names them by


@dataclass(frozen=True)
class _ResponseRow:
    where: str
    proposal: Proposal
    entity: Entity
    agreed: bool
    responded_on: dt.date
    note: str


def import_responses(
    session: Session,
    path: Path,
    *,
    actor: str,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Response]:
    """Record every body's answer in the file (`ref`, `entity`, `agreed`, `responded_on`,
    `note`), each as the recorded step `response`, or none; returns the responses recorded, in
    the file's order. Written in bulk once every row is checked (`evaluation.record_responses`).

    `entity` is a body's code or name; `agreed` one of `AGREED` or `DECLINED`; a blank
    `responded_on` is the day of the import, as `ogp response record` without `--on`. Checked
    and refused as `import_interviews` is, and as `record_response` refuses (`Referrals.problems`:
    no referral letter to the body, a day before it was issued, an answer already recorded given
    again); the same body's answer on the same proposal given by two rows is refused.
    """
    now = now or dt.datetime.now(dt.UTC)
    ledger.lock_record(session)
    rows, problems = read_rows(path, RESPONSES)
    read = len(problems)  # what reading the file found, before the checks
    today = now.astimezone().date()
    proposals = find_proposals(session, (_cell(row, "ref").strip() for _, row in rows))
    bodies = EntityIndex(session)
    referrals = Referrals.load(session, (p.id for p in proposals.values()))
    seen: dict[tuple[int, int], str] = {}
    good: list[_ResponseRow] = []
    for where, row in rows:
        found: list[tuple[str, str]] = []
        proposal = _proposal(_cell(row, "ref"), proposals, Action.RESPONSE, found)
        entity = None
        typed = _cell(row, "entity").strip()
        if not typed:
            found.append(("entity", "is required"))
        else:
            entity = bodies.find(typed)
            if entity is None:
                found.append(("entity", f"unknown government body {typed!r} (register it with 'ogp entity add')"))
        agreed = None
        answer = _cell(row, "agreed")
        if not answer.strip():
            found.append(("agreed", "is required (yes or no)"))
        else:
            try:
                agreed = parse_agreed(answer)
            except ValueError as exc:
                found.append(("agreed", str(exc)))
        responded_on = _date(_cell(row, "responded_on"), "responded_on", found, required=False) or today
        note = _checked(one_line(_cell(row, "note")), "note", fields.REASON, found)
        if proposal is not None and entity is not None:
            found.extend(referrals.problems(proposal, entity, agreed, responded_on, note, today))
            key = (proposal.id, entity.id)
            if key in seen:
                body = entity.code or entity.name
                twice = f"the answer of {body} on proposal {proposal.ref} is given twice (also at {seen[key]})"
                found.append(("", twice))
            seen.setdefault(key, where)
        problems.extend(RowProblem(where, column, reason) for column, reason in found)
        if not found and proposal is not None and entity is not None and agreed is not None:
            good.append(_ResponseRow(where, proposal, entity, agreed, responded_on, note))
    if not rows and not problems:
        problems.append(RowProblem("line 1", "", "the file holds no responses"))
    if problems:
        raise refusal(path, problems, read, RESPONSES)

    given = [GivenResponse(item.proposal, item.entity, item.agreed, item.responded_on, item.note) for item in good]
    ids = record_responses(session, given, actor=actor, now=now, progress=progress)
    return _loaded(session, Response, ids)


def _cell(row: Mapping[str, Any], name: str) -> str:
    value = row.get(name, "")
    return value if isinstance(value, str) else ""


def _proposal(
    typed: str, proposals: Mapping[str, Proposal], action: str, found: list[tuple[str, str]]
) -> Proposal | None:
    """The proposal a row's `ref` names, noting in `found` if there is none or its state does not
    allow the step `action` (the ledger's own refusal, `ledger.state_refusal`)."""
    ref = typed.strip()
    if not ref:
        found.append(("ref", "is required"))
        return None
    proposal = proposals.get(ref)
    if proposal is None:
        found.append(("ref", f"no proposal {ref!r}"))
        return None
    refusal = ledger.state_refusal(action, proposal)
    if refusal is not None:
        found.append(("ref", str(refusal).rstrip(".")))
    return proposal


def _date(typed: str, column: str, found: list[tuple[str, str]], *, required: bool) -> dt.date | None:
    if not typed.strip():
        if required:
            found.append((column, "is required"))
        return None
    try:
        return parse_date(typed)
    except ValueError as exc:
        found.append((column, str(exc)))
        return None


def _checked(text: str, column: str, limit: int, found: list[tuple[str, str]]) -> str:
    """`text` as stored (already cleaned), noting in `found` if it is longer than `limit`."""
    problem = fields.too_long(text, limit)
    if problem:
        found.append((column, problem))
    return text


Loaded = TypeVar("Loaded", Interview, Response)


def _loaded(session: Session, model: type[Loaded], ids: list[int], *options: Any) -> list[Loaded]:
    """The rows of `model` with these ids, in that order, read in chunks of `LOOKUP_CHUNK`."""
    found: dict[int, Loaded] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        query = select(model).where(model.id.in_(ids[start : start + LOOKUP_CHUNK])).options(*options)
        found.update((row.id, row) for row in session.scalars(query))
    return [found[key] for key in ids]
