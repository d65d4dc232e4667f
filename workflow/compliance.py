"""OGP's calendar obligations (the minimum requirements of the Participation and Co-Creation
Standards) checked from the record: met, not met or not yet due, with the dates that decide each;
and the co-creation timeline's publication, which requirement 3.1 is judged on.

The rules are pure functions of `CalendarFacts` (dates gathered from the record), so each can be
tested at its boundaries without a database. A deadline is met on its day: "every six months"
from 28 July allows a meeting on 28 January, and a reasoned response published the day the plan
is submitted was published before it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from states import Action, State
from workflow import audit, ledger
from workflow.dates import PLANNING_HORIZON, happened, within
from workflow.errors import InvalidInputError
from workflow.models import Commitment, Meeting, Proposal, Publication, TimelinePublication
from workflow.periods import add_months, first_day
from workflow.plans import current_plan
from workflow.progress import checked_url

# OGP's rhythm, in one place. 2.2 and 5.1 ask for two a year (publications, meetings).
FORUM_EVERY_MONTHS = 6  # 1.1: the multi-stakeholder forum meets at least every six months
TIMELINE_NOTICE_DAYS = 14  # 3.1: the timeline is out at least two weeks before co-creation begins
YEAR_MONTHS = 12


class Status(StrEnum):
    """How a requirement stands on a day."""

    MET = "met"
    NOT_MET = "not met"
    NOT_YET_DUE = "not yet due"


@dataclass(frozen=True)
class Finding:
    """One requirement as it stands: its status, what decides it, the day by which what it asks
    for is due (if known) and the command that records it."""

    requirement: str
    title: str
    status: Status
    detail: str
    due_on: dt.date | None
    resolve: str
    dates: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class CalendarFacts:
    """The dates the requirements are judged on, as the record holds them up to a day."""

    meetings: list[dt.date]
    publications: list[tuple[dt.date, bool]]  # (published on, carried the reasoned response)
    timelines: list[tuple[dt.date, dt.date]]  # (published on, co-creation to begin on)
    first_activity: dt.date | None  # the first proposal submitted or meeting held
    plan_submitted: dt.date | None
    first_commitment_month: str | None  # the earliest start month of a commitment

    @property
    def co_creation_began(self) -> dt.date | None:
        """When co-creation began: the day the timeline announced, or the record's first activity
        if that came earlier."""
        days = [self.timelines[0][1]] if self.timelines else []
        if self.first_activity is not None:
            days.append(self.first_activity)
        return min(days) if days else None

    @property
    def implementation_began(self) -> dt.date | None:
        """When implementation began: the plan's submission, else its first commitment's start."""
        if self.plan_submitted is not None:
            return self.plan_submitted
        return first_day(self.first_commitment_month) if self.first_commitment_month else None


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _listed(days: list[dt.date]) -> str:
    return ", ".join(d.isoformat() for d in days) or "none"


def _in_year(days: list[dt.date], day: dt.date) -> list[dt.date]:
    """The days that fall within the year ending on `day`: no later than it, and less than a year
    before it (a day counts until the eve of its anniversary)."""
    return [d for d in days if d <= day < add_months(d, YEAR_MONTHS)]


def forum_meets(facts: CalendarFacts, day: dt.date) -> Finding:
    """1.1: the working group met at least every six months since co-creation began."""
    title, resolve = "The working group meets at least every six months", "ogp meeting add --on DATE …"
    meetings = sorted(d for d in facts.meetings if d <= day)
    began = facts.co_creation_began
    dates: dict[str, object] = {"meetings": [m.isoformat() for m in meetings], "co_creation_began": _iso(began)}
    # Six months run from the start of co-creation to the first meeting, then meeting to meeting.
    chain = [(began, "co-creation began")] if began is not None and (not meetings or began < meetings[0]) else []
    chain += [(m, "meeting") for m in meetings]
    if not chain:
        return Finding("1.1", title, Status.NOT_YET_DUE, "co-creation has not begun", None, resolve, dates)
    for (earlier, what), (later, _) in pairwise(chain):
        due = add_months(earlier, FORUM_EVERY_MONTHS)
        if later > due:
            detail = f"no meeting from the {what} on {earlier} until {later}, more than six months (due by {due})"
            return Finding("1.1", title, Status.NOT_MET, detail, due, resolve, dates)
    last, what = chain[-1]
    due = add_months(last, FORUM_EVERY_MONTHS)
    if day > due:
        detail = f"no meeting since the {what} on {last}; one was due by {due}"
        return Finding("1.1", title, Status.NOT_MET, detail, due, resolve, dates)
    if not meetings:
        detail = f"co-creation began on {began}; the first meeting is due by {due}"
        return Finding("1.1", title, Status.NOT_YET_DUE, detail, due, resolve, dates)
    detail = f"met on {_listed(meetings)}; the next meeting is due by {due}"
    return Finding("1.1", title, Status.MET, detail, due, resolve, dates)


def _twice_a_year(
    number: str, title: str, resolve: str, days: list[dt.date], day: dt.date, began: dt.date | None, what: str
) -> Finding:
    """`days` (up to `day`) hold at least two in the year ending on `day`, once a year has passed
    since `began`; shared by 2.2 (publications) and 5.1 (implementation meetings)."""
    held = sorted(d for d in days if d <= day)
    recent = _in_year(held, day)
    since = add_months(day, -YEAR_MONTHS) + dt.timedelta(days=1)
    dates: dict[str, object] = {
        "began": _iso(began),
        "year_from": since.isoformat(),
        what: [d.isoformat() for d in recent],
    }
    named = what if len(recent) != 1 else what.removesuffix("s")  # "1 publication", "2 publications"
    counted = f"{len(recent)} {named} from {since} to {day} ({_listed(recent)})"
    if len(recent) >= 2:
        keep = _last_day_with_two(recent)
        return Finding(number, title, Status.MET, f"{counted}; the next is due by {keep}", keep, resolve, dates)
    if began is None:
        return Finding(number, title, Status.NOT_YET_DUE, f"{counted}; nothing is due yet", None, resolve, dates)
    first_year = add_months(began, YEAR_MONTHS)
    if day <= first_year:
        detail = f"{counted}; two are due by {first_year}, a year after {began}"
        return Finding(number, title, Status.NOT_YET_DUE, detail, first_year, resolve, dates)
    deadline = max(first_year, _last_day_with_two(held)) if len(held) >= 2 else first_year
    detail = f"{counted}; two a year were due (the second by {deadline})"
    return Finding(number, title, Status.NOT_MET, detail, deadline, resolve, dates)


def _last_day_with_two(days: list[dt.date]) -> dt.date:
    """The last day on which the year ending that day still holds the last two of `days`."""
    return add_months(days[-2], YEAR_MONTHS) - dt.timedelta(days=1)


def repository_published(facts: CalendarFacts, day: dt.date) -> Finding:
    """2.2: the repository was published at least twice in the year ending on `day` (once a year
    has passed since co-creation began)."""
    title = "The OGP repository is published at least twice a year"
    days = [d for d, _ in facts.publications]
    return _twice_a_year("2.2", title, "ogp publish", days, day, facts.co_creation_began, "publications")


def timeline_published(facts: CalendarFacts, day: dt.date) -> Finding:
    """3.1: the co-creation timeline in force was published at least two weeks before
    co-creation began (the day it announced, or the record's first activity if earlier)."""
    title = "The co-creation timeline is published at least two weeks before co-creation begins"
    resolve = "ogp plan timeline --published-on DATE --co-creation-starts DATE"
    timelines = sorted(t for t in facts.timelines if t[0] <= day)
    activity = facts.first_activity if facts.first_activity is not None and facts.first_activity <= day else None
    starts = [d for d in (timelines[-1][1] if timelines else None, activity) if d is not None]
    began = min(starts) if starts else None
    dates: dict[str, object] = {
        "published_on": _iso(timelines[-1][0]) if timelines else None,
        "co_creation_began": _iso(began),
    }
    if began is None:
        detail = "due two weeks before co-creation begins"
        return Finding("3.1", title, Status.NOT_YET_DUE, detail, None, resolve, dates)
    due = began - dt.timedelta(days=TIMELINE_NOTICE_DAYS)
    if not timelines:
        if day < began:
            detail = f"due by {due}, two weeks before co-creation begins on {began}"
            return Finding("3.1", title, Status.NOT_YET_DUE, detail, due, resolve, dates)
        detail = f"co-creation began on {began} (the first proposal or meeting) with no timeline published"
        return Finding("3.1", title, Status.NOT_MET, detail, due, resolve, dates)
    published = timelines[-1][0]
    detail = f"published on {published}, {(began - published).days} days before co-creation began on {began}"
    status = Status.MET if published <= due else Status.NOT_MET
    return Finding("3.1", title, status, f"{detail} (due by {due})", due, resolve, dates)


def reasoned_response(facts: CalendarFacts, day: dt.date) -> Finding:
    """4.1: a reasoned response to the proposals was published before (or on the day) the plan
    was submitted."""
    title = "A reasoned response is published before the plan is submitted"
    resolve = "ogp publish"
    responses = sorted(d for d, reasoned in facts.publications if reasoned and d <= day)
    submitted = facts.plan_submitted
    dates: dict[str, object] = {
        "reasoned_response_published": _iso(responses[0]) if responses else None,
        "plan_submitted": _iso(submitted),
    }
    if responses and (submitted is None or responses[0] <= submitted):
        when = f"the plan was submitted on {submitted}" if submitted else "the plan is submitted"
        detail = f"published on {responses[0]}, before {when}"
        return Finding("4.1", title, Status.MET, detail, submitted, resolve, dates)
    if submitted is None:
        detail = "due before the plan is submitted (record the day with 'ogp init --submitted-on DATE')"
        return Finding("4.1", title, Status.NOT_YET_DUE, detail, None, resolve, dates)
    if day < submitted:
        return Finding("4.1", title, Status.NOT_YET_DUE, f"due by {submitted}", submitted, resolve, dates)
    late = f"; published only on {responses[0]}" if responses else ""
    detail = f"the plan was submitted on {submitted} with no reasoned response published by then{late}"
    return Finding("4.1", title, Status.NOT_MET, detail, submitted, resolve, dates)


def implementation_meetings(facts: CalendarFacts, day: dt.date) -> Finding:
    """5.1: at least two working group meetings a year once implementation has begun (the plan's
    submission, else its first commitment's start month)."""
    title = "At least two meetings a year on implementation"
    began = facts.implementation_began
    if began is not None and day < began:
        first_year = add_months(began, YEAR_MONTHS)
        detail = f"implementation begins on {began}; two meetings are due by {first_year}"
        dates: dict[str, object] = {"began": began.isoformat()}
        return Finding("5.1", title, Status.NOT_YET_DUE, detail, first_year, "ogp meeting add --on DATE …", dates)
    held = [d for d in facts.meetings if began is not None and d >= began]
    return _twice_a_year("5.1", title, "ogp meeting add --on DATE …", held, day, began, "meetings")


RULES: tuple[Callable[[CalendarFacts, dt.date], Finding], ...] = (
    forum_meets,
    repository_published,
    timeline_published,
    reasoned_response,
    implementation_meetings,
)


def judge(facts: CalendarFacts, day: dt.date) -> list[Finding]:
    """Every requirement as it stands on `day`."""
    return [rule(facts, day) for rule in RULES]


def gather(session: Session) -> CalendarFacts:
    """The dates the requirements look at, from the record."""
    plan = current_plan(session)
    meetings = list(session.scalars(select(Meeting.held_on).order_by(Meeting.held_on)))
    publications = [
        (row.published_on, bool(row.reasoned_response))
        for row in session.execute(
            select(Publication.published_on, Publication.reasoned_response).order_by(Publication.published_on)
        )
    ]
    timelines = [
        (row.published_on, row.co_creation_starts)
        for row in session.execute(
            select(TimelinePublication.published_on, TimelinePublication.co_creation_starts).order_by(
                TimelinePublication.published_on, TimelinePublication.id
            )
        )
    ]
    first_proposal = session.scalar(select(func.min(Proposal.submitted_on)))
    first_activity = min((d for d in (first_proposal, meetings[0] if meetings else None) if d), default=None)
    committed = (
        select(func.min(Commitment.start_month))
        .join(Proposal, Proposal.id == Commitment.proposal_id)
        .where(Proposal.state == State.COMMITTED, Commitment.start_month != "")
    )
    return CalendarFacts(
        meetings, publications, timelines, first_activity, plan.submitted_on, session.scalar(committed)
    )


def compliance(session: Session, day: dt.date) -> list[Finding]:
    """`judge` on the record as it stands, on `day`."""
    return judge(gather(session), day)


def publish_timeline(
    session: Session,
    published_on: dt.date,
    co_creation_starts: dt.date,
    *,
    actor: str,
    url: str = "",
    now: dt.datetime | None = None,
) -> TimelinePublication:
    """Record that the co-creation timeline was published (a recorded step): when, and when it
    says co-creation begins.

    Raises `InvalidInputError` naming the option: `--url` not a web address; `--published-on`
    refused by `dates.happened` (in the future, or before the OGP's launch); `--co-creation-starts`
    outside `dates.within` the publication and `dates.PLANNING_HORIZON` after it."""
    record = f"timeline published on {published_on}"
    if url:
        url = checked_url(url, record, "--url")
    with ledger.recorded(session, Action.PUBLISH_TIMELINE, actor=actor, now=now) as step:
        problem = happened(published_on, step.now.astimezone().date(), what="the timeline's publication")
        if problem:
            raise InvalidInputError(record, "--published-on", problem)
        latest = published_on + PLANNING_HORIZON
        problem = within(
            co_creation_starts, published_on, latest, what="co-creation's start",
            earliest_is=f"the timeline was published ({published_on})",
            latest_is=f"{latest}, as far ahead as co-creation is planned",
        )  # fmt: skip
        if problem:
            raise InvalidInputError(record, "--co-creation-starts", problem)
        row = TimelinePublication(
            published_on=published_on, co_creation_starts=co_creation_starts, url=url, recorded_by=actor,
            recorded_at=audit.utc_stamp(step.now),
        )  # fmt: skip
        session.add(row)
        notice = (co_creation_starts - published_on).days
        step.reason = f"published on {published_on}, {notice} days before co-creation begins on {co_creation_starts}"
    return row
