"""Replies to referral letters: when each is due (the plan's reply time after the last letter sent),
which are overdue, and follow-up letters («إلحاقاً بكتابنا رقم … تاريخ …») to the bodies that have
not answered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from states import Action, DocumentKind, step_for
from workflow import ledger
from workflow.errors import InvalidInputError
from workflow.evaluation import latest_responses
from workflow.models import AuditEntry, Entity, Letter, Plan, Proposal, Response
from workflow.outbox import Outbox, PendingLetter, referral_context
from workflow.plans import EntityIndex, current_plan
from workflow.proposals import get_proposal
from workflow.templates import renderer, templates_folder


@dataclass(frozen=True)
class AwaitedReply:
    """A body written to about a referred proposal that has not answered: the referral, the
    follow-ups sent since, and the day its reply is due (the plan's reply time after the last)."""

    proposal: Proposal
    entity: Entity
    referral: Letter
    followups: tuple[Letter, ...]
    due_on: dt.date

    def overdue(self, day: dt.date) -> bool:
        """Whether the reply is late on `day` (it may still come on its due day)."""
        return day > self.due_on


def _letters(session: Session, proposal: Proposal, kind: DocumentKind, day: dt.date | None) -> list[Letter]:
    query = (
        select(Letter)
        .where(Letter.proposal_id == proposal.id, Letter.kind == kind.value, Letter.void_reason == "")
        .order_by(Letter.issued_on, Letter.year, Letter.number)  # the register's order, not the id's
    )
    if day is not None:
        query = query.where(Letter.issued_on <= day)
    return list(session.scalars(query))


def awaited_for(session: Session, plan: Plan, proposal: Proposal, day: dt.date | None = None) -> list[AwaitedReply]:
    """The bodies a referral of `proposal` went to (by `day`) that had not answered by then."""
    query = select(Response.entity_id).where(Response.proposal_id == proposal.id)
    if day is not None:  # a body that answered after `day` had not answered on it
        query = query.where(Response.responded_on <= day)
    answered = set(session.scalars(query))
    followups = _letters(session, proposal, DocumentKind.FOLLOWUP, day)
    found: dict[int, AwaitedReply] = {}
    for referral in _letters(session, proposal, DocumentKind.REFERRAL, day):
        entity = referral.entity
        if entity is None or entity.id in answered or entity.id in found:
            continue
        chased = tuple(f for f in followups if f.entity_id == entity.id)
        last = chased[-1].issued_on if chased else referral.issued_on
        found[entity.id] = AwaitedReply(proposal, entity, referral, chased, last + dt.timedelta(days=plan.reply_within))
    return list(found.values())


def awaited_replies(session: Session, day: dt.date | None = None) -> list[AwaitedReply]:
    """Every reply awaited from a body about a proposal still referred (the states a follow-up
    may be sent from), soonest due first."""
    plan = current_plan(session)
    waiting = list(step_for(Action.FOLLOWUP).states or ())
    referred = session.scalars(select(Proposal).where(Proposal.state.in_(waiting)).order_by(Proposal.id))
    found = [reply for proposal in referred for reply in awaited_for(session, plan, proposal, day)]
    return sorted(found, key=lambda r: (r.due_on, r.proposal.id, r.entity.id))


def awaited_reply(session: Session, plan: Plan, proposal: Proposal, entity: Entity) -> AwaitedReply:
    """The reply `entity` owes on the referral of `proposal` (as `awaited_for` finds it): what a
    follow-up chases, and cites. Raises `InvalidInputError` (`--entity`) for a body no referral
    letter went to, or one that has answered."""
    record = f"proposal {proposal.ref}"
    referrals = _letters(session, proposal, DocumentKind.REFERRAL, None)
    if not any(letter.entity_id == entity.id for letter in referrals):
        names = ", ".join(dict.fromkeys(e.code or e.name for e in (r.entity for r in referrals) if e)) or "none"
        raise InvalidInputError(record, "--entity", f"no referral letter went to {entity.name} (it went to: {names})")
    answer = latest_responses(session, proposal).get(entity.id)
    if answer is not None:
        said = "agreed" if answer.agreed else "declined"
        raise InvalidInputError(
            record, "--entity", f"{entity.name} answered on {answer.responded_on} ({said}); nothing to follow up"
        )
    return next(a for a in awaited_for(session, plan, proposal) if a.entity.id == entity.id)


@dataclass(frozen=True)
class FollowUp:
    """What a follow-up did: the reply it chases, its audit entry, its letter."""

    awaited: AwaitedReply
    entry: AuditEntry
    letters: list[PendingLetter]


def follow_up(
    session: Session,
    key: str | int,
    entity_key: str,
    *,
    actor: str,
    now: dt.datetime | None = None,
    dated: dt.date | None = None,
    templates_dir: Path | None = None,
    workspace_folder: Path | None = None,
) -> FollowUp:
    """Write a follow-up letter to a body that has not answered a referral of `key`, citing the
    referral's number and date (a recorded step, while the proposal is referred); `dated` is the
    day the letter bears, for one sent earlier (default today). Raises `InvalidInputError` for a
    body never written to or one that has answered, a date before the referral, or a day on which
    a follow-up to that body already stands (a repeat: one letter a day)."""
    proposal = get_proposal(session, key)
    entity = EntityIndex(session).get(entity_key)
    with ledger.recorded(session, Action.FOLLOWUP, actor=actor, now=now, proposal=proposal) as step:
        record = f"proposal {proposal.ref}"
        plan = current_plan(session)
        awaited = awaited_reply(session, plan, proposal, entity)
        referral = awaited.referral
        day = referral.issued_on
        extra = {"referral": referral_context(referral)}
        issued_on = dated or step.now.astimezone().date()
        if issued_on < day:  # said of the referral itself, before the outbox's rule for every letter
            raise InvalidInputError(record, "--dated", f"{issued_on} is before the referral it follows up ({day})")
        twin = next((f for f in awaited.followups if f.issued_on == issued_on), None)
        if twin is not None:  # a command run twice must not send the body the same letter twice
            raise InvalidInputError(
                record, "--dated",
                f"a follow-up to {entity.code or entity.name} already bears {issued_on} (letter {twin.reference}); "
                "one a day is enough (to correct it: 'ogp letters void NUMBER --reason TEXT --reissue')",
            )  # fmt: skip
        letters = renderer(templates_folder(plan, workspace_folder, templates_dir))
        outbox = Outbox(
            session, plan, proposal, letters, step.now, Action.FOLLOWUP, extra=extra, to=entity, dated=dated
        )
        outbox.render(step.spec.documents)
        outbox.attach(step)
        late = "overdue since" if outbox.issued_on > awaited.due_on else "due"
        step.reason = (
            f"follow-up to {entity.code or entity.name} on referral {referral.reference} of {day.isoformat()} "
            f"(reply {late} {awaited.due_on.isoformat()})"
        )
    assert step.entry is not None
    return FollowUp(awaited, step.entry, outbox.pending)
