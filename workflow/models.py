"""The database models (SQLAlchemy 2 declarative). The schema itself is made by Alembic migrations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from states import MilestoneState, State
from workflow.errors import StoredValueError
from workflow.storedtypes import CriterionMeans, Flag, TextList, ValueCodes, ValueTexts

# Constraint names that read well in Alembic migrations and in database error messages.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _state_type() -> Enum:
    return Enum(
        State,
        name="state",
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda enum: [member.value for member in enum],
        validate_strings=True,
    )


def _milestone_state_type() -> Enum:
    return Enum(
        MilestoneState,
        name="milestone_state",
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda enum: [member.value for member in enum],
        validate_strings=True,
    )


class Plan(Base):
    """A National Action Plan and its settings."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    period: Mapped[str] = mapped_column(String(32), default="")
    shortlist_size: Mapped[int] = mapped_column(Integer, default=7)
    commitment_target: Mapped[int] = mapped_column(Integer, default=5)
    letter_prefix: Mapped[str] = mapped_column(String(64), default="")
    # The prefix of English letters' reference numbers ("": the same as Arabic letters').
    letter_prefix_en: Mapped[str] = mapped_column(String(64), default="")
    issuer: Mapped[str] = mapped_column(Text, default="")
    signatory_name: Mapped[str] = mapped_column(Text, default="")
    signatory_title: Mapped[str] = mapped_column(Text, default="")
    title_en: Mapped[str] = mapped_column(Text, default="")
    issuer_en: Mapped[str] = mapped_column(Text, default="")
    signatory_title_en: Mapped[str] = mapped_column(Text, default="")
    digits: Mapped[str] = mapped_column(String(16), default="western")
    # A folder of edited templates, relative to the workspace's folder; "" for the defaults.
    templates_dir: Mapped[str] = mapped_column(Text, default="")
    copy_to: Mapped[list[str]] = mapped_column(TextList("plans.copy_to"), default=list)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Eligible members who must score every criterion before a shortlist; None: a majority.
    quorum: Mapped[int | None] = mapped_column(Integer)
    # Days a body has to answer a referral (or a follow-up) before its reply is overdue.
    reply_within: Mapped[int] = mapped_column(Integer)  # default: workflow.plans.DEFAULT_REPLY_WITHIN
    # The day the plan was submitted to OGP (minimum requirement 4.1 is judged against it).
    submitted_on: Mapped[dt.date | None] = mapped_column(Date)

    criteria: Mapped[list[Criterion]] = relationship(back_populates="plan", order_by="Criterion.position")


class Criterion(Base):
    """One of the criteria proposals are evaluated on."""

    __tablename__ = "criteria"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    name_ar: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    scale_min: Mapped[int] = mapped_column(Integer, default=1)
    scale_max: Mapped[int] = mapped_column(Integer, default=5)

    plan: Mapped[Plan] = relationship(back_populates="criteria")


class Entity(Base):
    """A government body letters are addressed to."""

    __tablename__ = "entities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    addressee: Mapped[str] = mapped_column(Text)
    rank: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2), default="ar")


class ProposalEntity(Base):
    """A government body relevant to a proposal, in the order the proposer gave them."""

    __tablename__ = "proposal_entities"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)

    entity: Mapped[Entity] = relationship()


class Proposal(Base):
    """An organisation's proposed commitment and where it stands."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(Text)
    organization: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(Text, default="")
    problem: Mapped[str] = mapped_column(Text, default="")
    solution: Mapped[str] = mapped_column(Text, default="")
    values: Mapped[list[str]] = mapped_column(ValueCodes("proposals.values"), default=list)
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[State] = mapped_column(_state_type(), default=State.SUBMITTED)
    # Bumped by every UPDATE; a write based on a stale read matches no row and is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)
    language: Mapped[str] = mapped_column(String(2), default="ar")
    lead_entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it as declared

    plan: Mapped[Plan] = relationship()
    lead_entity: Mapped[Entity | None] = relationship()
    entity_links: Mapped[list[ProposalEntity]] = relationship(
        order_by="ProposalEntity.position", cascade="all, delete-orphan"
    )
    interviews: Mapped[list[Interview]] = relationship(back_populates="proposal", order_by="Interview.id")

    @property
    def entities(self) -> list[Entity]:
        """The bodies the proposal names, in the proposer's order; `StoredValueError` for a link
        to a body that is not there (only a change made with another tool leaves one)."""
        found = [link.entity for link in self.entity_links]
        for link, entity in zip(self.entity_links, found, strict=True):
            if entity is None:
                raise StoredValueError(f"proposal #{self.id} names body #{link.entity_id}, which is not there")
        return found


class Interview(Base):
    """An interview the working group held with the proposer."""

    __tablename__ = "interviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    platform: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[str] = mapped_column(String(32))
    # The seed's three questions: what most needs doing to form the commitment; which plans or
    # strategies it links to; how it helps solve the public problem.
    needs: Mapped[str] = mapped_column(Text, default="")
    plans: Mapped[str] = mapped_column(Text, default="")
    solves: Mapped[str] = mapped_column(Text, default="")

    proposal: Mapped[Proposal] = relationship(back_populates="interviews")
    members: Mapped[list[InterviewMember]] = relationship(cascade="all, delete-orphan")


class Letter(Base):
    """An official letter a transition wrote; its bytes are kept so it can always be re-exported."""

    __tablename__ = "letters"
    __table_args__ = (UniqueConstraint("year", "number"), Index("ix_letters_proposal_id_kind", "proposal_id", "kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    audit_seq: Mapped[int] = mapped_column(ForeignKey("audit_entries.seq"))
    kind: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(Text, unique=True)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(Text, unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    recipient: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(2), default="ar")
    # sha256 over the letter's parts except its custom properties (which name the audit entry that
    # wrote it): what the audit trail records, so a letter can carry its own entry's hash.
    digest: Mapped[str] = mapped_column(String(64))
    # A letter voided (never to be sent, or withdrawn) keeps its number, with the reason.
    void_reason: Mapped[str] = mapped_column(Text, default="")
    # The reference number of the letter this one replaces ("" if none).
    replaces: Mapped[str] = mapped_column(Text, default="")

    proposal: Mapped[Proposal] = relationship()
    entity: Mapped[Entity | None] = relationship()


class AuditEntry(Base):
    """One append-only, hash-chained record of a change to the record: who, when, what and why."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # ISO 8601 UTC text, exactly as hashed, so no database can round it differently.
    at: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(Text)
    # The proposal the step is about; None for steps about the plan, bodies, members, meetings.
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    proposal_ref: Mapped[str | None] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    letters: Mapped[list[str]] = mapped_column(TextList("audit_entries.letters"), default=list)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The authenticated database role (PostgreSQL's session_user); None on SQLite.
    db_role: Mapped[str | None] = mapped_column(Text)
    # The canonical JSON the hash covers: the step, its proposal, and every row it wrote (see
    # workflow/ledger.py). None only for entries written before schema 0005, hashed the old way.
    body: Mapped[str | None] = mapped_column(Text)


class Member(Base):
    """A member of the working group."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    organization: Mapped[str] = mapped_column(Text)
    sector: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Flag("members.active"), default=True)
    # The PostgreSQL login that acts as this member: row-level security lets it write only this
    # member's scores and conflict declarations.
    login: Mapped[str | None] = mapped_column(String(63), unique=True)


class Meeting(Base):
    """A meeting of the working group, with what its minutes record."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(Text, default="")
    topics: Mapped[list[str]] = mapped_column(TextList("meetings.topics"), default=list)
    outcomes: Mapped[list[str]] = mapped_column(TextList("meetings.outcomes"), default=list)

    people: Mapped[list[MeetingMember]] = relationship(order_by="MeetingMember.position", cascade="all, delete-orphan")


class MeetingMember(Base):
    """A member who attended a meeting, or sent apologies."""

    __tablename__ = "meeting_members"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # "attendee" or "apology"
    position: Mapped[int] = mapped_column(Integer)

    member: Mapped[Member] = relationship()


class InterviewMember(Base):
    """A member who took part in an interview."""

    __tablename__ = "interview_members"

    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)

    member: Mapped[Member] = relationship()


class ScheduledInterview(Base):
    """An interview planned with a proposer."""

    __tablename__ = "scheduled_interviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    platform: Mapped[str] = mapped_column(Text, default="")
    scheduled_by: Mapped[str] = mapped_column(Text)
    scheduled_at: Mapped[str] = mapped_column(String(32))
    # Why the interview was called off ("" while it stands).
    cancelled_reason: Mapped[str] = mapped_column(Text, default="")

    proposal: Mapped[Proposal] = relationship()


class Score(Base):
    """A member's current score of a proposal on one criterion."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("proposal_id", "member_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    value: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[str] = mapped_column(String(32))
    updated_by: Mapped[str] = mapped_column(Text)

    member: Mapped[Member] = relationship()
    criterion: Mapped[Criterion] = relationship()


class ScoreChange(Base):
    """Every score given or revised, kept for the record."""

    __tablename__ = "score_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    old_value: Mapped[int | None] = mapped_column(Integer)
    new_value: Mapped[int | None] = mapped_column(Integer)  # None: the score was withdrawn
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(Text)


class Conflict(Base):
    """A member's declared conflict of interest with a proposal."""

    __tablename__ = "conflicts"
    __table_args__ = (UniqueConstraint("member_id", "proposal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[str] = mapped_column(String(32))
    declared_by: Mapped[str] = mapped_column(Text)
    # Declared after the proposal left evaluation: shown, but the decision taken stands as taken.
    late: Mapped[bool] = mapped_column(Flag("conflicts.late"), default=False)

    member: Mapped[Member] = relationship()


class Response(Base):
    """A government body's answer to a referral letter."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    agreed: Mapped[bool] = mapped_column(Flag("responses.agreed"))
    responded_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[str] = mapped_column(String(32))

    entity: Mapped[Entity] = relationship()


class DecidedStanding(Base):
    """A proposal's standing as it was when the working group decided on it (shortlisted or turned
    down from `interviewed`): later conflicts, departures or weights do not re-judge it."""

    __tablename__ = "decided_standings"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), primary_key=True)
    event: Mapped[str] = mapped_column(String(32))
    rank: Mapped[int] = mapped_column(Integer)
    ranked: Mapped[int] = mapped_column(Integer)
    # Exact fractions as text ("21/5"), so no database rounds them; None where nobody scored.
    total: Mapped[str | None] = mapped_column(String(64))
    criteria: Mapped[dict[str, Any]] = mapped_column(CriterionMeans("decided_standings.criteria"))
    scorers: Mapped[int] = mapped_column(Integer)
    eligible: Mapped[int] = mapped_column(Integer)
    quorum: Mapped[int] = mapped_column(Integer)
    complete: Mapped[bool] = mapped_column(Flag("decided_standings.complete"))


class Publication(Base):
    """One publication of the national OGP repository (`ogp publish`): its date, the chain head it
    published and the sha256 of its manifest, so the update log is itself verifiable."""

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    published_on: Mapped[dt.date] = mapped_column(Date)
    head_seq: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    languages: Mapped[list[str]] = mapped_column(TextList("publications.languages"), default=list)
    # Whether the publication carried the reasoned response (OGP minimum requirement 4.1).
    reasoned_response: Mapped[bool] = mapped_column(Flag("publications.reasoned_response"), default=True)


# --- after the commitment ---------------------------------------------------------------------------


class Commitment(Base):
    """A committed proposal written up in OGP's commitment template. Until it is first edited, the
    proposal's problem and solution stand as its problem and description."""

    __tablename__ = "commitments"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), primary_key=True)
    ogp_id: Mapped[str] = mapped_column(String(32), default="")  # OGP's own number, e.g. JO0070
    problem: Mapped[str] = mapped_column(Text, default="")
    status_quo: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    how_it_solves: Mapped[str] = mapped_column(Text, default="")
    # OGP value code → how the commitment is relevant to it.
    relevance: Mapped[dict[str, Any]] = mapped_column(ValueTexts("commitments.relevance"), default=dict)
    start_month: Mapped[str] = mapped_column(String(7), default="")  # YYYY-MM
    end_month: Mapped[str] = mapped_column(String(7), default="")
    edited_by: Mapped[str] = mapped_column(Text)
    edited_at: Mapped[str] = mapped_column(String(32))

    partners: Mapped[list[CommitmentPartner]] = relationship(
        order_by="CommitmentPartner.position", cascade="all, delete-orphan"
    )


class CommitmentPartner(Base):
    """A supporting actor of a commitment: a government body, or an organisation (civil society,
    private sector) named as written."""

    __tablename__ = "commitment_partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("commitments.proposal_id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    organization: Mapped[str] = mapped_column(Text, default="")

    entity: Mapped[Entity | None] = relationship()


class Milestone(Base):
    """A dated step of a commitment with a verifiable output and a responsible body; its state is
    moved by the milestone machine (states.MILESTONE_TRANSITIONS)."""

    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    output: Mapped[str] = mapped_column(Text, default="")
    start_month: Mapped[str] = mapped_column(String(7))
    # The end month in force (a delay moves it); `planned_end_month` keeps the first one.
    end_month: Mapped[str] = mapped_column(String(7))
    planned_end_month: Mapped[str] = mapped_column(String(7))
    responsible_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    state: Mapped[MilestoneState] = mapped_column(_milestone_state_type(), default=MilestoneState.PLANNED)
    added_by: Mapped[str] = mapped_column(Text)
    added_at: Mapped[str] = mapped_column(String(32))

    proposal: Mapped[Proposal] = relationship()
    responsible: Mapped[Entity] = relationship()
    moves: Mapped[list[MilestoneMove]] = relationship(order_by="MilestoneMove.id", viewonly=True)
    progress: Mapped[list[Progress]] = relationship(order_by="Progress.id", viewonly=True)


class MilestoneMove(Base):
    """One move of a milestone: when it happened (as the coordinator dates it), why, and for a
    delay the new end month."""

    __tablename__ = "milestone_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id"), index=True)
    event: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    dated: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    new_end_month: Mapped[str] = mapped_column(String(7), default="")
    recorded_by: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[str] = mapped_column(String(32))


class Progress(Base):
    """Progress on a milestone as one side reports it: the government's, or civil society's kept
    beside it (never merged into it)."""

    __tablename__ = "progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id"), index=True)
    side: Mapped[str] = mapped_column(String(16))  # "government" or "civil-society"
    percent: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    reported_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[str] = mapped_column(String(32))

    evidence: Mapped[list[Evidence]] = relationship(order_by="Evidence.position", cascade="all, delete-orphan")


class Evidence(Base):
    """Evidence of progress: a web address, or a file whose bytes are kept; the chain records the
    file's sha256 (its bytes are written into the audit entry as their digest)."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    progress_id: Mapped[int] = mapped_column(ForeignKey("progress.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text, default="")
    file_name: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    content: Mapped[bytes | None] = mapped_column(LargeBinary)


class TimelinePublication(Base):
    """The co-creation timeline's publication (OGP minimum requirement 3.1): when it was published
    and when co-creation was to begin."""

    __tablename__ = "timeline_publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    published_on: Mapped[dt.date] = mapped_column(Date)
    co_creation_starts: Mapped[dt.date] = mapped_column(Date)
    url: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[str] = mapped_column(String(32))
# Proposals are looked up by ref in any case: an index on the lowered ref serves that lookup.
Index("ix_proposals_ref_lower", func.lower(Proposal.ref))
