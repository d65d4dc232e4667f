"""The working group's judgement: scores, conflicts, quorum, ranking, shortlist, responses, minutes,
interview answers and schedule."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from sqlalchemy import func, select

from documents.minutes import render_minutes
from states import Event, State
from tests.conftest import SessionFactory
from tests.helpers import NOW, agree, bring_to, move, register
from workflow import audit, importer, replay
from workflow.errors import (
    GuardError,
    ImportFileError,
    InvalidInputError,
    NotFoundError,
    StepNotAllowedError,
    WorkflowError,
)
from workflow.evaluation import (
    ScoreInput,
    declare_conflict,
    ranking,
    record_response,
    record_score,
    score_history,
    set_weight,
    standing,
)
from workflow.importer import import_scores
from workflow.interviews import record_interview, schedule_interview
from workflow.members import add_meeting, add_member, get_meeting, minutes
from workflow.models import Letter, Score
from workflow.plans import PlanSettings, configure_plan
from workflow.proposals import get_proposal
from workflow.shortlist import shortlist_top

CRITERIA = ("importance", "global_trend", "ogp_values", "national_priorities", "government_mandate")


def group(session, names=("أ", "ب", "ج")) -> None:  # type: ignore[no-untyped-def]
    for name in names:
        add_member(session, name, f"جهة {name}", "government", actor="tester")


def interviewed(session, ref: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
    register(session, ref, **kwargs)
    bring_to(session, ref, State.INTERVIEWED)


def scores(session, ref: str, by: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    for member, value in by.items():
        for code in CRITERIA:
            record_score(session, ScoreInput(ref, member, code, value), actor="t", now=NOW)


def test_a_member_of_the_proposing_organisation_is_refused_and_left_out(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        group(s)
        add_member(
            s, "هيلدا", "مركز الشفافيه الاردني", "civil-society", actor="tester"
        )  # typed without hamza or ta marbuta
        interviewed(s, "P-1")
    with session_scope() as s, pytest.raises(WorkflowError) as refused:
        record_score(s, ScoreInput("P-1", "هيلدا", "importance", 5), actor="t", now=NOW)
    assert str(refused.value) == (
        "هيلدا cannot score P-1: belongs to the proposing organisation (مركز الشفافية الأردني); the score was refused."
    )
    with session_scope() as s:
        assert s.scalar(select(func.count(Score.id))) == 0
        place = standing(s, get_proposal(s, "P-1"))
        assert (place.eligible, place.quorum) == (3, 3)  # four members: a majority is three


def test_a_declared_conflict_removes_earlier_scores_from_averages_and_quorum(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        group(s)
        interviewed(s, "P-1")
        scores(s, "P-1", {"أ": 5, "ب": 3, "ج": 1})
        assert standing(s, get_proposal(s, "P-1")).total == 3
    with session_scope() as s:
        declare_conflict(s, "ج", "P-1", reason="عضو في الجهة", actor="t", now=NOW)
    with session_scope() as s:
        place = standing(s, get_proposal(s, "P-1"))
        # Only أ's 5 and ب's 3 count now; three members still make a quorum of two.
        assert (place.total, place.scorers, place.eligible, place.quorum, place.complete) == (4, 2, 2, 2, True)
    with (
        session_scope() as s,
        pytest.raises(WorkflowError, match=r"ج cannot score P-1: declared a conflict of interest \(عضو في الجهة\)"),
    ):
        record_score(s, ScoreInput("P-1", "ج", "importance", 5), actor="t", now=NOW)
    with session_scope() as s, pytest.raises(WorkflowError, match="has already declared a conflict"):
        declare_conflict(s, "ج", "P-1", reason="", actor="t", now=NOW)


def test_scores_are_revised_until_the_shortlist_and_every_change_is_kept(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        group(s, ("أ",))
        interviewed(s, "P-1")
        record_score(s, ScoreInput("P-1", "أ", "importance", 2), actor="t", now=NOW)
        record_score(s, ScoreInput("P-1", "أ", "importance", 4, "بعد المقابلة"), actor="u", now=NOW)
        history = score_history(s, get_proposal(s, "P-1"))
        assert [(h.old_value, h.new_value, h.actor, h.note) for h in history] == [
            (None, 2, "t", ""),
            (2, 4, "u", "بعد المقابلة"),
        ]
        scores(s, "P-1", {"أ": 4})
        move(s, "P-1", Event.SHORTLIST)
    with (
        session_scope() as s,
        pytest.raises(
            WorkflowError,
            match=r"^Cannot score proposal P-1: it is 'shortlisted'; this is done only while it is interviewed\.$",
        ),
    ):
        record_score(s, ScoreInput("P-1", "أ", "importance", 1), actor="t", now=NOW)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (ScoreInput("P-1", "أ", "importance", 6), "score of proposal P-1: value: 6 is outside importance's scale 1–5"),
        (ScoreInput("P-1", "أ", "importance", "x"), "score of proposal P-1: value: 'x' is not a whole number"),
        (ScoreInput("P-1", "أ", "importance", "0_4"), "score of proposal P-1: value: '0_4' is not a whole number"),
        (ScoreInput("P-1", "ز", "importance", 3), "score of proposal P-1: --member: no member 'ز'."),
        (
            ScoreInput("P-1", "أ", "beauty", 3),
            "score of proposal P-1: --criterion: no criterion 'beauty' (known: importance, global_trend, ogp_values, national_priorities, government_mandate).",
        ),
        (ScoreInput("P-9", "أ", "importance", 3), "score of proposal P-9: --proposal: no proposal 'P-9'."),
    ],
)
def test_bad_scores_name_the_field(session_scope: SessionFactory, raw: ScoreInput, message: str) -> None:
    with session_scope() as s:
        group(s, ("أ",))
        interviewed(s, "P-1")
    with session_scope() as s, pytest.raises(InvalidInputError) as refused:
        record_score(s, raw, actor="t", now=NOW)
    assert str(refused.value) == message


@pytest.mark.parametrize("typed", ["\u200f4", "٤", " ۴ ", "+4", "\u200e4\u200f"])
def test_a_score_typed_with_direction_marks_or_arabic_digits_is_read(
    session_scope: SessionFactory, typed: str
) -> None:
    with session_scope() as s:
        group(s, ("أ",))
        interviewed(s, "P-1")
    with session_scope() as s:
        score, _entry = record_score(s, ScoreInput("P-1", "أ", "importance", typed), actor="t", now=NOW)
        assert score.value == 4


def test_shortlist_needs_a_quorum_on_every_criterion(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        group(s)
        interviewed(s, "P-1")
        scores(s, "P-1", {"أ": 4})
        record_score(s, ScoreInput("P-1", "ب", "importance", 4), actor="t", now=NOW)
    with session_scope() as s, pytest.raises(GuardError) as refused:
        move(s, "P-1", Event.SHORTLIST)
    assert str(refused.value) == (
        "Cannot shortlist proposal P-1: a quorum of eligible members must have scored it on every criterion "
        "(scores so far: global_trend 1 of 2, ogp_values 1 of 2, national_priorities 1 of 2, government_mandate 1 of 2"
        "; eligible members: 3)."
    )
    with session_scope() as s:
        scores(s, "P-1", {"ب": 4})
        configure_plan(s, PlanSettings(quorum=3), actor="tester")  # the setting overrides the majority
    with session_scope() as s, pytest.raises(GuardError, match=r"importance 2 of 3, global_trend 2 of 3"):
        move(s, "P-1", Event.SHORTLIST)
    with session_scope() as s:
        scores(s, "P-1", {"ج": 4})
        move(s, "P-1", Event.SHORTLIST)
        assert get_proposal(s, "P-1").state is State.SHORTLISTED


def test_ranking_orders_by_total_then_the_documented_tie_rules(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        group(s, ("أ", "ب"))
        for ref in ("A", "B", "C", "D", "E"):
            interviewed(s, ref)
        scores(s, "A", {"أ": 3, "ب": 3})
        scores(s, "B", {"أ": 5, "ب": 5})
        # C and D tie on the total (3); D is higher on importance, the first criterion.
        scores(s, "C", {"أ": 3, "ب": 3})
        scores(s, "D", {"أ": 3, "ب": 3})
        record_score(s, ScoreInput("D", "أ", "importance", 5), actor="t", now=NOW)
        record_score(s, ScoreInput("D", "أ", "global_trend", 1), actor="t", now=NOW)
        scores(s, "E", {"أ": 5})  # the best mean, but no quorum: it ranks after every complete one
    with session_scope() as s:
        order = [(r.rank, r.proposal.ref, float(r.total or 0), r.complete) for r in ranking(s)]
        assert order == [
            (1, "B", 5.0, True),
            (2, "D", 3.0, True),
            (3, "A", 3.0, True),
            (4, "C", 3.0, True),
            (5, "E", 5.0, False),
        ]
        # A before C: equal in everything, so the earlier registration wins.


def test_weights_change_the_total(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        group(s, ("أ",))
        interviewed(s, "A")
        record_score(s, ScoreInput("A", "أ", "importance", 5), actor="t", now=NOW)
        for code in CRITERIA[1:]:
            record_score(s, ScoreInput("A", "أ", code, 1), actor="t", now=NOW)
        assert standing(s, get_proposal(s, "A")).total == pytest.approx(9 / 5)
        set_weight(s, "importance", 6, actor="tester")
        assert standing(s, get_proposal(s, "A")).total == pytest.approx((30 + 4) / 10)
    with session_scope() as s, pytest.raises(InvalidInputError, match="at least one criterion must weigh more than 0"):
        for code in CRITERIA:
            set_weight(s, code, 0, actor="tester")


def test_shortlist_top_is_all_or_nothing_and_shows_the_cut_line(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        configure_plan(s, PlanSettings(shortlist_size=3, commitment_target=2), actor="tester")
        group(s, ("أ",))
        for ref, value in (("A", 5), ("B", 4), ("C", 3), ("D", 2)):
            interviewed(s, ref)
            scores(s, ref, {"أ": value})
    with session_scope() as s, pytest.raises(WorkflowError) as refused:
        shortlist_top(s, 4, actor="t", now=NOW)
    assert str(refused.value) == (
        "Cannot shortlist the top 4: --top 4 is more than the 3 places left (0 of the plan's 3 are taken); nothing was changed."
    )
    with session_scope() as s:
        dry = shortlist_top(s, 2, actor="t", dry_run=True, now=NOW)
        assert ([p.proposal.ref for p in dry.selected], dry.above.proposal.ref, dry.below.proposal.ref) == (
            ["A", "B"],
            "B",
            "C",
        )  # type: ignore[union-attr]
        assert dry.moves == []
    with session_scope() as s:
        assert [p.state.value for p in map(lambda r: get_proposal(s, r), "ABCD")] == ["interviewed"] * 4
        done = shortlist_top(s, 2, actor="t", now=NOW)
        assert [m.entry.reason for m in done.moves] == [
            "ranked 1 of 4, weighted mean 5.00",
            "ranked 2 of 4, weighted mean 4.00",
        ]
    with session_scope() as s, pytest.raises(WorkflowError) as refused:
        shortlist_top(s, 2, actor="t", now=NOW)
    assert "--top 2 is more than the 1 place left (2 of the plan's 3 are taken)" in str(refused.value)
    # Run again as if --top were the shortlist's size: no "try --top 2", which would take the two
    # the first shortlist passed over.
    with session_scope() as s, pytest.raises(WorkflowError) as refused:
        shortlist_top(s, 3, actor="t", now=NOW)
    assert str(refused.value) == (
        "Cannot shortlist the top 3: only 2 interviewed proposals are not shortlisted yet; 2 already hold a place "
        "(--top counts the proposals to shortlist now, not the shortlist's size); --top 3 is more than the 1 place "
        "left (2 of the plan's 3 are taken); nothing was changed."
    )


def test_shortlist_top_refuses_whole_when_one_lacks_a_quorum(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        group(s, ("أ",))
        interviewed(s, "A")
        interviewed(s, "B")
        scores(s, "A", {"أ": 5})
        record_score(s, ScoreInput("B", "أ", "importance", 1), actor="t", now=NOW)
    with session_scope() as s, pytest.raises(WorkflowError) as refused:
        shortlist_top(s, 2, actor="t", now=NOW)
    assert (
        "B (global_trend 0 of 1, ogp_values 0 of 1, national_priorities 0 of 1, government_mandate 0 of 1); nothing was changed."
        in str(refused.value)
    )
    with session_scope() as s:
        assert get_proposal(s, "A").state is State.INTERVIEWED


def test_the_cut_line_names_the_rule_that_broke_a_tie(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        group(s, ("أ",))
        for ref in ("A", "B"):
            interviewed(s, ref)
            scores(s, ref, {"أ": 4})
        result = shortlist_top(s, 1, actor="t", dry_run=True, now=NOW)
        assert (result.above.proposal.ref, result.below.proposal.ref, result.tie_rule) == (
            "A",
            "B",
            "registered earlier",
        )  # type: ignore[union-attr]


def test_commit_needs_an_agreeing_body_which_leads(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "P-1", entities=("MODEE", "ROS"))
        bring_to(s, "P-1", State.REFERRED)
        record_response(s, "P-1", "MODEE", agreed=False, responded_on=None, note="لا", actor="t", now=NOW)
    with (
        session_scope() as s,
        pytest.raises(GuardError, match=r"a relevant body must have agreed to it .* \(1 declined\)"),
    ):
        move(s, "P-1", Event.COMMIT)
    # A body cannot answer before the letter it answers was issued (the referral is dated NOW).
    with (
        session_scope() as s,
        pytest.raises(InvalidInputError, match=r"--on: 2021-07-27 is before the referral letter to ROS was issued \(.*, dated 2021-07-28\)"),
    ):
        record_response(s, "P-1", "ROS", agreed=True, responded_on=dt.date(2021, 7, 27), note="", actor="t", now=NOW)
    with session_scope() as s:
        _, entry = record_response(
            s, "P-1", "ROS", agreed=True, responded_on=dt.date(2021, 7, 28), note="", actor="t", now=NOW
        )
        assert (entry.event, entry.reason, entry.from_state, entry.to_state) == (
            "response",
            "ROS agreed on 2021-07-28",
            "referred",
            "referred",
        )
        done = move(s, "P-1", Event.COMMIT)
        assert done.proposal.lead_entity.code == "ROS"  # type: ignore[union-attr]
        assert replay.verify(s).entries == audit.current_head(s).seq


def test_responses_only_from_bodies_written_to_while_referred(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "P-1")
        bring_to(s, "P-1", State.SHORTLISTED)
    with (
        session_scope() as s,
        pytest.raises(
            StepNotAllowedError,
            match=r"Cannot record a response for proposal P-1: it is 'shortlisted'; this is done only while it is referred\.",
        ),
    ):
        record_response(s, "P-1", "MODEE", agreed=True, responded_on=None, note="", actor="t", now=NOW)
    with session_scope() as s:
        move(s, "P-1", Event.REFER)
    with (
        session_scope() as s,
        pytest.raises(
            InvalidInputError, match=r"--entity: no referral letter went to سجل الجمعيات \(it went to: MODEE\)"
        ),
    ):
        record_response(s, "P-1", "ROS", agreed=True, responded_on=None, note="", actor="t", now=NOW)
    with session_scope() as s, pytest.raises(NotFoundError):
        record_response(s, "P-1", "XYZ", agreed=True, responded_on=None, note="", actor="t", now=NOW)
    with session_scope() as s, pytest.raises(InvalidInputError, match="--on: 2021-08-01 is in the future"):
        record_response(s, "P-1", "MODEE", agreed=True, responded_on=dt.date(2021, 8, 1), note="", actor="t", now=NOW)


def test_the_ranking_reads_in_bulk_what_each_standing_reads_alone(session_scope: SessionFactory) -> None:
    """`ranking` loads members, conflicts and scores once for every proposal; each place must be
    what `standing` computes for that proposal alone (eligibility, quorum, means, total)."""
    with session_scope() as s:
        group(s, ("أ", "ب", "ج", "د"))
        add_member(s, "هيلدا", "مركز الشفافية الأردني", actor="tester")  # the proposers' own organisation
        for ref in ("P-1", "P-2", "P-3", "P-4"):
            interviewed(s, ref)
        scores(s, "P-1", {"أ": 4, "ب": 5, "ج": 3})
        scores(s, "P-2", {"أ": 5, "ب": 2})
        scores(s, "P-3", {"أ": 3, "ب": 3, "ج": 3, "د": 1})
        declare_conflict(s, "ج", "P-3", reason="عضو في الجهة", actor="t", now=NOW)
        set_weight(s, "importance", 3, actor="t", now=NOW)
    with session_scope() as s:
        ranked = ranking(s)
        assert [r.proposal.ref for r in ranked] == ["P-1", "P-3", "P-2", "P-4"]
        for place in ranked:
            alone = standing(s, place.proposal)
            assert (place.tally, place.rank) == (alone.tally, ranked.index(place) + 1)
        assert [r.tally.eligible for r in ranked] == [4, 3, 4, 4]


def test_bad_score_files_change_nothing_and_name_every_row(session_scope: SessionFactory, tmp_path: Path) -> None:
    with session_scope() as s:
        group(s, ("أ", "ب"))
        add_member(s, "هيلدا", "مركز الشفافية الأردني", actor="tester")
        interviewed(s, "P-1")
    path = tmp_path / "scores.csv"
    text = (
        "proposal,member,criterion,value,note\n"
        "P-1,أ,importance,4,\n"
        "P-1,أ,importance,5,again\n"
        "P-1,هيلدا,importance,5,\n"
        "P-2,ز,beauty,9,\n"
        "P-1,ب,global_trend,x,\n"
    )
    assert refused_score_rows(session_scope, path, text) == [
        "line 3: the score (P-1, أ, importance) is given twice (also at line 2), as 5 here and 4 there",
        "line 4, column 'member': هيلدا cannot score P-1: belongs to the proposing organisation (مركز الشفافية الأردني)",
        "line 5, column 'proposal': no proposal 'P-2'.",
        "line 5, column 'member': no member 'ز'.",
        "line 5, column 'criterion': no criterion 'beauty' (known: importance, global_trend, ogp_values, national_priorities, government_mandate).",
        "line 6, column 'value': 'x' is not a whole number",
    ]
    # A blank value is missing, not a number misspelt; each row's problems in the file's column order.
    path.write_text("proposal,member,criterion,value\nS-9,ز,importance,\n", encoding="utf-8")
    with session_scope() as s:
        register(s, "S-9")
    with session_scope() as s, pytest.raises(ImportFileError) as refused:
        import_scores(s, path, actor="t", now=NOW)
    assert [str(p) for p in refused.value.problems] == [
        "line 2, column 'proposal': Cannot score proposal S-9: it is 'submitted'; this is done only while it is interviewed",
        "line 2, column 'member': no member 'ز'.",
        "line 2, column 'value': is required",
    ]
    # In JSON, a cell of the wrong kind or a key given twice is named once, by what is wrong with it.
    typed = tmp_path / "typed.json"
    typed.write_text('[{"proposal": "P-1", "member": ["أ"], "criterion": "importance", "value": 4, "value": 5}]',
                     encoding="utf-8")  # fmt: skip
    with session_scope() as s, pytest.raises(ImportFileError) as refused:
        import_scores(s, typed, actor="t", now=NOW)
    assert [str(p) for p in refused.value.problems] == [
        "item 1, column 'member': must be a string, not an array",
        "item 1, column 'value': is given twice in this item (keys must be unique)",
    ]
    with session_scope() as s:
        assert s.scalar(select(func.count(Score.id))) == 0
    good = tmp_path / "scores.json"
    good.write_text(
        '[{"proposal": "P-1", "member": "أ", "criterion": "importance", "value": 4, "note": "جيد"}]', encoding="utf-8"
    )
    with session_scope() as s:
        assert import_scores(s, good, actor="t", now=NOW).recorded == 1
    with session_scope() as s:
        (only,) = s.scalars(select(Score))
        assert (only.value, only.note) == (4, "جيد")


def test_interview_answers_and_members_are_kept(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        group(s, ("أ", "ب"))
        register(s, "P-1")
        record_interview(
            s, "P-1", dt.date(2021, 7, 28), actor="t", platform="Zoom", members=("أ", "ب", "أ"),
            needs="تحديد الشريك", plans="الاستراتيجية الوطنية", solves="يتيح المعلومات", now=NOW,
        )  # fmt: skip
        interview = get_proposal(s, "P-1").interviews[0]
        assert (interview.needs, interview.plans, interview.solves) == (
            "تحديد الشريك",
            "الاستراتيجية الوطنية",
            "يتيح المعلومات",
        )
        assert [link.member.name for link in interview.members] == ["أ", "ب"]
    with session_scope() as s, pytest.raises(NotFoundError, match="no member 'ز'"):
        record_interview(s, "P-1", dt.date(2021, 7, 28), actor="t", members=("ز",), now=NOW)


def test_scheduling_invites_the_proposer_by_letter_and_enters_the_audit_trail(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "P-1")
        planned = schedule_interview(s, "P-1", dt.datetime(2021, 7, 28, 10, 30), actor="t", platform="Zoom", now=NOW)
        assert planned.entry.event == "schedule_interview"
        assert planned.entry.reason == "interview on 2021-07-28 10:30 (Zoom)"
        (letter,) = planned.letters
        text = " ".join(p.text for p in docx.Document(io.BytesIO(letter.rendered.content)).paragraphs)
        assert "المقررة بتاريخ 28 تموز 2021م في تمام الساعة 10:30 عبر Zoom" in text
        assert "السادة مركز الشفافية الأردني المحترمين" in text
        assert replay.verify(s).letters == 1
        bring_to(s, "P-1", State.INTERVIEWED)
    with session_scope() as s, pytest.raises(StepNotAllowedError, match="this is done only while it is submitted"):
        schedule_interview(s, "P-1", dt.datetime(2021, 8, 1, 9), actor="t", now=NOW)
    with session_scope() as s:
        assert [x.kind for x in s.scalars(select(Letter))] == ["invitation"]


def test_meetings_refuse_a_member_listed_twice(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        group(s, ("أ",))
    with session_scope() as s, pytest.raises(InvalidInputError, match="أ is listed twice"):
        add_meeting(s, dt.date(2021, 7, 28), attendees=("أ",), apologies=("أ",), actor="tester")
    with session_scope() as s, pytest.raises(NotFoundError, match="no member 'ز'"):
        add_meeting(s, dt.date(2021, 7, 28), attendees=("ز",), actor="tester")


def test_minutes_reopen_with_attendees_apologies_and_outcomes_in_rtl(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        add_member(s, "مي عليمات", "وحدة الحكومة الشفافة/ وزارة التخطيط والتعاون الدولي", "government", actor="tester")
        add_member(s, "هيلدا عجيلات", "مركز الشفافية الأردني", actor="tester")
        add_member(s, "لما قطيشات", "دائرة مراقبة الشركات", "government", actor="tester")
        meeting = add_meeting(
            s, dt.date(2021, 7, 28), title="الاجتماع الثاني", place="عن بعد عبر منصة زووم (ZOOM)",
            attendees=("مي عليمات", "هيلدا عجيلات"), apologies=("لما قطيشات",),
            topics=("المعايير وآلية التقييم", "المقابلات"), outcomes=("اختيار سبع أفكار", "إرسال كتب رسمية"),actor="tester"
        )  # fmt: skip
        data = minutes(get_meeting(s, str(meeting.id)), "الخطة", "2021-2023", "500:1c29" + "0" * 60)
        content = render_minutes(data)
        indic = render_minutes(data, digits="arabic-indic")
    # With the plan's Arabic-Indic digits, as in its letters: the Arabic text's digits, not ZOOM's
    # nor the audit hash's.
    cells = {
        row.cells[0].text: [p.text for p in row.cells[1].paragraphs]
        for row in docx.Document(io.BytesIO(indic)).tables[0].rows
    }
    assert cells["التاريخ"] == ["٢٨/٧/٢٠٢١", "٢٨ تموز ٢٠٢١م – ١٨ ذو الحجة ١٤٤٢هـ"]
    assert cells["سجل التدقيق عند كتابة المحضر"] == ["القيد رقم ٥٠٠", "1c29" + "0" * 60]
    document = docx.Document(io.BytesIO(content))
    assert document.paragraphs[0].text == "الاجتماع الثاني"
    table = document.tables[0]
    rows = {row.cells[0].text: [p.text for p in row.cells[1].paragraphs] for row in table.rows}
    assert rows["التاريخ"] == ["28/7/2021", "28 تموز 2021م – 18 ذو الحجة 1442هـ"]
    assert rows["مكان الاجتماع"] == ["عن بعد عبر منصة زووم (ZOOM)"]
    assert rows["الحضور"] == [
        "• مي عليمات – وحدة الحكومة الشفافة/ وزارة التخطيط والتعاون الدولي",
        "• هيلدا عجيلات – مركز الشفافية الأردني",
    ]
    assert rows["الاعتذار"] == ["• لما قطيشات – دائرة مراقبة الشركات"]
    assert rows["أبرز المواضيع التي تم مناقشتها في الاجتماع"] == ["أولاً: المعايير وآلية التقييم", "ثانياً: المقابلات"]
    assert rows["المخرجات"] == ["• اختيار سبع أفكار", "• إرسال كتب رسمية"]
    assert table._tbl.tblPr.find(qn("w:bidiVisual")) is not None  # the table reads from the right
    assert document.sections[0]._sectPr.find(qn("w:bidi")) is not None
    for paragraph in [document.paragraphs[0], *(p for row in table.rows for c in row.cells for p in c.paragraphs)]:
        assert paragraph._p.pPr.find(qn("w:bidi")) is not None
        for run in paragraph.runs:
            assert run._r.rPr.find(qn("w:rtl")) is not None
            assert run._r.rPr.rFonts.get(qn("w:cs")) == "Simplified Arabic"


def test_members_are_unique_and_sectors_known(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        add_member(s, "دانه مرعي", "وحدة الحكومة الشفافة", actor="tester")
    with session_scope() as s, pytest.raises(Exception, match="a member with name 'دانه مرعي' already exists"):
        add_member(s, "دانة مرعي", "جهة", actor="tester")  # ta marbuta typed differently is the same person
    with (
        session_scope() as s,
        pytest.raises(InvalidInputError, match="--sector: 'academia' is not one of government, civil-society, private"),
    ):
        add_member(s, "جديد", "جهة", "academia", actor="tester")


def test_agree_helper_matches_the_guard(session_scope: SessionFactory) -> None:
    with session_scope() as s:
        register(s, "P-1")
        bring_to(s, "P-1", State.REFERRED)
        agree(s, "P-1")
        move(s, "P-1", Event.COMMIT)
        assert get_proposal(s, "P-1").state is State.COMMITTED


def test_score_values_as_json_numbers_and_absurd_ones(session_scope: SessionFactory, tmp_path: Path) -> None:
    """A whole number is one however JSON writes it (4, 4.0); a value of thousands of digits is
    named shortly, not echoed whole; a null criterion is missing, not 'no criterion '''."""
    with session_scope() as s:
        group(s, ("أ",))
        interviewed(s, "P-1")
    path = tmp_path / "scores.json"
    huge = "9" * 5000
    path.write_text(
        '[{"proposal": "P-1", "member": "أ", "criterion": "importance", "value": 4.0},'
        f' {{"proposal": "P-1", "member": "أ", "criterion": "global_trend", "value": "{huge}"}},'
        ' {"proposal": "P-1", "member": "أ", "criterion": null, "value": 3}]',
        encoding="utf-8",
    )
    with session_scope() as s, pytest.raises(ImportFileError) as refused:
        import_scores(s, path, actor="t", now=NOW)
    assert [str(p) for p in refused.value.problems] == [
        f"item 2, column 'value': '{huge[:20]}… (5000 characters)' is far outside any scale",
        "item 3, column 'criterion': is required",
    ]
    path.write_text('[{"proposal": "P-1", "member": "أ", "criterion": "importance", "value": 4.0}]', encoding="utf-8")
    with session_scope() as s:
        assert import_scores(s, path, actor="t", now=NOW).recorded == 1


@pytest.mark.parametrize(("form", "block"), [("csv", 5000), ("json", 5000), ("csv", 2)])
def test_scores_given_again_name_the_row_that_gave_each_first_in_file_order(
    session_scope: SessionFactory, tmp_path: Path, form: str, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A score file keeps only a number per score while it is read (a file may hold 250,000 rows);
    each row giving a score again still names the row that gave it first, in an earlier block of
    rows too, and every problem stays in the file's order, among the others."""
    monkeypatch.setattr(importer, "SCORE_BLOCK", block)
    with session_scope() as s:
        group(s, ("أ", "ب"))
        interviewed(s, "P-1")
        interviewed(s, "P-2")
    rows = [("P-1", "أ", "importance", "4"), ("P-2", "ب", "importance", "3"), ("P-1", "أ", "importance", "5"),
            ("P-1", "ب", "global_trend", "x"), ("P-2", "ب", "importance", "3"), ("P-1", "أ", "importance", "2")]  # fmt: skip
    if form == "csv":
        path = tmp_path / "scores.csv"
        path.write_text("proposal,member,criterion,value\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
        first, at = "line", 2
    else:
        path = tmp_path / "scores.json"
        keys = ("proposal", "member", "criterion", "value")
        path.write_text(json.dumps([dict(zip(keys, r, strict=True)) for r in rows], ensure_ascii=False), encoding="utf-8")
        first, at = "item", 1
    with session_scope() as s, pytest.raises(ImportFileError) as refused:
        import_scores(s, path, actor="t", now=NOW)
    assert [str(p) for p in refused.value.problems] == [
        f"{first} {at + 2}: the score (P-1, أ, importance) is given twice (also at {first} {at}), as 5 here and 4 there",
        f"{first} {at + 3}, column 'value': 'x' is not a whole number",
        f"{first} {at + 4}: the score (P-2, ب, importance) is given twice (also at {first} {at + 1})",  # same value
        f"{first} {at + 5}: the score (P-1, أ, importance) is given twice (also at {first} {at}), as 2 here and 4 there",
    ]
    with session_scope() as s:
        assert not s.scalars(select(Score)).all()


def test_a_score_given_twice_is_compared_as_read_not_as_typed(session_scope: SessionFactory, tmp_path: Path) -> None:
    """٤, 04 and 4 are one value: given twice so, the rows repeat a score without disagreeing (an
    attacker found them called different)."""
    with session_scope() as s:
        group(s, ("أ",))
        interviewed(s, "P-1")
    rows = "P-1,أ,importance,4\nP-1,أ,importance,٤\nP-1,أ,importance,04\nP-1,أ,importance,٥\n"
    assert refused_score_rows(session_scope, tmp_path / "scores.csv", "proposal,member,criterion,value\n" + rows) == [
        "line 3: the score (P-1, أ, importance) is given twice (also at line 2)",
        "line 4: the score (P-1, أ, importance) is given twice (also at line 2)",
        "line 5: the score (P-1, أ, importance) is given twice (also at line 2), as 5 here and 4 there",
    ]


def refused_score_rows(session_scope: SessionFactory, path: Path, text: str) -> list[str]:
    """Write `text` to `path` as a score file, import it, and return the problems its refusal names."""
    path.write_text(text, encoding="utf-8")
    with session_scope() as s, pytest.raises(ImportFileError) as refused:
        import_scores(s, path, actor="t", now=NOW)
    return [str(p) for p in refused.value.problems]
