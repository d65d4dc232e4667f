"""The working group: its members, and its meetings with what their minutes record."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents.minutes import MinutesData
from states import Action
from workflow import fields, ledger
from workflow.dates import OGP_LAUNCH, PLANNING_HORIZON, supported, within
from workflow.errors import DuplicateError, InvalidInputError, NotFoundError
from workflow.keys import parse_key
from workflow.models import Meeting, MeetingMember, Member
from workflow.names import name_key

SECTORS = ("government", "civil-society", "private")
# PostgreSQL role names as `ogp db roles` and `CREATE ROLE` take them unquoted.
LOGIN_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def add_member(
    session: Session,
    name: str,
    organization: str,
    sector: str = "civil-society",
    *,
    actor: str,
    login: str | None = None,
    now: dt.datetime | None = None,
) -> Member:
    """Add a member to the working group (a recorded step); `login` binds a PostgreSQL login to
    the member (see workflow/roles.py). Names compare by `names.name_key`, so the same name typed
    with other letter forms or invisible marks is the same member. Raises `InvalidInputError` or
    `DuplicateError`."""
    name = fields.line(name, "member", "name")
    if not name:
        raise InvalidInputError("member", "name", "must not be empty")
    record = f"member {name!r}"
    organization = fields.line(organization, record, "--org")
    if not organization:
        raise InvalidInputError(record, "--org", "must not be empty")
    if sector not in SECTORS:
        raise InvalidInputError(record, "--sector", f"{sector!r} is not one of {', '.join(SECTORS)}")
    if login is not None and not LOGIN_PATTERN.match(login):
        raise InvalidInputError(
            record, "--login", f"{login!r} is not a database login name (lower-case letters, digits and _, 1–63)"
        )
    with ledger.recorded(session, Action.ADD_MEMBER, actor=actor, now=now, reason=name):
        key = name_key(name)
        for existing in session.scalars(select(Member)):
            if name_key(existing.name) == key:
                raise DuplicateError("member", "name", existing.name)
            if login is not None and existing.login == login:
                raise DuplicateError("member", "login", login)
        member = Member(name=name, organization=organization, sector=sector, active=True, login=login)
        session.add(member)
    return member


def list_members(session: Session, *, active_only: bool = False) -> list[Member]:
    """The working group's members, in the order they were added."""
    query = select(Member).order_by(Member.id)
    if active_only:
        query = query.where(Member.active.is_(True))
    return list(session.scalars(query))


class MemberIndex:
    """Finds members by name as people type it (`names.name_key`), or by number: `#3` is
    always member number 3, a bare `3` a member named 3 if there is one (`workflow.keys`)."""

    def __init__(self, session: Session) -> None:
        self._members = list_members(session)
        self._by_key = {name_key(m.name): m for m in self._members}
        self._by_id = {m.id: m for m in self._members}

    def find(self, key: str) -> Member | None:
        try:
            parsed = parse_key(key)
        except ValueError:
            return None
        by_name = None if parsed.number_only else self._by_key.get(name_key(key))
        return by_name or (self._by_id.get(parsed.number) if parsed.number is not None else None)

    def get(self, key: str) -> Member:
        found = self.find(key)
        if found is None:
            raise NotFoundError("member", repr(key))
        return found


def add_meeting(
    session: Session,
    held_on: dt.date,
    *,
    actor: str,
    now: dt.datetime | None = None,
    title: str = "",
    place: str = "",
    attendees: Sequence[str] = (),
    apologies: Sequence[str] = (),
    topics: Sequence[str] = (),
    outcomes: Sequence[str] = (),
    today: dt.date | None = None,
) -> Meeting:
    """Record a meeting of the working group (a recorded step). Raises `NotFoundError` for an
    unknown member, `InvalidInputError` for one listed twice."""
    index = MemberIndex(session)
    people: list[MeetingMember] = []
    seen: dict[int, str] = {}
    for role, names in (("attendee", attendees), ("apology", apologies)):
        for name in names:
            member = index.get(name)
            if member.id in seen:
                raise InvalidInputError(
                    f"meeting of {held_on}",
                    f"--{role}",
                    f"{member.name} is listed twice (already as {seen[member.id]})",
                )
            seen[member.id] = role
            people.append(MeetingMember(member=member, role=role, position=len(people)))
    record = f"meeting of {held_on}"
    problem = meeting_date_problem(held_on, today or dt.date.today())
    if problem:
        raise InvalidInputError(record, "--on", problem)
    meeting = Meeting(
        held_on=held_on,
        title=fields.line(title, record, "--title"),
        place=fields.line(place, record, "--place"),
        topics=[t for t in (fields.line(x, record, "--topic", limit=fields.REASON) for x in topics) if t],
        outcomes=[t for t in (fields.line(x, record, "--outcome", limit=fields.REASON) for x in outcomes) if t],
        people=people,
    )
    with ledger.recorded(session, Action.ADD_MEETING, actor=actor, now=now, reason=f"meeting of {held_on}"):
        session.add(meeting)
    return meeting


def list_meetings(session: Session) -> list[Meeting]:
    """Every meeting, oldest first."""
    return list(session.scalars(select(Meeting).order_by(Meeting.held_on, Meeting.id)))


def meeting_date_problem(held_on: dt.date, today: dt.date) -> str:
    """Why a meeting cannot be on `held_on`, or "": a meeting of an OGP plan's working group is
    not older than the OGP, nor planned further ahead than `dates.PLANNING_HORIZON`."""
    return within(
        held_on, OGP_LAUNCH, today + PLANNING_HORIZON, what="a meeting",
        earliest_is=f"the OGP was launched ({OGP_LAUNCH})",
        latest_is=f"{(today + PLANNING_HORIZON).isoformat()}, as far ahead as meetings are planned",
    )  # fmt: skip


def get_meeting(session: Session, key: str | int) -> Meeting:
    """A meeting by its number (`3` or `#3`); NotFoundError if there is none."""
    try:
        number = parse_key(str(key)).number
    except ValueError:
        number = None
    meeting = session.get(Meeting, number) if number is not None else None
    if meeting is None:
        raise NotFoundError("meeting", repr(str(key)))
    return meeting


def for_the(noun: str) -> str:
    """«ل» joined to a noun as Arabic writes it: «للخطة» for «الخطة», «لخطة» for «خطة»."""
    noun = noun.strip()
    return f"لل{noun[2:]}" if noun.startswith("ال") else f"ل{noun}"


def minutes(meeting: Meeting, plan_title: str, plan_period: str, audit_head: str = "") -> MinutesData:
    """The meeting as the plain data its minutes are written from; `audit_head` ("SEQ:HASH") is
    printed in them, so publishing the minutes publishes the chain's head."""

    def who(role: str) -> list[str]:
        return [f"{p.member.name} – {p.member.organization}" for p in meeting.people if p.role == role]

    try:
        supported(meeting.held_on)
    except ValueError as exc:  # a meeting stored before dates were checked at entry
        raise InvalidInputError(f"meeting {meeting.id}", "held_on", str(exc)) from exc
    title = meeting.title or f"اجتماع مجموعة العمل الوطنية {for_the(plan_title)} {plan_period}".strip()
    return MinutesData(
        title=title,
        held_on=meeting.held_on,
        place=meeting.place,
        attendees=who("attendee"),
        apologies=who("apology"),
        topics=list(meeting.topics),
        outcomes=list(meeting.outcomes),
        audit_head=audit_head,
    )
