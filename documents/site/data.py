"""What the published site shows, as plain data: the plan, every proposal with its decision and
reasons, the working group, the letters register and the update log. Built by `workflow.publish`
from the record; read by the site's templates, its open data and the reasoned response .docx."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from documents.minutes import MinutesData

# Where a proposal ended up, in the order the reasoned response groups them.
OUTCOMES = ("committed", "open", "not_adopted", "withdrawn", "discarded")


@dataclass(frozen=True)
class Label:
    """A name in both languages (English falls back to the Arabic where there is none)."""

    ar: str
    en: str

    def __getitem__(self, language: str) -> str:
        return self.ar if language == "ar" else (self.en or self.ar)


@dataclass(frozen=True)
class CriterionInfo:
    code: str
    name: Label
    weight: int
    scale_min: int
    scale_max: int


@dataclass(frozen=True)
class PlanInfo:
    title: Label
    period: str
    issuer: Label
    shortlist_size: int
    commitment_target: int
    quorum: int
    criteria: tuple[CriterionInfo, ...]
    # The letterhead of the reasoned response .docx, per language, as the letters print it.
    letterhead: dict[str, tuple[str, ...]] = field(default_factory=dict)
    logo: bytes | None = None


@dataclass(frozen=True)
class Body:
    """A government body: its name (Arabic, as registered) and its code."""

    name: str
    code: str

    @property
    def key(self) -> str:
        return self.code or self.name


@dataclass(frozen=True)
class Step:
    """One dated step of a proposal's life on its page; `seq` is its audit entry, where it has one."""

    on: dt.date
    kind: str  # an audit event (submit, interview, refer …), or letter, answer, scores
    seq: int | None = None
    detail: str = ""  # the recorded reason, an answer's note: text as it was typed
    body: Body | None = None
    count: int = 0  # scores: how many were given
    answer: str = ""  # answer: agreed or declined
    letter: str = ""  # letter: its reference number
    letter_kind: str = ""
    letter_anchor: str = ""  # letter: its row in the letters register


@dataclass(frozen=True)
class CriterionMean:
    code: str
    name: Label
    weight: int
    mean: float | None
    scorers: int


@dataclass(frozen=True)
class Standing:
    """The standing the working group decided a proposal on: means and counts, never a member's score."""

    event: str
    rank: int
    ranked: int
    total: float | None
    total_exact: str | None  # the exact fraction, as kept ("21/5")
    criteria: tuple[CriterionMean, ...]
    scorers: int
    eligible: int
    quorum: int
    complete: bool


@dataclass(frozen=True)
class Referral:
    """A body a referral letter went to, and its latest answer."""

    body: Body
    letter: str  # the referral letter's reference number
    letter_anchor: str
    sent_on: dt.date
    answer: str = ""  # agreed, declined, or "" while unanswered
    answered_on: dt.date | None = None
    note: str = ""


@dataclass(frozen=True)
class Decision:
    """Where a proposal stands and why: the reasoned response for one contribution."""

    outcome: str  # one of OUTCOMES
    state: str
    event: str = ""  # the move that decided it (commit, reject, withdraw, discard); "" while open
    decided_on: dt.date | None = None
    left_at: str = ""  # the state it was in when it left the pipeline
    reason: str = ""
    seq: int | None = None
    standing: Standing | None = None
    # The lowest weighted mean among shortlisted proposals; shown beside a proposal not shortlisted.
    cut_line: float | None = None
    referrals: tuple[Referral, ...] = ()
    lead: Body | None = None
    conflicts: int = 0  # members left out for a declared conflict of interest
    late_conflicts: int = 0  # declared after the decision, which stands as taken

    @property
    def below_cut_line(self) -> bool | None:
        total = self.standing.total if self.standing else None
        if total is None or self.cut_line is None:
            return None
        return total < self.cut_line


@dataclass(frozen=True)
class NamedScore:
    """Who scored what: published only with `ogp publish --name-scorers`."""

    member: str
    criterion: str
    value: int
    counted: bool


@dataclass(frozen=True)
class ProposalEntry:
    ref: str
    title: str
    organization: str
    submitted_on: dt.date
    state: str
    values: tuple[Label, ...]
    value_codes: tuple[str, ...]
    bodies: tuple[Body, ...]
    problem: str
    solution: str
    decision: Decision
    timeline: tuple[Step, ...] = ()
    scores: tuple[NamedScore, ...] = ()
    conflicted: tuple[str, ...] = ()  # names: only with --name-scorers


@dataclass(frozen=True)
class MemberInfo:
    name: str
    organization: str
    sector: str  # government, civil-society, private
    active: bool


@dataclass(frozen=True)
class MeetingInfo:
    id: int
    held_on: dt.date
    title: str
    place: str
    attendees: tuple[str, ...]
    apologies: tuple[str, ...]
    topics: tuple[str, ...]
    outcomes: tuple[str, ...]
    minutes: MinutesData

    @property
    def minutes_file(self) -> str:
        return f"meeting-{self.id}-{self.held_on.isoformat()}.docx"


@dataclass(frozen=True)
class LetterInfo:
    """A letter in the register: metadata only; a letter to a proposer names no one."""

    reference: str
    year: int
    number: int
    issued_on: dt.date
    kind: str
    body: Body | None  # None: the letter went to the proposer
    ref: str
    language: str
    void: bool = False
    replaces: str = ""

    @property
    def anchor(self) -> str:
        return f"L-{self.year}-{self.number:04d}"


@dataclass(frozen=True)
class Milestone:
    """A stage of the co-creation, with its dates: a meeting, the interview round, the shortlist …"""

    kind: str
    first: dt.date
    last: dt.date
    count: int = 0
    title: str = ""


@dataclass(frozen=True)
class PublicationInfo:
    """One publication in the update log; `manifest_sha256` is "" for the one being built."""

    published_on: dt.date
    head_seq: int
    head_hash: str
    manifest_sha256: str
    languages: tuple[str, ...]
    current: bool = False


@dataclass(frozen=True)
class SiteData:
    """Everything one publication shows."""

    published_on: dt.date
    languages: tuple[str, ...]
    head_seq: int
    head_hash: str
    plan: PlanInfo
    counts: tuple[tuple[str, int], ...]
    milestones: tuple[Milestone, ...]
    proposals: tuple[ProposalEntry, ...]
    members: tuple[MemberInfo, ...]
    meetings: tuple[MeetingInfo, ...]
    letters: tuple[LetterInfo, ...]
    publications: tuple[PublicationInfo, ...]
    name_scorers: bool = False

    @property
    def publication_seq(self) -> int:
        """The audit entry that records this publication: the one after the head it shows."""
        return self.head_seq + 1

    @property
    def head(self) -> str:
        return f"{self.head_seq}:{self.head_hash}"
