"""The working group's judgement: criteria, scores, conflicts of interest, ranking, quorum, and the
ministries' responses to referrals."""

from __future__ import annotations

import datetime as dt
import itertools
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from documents import one_line
from documents.digits import whole_number
from states import Action, DocumentKind, State
from workflow import audit, fields, ledger
from workflow.dates import supported
from workflow.errors import InvalidInputError, NotFoundError, WorkflowError
from workflow.members import MemberIndex
from workflow.models import (
    AuditEntry,
    Base,
    Conflict,
    Criterion,
    DecidedStanding,
    Entity,
    Letter,
    Member,
    Plan,
    Proposal,
    Response,
    Score,
    ScoreChange,
)
from workflow.names import name_key
from workflow.plans import EntityIndex, current_plan
from workflow.proposals import LOOKUP_CHUNK, find_proposals, get_proposal
from workflow.roles import check_acting_as

# --- criteria --------------------------------------------------------------------------------------


def list_criteria(session: Session) -> list[Criterion]:
    """The plan's criteria, in the seed's order."""
    return list(current_plan(session).criteria)


def criterion_names(criterion: Criterion) -> tuple[str, ...]:
    """What a criterion is found by: its code, its position, its Arabic and English names."""
    return (criterion.code, str(criterion.position), criterion.name_ar, criterion.name_en)


def get_criterion(session: Session, key: str) -> Criterion:
    """A criterion by code, position or name (Arabic or English)."""
    wanted = name_key(key)
    for criterion in list_criteria(session):
        if wanted in {name_key(name) for name in criterion_names(criterion)}:
            return criterion
    codes = ", ".join(c.code for c in list_criteria(session))
    raise NotFoundError("criterion", f"{key!r} (known: {codes})")


def set_weight(session: Session, key: str, weight: int, *, actor: str, now: dt.datetime | None = None) -> Criterion:
    """Change a criterion's weight in the ranking (0–100; at least one criterion must weigh more
    than 0). A recorded step; decisions already taken keep the standing they were taken on."""
    criterion = get_criterion(session, key)
    if not 0 <= weight <= 100:
        raise InvalidInputError(f"criterion {criterion.code}", "weight", f"{weight} is not between 0 and 100")
    reason = f"{criterion.code}: {criterion.weight} → {weight}"
    with ledger.recorded(session, Action.SET_WEIGHT, actor=actor, now=now, reason=reason):
        criterion.weight = weight
        if not any(c.weight for c in list_criteria(session)):
            raise InvalidInputError(
                f"criterion {criterion.code}", "weight", "at least one criterion must weigh more than 0"
            )
    return criterion


# --- conflicts of interest -------------------------------------------------------------------------


def same_organisation(member: Member, proposal: Proposal) -> bool:
    """Whether the member belongs to the proposing organisation (names compared as typed)."""
    return name_key(member.organization) == name_key(proposal.organization)


def declared_conflicts(session: Session, proposal: Proposal) -> dict[int, Conflict]:
    """The conflicts declared on a proposal while it was evaluated, by member id (late ones,
    declared after the decision, are shown but change nothing decided)."""
    query = select(Conflict).where(Conflict.proposal_id == proposal.id, Conflict.late.is_(False))
    return {c.member_id: c for c in session.scalars(query)}


def conflict_reason(session: Session, member: Member, proposal: Proposal) -> str | None:
    """Why `member` may not score `proposal`, or None if they may."""
    declared = declared_conflicts(session, proposal).get(member.id)
    if declared is not None:
        return f"declared a conflict of interest ({declared.reason or 'no reason given'})"
    if same_organisation(member, proposal):
        return f"belongs to the proposing organisation ({proposal.organization})"
    return None


def eligible_members(session: Session, proposal: Proposal) -> list[Member]:
    """Active members who may score `proposal`: not of its organisation, no declared conflict."""
    declared = declared_conflicts(session, proposal)
    members = session.scalars(select(Member).where(Member.active.is_(True)).order_by(Member.id))
    return [m for m in members if m.id not in declared and not same_organisation(m, proposal)]


def declare_conflict(
    session: Session, member_key: str, proposal_key: str, *, reason: str, actor: str, now: dt.datetime | None = None
) -> Conflict:
    """Record that a member has a conflict of interest with a proposal (a recorded step).

    While the proposal is evaluated (submitted or interviewed) the member is left out of its
    quorum and averages from then on; after the decision the declaration is recorded as late and
    shown, and the decision stands as taken (`states.EVALUATION_STATES`).
    """
    member = MemberIndex(session).get(member_key)
    proposal = get_proposal(session, proposal_key)
    reason = fields.line(reason, f"conflict of {member.name} with {proposal.ref}", "--reason", limit=fields.REASON)
    check_acting_as(session, member, "declare a conflict")
    with ledger.recorded(
        session, Action.DECLARE_CONFLICT, actor=actor, now=now, proposal=proposal, reason=f"{member.name}: {reason}"
    ) as step:
        if session.scalar(
            select(Conflict.id).where(Conflict.member_id == member.id, Conflict.proposal_id == proposal.id)
        ):
            raise WorkflowError(f"{member.name} has already declared a conflict with proposal {proposal.ref}.")
        conflict = Conflict(
            member_id=member.id, proposal_id=proposal.id, reason=reason,
            declared_at=audit.utc_stamp(step.now), declared_by=actor, late=step.late,
        )  # fmt: skip
        session.add(conflict)
    return conflict


def list_conflicts(session: Session) -> list[Conflict]:
    """Every declared conflict."""
    return list(session.scalars(select(Conflict).order_by(Conflict.id)))


# --- scores ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreInput:
    """One score as a member or a file gives it."""

    proposal: str
    member: str
    criterion: str
    value: str | int
    note: str = ""


class CheckedScore(NamedTuple):
    """A score `score_problems` found nothing wrong with, as `record_scores` takes it: what it
    scores, its value, and its note as given (cleaned when it is recorded)."""

    proposal: Proposal
    member: Member
    criterion: Criterion
    value: int
    note: str


class CheckedScores:
    """Scores `score_problems` found nothing wrong with, as `record_scores` takes them: grouped by
    proposal, the proposals in the order they first come, each one's scores in the order given.
    Held as machine integers (member id, criterion id, value, note number: 32 bytes a score, not
    the 120 of a `CheckedScore` in a list), the mapped objects once each: an import of 250,000
    scores holds 8 MB, not 30."""

    _groups: dict[int, array[int]]  # proposal id → member id, criterion id, value, note number, …
    _proposals: dict[int, Proposal]
    _members: dict[int, Member]
    _criteria: dict[int, Criterion]
    _notes: dict[str, int]  # each note given, once, by its number
    _count: int

    def __init__(self) -> None:
        self.clear()

    def add(self, proposal: Proposal, member: Member, criterion: Criterion, value: int, note: str) -> None:
        """Keep one checked score (`note` as given: cleaned when it is recorded)."""
        group = self._groups.get(proposal.id)
        if group is None:
            group = self._groups[proposal.id] = array("q")
            self._proposals[proposal.id] = proposal
        self._members.setdefault(member.id, member)
        self._criteria.setdefault(criterion.id, criterion)
        number = self._notes.setdefault(note, len(self._notes))
        group.extend((member.id, criterion.id, value, number))
        self._count += 1

    def clear(self) -> None:
        """Drop every score kept (a file with a bad row records none)."""
        self._groups, self._proposals, self._members, self._criteria = {}, {}, {}, {}
        self._notes, self._count = {"": 0}, 0

    def __len__(self) -> int:
        return self._count

    def members(self) -> list[Member]:
        """The members who gave the scores, once each."""
        return list(self._members.values())

    def groups(self) -> Iterator[list[CheckedScore]]:
        """Each proposal's scores, in order, as `CheckedScore`s (made one proposal at a time)."""
        notes = list(self._notes)
        for proposal_id, flat in self._groups.items():
            proposal = self._proposals[proposal_id]
            yield [
                CheckedScore(proposal, self._members[m], self._criteria[c], v, notes[n])
                for m, c, v, n in zip(flat[0::4], flat[1::4], flat[2::4], flat[3::4], strict=True)
            ]


@dataclass
class ScoreCheck:
    """What is wrong with one score, column by column; and what it scores, when that is known."""

    problems: list[tuple[str, str]]
    key: tuple[int, int, int] | None = None
    found: tuple[Proposal, Member, Criterion, int] | None = None


class ScoreBook:
    """What a score is checked against, loaded once for many (an import checks thousands of rows
    without a query per row): the members, the plan's criteria by every name they go by, the
    proposals the scores name and the conflicts declared on them while they were evaluated."""

    def __init__(self, session: Session, proposal_keys: Iterable[str], members: MemberIndex | None = None) -> None:
        self.members = members or MemberIndex(session)
        self._members: dict[str, Member | None] = {}
        criteria = list_criteria(session)
        self.codes = ", ".join(c.code for c in criteria)
        self.criteria: dict[str, Criterion] = {}
        for criterion in criteria:
            for name in criterion_names(criterion):
                self.criteria.setdefault(name_key(name), criterion)
        self.session = session
        self.proposals: dict[str, Proposal] = {}
        self._looked_up: set[str] = set()
        self._ids: set[int] = set()
        self.conflicts: dict[tuple[int, int], Conflict] = {}
        self.add(proposal_keys)

    def add(self, proposal_keys: Iterable[str]) -> None:
        """Load the proposals `proposal_keys` name that are not loaded yet, and the conflicts
        declared on them, in a few queries (an import adds each block of rows it reads)."""
        keys = [key for key in dict.fromkeys(str(key) for key in proposal_keys) if key not in self._looked_up]
        self._looked_up.update(keys)
        found = find_proposals(self.session, keys, light=True)
        self.proposals.update(found)
        ids = sorted({p.id for p in found.values()} - self._ids)
        self._ids.update(ids)
        for start in range(0, len(ids), LOOKUP_CHUNK):
            query = select(Conflict).where(
                Conflict.proposal_id.in_(ids[start : start + LOOKUP_CHUNK]), Conflict.late.is_(False)
            )
            self.conflicts.update(((c.proposal_id, c.member_id), c) for c in self.session.scalars(query))

    def member(self, key: str) -> Member:
        """The member `key` names (`members.MemberIndex`'s rule); NotFoundError otherwise."""
        found = self._members.get(key)
        if found is None:
            found = self._members[key] = self.members.find(key)
        if found is None:
            raise NotFoundError("member", repr(key))
        return found

    def proposal(self, key: str) -> Proposal:
        """The proposal `key` names (`proposals.get_proposal`'s rule); NotFoundError otherwise."""
        found = self.proposals.get(str(key))
        if found is None:
            raise NotFoundError("proposal", repr(str(key).strip()))
        return found

    def criterion(self, key: str) -> Criterion:
        """A criterion by code, position or name (`get_criterion`'s rule); NotFoundError otherwise."""
        found = self.criteria.get(name_key(key))
        if found is None:
            raise NotFoundError("criterion", f"{key!r} (known: {self.codes})")
        return found

    def conflict_reason(self, member: Member, proposal: Proposal) -> str | None:
        """Why `member` may not score `proposal` (as `conflict_reason`), or None if they may."""
        declared = self.conflicts.get((proposal.id, member.id))
        if declared is not None:
            return f"declared a conflict of interest ({declared.reason or 'no reason given'})"
        if same_organisation(member, proposal):
            return f"belongs to the proposing organisation ({proposal.organization})"
        return None


def score_problems(
    session: Session, raw: ScoreInput, members: MemberIndex | None = None, book: ScoreBook | None = None
) -> ScoreCheck:
    """Every problem with one score (an import reports them all), by the column it is in.
    `members`: an index already built; `book`: everything already loaded for many scores (an
    import: a `ScoreBook` of every proposal its file names)."""
    book = book or ScoreBook(session, [str(raw.proposal)], members)
    problems: list[tuple[str, str]] = []
    proposal = member = criterion = None
    value = 0
    blank = [name for name in ("proposal", "member", "criterion") if not str(getattr(raw, name)).strip()]
    problems.extend((name, "is required") for name in blank)
    try:
        proposal = None if "proposal" in blank else book.proposal(str(raw.proposal))
    except NotFoundError as exc:
        problems.append(("proposal", str(exc)))
    try:
        member = None if "member" in blank else book.member(raw.member)
    except NotFoundError as exc:
        problems.append(("member", str(exc)))
    try:
        criterion = None if "criterion" in blank else book.criterion(raw.criterion)
    except NotFoundError as exc:
        problems.append(("criterion", str(exc)))
    typed = str(raw.value).strip()
    shown = typed if len(typed) <= 30 else typed[:20] + f"… ({len(typed)} characters)"  # never echoed whole
    if not typed:
        problems.append(("value", "is required"))
    elif len(typed) > 30 and typed.lstrip("+-").isdigit():  # no scale reaches 30 digits
        problems.append(("value", f"{shown!r} is far outside any scale"))
    else:
        try:
            value = whole_number(typed)
        except ValueError as exc:
            problems.append(("value", f"{shown!r} {exc}"))
        else:
            if criterion and not criterion.scale_min <= value <= criterion.scale_max:
                scale = f"{criterion.scale_min}–{criterion.scale_max}"
                problems.append(("value", f"{value} is outside {criterion.code}'s scale {scale}"))
    note_problem = fields.too_long(one_line(raw.note), fields.REASON) if raw.note else None
    if note_problem:
        problems.append(("note", note_problem))
    if member is not None and not member.active:
        problems.append(("member", f"{member.name} is no longer an active member"))
    if member is not None and proposal is not None:
        reason = book.conflict_reason(member, proposal)
        if reason:
            problems.append(("member", f"{member.name} cannot score {proposal.ref}: {reason}"))
    # After the conflict: a member who may never score the proposal is told so first.
    refusal = ledger.state_refusal(Action.SCORE, proposal) if proposal is not None else None
    if refusal is not None:
        problems.append(("proposal", str(refusal).rstrip(".")))
    if proposal is None or member is None or criterion is None:
        return ScoreCheck(problems)
    key = (proposal.id, member.id, criterion.id)
    return ScoreCheck(problems, key, None if problems else (proposal, member, criterion, value))


def record_score(
    session: Session,
    raw: ScoreInput,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> tuple[Score, AuditEntry | None]:
    """Give or revise a score (a recorded step); every change is also kept in the score history.
    Returns the score and the step's audit entry, or None when the score already had this value
    and note (given again: nothing is recorded, as a second `score import` of the same file).
    Raises `WorkflowError` / `InvalidInputError` for a score that may not be given. (Many scores
    from a file: `record_scores`.)"""
    note = fields.line(raw.note, f"score of proposal {raw.proposal.strip()}", "--note", limit=fields.REASON)
    proposal, member, criterion, value = _checked_score(session, raw)
    check_acting_as(session, member, "score")
    with ledger.recorded(session, Action.SCORE, actor=actor, now=now, proposal=proposal, optional=True) as step:
        # Checked again under the record's lock: a conflict or a move may have come in between.
        proposal, member, criterion, value = _checked_score(session, raw)
        query = select(Score).where(
            Score.proposal_id == proposal.id, Score.member_id == member.id, Score.criterion_id == criterion.id
        )
        score = session.scalars(query).first()
        if score is not None and score.value == value and score.note == note:
            return score, None  # the block changed nothing: `recorded` appends no entry
        old = score.value if score else None
        stamp = audit.utc_stamp(step.now)
        if score is None:
            score = Score(proposal_id=proposal.id, member_id=member.id, criterion_id=criterion.id, value=value)
            session.add(score)
        score.value, score.note, score.updated_at, score.updated_by = value, note, stamp, actor
        session.add(
            ScoreChange(
                proposal_id=proposal.id, member_id=member.id, criterion_id=criterion.id,
                old_value=old, new_value=value, note=note, at=stamp, actor=actor,
            )
        )  # fmt: skip
        was = "" if old is None else f" (was {old})"
        step.reason = f"{member.name}: {criterion.code} {value}{was}" + (f" — {note}" if note else "")
    return score, step.entry


# Proposals whose scores one pass of `record_scores` writes and chains: bounds the memory a large
# file takes while it is recorded (its rows are held anyway, to check all of them first).
SCORES_CHUNK = 500


def record_scores(
    session: Session,
    scores: CheckedScores,
    *,
    actor: str,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Record many scores already checked by `score_problems` (an import): one recorded step per
    proposal, whatever the number of its scores, written with bulk statements and chained in one
    pass (`ledger.append_steps`). Returns how many scores were recorded: a score given again with
    the value and note it already has is not (no step, no history line; a file imported twice
    records nothing the second time). `progress(n)` is called as they are.

    The caller holds the record's lock since before the checks (`plans.current_plan(lock=True)`),
    so what was checked still holds. Each proposal's entry holds every row its scores wrote: the
    score (inserted, or updated with the columns that changed) and its line in the score history,
    as `record_score` writes them one at a time; `ogp audit verify` replays both alike.
    """
    stamp = audit.utc_stamp(now or dt.datetime.now(dt.UTC))
    ledger.lock_record(session)
    session.flush()
    groups = scores.groups()
    recorded = 0
    while chunk := list(itertools.islice(groups, SCORES_CHUNK)):
        recorded += _record_score_chunk(session, chunk, actor=actor, stamp=stamp, now=now)
        if progress is not None:
            progress(sum(len(group) for group in chunk))
    return recorded


def _record_score_chunk(
    session: Session,
    groups: Sequence[Sequence[CheckedScore]],
    *,
    actor: str,
    stamp: str,
    now: dt.datetime | None,
) -> int:
    scores_table, history_table = Base.metadata.tables["scores"], Base.metadata.tables["score_changes"]
    ids = [group[0].proposal.id for group in groups]
    standing = {
        (row.proposal_id, row.member_id, row.criterion_id): row._asdict()
        for row in session.execute(select(scores_table).where(scores_table.c.proposal_id.in_(ids)))
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    plan: list[tuple[Proposal, list[str], list[tuple[str, dict[str, Any]]], list[int]]] = []
    # Plain values read once from the mapped objects: a file names the same few members and
    # criteria on every row, and an attribute of a mapped object costs a descriptor call.
    people = {id(item.member): (item.member.id, item.member.name) for group in groups for item in group}
    codes = {id(item.criterion): (item.criterion.id, item.criterion.code) for group in groups for item in group}
    for group in groups:
        proposal = group[0].proposal
        proposal_id, ref = proposal.id, proposal.ref
        reasons: list[str] = []
        written: list[tuple[str, dict[str, Any]]] = []  # (op, row) in the order written
        history_rows: list[int] = []
        for _, member, criterion, value, given in group:
            note = fields.line(given, f"score of proposal {ref}", "--note", limit=fields.REASON) if given else ""
            member_id, member_name = people[id(member)]
            criterion_id, code = codes[id(criterion)]
            key = (proposal_id, member_id, criterion_id)
            before = standing.get(key)
            if before is not None and before["value"] == value and before["note"] == note:
                continue  # given again as it stands (a file imported twice): nothing to record
            after = {
                "proposal_id": proposal_id, "member_id": member_id, "criterion_id": criterion_id,
                "value": value, "note": note, "updated_at": stamp, "updated_by": actor,
            }  # fmt: skip
            if before is None:
                inserts.append(after)
                written.append(("insert", after))
            else:
                changed = {name: item for name, item in after.items() if ledger.canonical(before[name]) != item}
                updates.append({"b_id": before["id"], **after})
                written.append(("update", {"id": before["id"], "new": changed, "old": {n: before[n] for n in changed}}))
                standing[key] = {**before, **after}
            old = before["value"] if before is not None else None
            history_rows.append(len(history))
            history.append(
                {
                    "proposal_id": proposal_id, "member_id": member_id, "criterion_id": criterion_id,
                    "old_value": old, "new_value": value, "note": note, "at": stamp, "actor": actor,
                }
            )  # fmt: skip
            was = "" if old is None else f" (was {old})"
            reasons.append(f"{member_name}: {code} {value}{was}" + (f" — {note}" if note else ""))
        if written:
            plan.append((proposal, reasons, written, history_rows))
    ledger.insert_rows(session, scores_table, inserts)
    if updates:
        session.execute(
            scores_table.update()
            .where(scores_table.c.id == bindparam("b_id"))
            .values({name: bindparam(name) for name in ("value", "note", "updated_at", "updated_by")}),
            updates,
        )
    ledger.insert_rows(session, history_table, history)
    # Each entry's changes: the scores inserted, then the score history, in the order of the
    # record's tables (`ledger.TABLE_ORDER`) and of the file; then the scores updated. The rows
    # hold plain values already (what `ledger.canonical_row` would make of them).
    history_first = ledger.TABLE_ORDER["score_changes"] < ledger.TABLE_ORDER["scores"]
    steps = []
    for proposal, reasons, written, history_rows in plan:
        scores = [
            {"t": "scores", "op": "insert", "key": {"id": row["id"]}, "row": row}
            for op, row in written
            if op == "insert"
        ]
        lines = [
            {"t": "score_changes", "op": "insert", "key": {"id": history[i]["id"]}, "row": history[i]}
            for i in history_rows
        ]
        changes = lines + scores if history_first else scores + lines
        changes += [
            {"t": "scores", "op": "update", "key": {"id": row["id"]}, "new": row["new"], "old": row["old"]}
            for op, row in written
            if op == "update" and row["new"]
        ]
        steps.append(
            ledger.BulkStep(proposal.id, proposal.ref, proposal.state, proposal.state, "; ".join(reasons), changes)
        )
    ledger.append_steps(session, Action.SCORE, steps, actor=actor, now=now)
    return len(history)


def _checked_score(session: Session, raw: ScoreInput) -> tuple[Proposal, Member, Criterion, int]:
    check = score_problems(session, raw)
    if check.found is None:
        column, problem = check.problems[0]
        record = f"score of proposal {raw.proposal.strip()}"
        if column == "proposal" and problem.startswith("Cannot score"):
            raise WorkflowError(problem + ".")  # the state refusal, worded as the step's own
        if column == "member" and "cannot score" in problem:
            raise WorkflowError(f"{problem}; the score was refused.")
        raise InvalidInputError(record, column if column == "value" else f"--{column}", problem)
    return check.found


def withdraw_score(
    session: Session,
    proposal_key: str,
    member_key: str,
    criterion_key: str,
    *,
    reason: str,
    actor: str,
    now: dt.datetime | None = None,
) -> ScoreChange:
    """Withdraw a score given by mistake, while the proposal is interviewed (a recorded step); the
    history keeps it, as a change to nothing. Raises `NotFoundError`, `StepNotAllowedError`,
    `InvalidInputError` (no reason), `WorkflowError` (no such score)."""
    proposal = get_proposal(session, proposal_key)
    member = MemberIndex(session).get(member_key)
    criterion = get_criterion(session, criterion_key)
    why = ledger.checked_reason(reason, f"score of proposal {proposal.ref}")
    with ledger.recorded(session, Action.WITHDRAW_SCORE, actor=actor, now=now, proposal=proposal) as step:
        score = session.scalars(
            select(Score).where(
                Score.proposal_id == proposal.id, Score.member_id == member.id, Score.criterion_id == criterion.id
            )
        ).first()
        if score is None:
            raise WorkflowError(
                f"{member.name} has not scored {proposal.ref} on {criterion.code}; nothing was withdrawn."
            )
        change = ScoreChange(
            proposal_id=proposal.id, member_id=member.id, criterion_id=criterion.id, old_value=score.value,
            new_value=None, note=why, at=audit.utc_stamp(step.now), actor=actor,
        )  # fmt: skip
        session.delete(score)
        session.add(change)
        step.reason = f"{member.name}: {criterion.code} {score.value} withdrawn — {why}"
    return change


def scores_of(session: Session, proposal: Proposal) -> list[Score]:
    """A proposal's current scores."""
    query = select(Score).where(Score.proposal_id == proposal.id).order_by(Score.member_id, Score.criterion_id)
    return list(session.scalars(query))


def score_history(session: Session, proposal: Proposal) -> list[ScoreChange]:
    """Every score given or revised on a proposal, oldest first."""
    query = select(ScoreChange).where(ScoreChange.proposal_id == proposal.id).order_by(ScoreChange.id)
    return list(session.scalars(query))


# --- quorum and ranking ----------------------------------------------------------------------------


def quorum_for(setting: int | None, active_members: int) -> int:
    """How many eligible members must score every criterion: the plan's setting, else a majority
    of the active working group (the seed: ideas were selected "by consensus of most members")."""
    return setting or active_members // 2 + 1


def quorum_size(session: Session, plan: Plan) -> int:
    """The quorum in force now."""
    members = session.scalars(select(Member.id).where(Member.active.is_(True))).all()
    return quorum_for(plan.quorum, len(members))


@dataclass(frozen=True)
class CriterionResult:
    code: str
    weight: int
    mean: Fraction | None
    scorers: int


@dataclass(frozen=True)
class CriterionInfo:
    """What the ranking needs of a criterion."""

    id: int
    code: str
    weight: int


@dataclass(frozen=True)
class Tally:
    """What a proposal's scores add up to, counting only eligible members."""

    criteria: tuple[CriterionResult, ...]
    total: Fraction | None
    scorers: int
    eligible: int
    quorum: int

    @property
    def complete(self) -> bool:
        """Every criterion scored by a quorum of eligible members."""
        return all(c.scorers >= self.quorum for c in self.criteria)

    def short_of_quorum(self) -> list[str]:
        return [f"{c.code} {c.scorers} of {self.quorum}" for c in self.criteria if c.scorers < self.quorum]


@dataclass(frozen=True)
class Standing:
    """A proposal's place in the ranking: its tally, and its rank (0 before it is ranked)."""

    proposal: Proposal
    tally: Tally
    rank: int = 0

    @property
    def criteria(self) -> tuple[CriterionResult, ...]:
        return self.tally.criteria

    @property
    def total(self) -> Fraction | None:
        return self.tally.total

    @property
    def scorers(self) -> int:
        return self.tally.scorers

    @property
    def eligible(self) -> int:
        return self.tally.eligible

    @property
    def quorum(self) -> int:
        return self.tally.quorum

    @property
    def complete(self) -> bool:
        return self.tally.complete

    def short_of_quorum(self) -> list[str]:
        return self.tally.short_of_quorum()

    def key(self) -> tuple[object, ...]:
        # The documented order: complete before incomplete, higher weighted total, more members
        # scoring, higher mean on each criterion in the plan's order, earlier submission, lower id.
        means = tuple(-(c.mean or Fraction(-1)) for c in self.criteria)
        total = -(self.total if self.total is not None else Fraction(-1))
        return (not self.complete, total, -self.scorers, *means, self.proposal.submitted_on, self.proposal.id)


def compute_tally(
    criteria: Sequence[CriterionInfo],
    scores: Iterable[tuple[int, int, int]],
    eligible: set[int],
    quorum: int,
) -> Tally:
    """Weighted means from (member id, criterion id, value) scores, counting only `eligible` members.

    Pure: the live ranking and the replay of the chain (`ogp audit verify`) both call it.
    """
    counted = [(m, c, v) for m, c, v in scores if m in eligible]
    results = []
    for criterion in criteria:
        values = [v for _, c, v in counted if c == criterion.id]
        mean = Fraction(sum(values), len(values)) if values else None
        results.append(CriterionResult(criterion.code, criterion.weight, mean, len(values)))
    weighted = [(r.weight, r.mean) for r in results if r.mean is not None and r.weight]
    weights = sum(w for w, _ in weighted)
    total = sum((w * m for w, m in weighted), Fraction(0)) / weights if weights else None
    scorers = len({m for m, _, _ in counted})
    return Tally(tuple(results), total, scorers, len(eligible), quorum)


def criteria_info(plan: Plan) -> list[CriterionInfo]:
    """The plan's criteria, in order, as the ranking needs them."""
    return [CriterionInfo(c.id, c.code, c.weight) for c in plan.criteria]


def standing(session: Session, proposal: Proposal, plan: Plan | None = None) -> Standing:
    """Weighted mean scores of one proposal as they stand now, counting only eligible members."""
    plan = plan or current_plan(session)
    eligible = {m.id for m in eligible_members(session, proposal)}
    scores = [(s.member_id, s.criterion_id, s.value) for s in scores_of(session, proposal)]
    return Standing(proposal, compute_tally(criteria_info(plan), scores, eligible, quorum_size(session, plan)))


# Score rows a `ScoreSheet` reads from the database at a time.
SHEET_ROWS = 10_000


class ScoreSheet:
    """The scores of every proposal in some states, with the members and the conflicts declared
    on them, read once (a query or three, however many proposals): what `ranking` and `ogp
    status` need of each proposal without a query per proposal. Each standing is the one
    `standing` computes for the proposal alone."""

    def __init__(self, session: Session, states: Sequence[State]) -> None:
        plan = current_plan(session)
        wanted = list(states)
        self.states = frozenset(states)
        self.proposals = session.scalars(
            select(Proposal).where(Proposal.state.in_(wanted)).order_by(Proposal.id)
        ).all()
        self.members = session.scalars(select(Member).where(Member.active.is_(True)).order_by(Member.id)).all()
        self.quorum, self.criteria = quorum_for(plan.quorum, len(self.members)), criteria_info(plan)
        self._declared: dict[int, set[int]] = {}
        for proposal_id, member_id in session.execute(
            select(Conflict.proposal_id, Conflict.member_id)
            .join(Proposal, Proposal.id == Conflict.proposal_id)
            .where(Conflict.late.is_(False), Proposal.state.in_(wanted))
        ):
            self._declared.setdefault(proposal_id, set()).add(member_id)
        # Each proposal's scores as one flat array (member, criterion, value, member, …): 24 bytes
        # a score, not the 72 of a tuple in a list; and the rows are streamed, not all fetched
        # first (250,000 scores for 10,000 proposals: 18 MB kept, and 40 MB of rows at once).
        self._given: dict[int, array[int]] = {}
        query = (
            select(Score.proposal_id, Score.member_id, Score.criterion_id, Score.value)
            .join(Proposal, Proposal.id == Score.proposal_id)
            .where(Proposal.state.in_(wanted))
            .order_by(Score.proposal_id, Score.member_id, Score.criterion_id)
        )
        for proposal_id, member_id, criterion_id, value in session.execute(
            query, execution_options={"yield_per": SHEET_ROWS}
        ):
            given = self._given.get(proposal_id)
            if given is None:
                given = self._given[proposal_id] = array("q")
            given.extend((member_id, criterion_id, value))
        self._organisations = {m.id: name_key(m.organization) for m in self.members}

    def eligible(self, proposal: Proposal) -> list[Member]:
        """As `eligible_members`: active, not of the proposing organisation, no declared conflict."""
        conflicted, own = self._declared.get(proposal.id, set()), name_key(proposal.organization)
        return [m for m in self.members if m.id not in conflicted and self._organisations[m.id] != own]

    def given(self, proposal: Proposal) -> list[tuple[int, int, int]]:
        """The proposal's scores as (member id, criterion id, value)."""
        flat = self._given.get(proposal.id)
        return [] if flat is None else list(zip(flat[0::3], flat[1::3], flat[2::3], strict=True))

    def standing(self, proposal: Proposal) -> Standing:
        """As `standing(session, proposal)`, from what the sheet read."""
        eligible = {m.id for m in self.eligible(proposal)}
        return Standing(proposal, compute_tally(self.criteria, self.given(proposal), eligible, self.quorum))


def ranking(session: Session, states: tuple[State, ...] = (State.INTERVIEWED,)) -> list[Standing]:
    """Proposals in `states`, best first, by the documented order (read once: `ScoreSheet`)."""
    sheet = ScoreSheet(session, states)
    rows = sorted((sheet.standing(p) for p in sheet.proposals), key=Standing.key)
    return [Standing(r.proposal, r.tally, rank) for rank, r in enumerate(rows, start=1)]


def fraction_text(value: Fraction | None) -> str | None:
    """An exact fraction as text ("21/5"), as decisions are kept."""
    return None if value is None else f"{value.numerator}/{value.denominator}"


def record_decided_standing(session: Session, place: Standing, ranked: int, event: str) -> DecidedStanding:
    """Keep a proposal's standing as the working group decided on it (shortlisted or turned down)."""
    decided = DecidedStanding(
        proposal_id=place.proposal.id,
        event=event,
        rank=place.rank,
        ranked=ranked,
        total=fraction_text(place.total),
        criteria={
            c.code: {"mean": fraction_text(c.mean), "scorers": c.scorers, "weight": c.weight} for c in place.criteria
        },
        scorers=place.scorers,
        eligible=place.eligible,
        quorum=place.quorum,
        complete=place.complete,
    )
    session.add(decided)
    return decided


def decided_standing(session: Session, proposal: Proposal) -> DecidedStanding | None:
    """The standing a proposal was decided on, if the working group decided on it."""
    return session.get(DecidedStanding, proposal.id)


@dataclass(frozen=True)
class DecidedPlace:
    """A proposal the working group decided on, its standing then, and conflicts declared since."""

    proposal: Proposal
    decided: DecidedStanding
    late: list[Conflict]


def decided_places(session: Session, states: Sequence[State]) -> list[DecidedPlace]:
    """Proposals in `states` with the standing they were decided on, in the order decided."""
    query = (
        select(Proposal, DecidedStanding)
        .join(DecidedStanding, DecidedStanding.proposal_id == Proposal.id)
        .where(Proposal.state.in_(list(states)))
        .order_by(DecidedStanding.event.desc(), DecidedStanding.rank, Proposal.id)
    )
    return [DecidedPlace(p, d, late_conflicts(session, p)) for p, d in session.execute(query)]


def late_conflicts(session: Session, proposal: Proposal) -> list[Conflict]:
    """Conflicts declared after the proposal left evaluation: shown beside the decision."""
    query = select(Conflict).where(Conflict.proposal_id == proposal.id, Conflict.late.is_(True)).order_by(Conflict.id)
    return list(session.scalars(query))


# --- responses to referrals ------------------------------------------------------------------------


def referred_bodies(session: Session, proposal: Proposal) -> list[Entity]:
    """The bodies a referral letter went to."""
    query = (
        select(Entity)
        .join(Letter, Letter.entity_id == Entity.id)
        .where(Letter.proposal_id == proposal.id, Letter.kind == "referral")
        .order_by(Letter.year, Letter.number)
    )
    return list(dict.fromkeys(session.scalars(query)))


# The order of a body's answers: by the day it gave them, then the order they were entered. The
# last one stands (decides a commitment, ends a wait): an older letter entered late never
# overrides a later answer.
ANSWER_ORDER = (Response.responded_on, Response.id)


def latest_responses(session: Session, proposal: Proposal) -> dict[int, Response]:
    """Each body's latest answer to the referral (`ANSWER_ORDER`), by entity id."""
    query = select(Response).where(Response.proposal_id == proposal.id).order_by(*ANSWER_ORDER)
    return {r.entity_id: r for r in session.scalars(query)}


def latest_answers(session: Session, proposal: Proposal) -> dict[int, bool]:
    """Whether each body's latest answer agrees, by entity id."""
    return {entity_id: r.agreed for entity_id, r in latest_responses(session, proposal).items()}


def agreeing_bodies(session: Session, proposal: Proposal) -> list[Entity]:
    """Bodies whose latest answer is agreement, in the order they answered."""
    answers = sorted(latest_responses(session, proposal).values(), key=lambda r: (r.responded_on, r.id))
    return [r.entity for r in answers if r.agreed]


def record_response(
    session: Session,
    key: str,
    entity_key: str,
    *,
    agreed: bool,
    responded_on: dt.date | None,
    note: str,
    actor: str,
    now: dt.datetime | None = None,
) -> tuple[Response, AuditEntry]:
    """Record a body's answer to a referral letter (a recorded step, while the proposal is referred).

    Refused as `Referrals.problems` says (`InvalidInputError`, or `WorkflowError` for an answer given
    again): no referral letter went to the body; a day in the future, before that letter was issued
    or before the proposal was submitted; an answer already recorded (same answer, day and note), given again."""
    proposal = get_proposal(session, key)
    entity = EntityIndex(session).get(entity_key)
    with ledger.recorded(session, Action.RESPONSE, actor=actor, now=now, proposal=proposal) as step:
        record = f"proposal {proposal.ref}"
        today = step.now.astimezone().date()
        responded_on = responded_on or today
        said = fields.line(note, record, "--note", limit=fields.REASON)
        for name, problem in Referrals.load(session, [proposal.id]).problems(
            proposal, entity, agreed, responded_on, said, today
        ):
            if not name:
                raise WorkflowError(f"{problem}; nothing was recorded.")
            raise InvalidInputError(record, "--entity" if name == "entity" else "--on", problem)
        response = Response(
            proposal_id=proposal.id, entity_id=entity.id, agreed=agreed, responded_on=responded_on,
            note=said, recorded_by=actor, recorded_at=audit.utc_stamp(step.now),
        )  # fmt: skip
        session.add(response)
        answer = "agreed" if agreed else "declined"
        step.reason = f"{entity.code or entity.name} {answer} on {responded_on.isoformat()}" + (
            f": {response.note}" if response.note else ""
        )
    assert step.entry is not None
    return response, step.entry


@dataclass(frozen=True)
class GivenResponse:
    """A body's answer to record in bulk (a row of an import), checked already: the proposal is
    referred and a referral letter went to the body, the day is neither in the future nor before
    the submission, and the note is one line within `fields.REASON`."""

    proposal: Proposal
    entity: Entity
    agreed: bool
    responded_on: dt.date
    note: str = ""


def record_responses(
    session: Session,
    answers: Sequence[GivenResponse],
    *,
    actor: str,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[int]:
    """Record many bodies' answers (an import): the recorded step `response` for each, one audit
    entry each holding the row `record_response` would write, but written with one bulk statement
    and chained in one pass (`ledger.append_steps`). Returns the responses' ids, in order;
    `progress(n)` is called once they are recorded.

    The caller holds the record's lock since before the checks (`ledger.lock_record`)."""
    moment = now or dt.datetime.now(dt.UTC)
    stamp = audit.utc_stamp(moment)
    ledger.lock_record(session)
    session.flush()
    rows: list[dict[str, Any]] = [
        {
            "proposal_id": answer.proposal.id, "entity_id": answer.entity.id, "agreed": answer.agreed,
            "responded_on": answer.responded_on, "note": answer.note, "recorded_by": actor, "recorded_at": stamp,
        }
        for answer in answers
    ]  # fmt: skip
    ledger.insert_rows(session, Base.metadata.tables["responses"], rows)
    steps = []
    for row, answer in zip(rows, answers, strict=True):
        proposal, entity = answer.proposal, answer.entity
        said = "agreed" if answer.agreed else "declined"
        reason = f"{entity.code or entity.name} {said} on {answer.responded_on.isoformat()}" + (
            f": {answer.note}" if answer.note else ""
        )
        inserted = ledger.canonical_row("responses", row)
        change = {"t": "responses", "op": "insert", "key": {"id": row["id"]}, "row": inserted}
        steps.append(ledger.BulkStep(proposal.id, proposal.ref, proposal.state, proposal.state, reason, [change]))
    ledger.append_steps(session, Action.RESPONSE, steps, actor=actor, now=moment)
    if progress is not None:
        progress(len(rows))
    return [row["id"] for row in rows]


def response_date_problem(proposal: Proposal, responded_on: dt.date) -> str:
    """Why a body cannot have answered on `responded_on`, or "": not before the proposal it
    answers was submitted, and only on a day letters can be dated."""
    if responded_on < proposal.submitted_on:
        return f"{responded_on} is before the proposal was submitted ({proposal.submitted_on})"
    try:
        supported(responded_on)
    except ValueError as exc:
        return str(exc)
    return ""


@dataclass
class Referrals:
    """What a body's answer to a referral is checked against, read once for many proposals: the
    referral letters each body was sent, and every answer recorded. Used alike by `ogp
    response record` and `ogp response import`, so both refuse the same answers the same way."""

    # proposal id → entity id → (the day its first referral letter was issued, that letter's
    # reference number), in the order the letters were written
    sent: dict[int, dict[int, tuple[dt.date, str]]]
    # every answer recorded, as (proposal id, entity id, agreed, responded_on, note)
    given: set[tuple[int, int, bool, dt.date, str]]
    names: dict[int, str]  # entity id → its code, else its name: how a message names a body

    @classmethod
    def load(cls, session: Session, proposal_ids: Iterable[int]) -> Referrals:
        """The referral letters and recorded answers of these proposals (two queries a chunk of
        `LOOKUP_CHUNK`)."""
        ids = sorted(set(proposal_ids))
        sent: dict[int, dict[int, tuple[dt.date, str]]] = {}
        given: set[tuple[int, int, bool, dt.date, str]] = set()
        names = {entity_id: code or name for entity_id, code, name in session.execute(
            select(Entity.id, Entity.code, Entity.name))}  # fmt: skip
        for start in range(0, len(ids), LOOKUP_CHUNK):
            chunk = ids[start : start + LOOKUP_CHUNK]
            letters = (
                select(Letter.proposal_id, Letter.entity_id, Letter.issued_on, Letter.reference)
                .where(Letter.kind == DocumentKind.REFERRAL.value, Letter.proposal_id.in_(chunk))
                .order_by(Letter.year, Letter.number)
            )
            for proposal_id, entity_id, issued_on, reference in session.execute(letters):
                if entity_id is not None:
                    sent.setdefault(proposal_id, {}).setdefault(entity_id, (issued_on, reference))
            answers = (
                select(Response.proposal_id, Response.entity_id, Response.agreed, Response.responded_on, Response.note)
                .where(Response.proposal_id.in_(chunk))
            )
            given.update((p, e, agreed, day, note) for p, e, agreed, day, note in session.execute(answers))
        return cls(sent, given, names)

    def problems(
        self, proposal: Proposal, entity: Entity, agreed: bool | None, responded_on: dt.date, note: str, today: dt.date
    ) -> list[tuple[str, str]]:
        """What is wrong with this answer, as (field, problem) pairs, field one of "entity",
        "responded_on" or "" (the answer as a whole); [] when it may be recorded. The body must have
        been sent a referral letter, and answered neither after `today` nor before that letter was
        issued (nor before the proposal was submitted: `response_date_problem`); an answer already
        recorded — the same answer, day and note — is not recorded again (a file imported twice, a
        command run twice, whichever answer stands)."""
        sent = self.sent.get(proposal.id, {})
        found: list[tuple[str, str]] = []
        if entity.id not in sent:
            written = ", ".join(self.names.get(entity_id, f"#{entity_id}") for entity_id in sent)
            went = f"it went to: {written}" if written else f"none went out for proposal {proposal.ref}"
            found.append(("entity", f"no referral letter went to {entity.name} ({went})"))
        body = entity.code or entity.name
        early = response_date_problem(proposal, responded_on)
        if responded_on > today:
            found.append(("responded_on", f"{responded_on} is in the future"))
        elif early:
            found.append(("responded_on", early))
        elif entity.id in sent and responded_on < sent[entity.id][0]:
            issued_on, reference = sent[entity.id]
            found.append(
                ("responded_on", f"{responded_on} is before the referral letter to {body} was issued "
                 f"({reference}, dated {issued_on})")
            )  # fmt: skip
        if agreed is not None and (proposal.id, entity.id, agreed, responded_on, note) in self.given:
            said = "agreed" if agreed else "declined"
            answer = f"the answer of {body} on proposal {proposal.ref} ({said} on {responded_on})"
            found.append(("", f"{answer} is already recorded"))
        return found


def list_responses(session: Session, key: str | None = None) -> list[Response]:
    """Every recorded response (or one proposal's), in the order recorded."""
    query = select(Response).order_by(Response.id)
    if key is not None:
        query = query.where(Response.proposal_id == get_proposal(session, key).id)
    return list(session.scalars(query))
