"""Moving many proposals at once: `ogp advance ID… EVENT`, `--state S EVENT`, `--from-file FILE EVENT`.

A batch is one transaction of ordinary moves (`workflow.moves.advance`), each its own recorded step
with its own audit entry and letters; the entries and letters are appended a few hundred at a time
(`ledger.BatchChain`), each as the move alone would have appended it. All or nothing by default:
one refusal names every refused proposal, and then nothing moves; the moves are taken in one
savepoint until a refusal, then all tried again to name every one, and undone. With `skip_refused`
the others move and the refused are listed. A refused move gives back the letter numbers it took,
so the register stays gap-free either way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from documents import one_line
from states import Event, Guard, State, transition_for
from workflow import fields
from workflow.dates import parse_date
from workflow.errors import InvalidInputError, RowProblem, WorkflowError
from workflow.guards import KnownFacts
from workflow.importer import PROPOSAL_COLUMNS
from workflow.ledger import BatchChain, lock_record
from workflow.models import Proposal
from workflow.moves import MoveResult, advance, lead_problem, unknown_lead
from workflow.outbox import closes_referrals, sent_referrals
from workflow.plans import EntityIndex, current_plan
from workflow.proposals import LOOKUP_CHUNK, find_proposals, get_proposal
from workflow.spreadsheets import TableSpec, read_rows, refusal

# `ogp advance --from-file FILE EVENT`: one proposal a row; the other columns override the options.
# A file `ogp proposal export` wrote is taken as it is: the columns describing the proposal (and
# its state) are read past; any other column is refused, so a misspelt `reason` is not lost.
BATCH_FILE = TableSpec(
    columns=("ref", "reason", "lead", "dated"), required=("ref",),
    ignored=tuple(c for c in (*PROPOSAL_COLUMNS, "state") if c != "ref"),
)  # fmt: skip

# The option each column stands in for, as a refusal names it → the column.
_FILE_COLUMNS = {"--reason": "reason", "--lead": "lead", "--dated": "dated"}


@dataclass(frozen=True)
class BatchItem:
    """One proposal of a batch, with what its row says beyond the command's options."""

    key: str
    where: str = ""  # "line 3" / "item 3" for a file's row, "" for a key on the command line
    reason: str | None = None
    lead: str | None = None
    dated: dt.date | None = None


@dataclass(frozen=True)
class BatchMove:
    """One move a batch made, as it is reported: not the letters' bytes (a batch of 5,000
    referrals writes 10,000 letters; holding them to the end made its memory grow with the batch),
    only their file names, to write the files from the workspace after the commit."""

    ref: str
    from_state: str
    to_state: str
    seq: int  # its audit entry
    letter_files: tuple[str, ...]
    row_dated: bool = False  # its row of a file gave a date (`dated`), which only letters bear

    @classmethod
    def of(cls, done: MoveResult, item: BatchItem | None = None) -> BatchMove:
        entry = done.entry
        files = tuple(letter.file_name for letter in done.letters)
        dated = item is not None and item.dated is not None
        return cls(done.proposal.ref, entry.from_state or "", entry.to_state or "", entry.seq, files, dated)


@dataclass
class BatchResult:
    """What a batch did: the moves made, and each refused proposal with the refusal."""

    event: Event
    moved: list[BatchMove] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (proposal, why), in the batch's order


class BatchRefusedError(WorkflowError):
    """Some proposals of an all-or-nothing batch cannot take the event; nothing was moved."""

    def __init__(self, event: Event, total: int, refused: Sequence[tuple[str, str]]) -> None:
        self.event, self.total, self.refused = event, total, tuple(refused)
        lines = "\n".join(f"  {who}: {why}" for who, why in self.refused)
        super().__init__(
            f"{len(self.refused)} of {total} proposals cannot take '{event.value}'; nothing was moved "
            f"(give --skip-refused to move the others):\n{lines}"
        )


def items_in_state(session: Session, state: State) -> list[BatchItem]:
    """Every proposal in `state`, in registration order, read under the record's lock (taken here,
    held to the transaction's end): no step can move one between this list and the batch that
    takes it (on SQLite the transaction holds the lock from its start; on PostgreSQL the batch
    would otherwise wait for the lock with a list read before it)."""
    lock_record(session)
    refs = session.scalars(select(Proposal.ref).where(Proposal.state == state).order_by(Proposal.id))
    return [BatchItem(ref) for ref in refs]


def items_from_file(path: Path) -> list[BatchItem]:
    """The rows of a batch file (CSV or JSON, read as every importer reads: `workflow.spreadsheets`):
    `ref` required, `reason`, `lead` and `dated` optional. Raises `ImportFileError` naming every
    bad row and column; an empty file is refused too."""
    rows, problems = read_rows(path, BATCH_FILE)
    read = len(problems)  # what reading the file found, before the checks
    items: list[BatchItem] = []
    for where, row in rows:
        ref = str(row.get("ref") or "").strip()
        if not ref:
            problems.append(RowProblem(where, "ref", "is empty"))
            continue
        dated = None
        if str(row.get("dated") or "").strip():
            try:
                dated = parse_date(str(row["dated"]))
            except ValueError as exc:
                problems.append(RowProblem(where, "dated", str(exc)))
                continue
        # An empty cell leaves the command's option in force; so does one holding only what
        # cleaning takes away (blanks, invisible marks: `documents.one_line`).
        reason_cell, lead_cell = str(row.get("reason") or "").strip(), str(row.get("lead") or "").strip()
        reason = reason_cell if one_line(reason_cell) else None
        lead = lead_cell if one_line(lead_cell) else None
        items.append(BatchItem(ref, where, reason, lead, dated))
    if not rows and not problems:
        problems.append(RowProblem("line 1", "", "the file names no proposals"))
    if problems:
        raise refusal(path, problems, read, BATCH_FILE, nothing="nothing was moved")
    return items


def _read_links(session: Session, proposals: Sequence[Proposal]) -> None:
    """Load the bodies each of `proposals` names, a query per 500 proposals (not one a proposal)."""
    ids = sorted({p.id for p in proposals})
    for start in range(0, len(ids), LOOKUP_CHUNK):
        query = select(Proposal).where(Proposal.id.in_(ids[start : start + LOOKUP_CHUNK]))
        session.scalars(query.options(selectinload(Proposal.entity_links))).all()


def advance_many(
    session: Session,
    items: Sequence[BatchItem],
    event: Event,
    *,
    actor: str,
    reason: str = "",
    lead: str | None = None,
    dated: dt.date | None = None,
    skip_refused: bool = False,
    now: dt.datetime | None = None,
    templates_dir: Path | None = None,
    workspace_folder: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> BatchResult:
    """Take `event` on every proposal of `items`, in order; a row's own reason, lead and date
    override `reason`, `lead` and `dated`. Returns the `BatchResult`; raises `BatchRefusedError`
    listing every refusal when any move is refused and not `skip_refused`, having undone every
    move it took. A proposal named twice is refused the second time. `progress(n)` is called as
    proposals are done, once for each in all.

    All or nothing (not `skip_refused`), the moves are first taken in one savepoint rather than
    one each (`BatchChain.savepoints`); the first refusal rolls that back, and the moves are tried
    again, each in its own savepoint as with `skip_refused`, to name every refusal, in a savepoint
    rolled back in turn."""
    _check_options(session, items, event, reason, lead)
    options = _Options(actor, reason, lead, dated, now, templates_dir, workspace_folder)
    if skip_refused:
        return _advance_all(session, items, event, options, savepoints=True, skip_refused=True, progress=progress)
    attempt = session.begin_nested()
    try:
        result = _advance_all(session, items, event, options, savepoints=False, skip_refused=False, progress=progress)
    except BaseException:
        if attempt.is_active:
            attempt.rollback()
        raise
    if not result.refused:
        attempt.commit()
        return result
    attempt.rollback()
    counted = len(result.moved)  # the progress has seen these already (not the refused one)
    again = session.begin_nested()
    try:
        result = _advance_all(
            session, items, event, options, savepoints=True, skip_refused=False, progress=progress, counted=counted
        )
    finally:
        again.rollback()  # the moves that could be taken, taken only to name the others' refusals
    raise BatchRefusedError(event, len(items), result.refused)


@dataclass(frozen=True)
class _Options:
    """What `advance_many` passes to every move (see there)."""

    actor: str
    reason: str
    lead: str | None
    dated: dt.date | None
    now: dt.datetime | None
    templates_dir: Path | None
    workspace_folder: Path | None


def _advance_all(
    session: Session,
    items: Sequence[BatchItem],
    event: Event,
    options: _Options,
    *,
    savepoints: bool,
    skip_refused: bool,
    progress: Callable[[int], None] | None,
    counted: int = 0,
) -> BatchResult:
    """The moves of `advance_many`, each in a savepoint of its own (`savepoints`: every proposal is
    tried), or not (the first refusal ends the batch). The entries are appended unless a move was
    refused and not `skip_refused` (the caller then rolls back). `progress` is not called for the
    first `counted` proposals."""
    result = BatchResult(event)
    seen: dict[int, str] = {}
    # The proposals are read under the record's lock, 500 at a time with what their guards look
    # at (a query per kind, not one per proposal): no other step can change them before this
    # transaction ends, so no move reads its own again; and the batch holds a chunk, not them all.
    chain = BatchChain.start(session, savepoints=savepoints)
    plan, move = current_plan(session), transition_for(event)
    bodies = EntityIndex(session) if not lead_problem(event) else None  # a commit names its lead
    for start in range(0, len(items), LOOKUP_CHUNK):
        chunk = items[start : start + LOOKUP_CHUNK]
        found = find_proposals(session, [item.key for item in chunk])
        known = KnownFacts.read(session, plan, {p.id for p in found.values()}, move.guards)
        known.bodies = bodies
        if move.documents:
            _read_links(session, list(found.values()))  # the bodies the letters name, or go to
        if closes_referrals(move.documents):  # the referral letters they close, and cite
            known.referrals = sent_referrals(session, [p.id for p in found.values()])
        for index, item in enumerate(chunk, start):
            _advance_one(session, item, event, found, known, chain, seen, result, actor=options.actor,
                         reason=options.reason, lead=options.lead, dated=options.dated, now=options.now,
                         templates_dir=options.templates_dir, workspace_folder=options.workspace_folder)  # fmt: skip
            if not savepoints and result.refused:
                return result  # the caller rolls the batch back: nothing to write
            if progress is not None and index >= counted:
                progress(1)
    if skip_refused or not result.refused:
        chain.write()
    return result


def _check_options(session: Session, items: Sequence[BatchItem], event: Event, reason: str, lead: str | None) -> None:
    """Refuse once what would refuse every proposal of the batch alike (`InvalidInputError`): no
    reason for an event that needs one (`Guard.HAS_REASON`), given by no option and no row; a
    `--reason` too long; a `--lead` for an event other than commit, or naming no body. A row's
    own value is checked with its move, and named by its line and column."""
    if not items:
        return
    many = f"'{event.value}' of {len(items)} proposals"
    needs_reason = Guard.HAS_REASON in transition_for(event).guards
    if needs_reason and not one_line(reason) and all(item.reason is None for item in items):
        why = "is required: say why (the audit trail keeps it); a file may give each row its own in a 'reason' column"
        raise InvalidInputError(many, "--reason", why)
    if any(item.reason is None for item in items):  # the option is some row's reason
        fields.line(reason, many, "--reason", limit=fields.REASON)
    if lead is not None:
        if problem := lead_problem(event):
            raise InvalidInputError(many, "--lead", problem)
        if EntityIndex(session).find(lead) is None:
            raise InvalidInputError(many, "--lead", unknown_lead(lead))


def _advance_one(
    session: Session,
    item: BatchItem,
    event: Event,
    found: dict[str, Proposal],
    known: KnownFacts,
    chain: BatchChain,
    seen: dict[int, str],
    result: BatchResult,
    *,
    actor: str,
    reason: str,
    lead: str | None,
    dated: dt.date | None,
    now: dt.datetime | None,
    templates_dir: Path | None,
    workspace_folder: Path | None,
) -> None:
    """One proposal of a batch: its move added to `result.moved`, or its refusal to `result.refused`."""
    who = f"{item.key} ({item.where})" if item.where else item.key
    try:
        proposal = found.get(item.key) or get_proposal(session, item.key)  # the latter: not found
        if proposal.id in seen:
            raise WorkflowError(f"named twice (also as {seen[proposal.id]}); a proposal moves once in a batch")
        seen[proposal.id] = who
        was = proposal.state
        done = advance(
            session, proposal, event, actor=actor,
            reason=reason if item.reason is None else item.reason,
            lead=item.lead or lead, dated=item.dated or dated, now=now,
            templates_dir=templates_dir, workspace_folder=workspace_folder, current=True, chain=chain, known=known,
        )  # fmt: skip
    except InvalidInputError as bad:
        column = _FILE_COLUMNS.get(bad.field)
        if item.where and column is not None and getattr(item, column) is not None:
            # The value came from the file's row: name its column, as every importer does.
            result.refused.append((f"{item.key} ({item.where}, column '{column}')", bad.problem))
        else:
            result.refused.append((who, str(bad).removeprefix("Error: ")))
    except WorkflowError as refused:
        result.refused.append((who, str(refused).removeprefix("Error: ")))
    else:
        result.moved.append(BatchMove.of(done, item))
        known.moved(was, done.proposal.state)
