"""A proposal's life, and after the commitment a milestone's, declared as data: states, events,
guards and the documents each move writes; and every other step that changes the record.

Nothing here imports the database, the workflow services or the document renderer; they read these
tables. Change the life of a proposal or a milestone here and the machines, the guards, the CLI's
help, the audit replay and the documentation tests follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    """Where a proposal stands. Past participles: what has happened to it."""

    SUBMITTED = "submitted"
    INTERVIEWED = "interviewed"
    SHORTLISTED = "shortlisted"
    REFERRED = "referred"
    COMMITTED = "committed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    DISCARDED = "discarded"  # registered by mistake (a duplicate): out, with no letter to anyone


class Event(StrEnum):
    """What a coordinator does to a proposal. Verbs."""

    INTERVIEW = "interview"
    SHORTLIST = "shortlist"
    REFER = "refer"
    COMMIT = "commit"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    DISCARD = "discard"


class Guard(StrEnum):
    """A rule that must hold before a transition may happen (checked in `workflow.guards`)."""

    HAS_INTERVIEW = "has_interview"
    HAS_QUORUM = "has_quorum"
    HAS_ENTITY = "has_entity"
    HAS_AGREEMENT = "has_agreement"
    HAS_REASON = "has_reason"
    WITHIN_SHORTLIST_SIZE = "within_shortlist_size"
    WITHIN_COMMITMENT_TARGET = "within_commitment_target"
    NOTHING_WRITTEN = "nothing_written"


class DocumentKind(StrEnum):
    """A kind of letter a transition writes, one per addressee; each is a template."""

    REFERRAL = "referral"  # asks each relevant body for a meeting on the idea
    COMMITMENT = "commitment"  # confirms to the lead body the commitment's place in the plan
    ACCEPTANCE = "acceptance"  # tells the proposing organisation its idea is a commitment
    REFERRAL_CLOSED = "referral_closed"  # closes a referral with each body written to
    REJECTION = "rejection"  # gives the proposing organisation the reason its idea was not adopted
    INVITATION = "invitation"  # invites the proposer to its interview (date, time, platform)
    CANCELLATION = "cancellation"  # tells the proposer an interview it was invited to is called off
    FOLLOWUP = "followup"  # «إلحاقاً بكتابنا رقم …»: chases a body that has not answered a referral


class Addressees(StrEnum):
    """Who receives a transition's letters."""

    RELEVANT_ENTITIES = "relevant_entities"  # every body the proposal names
    LEAD_ENTITY = "lead_entity"  # the body that leads the commitment
    PROPOSER = "proposer"  # the proposing organisation
    REFERRED_ENTITIES = "referred_entities"  # every body a referral letter went to (none if never referred)
    NAMED_ENTITY = "named_entity"  # the one body the coordinator names (a follow-up)


@dataclass(frozen=True)
class Document:
    """A letter a transition produces: its kind (and so its template) and who receives it."""

    kind: DocumentKind
    to: Addressees


@dataclass(frozen=True)
class Transition:
    """One edge of the proposal's life."""

    event: Event
    sources: tuple[State, ...]
    dest: State
    guards: tuple[Guard, ...] = ()
    documents: tuple[Document, ...] = ()
    help: str = ""


INITIAL = State.SUBMITTED
FINAL: frozenset[State] = frozenset({State.COMMITTED, State.REJECTED, State.WITHDRAWN, State.DISCARDED})
# Every state from which a proposal may still leave the pipeline.
OPEN: tuple[State, ...] = tuple(s for s in State if s not in FINAL)

# States that count against the plan's shortlist size: once shortlisted, a proposal keeps its
# place while it is referred and after it is committed.
SHORTLIST_PLACES: frozenset[State] = frozenset({State.SHORTLISTED, State.REFERRED, State.COMMITTED})

GUARD_RULES: dict[Guard, str] = {
    Guard.HAS_INTERVIEW: "an interview must be recorded first (ogp interview record)",
    Guard.HAS_QUORUM: "a quorum of eligible members must have scored it on every criterion",
    Guard.HAS_ENTITY: "at least one relevant government body is required",
    Guard.HAS_AGREEMENT: "a relevant body must have agreed to it (ogp response record … --agreed)",
    Guard.HAS_REASON: "a reason is required (--reason)",
    Guard.WITHIN_SHORTLIST_SIZE: "the plan's shortlist size may not be exceeded",
    Guard.WITHIN_COMMITMENT_TARGET: "the plan's commitment target may not be exceeded",
    Guard.NOTHING_WRITTEN: "only a proposal no letter and no score refer to can be discarded (else reject it)",
}

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        Event.INTERVIEW,
        (State.SUBMITTED,),
        State.INTERVIEWED,
        guards=(Guard.HAS_INTERVIEW,),
        help="the proposer was interviewed by the working group",
    ),
    Transition(
        Event.SHORTLIST,
        (State.INTERVIEWED,),
        State.SHORTLISTED,
        guards=(Guard.HAS_QUORUM, Guard.WITHIN_SHORTLIST_SIZE),
        help="selected for the plan's shortlist",
    ),
    Transition(
        Event.REFER,
        (State.SHORTLISTED,),
        State.REFERRED,
        guards=(Guard.HAS_ENTITY,),
        documents=(Document(DocumentKind.REFERRAL, Addressees.RELEVANT_ENTITIES),),
        help="official letters sent to each relevant government body",
    ),
    Transition(
        Event.COMMIT,
        (State.REFERRED,),
        State.COMMITTED,
        guards=(Guard.HAS_AGREEMENT, Guard.WITHIN_COMMITMENT_TARGET),
        documents=(
            Document(DocumentKind.COMMITMENT, Addressees.LEAD_ENTITY),
            Document(DocumentKind.ACCEPTANCE, Addressees.PROPOSER),
        ),
        help="the body agreed; the idea is one of the plan's commitments",
    ),
    Transition(
        Event.REJECT,
        OPEN,
        State.REJECTED,
        guards=(Guard.HAS_REASON,),
        documents=(
            Document(DocumentKind.REFERRAL_CLOSED, Addressees.REFERRED_ENTITIES),
            Document(DocumentKind.REJECTION, Addressees.PROPOSER),
        ),
        help="the working group decided not to take the idea further (reason required)",
    ),
    Transition(
        Event.WITHDRAW,
        OPEN,
        State.WITHDRAWN,
        guards=(Guard.HAS_REASON,),
        documents=(Document(DocumentKind.REFERRAL_CLOSED, Addressees.REFERRED_ENTITIES),),
        help="the proposer withdrew the idea (reason required)",
    ),
    Transition(
        Event.DISCARD,
        (State.SUBMITTED, State.INTERVIEWED),
        State.DISCARDED,
        guards=(Guard.HAS_REASON, Guard.NOTHING_WRITTEN),
        help="registered by mistake or twice; no letter to anyone (reason required)",
    ),
)

BY_EVENT: dict[Event, Transition] = {t.event: t for t in TRANSITIONS}

# The proposal states in which what a letter of each kind says still holds, so that a voided one
# may be reissued (`ogp letters void --reissue`): a reissue states the facts of the step that wrote
# the letter it replaces, and is refused where sending them again would mislead. A referral asks a
# body about a proposal still referred (or since committed on it); a follow-up chases a reply still
# awaited; an invitation is for an interview with a proposal not since turned down or withdrawn
# (and the interview itself must still stand: workflow/letters.py checks it); a cancellation, and
# the letters of a final decision, stay true.
REISSUE_STATES: dict[DocumentKind, tuple[State, ...]] = {
    DocumentKind.REFERRAL: (State.REFERRED, State.COMMITTED),
    DocumentKind.FOLLOWUP: (State.REFERRED,),
    DocumentKind.COMMITMENT: (State.COMMITTED,),
    DocumentKind.ACCEPTANCE: (State.COMMITTED,),
    DocumentKind.REFERRAL_CLOSED: (State.REJECTED, State.WITHDRAWN),
    DocumentKind.REJECTION: (State.REJECTED,),
    DocumentKind.INVITATION: (State.SUBMITTED, State.INTERVIEWED, State.SHORTLISTED, State.REFERRED, State.COMMITTED),
    DocumentKind.CANCELLATION: tuple(State),
}

# States in which the working group's evaluation of a proposal is still open: conflicts declared
# then count in its ranking and quorum; later ones are recorded as late and change nothing decided.
EVALUATION_STATES: tuple[State, ...] = (State.SUBMITTED, State.INTERVIEWED)


# --- after the commitment: a milestone's life -------------------------------------------------------


class MilestoneState(StrEnum):
    """Where one of a commitment's milestones stands."""

    PLANNED = "planned"
    STARTED = "started"
    DELAYED = "delayed"  # behind its end month: a reason and a new end month were recorded
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class MilestoneEvent(StrEnum):
    """What a coordinator records about a milestone. Verbs, none of them a proposal's event."""

    START = "start"
    DELAY = "delay"
    COMPLETE = "complete"
    CANCEL = "cancel"


class MilestoneGuard(StrEnum):
    """A rule that must hold before a milestone moves (checked in `workflow.guards`)."""

    HAS_REASON = "has_reason"
    LATER_END = "later_end"
    HAS_EVIDENCE = "has_evidence"


@dataclass(frozen=True)
class MilestoneTransition:
    """One edge of a milestone's life."""

    event: MilestoneEvent
    sources: tuple[MilestoneState, ...]
    dest: MilestoneState
    guards: tuple[MilestoneGuard, ...] = ()
    help: str = ""


MILESTONE_INITIAL = MilestoneState.PLANNED
MILESTONE_FINAL: frozenset[MilestoneState] = frozenset({MilestoneState.COMPLETED, MilestoneState.CANCELLED})
MILESTONE_OPEN: tuple[MilestoneState, ...] = tuple(s for s in MilestoneState if s not in MILESTONE_FINAL)

MILESTONE_GUARD_RULES: dict[MilestoneGuard, str] = {
    MilestoneGuard.HAS_REASON: "a reason is required (--reason)",
    MilestoneGuard.LATER_END: "a new end month after the current one is required (--new-end YYYY-MM)",
    MilestoneGuard.HAS_EVIDENCE: "a progress entry with evidence must be recorded first "
    "(ogp progress record … --evidence FILE|URL)",
}

MILESTONE_TRANSITIONS: tuple[MilestoneTransition, ...] = (
    MilestoneTransition(
        MilestoneEvent.START,
        (MilestoneState.PLANNED, MilestoneState.DELAYED),
        MilestoneState.STARTED,
        help="work on the milestone began (or resumed after a delay)",
    ),
    MilestoneTransition(
        MilestoneEvent.DELAY,
        MILESTONE_OPEN,
        MilestoneState.DELAYED,
        guards=(MilestoneGuard.HAS_REASON, MilestoneGuard.LATER_END),
        help="it will not be done by its end month (reason and new end month required)",
    ),
    MilestoneTransition(
        MilestoneEvent.COMPLETE,
        (MilestoneState.STARTED, MilestoneState.DELAYED),
        MilestoneState.COMPLETED,
        guards=(MilestoneGuard.HAS_EVIDENCE,),
        help="its output was delivered (a progress entry with evidence is required)",
    ),
    MilestoneTransition(
        MilestoneEvent.CANCEL,
        MILESTONE_OPEN,
        MilestoneState.CANCELLED,
        guards=(MilestoneGuard.HAS_REASON,),
        help="it will not be carried out (reason required)",
    ),
)

MILESTONE_BY_EVENT: dict[MilestoneEvent, MilestoneTransition] = {t.event: t for t in MILESTONE_TRANSITIONS}
# A milestone move's audit event name: the event with this prefix, so it never reads as a proposal's.
MILESTONE_STEP_PREFIX = "milestone_"


def milestone_step_name(event: MilestoneEvent) -> str:
    """The audit event name of a milestone move, e.g. `milestone_complete`."""
    return f"{MILESTONE_STEP_PREFIX}{event.value}"


def milestone_events_from(state: MilestoneState) -> tuple[MilestoneEvent, ...]:
    """The events a milestone in `state` may take, in table order."""
    return tuple(t.event for t in MILESTONE_TRANSITIONS if state in t.sources)


def milestone_transition_for(event: MilestoneEvent) -> MilestoneTransition:
    """The milestone table's row for `event`."""
    return MILESTONE_BY_EVENT[event]


class Completion(StrEnum):
    """A commitment's completion on the IRM's scale; it follows from its milestones (see
    `workflow.milestones.completion`): none begun, all delivered, or the mean of their progress."""

    NOT_STARTED = "not_started"
    LIMITED = "limited"
    SUBSTANTIAL = "substantial"
    COMPLETE = "complete"


# The IRM's line between limited and substantial completion: the mean progress of a commitment's
# milestones (delivered ones count 100, cancelled ones not at all).
SUBSTANTIAL_FROM_PERCENT = 50


class Action(StrEnum):
    """A recorded step that is not a move: its audit event name."""

    CONFIGURE_PLAN = "configure_plan"
    SET_WEIGHT = "set_weight"
    ADD_ENTITY = "add_entity"
    ADD_MEMBER = "add_member"
    ADD_MEETING = "add_meeting"
    SUBMIT = "submit"
    LINK = "link"
    SCHEDULE_INTERVIEW = "schedule_interview"
    RECORD_INTERVIEW = "record_interview"
    SCORE = "score"
    DECLARE_CONFLICT = "declare_conflict"
    RESPONSE = "response"
    EDIT_PROPOSAL = "edit_proposal"
    EDIT_ENTITY = "edit_entity"
    EDIT_MEMBER = "edit_member"
    DEACTIVATE_MEMBER = "deactivate_member"
    REACTIVATE_MEMBER = "reactivate_member"
    WITHDRAW_SCORE = "withdraw_score"
    CANCEL_INTERVIEW = "cancel_interview"
    VOID_LETTER = "void_letter"
    CHECKPOINT = "checkpoint"
    PUBLISH = "publish"
    FOLLOWUP = "followup"
    EDIT_COMMITMENT = "edit_commitment"
    ADD_MILESTONE = "add_milestone"
    RECORD_PROGRESS = "record_progress"
    PUBLISH_TIMELINE = "publish_timeline"


@dataclass(frozen=True)
class RecordedStep:
    """Anything that changes the record: one audit entry, in one transaction.

    `states` are the proposal states that allow it (None: the step is about no one proposal, or,
    for `submit`, creates it); `late_states` allow it after the decision, recorded as late;
    `documents` are the letters it writes; `move` is the transition when the step is a move;
    `does` completes "Cannot … proposal P-1" in a refusal. A step about one milestone names the
    milestone states that allow it (`milestone_states`), and `milestone_move` is the milestone's
    transition when the step moves it.
    """

    name: str
    states: tuple[State, ...] | None
    help: str
    does: str = ""
    documents: tuple[Document, ...] = ()
    late_states: tuple[State, ...] = ()
    move: Transition | None = None
    milestone_states: tuple[MilestoneState, ...] | None = None
    milestone_move: MilestoneTransition | None = None

    @property
    def allowed(self) -> tuple[State, ...]:
        """Every state the step may be taken from (on time or late)."""
        return (*(self.states or ()), *self.late_states)


_ACTIONS: tuple[RecordedStep, ...] = (
    RecordedStep(Action.CONFIGURE_PLAN, None, "the plan was created or its settings changed"),
    RecordedStep(Action.SET_WEIGHT, None, "a criterion's weight in the ranking was changed"),
    RecordedStep(Action.ADD_ENTITY, None, "a government body was registered"),
    RecordedStep(Action.ADD_MEMBER, None, "a member joined the working group"),
    RecordedStep(Action.ADD_MEETING, None, "a meeting of the working group was recorded"),
    RecordedStep(Action.SUBMIT, None, "a proposal was registered"),
    RecordedStep(
        Action.LINK,
        (State.SUBMITTED, State.INTERVIEWED, State.SHORTLISTED),
        "relevant government bodies were added to a proposal (before it is referred)",
        does="link bodies to",
    ),
    RecordedStep(
        Action.SCHEDULE_INTERVIEW,
        (State.SUBMITTED,),
        "an interview was planned and the proposer invited",
        does="schedule an interview for",
        documents=(Document(DocumentKind.INVITATION, Addressees.PROPOSER),),
    ),
    RecordedStep(
        Action.RECORD_INTERVIEW,
        (State.SUBMITTED, State.INTERVIEWED),
        "the interview with the proposer took place",
        does="record an interview for",
    ),
    # The seed: members score the ideas after hearing the proposers; scores are final once the
    # proposal leaves `interviewed` (shortlisted, or turned down).
    RecordedStep(Action.SCORE, (State.INTERVIEWED,), "a member gave or revised a score", does="score"),
    RecordedStep(
        Action.DECLARE_CONFLICT,
        EVALUATION_STATES,
        "a member declared a conflict of interest with a proposal",
        does="declare a conflict on",
        late_states=tuple(s for s in State if s not in EVALUATION_STATES),
    ),
    RecordedStep(
        Action.RESPONSE,
        (State.REFERRED,),
        "a government body answered the referral letter",
        does="record a response for",
    ),
    # Corrections: each with a reason, old and new values in its entry.
    RecordedStep(
        Action.EDIT_PROPOSAL, OPEN, "a proposal's text, contact, values or bodies were corrected", does="correct"
    ),
    RecordedStep(Action.EDIT_ENTITY, None, "a government body's name, code or addressee was corrected"),
    RecordedStep(Action.EDIT_MEMBER, None, "a member's name, organisation, sector or login was corrected"),
    RecordedStep(Action.DEACTIVATE_MEMBER, None, "a member left the working group (no longer counts for quorum)"),
    RecordedStep(Action.REACTIVATE_MEMBER, None, "a member rejoined the working group"),
    RecordedStep(
        Action.WITHDRAW_SCORE,
        (State.INTERVIEWED,),
        "a score given by mistake was withdrawn",
        does="withdraw a score of",
    ),
    # Also once the proposal was turned down or withdrawn before its interview: the proposer is
    # still told the interview they were invited to will not take place. (Not once discarded: an
    # invitation is a letter, and a proposal a letter refers to cannot be discarded.)
    RecordedStep(
        Action.CANCEL_INTERVIEW,
        (State.SUBMITTED, State.REJECTED, State.WITHDRAWN),
        "a scheduled interview was called off (the proposer told, if invited)",
        does="cancel the interview of",
        documents=(Document(DocumentKind.CANCELLATION, Addressees.PROPOSER),),
    ),
    # A letter voided keeps its number; a reissued one (same kind, same addressee) names it.
    RecordedStep(
        Action.VOID_LETTER, tuple(State), "a letter was voided (and perhaps reissued)", does="void a letter of"
    ),
    RecordedStep(Action.CHECKPOINT, None, "the record as it stood when the schema was upgraded"),
    RecordedStep(
        Action.PUBLISH,
        None,
        "the national OGP repository was published (ogp publish): its date, the chain head it showed, "
        "and the sha256 of its manifest",
    ),
    RecordedStep(
        Action.FOLLOWUP,
        (State.REFERRED,),
        "a follow-up letter went to a body that had not answered the referral",
        does="follow up the referral of",
        documents=(Document(DocumentKind.FOLLOWUP, Addressees.NAMED_ENTITY),),
    ),
    # After the commitment: two years of work, on committed proposals only.
    RecordedStep(
        Action.EDIT_COMMITMENT,
        (State.COMMITTED,),
        "the commitment's text in OGP's template was written or changed",
        does="edit the commitment of",
    ),
    RecordedStep(
        Action.ADD_MILESTONE, (State.COMMITTED,), "a milestone was added to a commitment", does="add a milestone to"
    ),
    RecordedStep(
        Action.RECORD_PROGRESS,
        (State.COMMITTED,),
        "progress on a milestone was reported, by the government or by civil society",
        does="record progress on",
        milestone_states=tuple(s for s in MilestoneState if s is not MilestoneState.CANCELLED),
    ),
    RecordedStep(Action.PUBLISH_TIMELINE, None, "the co-creation timeline was published"),
)

# Every recorded step by its audit event name: the moves of the table above, and the actions.
STEPS: dict[str, RecordedStep] = {
    **{
        t.event.value: RecordedStep(t.event.value, t.sources, t.help, documents=t.documents, move=t)
        for t in TRANSITIONS
    },
    **{step.name: step for step in _ACTIONS},
    **{
        milestone_step_name(t.event): RecordedStep(
            milestone_step_name(t.event),
            (State.COMMITTED,),
            t.help,
            does=f"{t.event.value} a milestone of",
            milestone_states=t.sources,
            milestone_move=t,
        )
        for t in MILESTONE_TRANSITIONS
    },
}


def step_for(name: str) -> RecordedStep:
    """The declaration of the recorded step whose audit event name is `name`."""
    return STEPS[name]


def events_from(state: State) -> tuple[Event, ...]:
    """The events a proposal in `state` may take, in table order."""
    return tuple(t.event for t in TRANSITIONS if state in t.sources)


def transition_for(event: Event) -> Transition:
    """The table row for `event`."""
    return BY_EVENT[event]
