"""Stored letters: listing them, the outgoing register, writing and verifying their files."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents import write_all_atomic
from documents.digits import western_digits
from documents.package import MAX_PACKAGE_BYTES, read_package
from documents.request import Replaces
from documents.text import INVISIBLE
from states import REISSUE_STATES, Action, Addressees, Document, DocumentKind, Event
from workflow import audit, ledger
from workflow.errors import InputFileError, InvalidInputError, NotFoundError, ReissueRefusedError, WorkflowError
from workflow.followups import awaited_reply
from workflow.inputs import read_input
from workflow.interviews import held_since, interview_context, interview_of, rescheduled_since, schedule_time_problem
from workflow.models import AuditEntry, Letter
from workflow.names import name_key
from workflow.outbox import PROPERTY_HASH, PROPERTY_SEQ, Outbox, PendingLetter, Recipient, referral_context
from workflow.plans import current_plan
from workflow.proposals import get_proposal
from workflow.templates import renderer, templates_folder

MOVE_EVENTS = frozenset(event.value for event in Event)  # audit entries of moves, by their event


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


# Letters read or written at a time (`write_stored`, `write_files`): memory holds a chunk's bytes.
STORED_CHUNK = 200


def write_files(folder: Path, letters: Iterable[tuple[str, bytes]]) -> list[Path]:
    """Write (file name, bytes) pairs into `folder`, each atomically, `STORED_CHUNK` at a time with
    one flush to disk for each chunk (`documents.files.write_all_atomic`); return the paths."""
    paths: list[Path] = []
    pending = iter(letters)
    while chunk := list(itertools.islice(pending, STORED_CHUNK)):
        paths.extend(write_all_atomic(folder, chunk))
    return paths


def write_stored(session: Session, folder: Path, file_names: Sequence[str]) -> list[Path]:
    """Write the stored letters named `file_names` into `folder` (a batch's letters, after its
    commit), reading their bytes from the workspace `STORED_CHUNK` at a time; return the paths, in
    the order given. Raises as `write_files` does, and `NotFoundError` for a name the register
    does not hold (the files before it are written)."""
    paths = []
    for start in range(0, len(file_names), STORED_CHUNK):
        chunk = file_names[start : start + STORED_CHUNK]
        query = select(Letter.file_name, Letter.content).where(Letter.file_name.in_(chunk))
        found = {name: content for name, content in session.execute(query)}
        missing = next((name for name in chunk if name not in found), None)
        known = chunk if missing is None else chunk[: chunk.index(missing)]
        paths.extend(write_files(folder, [(name, found[name]) for name in known]))
        if missing is not None:
            raise NotFoundError("letter", f"{missing} (not in the register)")
    return paths


@dataclass
class FolderCheck:
    """What one folder of letter files holds, against the register and the audit trail."""

    folder: Path
    matching: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    # Files written by an entry the chain no longer holds: (name, the entry's number).
    orphaned: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class LetterCheck:
    """The result of `verify`: stored letters that do not match, and each folder's files."""

    stored: int
    bad_stored: list[str]
    folders: list[FolderCheck]
    head: int = 0

    @property
    def ok(self) -> bool:
        return not self.bad_stored and not any(f.altered or f.unknown or f.orphaned for f in self.folders)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stored_problem(letter: Letter, hashes: dict[int, str], recorded: dict[int, list[str]]) -> str | None:
    """Why a stored letter is not the one its entry recorded, or None."""
    if _sha256(letter.content) != letter.sha256:
        return "its bytes are not those registered"
    listed = recorded.get(letter.audit_seq, [])
    if letter.sha256 in listed:  # written before schema 0005: its entry lists its bytes' sha256
        return None
    try:
        reading = read_package(letter.content)
    except ValueError as exc:
        return str(exc)
    if reading.digest != letter.digest or letter.digest not in listed:
        return f"its parts are not those entry #{letter.audit_seq} recorded"
    written_by = (reading.properties.get(PROPERTY_SEQ), reading.properties.get(PROPERTY_HASH))
    if written_by != (str(letter.audit_seq), hashes.get(letter.audit_seq)):
        return f"it does not name entry #{letter.audit_seq} as the entry that wrote it"
    return None


def verify(session: Session, folders: Sequence[Path], *, expect_all: Sequence[Path] = ()) -> LetterCheck:
    """Check every stored letter, and every .docx in `folders`, against the register and the chain.

    A file is `altered` if its bytes differ from the registered letter of that name, `unknown` if
    no letter of that name is registered, `orphaned` if it names an audit entry the chain no longer
    holds (the chain was cut after it was sent). A file in a folder of `expect_all` (the
    workspace's own letters/) that is absent is reported as `missing`; an exported folder need not
    hold every letter. File names are compared by `names.name_key` (a name saved decomposed is still that name).
    """
    hashes: dict[int, str] = {}
    recorded: dict[int, list[str]] = {}
    for seq, hash_, listed in session.execute(select(AuditEntry.seq, AuditEntry.hash, AuditEntry.letters)):
        if listed:
            hashes[seq], recorded[seq] = hash_, list(listed)
    head = audit.current_head(session).seq
    by_name: dict[str, tuple[str, str]] = {}
    sound: set[str] = set()  # name keys of stored letters that are the ones their entries recorded
    bad, count = [], 0
    stored = session.scalars(select(Letter).order_by(Letter.id).execution_options(yield_per=200))
    with closing(stored):
        for letter in stored:
            problem = _stored_problem(letter, hashes, recorded)
            key = name_key(letter.file_name)
            if problem:
                bad.append(f"{letter.reference} ({letter.file_name}): {problem}")
            else:
                sound.add(key)
            by_name[key] = (letter.file_name, letter.sha256)
            count += 1
            session.expunge(letter)  # its bytes are not kept once checked
    checks = []
    for folder in folders:
        check = FolderCheck(folder)
        present = {p.name: p for p in folder.glob("*.docx") if p.is_file()} if folder.is_dir() else {}
        seen = set()
        for name, path in sorted(present.items()):
            key = name_key(name)
            registered = by_name.get(key)
            try:
                data = read_input(path, limit=MAX_PACKAGE_BYTES, what="letter")
                if registered is not None and key in sound and _sha256(data) == registered[1]:
                    # The very bytes of a stored letter checked above (its parts, and the entry
                    # it names, which the chain holds): nothing more to read in them.
                    check.matching.append(name)
                    seen.add(key)
                    continue
                reading = read_package(data)
            except (InputFileError, ValueError):
                check.altered.append(name) if registered else check.unknown.append(name)
                continue
            written_by = reading.properties.get(PROPERTY_SEQ, "")
            if (
                written_by.isascii()
                and written_by.isdigit()
                and hashes.get(int(written_by)) != reading.properties.get(PROPERTY_HASH)
            ):
                check.orphaned.append((name, int(written_by)))
            elif registered is None:
                check.unknown.append(name)
            elif _sha256(data) == registered[1]:
                check.matching.append(name)
                seen.add(key)
            else:
                check.altered.append(name)
                seen.add(key)
        if folder in expect_all:
            check.missing = sorted(original for key, (original, _) in by_name.items() if key not in seen)
        checks.append(check)
    return LetterCheck(count, bad, checks, head)


def find_letter(session: Session, number: str) -> Letter:
    """A letter by its reference number as printed («ت ح/5/2021/0001»), or as YEAR/NUMBER, or as
    NUMBER alone when only one year has it. Raises `NotFoundError`, or `WorkflowError` naming the
    letters a bare number could mean."""
    # As printed with --digits arabic-indic (٢٠٢١/٠٠٠٢), or pasted with a direction mark around it.
    typed = INVISIBLE.sub("", number).strip()
    text = western_digits(typed)
    found = session.scalars(select(Letter).where(Letter.reference.in_({typed, text}))).first()
    if found is not None:
        return found
    match = re.fullmatch(r"(?:([0-9]{4})/)?0*([0-9]{1,9})", text)
    if match:
        query = select(Letter).where(Letter.number == int(match.group(2)))
        if match.group(1):
            query = query.where(Letter.year == int(match.group(1)))
        candidates = list(session.scalars(query.order_by(Letter.year)))
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            names = ", ".join(c.reference for c in candidates)
            raise WorkflowError(f"letter {text!r} could be any of {names}; give it as YEAR/NUMBER.")
    raise NotFoundError("letter", repr(text))


@dataclass(frozen=True)
class Voided:
    """What voiding did: the letter voided, the letter reissued in its place (if asked), the entry."""

    letter: Letter
    reissued: list[PendingLetter]
    entry: AuditEntry


def void_letter(
    session: Session,
    number: str,
    *,
    reason: str,
    actor: str,
    now: dt.datetime | None = None,
    reissue: bool = False,
    dated: dt.date | None = None,
    templates_dir: Path | None = None,
    workspace_folder: Path | None = None,
) -> Voided:
    """Void a letter (a recorded step): it keeps its number in the register, marked void with the
    reason. With `reissue`, a new letter of the same kind goes to the same addressee, as the record
    now stands (a corrected title, addressee …), with a new number, and says which letter it
    replaces; it states the facts of the void letter's step (`reissue_facts`). Returns what was
    done. Raises `NotFoundError`, `InvalidInputError` (no reason; an invitation's time not after
    `dated`), `WorkflowError` (already void), `ReissueRefusedError` (its facts no longer hold);
    a refusal changes nothing."""
    letter = find_letter(session, number)
    proposal = letter.proposal
    why = ledger.checked_reason(reason, f"letter {letter.reference}")
    with ledger.recorded(
        session, Action.VOID_LETTER, actor=actor, now=now, proposal=proposal, reason=f"{letter.reference}: {why}"
    ) as step:
        if letter.void_reason:
            raise WorkflowError(
                f"letter {letter.reference} is already void ({letter.void_reason}); nothing was changed."
            )
        letter.void_reason = why
        reissued: list[PendingLetter] = []
        if reissue:
            reissued = _reissue(session, step, letter, dated, templates_dir, workspace_folder)
    assert step.entry is not None
    return Voided(letter, reissued, step.entry)


def _reissue(
    session: Session,
    step: ledger.Step,
    letter: Letter,
    dated: dt.date | None,
    templates_dir: Path | None,
    workspace_folder: Path | None,
) -> list[PendingLetter]:
    proposal = letter.proposal
    plan = current_plan(session)
    written_by = origin_step(session, letter)
    kind = DocumentKind(letter.kind)
    extra = reissue_facts(session, letter, written_by, now=step.now, dated=dated)
    outbox = Outbox(
        session, plan, proposal, renderer(templates_folder(plan, workspace_folder, templates_dir)), step.now,
        written_by.event, written_by.reason, extra=extra, dated=dated,
        replaces=Replaces(letter.reference, letter.issued_on),
        # The state the move that wrote it left; "" for a step that moves nothing (an invitation …).
        from_state=(written_by.from_state or "") if written_by.event in MOVE_EVENTS else "",
    )  # fmt: skip
    if letter.entity is not None:
        recipient = Recipient.body(letter.entity)
    else:
        (recipient,) = outbox.recipients(Document(kind, Addressees.PROPOSER))
    outbox.render_to([(Document(kind, Addressees.PROPOSER), recipient)])
    outbox.attach(step)
    return outbox.pending


def origin_step(session: Session, letter: Letter) -> AuditEntry:
    """The audit entry of the step whose facts `letter` states: the step that wrote it; for a
    letter reissued in place of a void one (written by the voiding step), the step that wrote the
    letter it replaces, followed back through every reissue. Returns that entry."""
    seen = {letter.reference}
    while True:
        entry = session.get(AuditEntry, letter.audit_seq)
        assert entry is not None
        if entry.event != Action.VOID_LETTER.value or not letter.replaces or letter.replaces in seen:
            return entry
        replaced = session.scalars(select(Letter).where(Letter.reference == letter.replaces)).first()
        if replaced is None:
            return entry
        seen.add(replaced.reference)
        letter = replaced


def reissue_facts(
    session: Session, letter: Letter, written_by: AuditEntry, *, now: dt.datetime, dated: dt.date | None = None
) -> dict[str, Any]:
    """What `letter` said of the step that wrote it (`written_by`), for a reissue written `now`
    and bearing `dated` (default: today), as `Outbox.extra`: the interview an invitation or a
    cancellation was about (the one that step booked or called off, not the latest), the referral
    a follow-up chases.

    Raises `ReissueRefusedError` where that no longer holds: the proposal is in none of the
    `states.REISSUE_STATES` of the letter's kind; an invitation's interview was moved, cancelled or
    held since; a follow-up's body has answered; or the entry does not say which interview it was
    about. Raises `InvalidInputError` (`--dated`) for an invitation whose interview is not after
    the day the reissue bears (see `interviews.schedule_time_problem`)."""
    kind = DocumentKind(letter.kind)
    day = dated or now.astimezone().date()
    proposal = letter.proposal

    def refused(why: str) -> ReissueRefusedError:
        return ReissueRefusedError(letter.reference, kind.value, proposal.ref, why)

    holds_in = REISSUE_STATES[kind]
    if proposal.state not in holds_in:
        where = " or ".join(state.value for state in holds_in)
        raise refused(
            f"proposal {proposal.ref} is now '{proposal.state.value}'; a {kind.value} letter says what holds "
            f"only while it is {where}"
        )
    if kind is DocumentKind.FOLLOWUP and letter.entity is not None:
        try:
            awaited = awaited_reply(session, current_plan(session), proposal, letter.entity)
        except InvalidInputError as exc:
            raise refused(exc.problem) from exc
        return {"referral": referral_context(awaited.referral)}
    if kind not in (DocumentKind.INVITATION, DocumentKind.CANCELLATION):
        return {}
    planned = interview_of(session, written_by)
    if planned is None:
        raise refused(f"its audit entry #{written_by.seq} does not record which interview it was about")
    if kind is DocumentKind.INVITATION:
        moved = rescheduled_since(session, planned, written_by)
        if moved is not None:
            raise refused(f"the interview it invites to was rescheduled since (entry #{moved.seq}: {moved.reason})")
        was = f"the interview of {planned.at:%Y-%m-%d %H:%M} it invites to"
        if planned.cancelled_reason:
            raise refused(f"{was} was cancelled since ({planned.cancelled_reason})")
        # An interview recorded as held since the invitation was written (on whatever day, even one
        # before the letter), on or before the day the reissue bears: it would invite after the fact.
        held = [d for d in held_since(session, proposal.id, written_by) if d <= day]
        if held:
            raise refused(
                f"the proposer's interview is recorded as held on {held[-1]}: a reissue bearing {day} would invite "
                "to it after the fact (--dated may give the earlier day it should bear)"
            )
        # A reissued invitation is still an invitation: for a time after the day it bears.
        problem = schedule_time_problem(planned.at, now, dated)
        if problem:
            hint = "" if dated else "; give --dated the day it should bear, or void it without --reissue"
            raise InvalidInputError(f"letter {letter.reference}", "--dated", problem + hint)
    return interview_context(planned.at, planned.platform)
