"""Progress on milestones, from both sides, and its evidence: web addresses checked as such, files
read with a size cap and kept with their sha256 (which the audit entry records)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from documents import one_line, safe_filename, xml_safe
from states import Action
from workflow import audit, fields, ledger
from workflow.commitments import committed_on
from workflow.dates import happened
from workflow.errors import InvalidInputError
from workflow.inputs import home_expanded
from workflow.milestones import get_milestone, label
from workflow.models import Evidence, Progress
from workflow.vocabulary import SIDES

# The largest evidence file kept in the workspace; larger ones belong on a web site, cited by URL.
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_EVIDENCE_ITEMS = 20
MAX_URL = 2_000
URL_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class EvidenceItem:
    """One piece of evidence: a web address, or a file's name and bytes."""

    url: str = ""
    file_name: str = ""
    content: bytes | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest() if self.content is not None else ""

    def describe(self) -> str:
        return self.url or f"{self.file_name} (sha256 {self.sha256[:16]}…)"


def looks_like_url(text: str) -> bool:
    """Whether an --evidence value is meant as a web address rather than a file."""
    return "://" in text or text.lower().startswith(("http:", "https:", "www."))


def checked_url(text: str, record: str, option: str = "--evidence") -> str:
    """`text` as a web address evidence may cite (http or https, a host, no spaces or control
    characters); InvalidInputError naming what is wrong otherwise."""
    url = text.strip()
    if len(url) > MAX_URL:
        raise InvalidInputError(record, option, f"a web address of {len(url)} characters; at most {MAX_URL}")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url) or xml_safe(url) != url:
        raise InvalidInputError(record, option, f"{url!r} is not a web address (it holds spaces or control characters)")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it is what checks it
    except ValueError as exc:
        raise InvalidInputError(record, option, f"{url!r} is not a web address ({exc})") from exc
    if parts.scheme.lower() not in URL_SCHEMES or not parts.hostname:
        raise InvalidInputError(record, option, f"{url!r} is not an http:// or https:// address with a host")
    return url


def read_evidence_file(path: Path, record: str, option: str = "--evidence") -> EvidenceItem:
    """A regular file's name and bytes (at most `MAX_EVIDENCE_BYTES`); InvalidInputError for a
    missing file, a folder, a device or pipe, or one too large."""
    try:
        # O_NONBLOCK: a pipe put where the file was cannot make us wait; fstat then refuses it.
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise InvalidInputError(record, option, f"cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:  # a NUL in the name
        raise InvalidInputError(record, option, f"{str(path)!r} is not a file name ({exc})") from exc
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise InvalidInputError(record, option, f"{path} is not a regular file")
    with os.fdopen(handle, "rb") as stream:
        data = stream.read(MAX_EVIDENCE_BYTES + 1)
    if len(data) > MAX_EVIDENCE_BYTES:
        raise InvalidInputError(
            record, option, f"{path} is larger than {MAX_EVIDENCE_BYTES} bytes; publish it and cite its web address"
        )
    return EvidenceItem(file_name=safe_filename(Path(path).name, ""), content=data)


def evidence_from(text: str, record: str) -> EvidenceItem:
    """An --evidence value: a web address, or the path of a file to keep."""
    if looks_like_url(text):
        return EvidenceItem(url=checked_url(text, record))
    return read_evidence_file(home_expanded(Path(text)), record)


def record_progress(
    session: Session,
    key: str | int,
    *,
    percent: int,
    note: str,
    side: str,
    actor: str,
    reported_on: dt.date | None = None,
    evidence: Sequence[EvidenceItem] = (),
    now: dt.datetime | None = None,
) -> Progress:
    """Record progress on a milestone as one side reports it (a recorded step, on a committed
    proposal's milestone that is not cancelled); its evidence is kept with it. Civil society's
    figures stand beside the government's and never replace them.

    Raises `InvalidInputError` naming the option: among them `--on` for a day refused by
    `dates.happened` (in the future, before the OGP's launch or before the commitment was made,
    `commitments.committed_on`)."""
    milestone = get_milestone(session, key)
    record = f"milestone {label(milestone.id)}"
    if side not in SIDES:
        raise InvalidInputError(record, "--by", f"{side!r} is not one of {', '.join(SIDES)}")
    if not 0 <= percent <= 100:
        raise InvalidInputError(record, "--percent", f"{percent} is not between 0 and 100")
    note = fields.block(note, record, "--note")
    if not note:
        raise InvalidInputError(record, "--note", "must not be empty: say what was done")
    if len(evidence) > MAX_EVIDENCE_ITEMS:
        raise InvalidInputError(record, "--evidence", f"{len(evidence)} items; at most {MAX_EVIDENCE_ITEMS}")
    items = [EvidenceItem(url=checked_url(e.url, record)) if e.url else e for e in evidence]
    for item in items:
        if not item.url and (item.content is None or len(item.content) > MAX_EVIDENCE_BYTES):
            raise InvalidInputError(record, "--evidence", f"{item.file_name or 'a file'} has no bytes or too many")
    with ledger.recorded(
        session, Action.RECORD_PROGRESS, actor=actor, now=now, proposal=milestone.proposal, milestone=milestone
    ) as step:
        today = step.now.astimezone().date()
        reported_on = reported_on or today
        made = committed_on(session, milestone.proposal)
        problem = happened(
            reported_on, today, what="a progress report", since=made, since_is=f"the commitment was made ({made})"
        )
        if problem:
            raise InvalidInputError(record, "--on", problem)
        entry = Progress(
            milestone_id=milestone.id, side=side, percent=percent, note=note, reported_on=reported_on,
            recorded_by=actor, recorded_at=audit.utc_stamp(step.now),
            evidence=[
                Evidence(
                    position=position, url=item.url, file_name=one_line(item.file_name),
                    size=len(item.content or b""), sha256=item.sha256, content=item.content,
                )
                for position, item in enumerate(items)
            ],
        )  # fmt: skip
        session.add(entry)
        shown = f" with {len(items)} piece{'s' if len(items) > 1 else ''} of evidence" if items else ""
        step.reason = f"{label(milestone.id)}: {percent}% by {side} on {reported_on.isoformat()}{shown}"
    return entry
