"""Publishing the national OGP repository (`ogp publish`): the record gathered as the site's plain data,
rendered, written beside the site's folder, and recorded as one step (the publication's date, the
chain head it shows, the sha256 of its manifest); the files are swapped in once that step commits.

Private by default: no e-mail address (not even one typed into a text), no member's own scores, no
reason for a conflict of interest; `name_scorers` publishes who scored what.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from documents.minutes import MinutesData
from documents.site import SiteFolderError, SiteRenderer, SiteTemplateError, Staging
from documents.site import data as site
from documents.site.folder import check_target
from documents.text import LANGUAGES, without_emails
from states import FINAL, Action, State
from workflow import audit, ledger
from workflow.dates import OGP_LAUNCH, within
from workflow.errors import InvalidInputError, WorkflowError
from workflow.evaluation import ANSWER_ORDER, quorum_size
from workflow.inputs import home_expanded
from workflow.members import list_meetings, list_members, minutes
from workflow.models import (
    AuditEntry,
    Conflict,
    DecidedStanding,
    Entity,
    Interview,
    Letter,
    Plan,
    Proposal,
    ProposalEntity,
    Publication,
    Response,
    Score,
)
from workflow.names import name_key
from workflow.outbox import letterhead
from workflow.plans import current_plan
from workflow.templates import templates_folder
from workflow.vocabulary import VALUE_NAMES_AR, VALUE_NAMES_EN, OgpValue

# The moves that decide a proposal, and the outcome each leads to on the reasoned response.
OUTCOME_OF = {
    State.COMMITTED: "committed",
    State.REJECTED: "not_adopted",
    State.WITHDRAWN: "withdrawn",
    State.DISCARDED: "discarded",
}
DECIDING = ("commit", "reject", "withdraw", "discard")
# Steps shown on a proposal's page from its audit entries; interviews held, answers and letters
# come from their own rows (with their own dates), scores are counted, never shown one by one.
SHOWN_STEPS = ("submit", "link", "schedule_interview", "interview", "shortlist", "refer", *DECIDING)
# Folders of the workspace that hold something else: the site may not go inside them.
RESERVED = ("letters", "minutes")


@dataclass(frozen=True)
class PublishResult:
    """What a publication did."""

    folder: Path
    published_on: dt.date
    head: audit.Head
    seq: int  # the audit entry that records the publication
    manifest_sha256: str
    files: int
    proposals: int
    languages: tuple[str, ...]
    earlier: int


@functools.cache
def renderer(templates_dir: Path | None = None) -> SiteRenderer:
    """One site renderer per templates folder, so each template is compiled once per process."""
    return SiteRenderer(templates_dir)


def parse_languages(text: str) -> tuple[str, ...]:
    """`ar,en` as the languages of a publication, in the order given; ValueError naming the problem."""
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    if not chosen:
        raise ValueError("name at least one language (ar, en)")
    unknown = [part for part in chosen if part not in LANGUAGES]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a language of the site (use {', '.join(LANGUAGES)})")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"{text!r} names a language twice")
    return chosen


@contextmanager
def staged_site(folder: Path, workspace_folder: Path | None = None) -> Iterator[Staging]:
    """Check `folder`, then stage the publication there; on leaving the block without an error (the
    step committed) the staged site is swapped in, on an error it is thrown away.

    Enter it before the session, so the swap happens only after the commit. Raises `WorkflowError`.
    """
    target = home_expanded(folder).absolute()
    if workspace_folder is not None:
        home = workspace_folder.resolve()
        resolved = target.resolve()
        for name in RESERVED:
            reserved = home / name
            if resolved == reserved or resolved.is_relative_to(reserved):
                raise WorkflowError(
                    f"cannot publish to {folder}: it is inside the workspace's {name}/ folder, which holds "
                    f"only {name}; choose another folder. Nothing was published."
                )
        if resolved == home:
            raise WorkflowError(f"cannot publish to {folder}: it is the workspace's own folder. Nothing was published.")
    try:
        check_target(target)
    except SiteFolderError as exc:
        raise WorkflowError(f"cannot publish to {folder}: {exc}. Nothing was published.") from exc
    staging = Staging(target)
    try:
        yield staging
    except BaseException:
        staging.discard()
        raise
    try:
        staging.install()
    except SiteFolderError as exc:
        raise WorkflowError(f"the publication was recorded, but {exc}.") from exc


def publish(
    session: Session,
    staging: Staging,
    *,
    actor: str,
    published_on: dt.date | None = None,
    languages: Sequence[str] = LANGUAGES,
    name_scorers: bool = False,
    now: dt.datetime | None = None,
    templates_dir: Path | None = None,
    workspace_folder: Path | None = None,
) -> PublishResult:
    """Gather the record, render the site into `staging` and record the publication (one step).

    Raises `InvalidInputError` (a date in the future, before the OGP's launch, before the last
    publication or before a date the publication shows (`latest_shown`): a repository dated D
    shows what was known on D; an unknown language), `WorkflowError` (a site template that fails
    or passes a limit, a folder that cannot be written).
    """
    now = now or dt.datetime.now(dt.UTC)
    today = now.astimezone().date()
    day = published_on or today
    chosen = tuple(languages)
    if not chosen or any(language not in LANGUAGES for language in chosen) or len(set(chosen)) != len(chosen):
        raise InvalidInputError("publication", "--lang", f"{','.join(chosen)!r} is not a list of ar and en")
    if day > today:
        raise InvalidInputError("publication", "--dated", f"{day.isoformat()} is in the future")
    too_early = within(day, OGP_LAUNCH, today, what="a publication", earliest_is=f"the OGP's launch ({OGP_LAUNCH})",
                       latest_is="today")  # fmt: skip
    if too_early:
        raise InvalidInputError("publication", "--dated", too_early)
    plan = current_plan(session)
    pages = renderer(templates_folder(plan, workspace_folder, templates_dir))
    with ledger.recorded(session, Action.PUBLISH, actor=actor, now=now) as step:
        earlier = list(session.scalars(select(Publication).order_by(Publication.id)))
        if earlier and day < earlier[-1].published_on:
            raise InvalidInputError(
                "publication", "--dated",
                f"{day.isoformat()} is before the last publication, of {earlier[-1].published_on.isoformat()}",
            )  # fmt: skip
        # The head this publication shows: the chain as it stands before the publication's own entry.
        head = audit.current_head(session)
        content = gather(session, plan, head, day, chosen, name_scorers, earlier)
        shown = latest_shown(content)
        if shown is not None and day < shown[0]:
            raise InvalidInputError(
                "publication", "--dated",
                f"{day.isoformat()} is before {shown[1]} ({shown[0].isoformat()}), which the publication shows; "
                f"date it on or after {shown[0].isoformat()}",
            )  # fmt: skip
        try:
            files = pages.render(content)
        except SiteTemplateError as exc:
            raise WorkflowError(f"could not build the site: {exc}; nothing was published.") from exc
        try:
            listing = staging.write(files)
        except OSError as exc:
            raise WorkflowError(
                f"cannot write the site to {staging.folder}: {exc.strerror or exc}; nothing was published."
            ) from exc
        digest = hashlib.sha256(listing).hexdigest()
        session.add(
            Publication(
                published_on=day, head_seq=head.seq, head_hash=head.hash, manifest_sha256=digest,
                languages=list(chosen), reasoned_response=True,
            )
        )  # fmt: skip
        step.reason = f"published {day.isoformat()} ({', '.join(chosen)}): head #{head.seq}, manifest sha256 {digest}"
    assert step.entry is not None
    return PublishResult(
        staging.folder, day, head, step.entry.seq, digest, staging.count, len(content.proposals), chosen, len(earlier)
    )


# The steps of a proposal's page whose day the record states (an interview held on, an answer
# dated): with letters and submissions, what a publication's date may not come before (meetings
# are not among them; see `latest_shown`).
STATED_STEPS = {"record_interview": "the interview of {ref}", "answer": "an answer about {ref}"}


def latest_shown(content: site.SiteData) -> tuple[dt.date, str] | None:
    """The latest day the publication shows that the record states — a proposal's submission, an
    interview held, a body's answer, a letter (not one made void: it stands for nothing) — and
    what it is ("the interview of P-003", "letter 0001/2021/0004"), or None when there is none.
    Meetings are not compared: one may be recorded ahead of the day it is held.

    A repository dated D claims to show what was known on D. Steps dated by when they were
    entered (a withdrawal typed in later, without a letter) are not compared: entering a plan's
    history after the fact is allowed, and such a move is warned about when it is dated."""
    shown: list[tuple[dt.date, str]] = []
    for proposal in content.proposals:
        shown.append((proposal.submitted_on, f"the submission of {proposal.ref}"))
        shown += [
            (step.on, STATED_STEPS[step.kind].format(ref=proposal.ref))
            for step in proposal.timeline
            if step.kind in STATED_STEPS
        ]
    shown += [(letter.issued_on, f"letter {letter.reference}") for letter in content.letters if not letter.void]
    return max(shown, key=lambda item: item[0], default=None)


def list_publications(session: Session) -> list[Publication]:
    """Every publication, oldest first: the repository's update log."""
    return list(session.scalars(select(Publication).order_by(Publication.id)))


# --- the record, as the site's plain data ---------------------------------------------------------


def _public(text: str | None) -> str:
    return without_emails(text or "")


def _fraction(text: str | None) -> Fraction | None:
    return None if text is None else Fraction(text)


def _float(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 3)


def _local_date(stamp: str) -> dt.date:
    """An audit entry's time (UTC text) as the date it was where the command ran, as letters date it."""
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone().date()


def _body(entity: Entity) -> site.Body:
    return site.Body(_public(entity.name), entity.code or "")


def gather(
    session: Session,
    plan: Plan,
    head: audit.Head,
    published_on: dt.date,
    languages: tuple[str, ...],
    name_scorers: bool,
    earlier: Sequence[Publication],
) -> site.SiteData:
    """Everything a publication shows, read in a few queries whatever the number of proposals."""
    criteria = tuple(
        site.CriterionInfo(c.code, site.Label(c.name_ar, c.name_en), c.weight, c.scale_min, c.scale_max)
        for c in plan.criteria
    )
    names = {c.code: c.name for c in criteria}
    plan_info = site.PlanInfo(
        title=site.Label(plan.title, plan.title_en),
        period=plan.period,
        issuer=site.Label(plan.issuer, plan.issuer_en),
        shortlist_size=plan.shortlist_size,
        commitment_target=plan.commitment_target,
        quorum=quorum_size(session, plan),
        criteria=criteria,
        letterhead={language: letterhead(plan, language) for language in languages},
        logo=plan.logo,
    )
    entities = {e.id: e for e in session.scalars(select(Entity))}
    proposals = list(
        session.scalars(
            select(Proposal)
            .options(selectinload(Proposal.entity_links).selectinload(ProposalEntity.entity))
            .order_by(Proposal.id)
        )
    )
    refs = {p.id: p.ref for p in proposals}

    letters = session.execute(
        select(Letter.proposal_id, Letter.kind, Letter.entity_id, Letter.year, Letter.number, Letter.reference,
               Letter.issued_on, Letter.language, Letter.void_reason, Letter.replaces, Letter.audit_seq)
        .order_by(Letter.year, Letter.number)
    ).all()  # fmt: skip
    letters_of: dict[int, list[site.LetterInfo]] = defaultdict(list)
    register = []
    letter_seq: dict[str, int] = {}
    for row in letters:
        body = _body(entities[row.entity_id]) if row.entity_id is not None else None
        info = site.LetterInfo(
            row.reference, row.year, row.number, row.issued_on, row.kind, body, refs[row.proposal_id],
            row.language, bool(row.void_reason), row.replaces,
        )  # fmt: skip
        register.append(info)
        letters_of[row.proposal_id].append(info)
        letter_seq[row.reference] = row.audit_seq
    signed = _signed_days(letters)
    entries: dict[int, list[tuple[int, dt.date, str, str | None, str]]] = defaultdict(list)
    query = (
        select(AuditEntry.seq, AuditEntry.at, AuditEntry.proposal_id, AuditEntry.event, AuditEntry.from_state,
               AuditEntry.reason)
        .where(AuditEntry.proposal_id.is_not(None))
        .order_by(AuditEntry.seq)
    )  # fmt: skip
    for seq, at, proposal_id, event, from_state, reason in session.execute(query):
        assert proposal_id is not None
        entries[proposal_id].append((seq, signed.get(seq) or _local_date(at), event, from_state, reason))
    for mine in entries.values():
        # A step is never shown after a later one: one with no letter, entered after the round it
        # belongs to, takes the day of the next step that has (the order of the chain stands).
        bound: dt.date | None = None
        for index in range(len(mine) - 1, -1, -1):
            seq, day, *rest = mine[index]
            if bound is not None and day > bound and seq not in signed:
                mine[index] = (seq, bound, *rest)  # type: ignore[assignment]
            bound = mine[index][1] if bound is None else min(bound, mine[index][1])

    responses: dict[int, list[Response]] = defaultdict(list)
    for response in session.scalars(select(Response).order_by(*ANSWER_ORDER)):
        responses[response.proposal_id].append(response)
    held: dict[int, list[dt.date]] = defaultdict(list)
    for proposal_id, held_on in session.execute(select(Interview.proposal_id, Interview.held_on)):
        held[proposal_id].append(held_on)
    conflicts: dict[int, list[Conflict]] = defaultdict(list)
    for conflict in session.scalars(select(Conflict).order_by(Conflict.id)):
        conflicts[conflict.proposal_id].append(conflict)
    decided = {d.proposal_id: d for d in session.scalars(select(DecidedStanding))}
    shortlisted_totals = [_fraction(d.total) for d in decided.values() if d.event == "shortlist" and d.total]
    cut_line = min((t for t in shortlisted_totals if t is not None), default=None)
    members = list_members(session)
    member_names = {m.id: m.name for m in members}
    scores: dict[int, list[Score]] = defaultdict(list)
    if name_scorers:
        for score in session.scalars(select(Score).order_by(Score.proposal_id, Score.member_id, Score.criterion_id)):
            scores[score.proposal_id].append(score)
    criterion_codes = {c.id: c.code for c in plan.criteria}
    organisations = {m.id: name_key(m.organization) for m in members}

    entries_out = []
    for p in proposals:
        mine = entries[p.id]
        decision = _decision(p, mine, decided.get(p.id), cut_line, letters_of[p.id], responses[p.id], entities,
                             conflicts[p.id], names)  # fmt: skip
        named: tuple[site.NamedScore, ...] = ()
        conflicted: tuple[str, ...] = ()
        if name_scorers:
            left_out = {c.member_id for c in conflicts[p.id] if not c.late}
            own = name_key(p.organization)
            named = tuple(
                site.NamedScore(
                    _public(member_names[s.member_id]), criterion_codes[s.criterion_id], s.value,
                    s.member_id not in left_out and organisations[s.member_id] != own,
                )
                for s in scores[p.id]
            )  # fmt: skip
            conflicted = tuple(_public(member_names[c.member_id]) for c in conflicts[p.id])
        values = [OgpValue(v) for v in p.values]
        entries_out.append(
            site.ProposalEntry(
                ref=p.ref,
                title=_public(p.title),
                organization=_public(p.organization),
                submitted_on=p.submitted_on,
                state=p.state.value,
                values=tuple(site.Label(VALUE_NAMES_AR[v], VALUE_NAMES_EN[v]) for v in values),
                value_codes=tuple(v.value for v in values),
                bodies=tuple(_body(e) for e in p.entities),
                problem=_public(p.problem),
                solution=_public(p.solution),
                decision=decision,
                timeline=_timeline(p, mine, held[p.id], responses[p.id], letters_of[p.id], letter_seq, entities),
                scores=named,
                conflicted=conflicted,
            )
        )

    meetings = []
    for meeting in list_meetings(session):
        meetings.append(
            site.MeetingInfo(
                id=meeting.id,
                held_on=meeting.held_on,
                title=_public(meeting.title),
                place=_public(meeting.place),
                attendees=tuple(_public(x.member.name) for x in meeting.people if x.role == "attendee"),
                apologies=tuple(_public(x.member.name) for x in meeting.people if x.role == "apology"),
                topics=tuple(_public(t) for t in meeting.topics),
                outcomes=tuple(_public(t) for t in meeting.outcomes),
                minutes=_public_minutes(minutes(meeting, plan.title, plan.period, str(head))),
            )
        )
    publications = [
        site.PublicationInfo(p.published_on, p.head_seq, p.head_hash, p.manifest_sha256, tuple(p.languages))
        for p in earlier
    ]
    publications.append(site.PublicationInfo(published_on, head.seq, head.hash, "", languages, current=True))
    counts = Counter(p.state for p in proposals)
    return site.SiteData(
        published_on=published_on,
        languages=languages,
        head_seq=head.seq,
        head_hash=head.hash,
        plan=plan_info,
        counts=tuple((s.value, counts[s]) for s in State),
        milestones=_milestones(proposals, entries, held, register, responses, meetings, publications),
        proposals=tuple(entries_out),
        members=tuple(site.MemberInfo(_public(m.name), _public(m.organization), m.sector, m.active) for m in members),
        meetings=tuple(meetings),
        letters=tuple(register),
        publications=tuple(publications),
        name_scorers=name_scorers,
    )


def _public_minutes(data: MinutesData) -> MinutesData:
    return MinutesData(
        title=_public(data.title), held_on=data.held_on, place=_public(data.place),
        attendees=[_public(x) for x in data.attendees], apologies=[_public(x) for x in data.apologies],
        topics=[_public(x) for x in data.topics], outcomes=[_public(x) for x in data.outcomes],
        audit_head=data.audit_head,
    )  # fmt: skip


def _signed_days(letters: Sequence[Any]) -> dict[int, dt.date]:
    """Audit entry → the earliest day its letters bear, for dating the steps the published site
    shows (a round entered later with --dated: the letters are what was signed and sent). A void
    letter dates nothing; a letter reissued in its place dates the step the void one was written
    by (its chain of `replaces` followed back), not the voiding."""
    by_reference = {row.reference: row for row in letters}
    signed: dict[int, dt.date] = {}
    for row in letters:
        if row.void_reason:
            continue
        origin, seen = row, {row.reference}
        while origin.replaces in by_reference and origin.replaces not in seen:
            if not by_reference[origin.replaces].void_reason:
                break  # a moved interview's invitation replaces one that stood: its own step it dates
            origin = by_reference[origin.replaces]
            seen.add(origin.reference)
        if origin.audit_seq is not None:
            signed[origin.audit_seq] = min(signed.get(origin.audit_seq, row.issued_on), row.issued_on)
    return signed


def _decision(
    proposal: Proposal,
    entries: list[tuple[int, dt.date, str, str | None, str]],
    decided: DecidedStanding | None,
    cut_line: Fraction | None,
    letters: list[site.LetterInfo],
    responses: list[Response],
    entities: dict[int, Entity],
    conflicts: list[Conflict],
    names: dict[str, site.Label],
) -> site.Decision:
    state = proposal.state
    final = next((e for e in reversed(entries) if e[2] in DECIDING), None) if state in FINAL else None
    standing = None
    if decided is not None:
        standing = site.Standing(
            event=decided.event,
            rank=decided.rank,
            ranked=decided.ranked,
            total=_float(_fraction(decided.total)),
            total_exact=decided.total,
            criteria=tuple(
                site.CriterionMean(
                    code,
                    names.get(code, site.Label(code, code)),
                    int(c["weight"]),
                    _float(_fraction(c["mean"])),
                    int(c["scorers"]),
                )
                for code, c in decided.criteria.items()
            ),
            scorers=decided.scorers,
            eligible=decided.eligible,
            quorum=decided.quorum,
            complete=decided.complete,
        )
    latest: dict[int, Response] = {}
    for response in responses:
        latest[response.entity_id] = response
    referrals = []
    seen: set[str] = set()
    by_key = {(e.code or e.name): e for e in entities.values()}
    for letter in letters:
        if letter.kind != "referral" or letter.body is None or letter.body.key in seen:
            continue
        seen.add(letter.body.key)
        entity = by_key.get(letter.body.key)
        answer = latest.get(entity.id) if entity is not None else None
        referrals.append(
            site.Referral(
                body=letter.body, letter=letter.reference, letter_anchor=letter.anchor, sent_on=letter.issued_on,
                answer=("agreed" if answer.agreed else "declined") if answer else "",
                answered_on=answer.responded_on if answer else None, note=_public(answer.note) if answer else "",
            )
        )  # fmt: skip
    show_cut = standing is not None and standing.event != "shortlist"
    return site.Decision(
        outcome=OUTCOME_OF.get(state, "open"),
        state=state.value,
        event=final[2] if final else "",
        decided_on=final[1] if final else None,
        left_at=(final[3] or "") if final else "",
        reason=_public(final[4]) if final else "",
        seq=final[0] if final else None,
        standing=standing,
        cut_line=_float(cut_line) if show_cut else None,
        referrals=tuple(referrals),
        lead=_body(proposal.lead_entity) if proposal.lead_entity else None,
        conflicts=sum(1 for c in conflicts if not c.late),
        late_conflicts=sum(1 for c in conflicts if c.late),
    )


def _timeline(
    proposal: Proposal,
    entries: list[tuple[int, dt.date, str, str | None, str]],
    held: list[dt.date],
    responses: list[Response],
    letters: list[site.LetterInfo],
    letter_seq: dict[str, int],
    entities: dict[int, Entity],
) -> tuple[site.Step, ...]:
    steps: list[tuple[tuple[dt.date, int, int], site.Step]] = []
    scores = [e for e in entries if e[2] == "score"]
    for seq, day, event, _, reason in entries:
        if event in SHOWN_STEPS:
            detail = _public(reason) if event in DECIDING else ""
            steps.append(((day, seq, 0), site.Step(day, event, seq, detail)))
        elif event == "declare_conflict":
            steps.append(((day, seq, 0), site.Step(day, event, seq)))
    if scores:
        day = scores[-1][1]
        steps.append(((day, scores[-1][0], 0), site.Step(day, "scores", count=len(scores))))
    for day in held:
        steps.append(((day, 0, 0), site.Step(day, "record_interview")))
    for response in responses:
        body = _body(entities[response.entity_id])
        answer = "agreed" if response.agreed else "declined"
        steps.append(
            ((response.responded_on, 0, 1),
             site.Step(response.responded_on, "answer", body=body, answer=answer, detail=_public(response.note)))
        )  # fmt: skip
    for letter in letters:
        seq = letter_seq.get(letter.reference, 0)
        steps.append(
            ((letter.issued_on, seq, 1),
             site.Step(letter.issued_on, "letter", body=letter.body, letter=letter.reference,
                       letter_kind=letter.kind, letter_anchor=letter.anchor))
        )  # fmt: skip
    steps.sort(key=lambda item: item[0])
    return tuple(step for _, step in steps)


def _milestones(
    proposals: list[Proposal],
    entries: dict[int, list[tuple[int, dt.date, str, str | None, str]]],
    held: dict[int, list[dt.date]],
    register: list[site.LetterInfo],
    responses: dict[int, list[Response]],
    meetings: list[site.MeetingInfo],
    publications: list[site.PublicationInfo],
) -> tuple[site.Milestone, ...]:
    found: list[site.Milestone] = []

    def span(kind: str, days: list[dt.date], count: int | None = None) -> None:
        if days:
            found.append(site.Milestone(kind, min(days), max(days), len(days) if count is None else count))

    span("submissions", [p.submitted_on for p in proposals])
    span("interviews", [day for days in held.values() for day in days])
    by_event: dict[str, list[dt.date]] = defaultdict(list)
    for mine in entries.values():
        for _, day, event, _, _ in mine:
            if event in ("shortlist", "commit"):
                by_event[event].append(day)
    span("shortlist", by_event["shortlist"])
    span("referrals", [letter.issued_on for letter in register if letter.kind == "referral"])
    span("answers", [r.responded_on for rs in responses.values() for r in rs])
    span("commitments", by_event["commit"])
    for meeting in meetings:
        found.append(site.Milestone("meeting", meeting.held_on, meeting.held_on, 0, meeting.title))
    for publication in publications:
        found.append(site.Milestone("publication", publication.published_on, publication.published_on))
    order = ("submissions", "meeting", "interviews", "shortlist", "referrals", "answers", "commitments", "publication")
    found.sort(key=lambda m: (m.first, order.index(m.kind)))
    return tuple(found)
