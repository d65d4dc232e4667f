"""OGP's calendar: months and half-years, the minimum requirements at their boundaries (pure rules),
replies due after referrals and follow-up letters, and what `due` lists (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io

import docx
import pytest
from sqlalchemy import insert, select

from states import MilestoneEvent, State
from tests.conftest import SessionFactory
from tests.helpers import NOW, bring_to, register
from workflow import replay
from workflow.compliance import (
    CalendarFacts,
    Status,
    compliance,
    forum_meets,
    implementation_meetings,
    publish_timeline,
    reasoned_response,
    repository_published,
    timeline_published,
)
from workflow.due import OVERDUE, due
from workflow.errors import InvalidInputError, StepNotAllowedError
from workflow.evaluation import record_response
from workflow.followups import awaited_replies, follow_up
from workflow.milestones import add_milestone, advance_milestone
from workflow.models import Letter, Publication
from workflow.periods import HalfYear, add_months, parse_month
from workflow.plans import PlanSettings, configure_plan
from workflow.progress import EvidenceItem, record_progress

D = dt.date


def facts(
    meetings: tuple[D, ...] = (),
    publications: tuple[tuple[D, bool], ...] = (),
    timelines: tuple[tuple[D, D], ...] = (),
    first_activity: D | None = None,
    plan_submitted: D | None = None,
    first_commitment_month: str | None = None,
) -> CalendarFacts:
    return CalendarFacts(
        list(meetings), list(publications), list(timelines), first_activity, plan_submitted, first_commitment_month
    )


# --- months and half-years --------------------------------------------------------------------------


def test_months_and_half_years() -> None:
    assert add_months(D(2021, 8, 31), 6) == D(2022, 2, 28)  # a day the month lacks becomes its last
    assert add_months(D(2024, 2, 29), -12) == D(2023, 2, 28)
    assert add_months(D(2021, 7, 28), 6) == D(2022, 1, 28)
    assert parse_month(" 2022-05 ") == "2022-05"
    for bad in ("2022-5", "2022-13", "2022-00", "22-05", "0999-01", "2022/05"):
        with pytest.raises(ValueError, match="is not a month: use YYYY-MM"):
            parse_month(bad)
    half = HalfYear.parse("h1-2022")
    assert (str(half), half.start, half.end, str(half.previous())) == ("H1-2022", D(2022, 1, 1), D(2022, 6, 30), "H2-2021")
    assert HalfYear.of(D(2022, 6, 30)) == half and HalfYear.of(D(2022, 7, 1)) == HalfYear(2022, 2)
    for bad in ("H3-2022", "2022-H1", "H1-22", "H1 2022"):
        with pytest.raises(ValueError, match="is not a half-year: use H1-YYYY"):
            HalfYear.parse(bad)


# --- the requirements at their boundaries -----------------------------------------------------------


def test_1_1_the_forum_meets_every_six_months_counted_to_the_day() -> None:
    began = D(2021, 6, 1)
    met = facts(meetings=(D(2021, 7, 28),), first_activity=began)
    on_the_day = forum_meets(met, D(2022, 1, 28))
    assert (on_the_day.status, on_the_day.due_on) == (Status.MET, D(2022, 1, 28))
    late = forum_meets(met, D(2022, 1, 29))
    assert (late.status, late.detail) == (
        Status.NOT_MET, "no meeting since the meeting on 2021-07-28; one was due by 2022-01-28",
    )  # fmt: skip
    assert forum_meets(facts(meetings=(D(2021, 7, 28), D(2022, 1, 28)), first_activity=began), D(2022, 2, 1)).status is Status.MET
    gap = forum_meets(facts(meetings=(D(2021, 7, 28), D(2022, 1, 29)), first_activity=began), D(2022, 2, 1))
    assert (gap.status, gap.detail, gap.due_on) == (
        Status.NOT_MET,
        "no meeting from the meeting on 2021-07-28 until 2022-01-29, more than six months (due by 2022-01-28)",
        D(2022, 1, 28),
    )
    assert forum_meets(facts(meetings=(D(2021, 8, 31),), first_activity=began), D(2022, 2, 28)).status is Status.MET
    none_yet = facts(first_activity=began)
    assert (forum_meets(none_yet, D(2021, 12, 1)).status, forum_meets(none_yet, D(2021, 12, 1)).due_on) == (
        Status.NOT_YET_DUE, D(2021, 12, 1),
    )  # fmt: skip
    assert forum_meets(none_yet, D(2021, 12, 2)).detail == (
        "no meeting since the co-creation began on 2021-06-01; one was due by 2021-12-01"
    )
    assert forum_meets(facts(), D(2030, 1, 1)).status is Status.NOT_YET_DUE  # nothing has begun


def test_2_2_the_repository_is_published_twice_in_the_year_ending_on_the_day() -> None:
    began = D(2021, 6, 6)
    one = facts(publications=((D(2021, 8, 1), True),), first_activity=began)
    assert (repository_published(one, D(2022, 6, 6)).status, repository_published(one, D(2022, 6, 6)).due_on) == (
        Status.NOT_YET_DUE, D(2022, 6, 6),
    )  # fmt: skip
    lapsed = repository_published(one, D(2022, 6, 7))
    assert (lapsed.status, lapsed.due_on) == (Status.NOT_MET, D(2022, 6, 6))
    two = facts(publications=((D(2021, 8, 1), True), (D(2022, 2, 1), False)), first_activity=began)
    kept = repository_published(two, D(2022, 7, 31))
    assert (kept.status, kept.due_on) == (Status.MET, D(2022, 7, 31))
    assert kept.detail == (
        "2 publications from 2021-08-01 to 2022-07-31 (2021-08-01, 2022-02-01); the next is due by 2022-07-31"
    )
    dropped = repository_published(two, D(2022, 8, 1))  # the older one's anniversary: it no longer counts
    assert (dropped.status, dropped.due_on) == (Status.NOT_MET, D(2022, 7, 31))
    assert dropped.dates["publications"] == ["2022-02-01"]
    future = facts(publications=((D(2022, 3, 1), False), (D(2022, 9, 1), False)), first_activity=began)
    assert repository_published(future, D(2022, 8, 1)).dates["publications"] == ["2022-03-01"]  # later ones not yet


def test_3_1_the_timeline_is_out_two_weeks_before_co_creation_begins() -> None:
    on_time = timeline_published(facts(timelines=((D(2021, 5, 23), D(2021, 6, 6)),)), D(2021, 7, 1))
    assert (on_time.status, on_time.detail) == (
        Status.MET, "published on 2021-05-23, 14 days before co-creation began on 2021-06-06 (due by 2021-05-23)",
    )  # fmt: skip
    late = timeline_published(facts(timelines=((D(2021, 5, 24), D(2021, 6, 6)),)), D(2021, 7, 1))
    assert (late.status, late.due_on) == (Status.NOT_MET, D(2021, 5, 23))
    # Co-creation that began before the day the timeline announced began when it began.
    early = facts(timelines=((D(2021, 5, 20), D(2021, 6, 6)),), first_activity=D(2021, 5, 30))
    assert timeline_published(early, D(2021, 7, 1)).detail == (
        "published on 2021-05-20, 10 days before co-creation began on 2021-05-30 (due by 2021-05-16)"
    )
    missing = timeline_published(facts(first_activity=D(2021, 6, 20)), D(2021, 7, 1))
    assert (missing.status, missing.detail) == (
        Status.NOT_MET, "co-creation began on 2021-06-20 (the first proposal or meeting) with no timeline published",
    )  # fmt: skip
    assert timeline_published(facts(first_activity=D(2021, 6, 20)), D(2021, 6, 1)).status is Status.NOT_YET_DUE
    assert timeline_published(facts(), D(2021, 6, 1)).status is Status.NOT_YET_DUE


def test_4_1_the_reasoned_response_comes_out_before_the_plan_is_submitted() -> None:
    submitted = D(2021, 10, 31)
    same_day = reasoned_response(facts(publications=((submitted, True),), plan_submitted=submitted), D(2022, 1, 1))
    assert (same_day.status, same_day.detail) == (
        Status.MET, "published on 2021-10-31, before the plan was submitted on 2021-10-31",
    )  # fmt: skip
    day_after = facts(publications=((D(2021, 11, 1), True), (D(2021, 10, 1), False)), plan_submitted=submitted)
    late = reasoned_response(day_after, D(2022, 1, 1))
    assert (late.status, late.detail) == (
        Status.NOT_MET,
        "the plan was submitted on 2021-10-31 with no reasoned response published by then; published only on 2021-11-01",
    )
    assert reasoned_response(facts(plan_submitted=submitted), D(2021, 10, 30)).status is Status.NOT_YET_DUE
    assert reasoned_response(facts(plan_submitted=submitted), D(2021, 10, 31)).status is Status.NOT_MET
    unknown = reasoned_response(facts(), D(2022, 1, 1))
    assert (unknown.status, unknown.due_on) == (Status.NOT_YET_DUE, None)
    assert "ogp init --submitted-on DATE" in unknown.detail
    assert reasoned_response(facts(publications=((D(2021, 9, 1), True),)), D(2022, 1, 1)).status is Status.MET


def test_5_1_two_implementation_meetings_a_year_once_implementation_began() -> None:
    started = facts(meetings=(D(2021, 7, 28), D(2022, 1, 20), D(2022, 6, 15)), plan_submitted=D(2021, 10, 31))
    held = implementation_meetings(started, D(2022, 7, 10))
    assert (held.status, held.due_on) == (Status.MET, D(2023, 1, 19))
    one = facts(meetings=(D(2021, 7, 28), D(2022, 1, 20)), plan_submitted=D(2021, 10, 31))  # July's was before it
    assert (implementation_meetings(one, D(2022, 10, 31)).status, implementation_meetings(one, D(2022, 10, 31)).due_on) == (
        Status.NOT_YET_DUE, D(2022, 10, 31),
    )  # fmt: skip
    assert implementation_meetings(one, D(2022, 11, 1)).status is Status.NOT_MET
    by_month = facts(first_commitment_month="2021-11")
    assert implementation_meetings(by_month, D(2021, 10, 31)).detail == (
        "implementation begins on 2021-11-01; two meetings are due by 2022-11-01"
    )
    assert implementation_meetings(facts(), D(2022, 1, 1)).detail == "0 meetings from 2021-01-02 to 2022-01-01 (none); nothing is due yet"


# --- from the record --------------------------------------------------------------------------------


def test_compliance_reads_meetings_publications_and_the_timeline_from_the_record(
    session_scope: SessionFactory,
) -> None:
    from workflow.members import add_meeting

    with session_scope() as s:
        publish_timeline(s, D(2021, 5, 20), D(2021, 6, 6), url="https://example.org/t", actor="t", now=NOW)
        register(s, "P-1")  # submitted 2021-06-20
        add_meeting(s, D(2021, 7, 15), actor="t", now=NOW)
        configure_plan(s, PlanSettings(submitted_on=D(2021, 7, 27)), actor="t", now=NOW)
        # `ogp publish` writes publications; here one is set down as it would (outside this branch's steps).
        s.execute(insert(Publication.__table__).values(
            published_on=D(2021, 7, 26), head_seq=1, head_hash="0" * 64, manifest_sha256="0" * 64, languages=["ar"],
            reasoned_response=True,
        ))  # fmt: skip
    with session_scope() as s:
        found = {f.requirement: f for f in compliance(s, D(2021, 7, 28))}
    assert {k: f.status for k, f in found.items()} == {
        "1.1": Status.MET, "2.2": Status.NOT_YET_DUE, "3.1": Status.MET, "4.1": Status.MET, "5.1": Status.NOT_YET_DUE,
    }  # fmt: skip
    assert found["4.1"].detail == "published on 2021-07-26, before the plan was submitted on 2021-07-27"
    assert found["3.1"].dates == {"published_on": "2021-05-20", "co_creation_began": "2021-06-06"}
    with session_scope() as s, pytest.raises(InvalidInputError) as refused:
        publish_timeline(s, D(2021, 6, 1), D(2021, 5, 1), actor="t", now=NOW)
    assert str(refused.value) == (
        "timeline published on 2021-06-01: --co-creation-starts: 2021-05-01 is before the timeline was published "
        "(2021-06-01); co-creation's start cannot be earlier"
    )
    with session_scope() as s, pytest.raises(InvalidInputError, match="--url: 'ftp://x' is not an http"):
        publish_timeline(s, D(2021, 6, 1), D(2021, 6, 20), url="ftp://x", actor="t", now=NOW)


def test_a_reply_is_due_after_the_plan_s_reply_time_and_a_follow_up_cites_the_referral(
    session_scope: SessionFactory,
) -> None:
    with session_scope() as s:
        register(s, "P-1", entities=("MODEE", "ROS"))
        bring_to(s, "P-1", State.REFERRED)  # referral letters dated 2021-07-28
        record_response(s, "P-1", "MODEE", agreed=True, responded_on=None, note="", actor="t", now=NOW)
    with session_scope() as s:
        [awaited] = awaited_replies(s)
        assert (awaited.entity.code, awaited.due_on) == ("ROS", D(2021, 8, 27))
        on_time = [(i.kind, i.status, i.subject) for i in due(s, D(2021, 8, 27)) if i.kind == "reply"]
        assert on_time == [("reply", "due", "ROS")]
        late = [i for i in due(s, D(2021, 8, 28)) if i.kind == "reply"]
        assert [(i.status, i.due_on, i.ref) for i in late] == [(OVERDUE, D(2021, 8, 27), "P-1")]
        assert late[0].resolve.startswith("ogp response record P-1 --entity ROS")
        referral = awaited.referral.reference
    chased_on = dt.datetime(2021, 8, 30, 9, tzinfo=dt.UTC)
    with session_scope() as s:
        done = follow_up(s, "P-1", "ros", actor="aya", now=chased_on)
        assert done.entry.reason == (
            f"follow-up to ROS on referral {referral} of 2021-07-28 (reply overdue since 2021-08-27)"
        )
        [letter] = done.letters
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(letter.content)).paragraphs)
    assert f"إلحاقاً بكتابنا رقم {referral} تاريخ 28 تموز 2021م" in text
    assert "خلال 30 يوماً" in text and "عطوفة أمين سجل الجمعيات المحترم" in text
    with session_scope() as s:
        stored = s.scalars(select(Letter).where(Letter.kind == "followup")).one()
        assert (stored.entity.code, stored.issued_on, stored.reference) == ("ROS", D(2021, 8, 30), letter.reference)
        [item] = [i for i in due(s, D(2021, 9, 1)) if i.kind == "reply"]
        assert (item.status, item.due_on) == ("due", D(2021, 9, 29))  # the follow-up gave it the reply time again
        assert f"followed up 1 time(s), last {letter.reference} of 2021-08-30" in item.what
        replay.verify(s)
    # The same command again that day writes nothing: the body would get the same letter twice.
    with session_scope() as s, pytest.raises(InvalidInputError) as repeated:
        follow_up(s, "P-1", "ROS", actor="aya", now=chased_on + dt.timedelta(hours=3))
    assert str(repeated.value) == (
        f"proposal P-1: --dated: a follow-up to ROS already bears 2021-08-30 (letter {letter.reference}); one a "
        "day is enough (to correct it: 'ogp letters void NUMBER --reason TEXT --reissue')"
    )
    with session_scope() as s:
        assert len(s.scalars(select(Letter).where(Letter.kind == "followup")).all()) == 1
        second = follow_up(s, "P-1", "ROS", actor="aya", now=chased_on + dt.timedelta(days=31))
        assert second.letters[0].reference != letter.reference  # another day, another letter


def test_a_follow_up_is_refused_to_a_body_that_answered_or_was_never_written_to(
    session_scope: SessionFactory,
) -> None:
    with session_scope() as s:
        register(s, "P-1", entities=("MODEE",))
        bring_to(s, "P-1", State.REFERRED)
        record_response(s, "P-1", "MODEE", agreed=False, responded_on=D(2021, 7, 28), note="", actor="t", now=NOW)
    with session_scope() as s, pytest.raises(InvalidInputError) as refused:
        follow_up(s, "P-1", "MODEE", actor="t", now=NOW)
    assert str(refused.value) == (
        "proposal P-1: --entity: وزارة الاقتصاد الرقمي والريادة answered on 2021-07-28 (declined); nothing to follow up"
    )
    with session_scope() as s, pytest.raises(InvalidInputError) as refused:
        follow_up(s, "P-1", "MOH", actor="t", now=NOW)
    assert str(refused.value) == "proposal P-1: --entity: no referral letter went to وزارة الصحة (it went to: MODEE)"
    with session_scope() as s:
        register(s, "P-2")
    with session_scope() as s, pytest.raises(StepNotAllowedError) as not_referred:
        follow_up(s, "P-2", "MODEE", actor="t", now=NOW)
    assert str(not_referred.value) == (
        "Cannot follow up the referral of proposal P-2: it is 'submitted'; this is done only while it is referred."
    )


def test_the_reply_time_is_a_plan_setting(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        configure_plan(s, PlanSettings(reply_within=14), actor="t", now=NOW)
        register(s, "P-1")
        bring_to(s, "P-1", State.REFERRED)
    with session_scope() as s:
        assert [a.due_on for a in awaited_replies(s)] == [D(2021, 8, 11)]
    with session_scope() as s, pytest.raises(InvalidInputError, match="reply-within: must be between 1 and 365 days, not 0"):
        configure_plan(s, PlanSettings(reply_within=0), actor="t", now=NOW)


def test_due_lists_late_milestones_and_progress_missing_for_the_half_year(session_scope: SessionFactory) -> None:
    later = dt.datetime(2022, 7, 1, 9, tzinfo=dt.UTC)
    with session_scope() as s:
        register(s, "P-1")
        bring_to(s, "P-1", State.COMMITTED)
        mid = add_milestone(s, "P-1", title="نشر", output="", start="2021-11", end="2022-04", responsible="MODEE",
                            actor="t", now=dt.datetime(2021, 10, 1, tzinfo=dt.UTC)).id  # fmt: skip
        advance_milestone(s, mid, MilestoneEvent.START, actor="t", dated=D(2021, 11, 1), now=later)
        record_progress(s, mid, percent=20, note="بدأ", side="government", reported_on=D(2021, 12, 31), actor="t",
                        now=later)  # fmt: skip
    with session_scope() as s:
        assert [i for i in due(s, D(2022, 4, 30)) if i.kind == "milestone"] == []
        [late] = [i for i in due(s, D(2022, 5, 1)) if i.kind == "milestone"]
        assert (late.status, late.due_on, late.subject) == (OVERDUE, D(2022, 4, 30), f"M{mid}")
        assert late.what == f"M{mid} «نشر» (MODEE) was to end in 2022-04; it is started"
        progress = [(i.status, i.subject, i.what) for i in due(s, D(2022, 1, 1)) if i.kind == "progress"]
        assert progress == [
            (OVERDUE, "H2-2021", f"no civil-society progress on M{mid}"),
            ("due", "H1-2022", f"no government progress on M{mid}; no civil-society progress on M{mid}"),
        ]
        # Before it was added, the milestone was not due anything.
        assert [i for i in due(s, D(2021, 9, 30)) if i.kind in ("milestone", "progress")] == []
    with session_scope() as s:
        record_progress(s, mid, percent=10, note="تقييم", side="civil-society", reported_on=D(2021, 12, 31),
                        actor="t", now=later, evidence=[EvidenceItem(url="https://example.org/cs")])  # fmt: skip
        advance_milestone(s, mid, MilestoneEvent.COMPLETE, actor="t", dated=D(2022, 6, 1), now=later)
    with session_scope() as s:
        # Delivered in June: nothing is late, but the half-year it was delivered in still wants its report.
        [report] = [i for i in due(s, D(2022, 7, 1)) if i.kind in ("milestone", "progress")]
        assert (report.status, report.subject, report.due_on) == (OVERDUE, "H1-2022", D(2022, 6, 30))
        assert [i for i in due(s, D(2023, 1, 1)) if i.kind in ("milestone", "progress")] == []


def test_a_milestone_cancelled_during_a_half_year_is_not_asked_for_progress_nothing_could_record(
    session_scope: SessionFactory,
) -> None:
    later = dt.datetime(2022, 7, 1, 9, tzinfo=dt.UTC)
    with session_scope() as s:
        register(s, "P-1")
        bring_to(s, "P-1", State.COMMITTED)
        mid = add_milestone(s, "P-1", title="منصة", output="", start="2022-01", end="2022-12", responsible="MODEE",
                            actor="t", now=dt.datetime(2021, 10, 1, tzinfo=dt.UTC)).id  # fmt: skip
    with session_scope() as s:
        [wanted] = [i for i in due(s, D(2022, 5, 1)) if i.kind == "progress"]
        assert (wanted.status, wanted.subject) == ("due", "H1-2022")
        advance_milestone(s, mid, MilestoneEvent.CANCEL, actor="t", reason="دُمجت في مرحلة أخرى", dated=D(2022, 5, 10),
                          now=later)  # fmt: skip
    with session_scope() as s:
        assert [i for i in due(s, D(2022, 5, 9)) if i.kind == "progress"] != []  # it stood open then
        assert [i for i in due(s, D(2022, 5, 10)) if i.kind == "progress"] == []
        assert [i for i in due(s, D(2022, 7, 1)) if i.kind in ("milestone", "progress")] == []
