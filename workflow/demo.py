"""The demo: the seed's Fifth National Action Plan played through every state, on SAMPLE data.

The bodies and organisations are those of the seed; the proposals, their wording and outcomes are
invented for the demo and marked SAMPLE in their refs. Each step is recorded on the day of the
seed's calendar it belongs to (submissions in June 2021, the interviews on 28 July 2021 …), so the
letters, the audit trail and the published site tell the plan's story with its own dates.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from documents import write_atomic
from documents.minutes import render_minutes
from documents.reports import render_plan_report, render_progress_report
from documents.site import Staging
from states import Event, MilestoneEvent, State
from workflow import reports
from workflow.audit import current_head
from workflow.commitments import CommitmentChanges, edit_commitment
from workflow.compliance import publish_timeline
from workflow.errors import GuardError, WorkflowError
from workflow.evaluation import (
    ScoreInput,
    declare_conflict,
    list_criteria,
    record_response,
    record_score,
    score_problems,
)
from workflow.followups import follow_up
from workflow.interviews import record_interview, schedule_interview
from workflow.members import add_meeting, add_member, minutes
from workflow.milestones import add_milestone, advance_milestone, list_milestones, standing_on
from workflow.moves import PendingLetter, advance
from workflow.periods import HalfYear
from workflow.plans import PlanSettings, add_entity, configure_plan, current_plan
from workflow.progress import EvidenceItem, record_progress
from workflow.proposals import ProposalInput, add_proposal, list_proposals
from workflow.publish import PublishResult, publish
from workflow.shortlist import ShortlistResult, shortlist_top
from workflow.vocabulary import CIVIL_SOCIETY, GOVERNMENT

PLAN = PlanSettings(
    title="الخطة الوطنية الخامسة لمبادرة شراكة الحكومات الشفافة",
    period="2021-2023",
    shortlist_size=7,
    commitment_target=5,
    signatory_title="وزير التخطيط والتعاون الدولي",
    reply_within=14,  # two weeks: the bodies answer by 15 August, the day the group reviews the answers
)

# (name, code, rank, the official's title)
ENTITIES = (
    ("وزارة الاقتصاد الرقمي والريادة", "MODEE", "minister", "وزير الاقتصاد الرقمي والريادة"),
    ("سجل الجمعيات", "ROS", "director", "أمين سجل الجمعيات"),
    ("دائرة مراقبة الشركات", "CCD", "director", "مراقب عام الشركات"),
    ("وزارة الصحة", "MOH", "minister", "وزير الصحة"),
    ("وزارة الإدارة المحلية", "MOLA", "minister", "وزير الإدارة المحلية"),
    ("دائرة المكتبة الوطنية", "NL", "director", "مدير عام دائرة المكتبة الوطنية"),
    ("دائرة العطاءات الحكومية", "GTD", "director", "مدير عام دائرة العطاءات الحكومية"),
    ("وزارة البيئة", "MOENV", "minister", "وزير البيئة"),
)
# The one proposer that asked for its letters in English.
ENGLISH_PROPOSERS = {"SAMPLE-02"}

JTC = "مركز الشفافية الأردني"
JEF = "المنتدى الاقتصادي الأردني"
ACC = "مركز وسطاء التغيير للتنمية المستدامة"
RHAS = "الجمعية الملكية للتوعية الصحية"

# (ref, title, organisation, problem, solution, values, bodies, submitted on)
PROPOSALS = (
    ("SAMPLE-01", "منصة بيانات مفتوحة عن الجمعيات وأنشطتها", JTC,
     "صعوبة وصول المواطنين إلى بيانات محدثة عن الجمعيات وأنشطتها وتمويلها.",
     "نشر بيانات سجل الجمعيات بصيغة مفتوحة قابلة لإعادة الاستخدام.",
     ("access_to_information", "technology_innovation"), ("ROS", "MODEE"), "2021-06-20"),
    ("SAMPLE-02", "الإفصاح عن المستفيدين الحقيقيين من الشركات", JEF,
     "غياب الشفافية حول الملكية الفعلية للشركات يضعف المساءلة.",
     "سجل عام للمستفيدين الحقيقيين تديره دائرة مراقبة الشركات.",
     ("accountability", "access_to_information"), ("CCD",), "2021-06-21"),
    ("SAMPLE-03", "إشراك الشباب في متابعة جودة الخدمات الصحية المحلية", RHAS,
     "ضعف مشاركة المجتمع المحلي في تقييم الخدمات الصحية الأولية.",
     "مجالس شبابية تتابع مؤشرات الخدمات الصحية وتنشر تقارير دورية.",
     ("public_participation",), ("MOH",), "2021-06-22"),
    ("SAMPLE-04", "موازنات بلدية تشاركية", ACC,
     "لا يشارك السكان في تحديد أولويات الإنفاق البلدي.",
     "جلسات استماع علنية ونشر الموازنات البلدية بلغة مبسطة.",
     ("public_participation", "accountability"), ("MOLA",), "2021-06-23"),
    ("SAMPLE-05", "بوابة إلكترونية لطلبات الحصول على المعلومات", JTC,
     "طلبات الحصول على المعلومات ورقية ولا تُتابع إلكترونياً.",
     "بوابة موحدة لتقديم الطلبات ومتابعتها ونشر الإجابات.",
     ("access_to_information", "technology_innovation"), ("NL", "MODEE"), "2021-06-24"),
    ("SAMPLE-06", "نشر عقود المشتريات الحكومية", JEF,
     "عقود المشتريات الحكومية غير منشورة للعموم.",
     "نشر العقود وفق معيار البيانات المفتوحة للتعاقد.",
     ("accountability", "access_to_information"), ("GTD",), "2021-06-25"),
    ("SAMPLE-07", "سجل مفتوح للتمويل الأجنبي للجمعيات", ACC,
     "إجراءات الموافقة على التمويل الأجنبي غير واضحة للجمعيات والجمهور.",
     "نشر معايير الموافقة ومددها وإحصاءاتها بشكل دوري.",
     ("access_to_information", "accountability"), ("ROS",), "2021-06-26"),
    ("SAMPLE-08", "متابعة شكاوى المواطنين على الخدمات الحكومية", RHAS,
     "لا يعرف المواطن مصير شكواه بعد تقديمها.",
     "رقم متابعة لكل شكوى ونشر إحصاءات الاستجابة.",
     ("accountability", "technology_innovation"), ("MODEE",), "2021-06-27"),
    ("SAMPLE-09", "تطبيق للإبلاغ عن المخالفات البيئية", ACC,
     "تأخر رصد المخالفات البيئية في المناطق النائية.",
     "تطبيق هاتفي يتيح الإبلاغ المصوّر ومتابعة المعالجة.",
     ("technology_innovation", "public_participation"), ("MOENV",), "2021-06-28"),
    ("SAMPLE-10", "حاضنة للابتكار في الخدمات الحكومية", JEF,
     "بطء تبني الحلول المبتكرة في تقديم الخدمات الحكومية.",
     "حاضنة تجمع الجهات الحكومية والشركات الناشئة لتجريب الحلول.",
     ("technology_innovation",), ("MODEE",), "2021-06-29"),
)  # fmt: skip

# The working group of the seed's second meeting: (name, organisation, sector).
MEMBERS = (
    ("مي عليمات", "وحدة الحكومة الشفافة/ وزارة التخطيط والتعاون الدولي", "government"),
    ("آيات الخطيب", "وحدة الحكومة الشفافة/ وزارة التخطيط والتعاون الدولي", "government"),
    ("ختام الشنيكات", "سجل الجمعيات", "government"),
    ("ندى خاطر", "وزارة الاقتصاد الرقمي", "government"),
    ("هيلدا عجيلات", "مركز الشفافية الأردني", "civil-society"),
    ("محمد قريوتي", "المنتدى الاقتصادي الاردني", "private"),
    ("صهيب ربابعه", "مركز وسطاء التغيير للتنمية المستدامة", "civil-society"),
    ("ديما جويحان", "الجمعية الملكية للتوعية الصحية", "civil-society"),
    ("دانه مرعي", "وحدة الحكومة الشفافة/ وزارة التخطيط والتعاون الدولي", "government"),
    ("لما قطيشات", "دائرة مراقبة الشركات", "government"),
)
APOLOGIES = ("لما قطيشات",)
ZOOM = "عن بعد عبر منصة زووم (ZOOM)"
FIRST_MEETING = dt.date(2021, 7, 15)
INTERVIEW_DAY = dt.date(2021, 7, 28)  # the seed's second meeting, held on Zoom
SECOND_MEETING_TITLE = "الاجتماع الثاني لمجموعة العمل الوطنية الخامسة لمبادرة شراكة الحكومات الشفافة 2021-2023"
SECOND_MEETING_TOPICS = (
    "في بداية الاجتماع تم الحديث عن المعايير وآلية التقييم واستعراض أهم النقاط التي يجب التركيز عليها خلال "
    "المقابلات مع مقدمي الطلبات المقترحة.",
    "تم إجراء المقابلات عن بعد عبر منصة زووم (ZOOM) مع مقدمي الطلبات المقترحة الذين تم اختيارهم خلال الاجتماع "
    "الأول لأعضاء مجموعة العمل والذي عقد بتاريخ 15/7/2021.",
    "تم الاستماع إلى مقدمي الالتزامات المقترحة وطرح الأسئلة لتوضيح الالتزامات بشكل أفضل.",
)
SECOND_MEETING_OUTCOMES = (
    "بعد تقييم الأفكار بناءً على المعايير التي تم نشرها سابقاً، تم اختيار سبع (7) أفكار مقترحة وذلك حسب إجماع "
    "معظم أعضاء مجموعة العمل، على أن تتم في المرحلة القادمة تصفية الأفكار إلى خمسة التزامات حسب المنهجية المنشورة.",
    "أجمع أعضاء مجموعة العمل على إرسال كتب رسمية للجهات الحكومية ذات العلاقة بالالتزامات التي تم اختيارها، "
    "لتنسيق اجتماعات للنقاش حول الأفكار المقترحة والتأكد من جدواها وارتباطها بصلاحيات وخطة عمل كل جهة.",
)
# How good the working group found each idea (the demo's scores vary around it).
QUALITY = {
    "SAMPLE-01": 4.6, "SAMPLE-02": 4.4, "SAMPLE-03": 4.3, "SAMPLE-04": 4.1, "SAMPLE-05": 4.5,
    "SAMPLE-06": 3.9, "SAMPLE-07": 3.8, "SAMPLE-08": 3.2, "SAMPLE-09": 2.9,
}  # fmt: skip
# The seed's calendar, each step at 09:00 in Amman (UTC+3) on its day.
AMMAN = dt.timezone(dt.timedelta(hours=3), "Amman")
SET_UP = dt.date(2021, 6, 1)
WITHDRAWN_ON = dt.date(2021, 7, 12)
INVITED_ON = dt.date(2021, 7, 18)  # the seed: proposers were told on 18 July that they qualified
REFERRED_ON = dt.date(2021, 8, 1)
ANSWERED_ON = dt.date(2021, 8, 15)
DECIDED_ON = dt.date(2021, 8, 22)
PUBLISHED_ON = dt.date(2021, 8, 31)  # the national repository, with the reasoned response
# OGP 3.1: the co-creation timeline, out two weeks and more before co-creation began.
TIMELINE = (dt.date(2021, 5, 16), SET_UP, "https://example.org/sample/ogp-jordan/timeline-2021")
DECLARED_CONFLICT = ("ختام الشنيكات", "SAMPLE-01", "تمثل الجهة الحكومية المعنية بتنفيذ المقترح")
WITHDRAWN = {"SAMPLE-10": "انسحبت الجهة مقدمة المقترح قبل المقابلة لعدم جاهزيتها للتنفيذ ضمن مدة الخطة"}
NOT_SHORTLISTED = {
    "SAMPLE-08": "جاء ترتيبه دون الأفكار السبع المختارة؛ ويتقاطع مع منظومة الشكاوى الحكومية القائمة",
    "SAMPLE-09": "جاء ترتيبه دون الأفكار السبع المختارة؛ وحصل على أدنى تقييم في الانسجام مع الأولويات الوطنية",
}
# (ref, body, agreed, note)
RESPONSES = (
    ("SAMPLE-01", "ROS", True, "يرحب السجل بتبني الالتزام"),
    ("SAMPLE-02", "CCD", True, ""),
    ("SAMPLE-03", "MOH", True, ""),
    ("SAMPLE-04", "MOLA", True, ""),
    ("SAMPLE-05", "NL", True, ""),
    ("SAMPLE-07", "ROS", True, ""),
)
# The late body: no answer by 15 August, a follow-up letter on the 17th, the answer on the 19th.
LATE_REPLY = (
    "SAMPLE-06", "GTD", dt.date(2021, 8, 17), dt.date(2021, 8, 19), "المقترح مرتبط بنظام شراء جديد قيد الإعداد"
)  # fmt: skip
NOT_COMMITTED = {
    "SAMPLE-06": "اعتذرت دائرة العطاءات الحكومية عن تبني المقترح لارتباطه بنظام شراء جديد قيد الإعداد",
    "SAMPLE-07": "اكتمل عدد التزامات الخطة الخمسة بأفكار حصلت على ترتيب أعلى؛ يُقترح إدراجه في الخطة القادمة",
}


@dataclass
class DemoResult:
    """What the demo did, for its summary."""

    letters: list[PendingLetter] = field(default_factory=list)
    reached: Counter[str] = field(default_factory=Counter)
    final: Counter[str] = field(default_factory=Counter)
    refusals: list[str] = field(default_factory=list)
    shortlist: ShortlistResult | None = None
    minutes: bytes = b""
    minutes_name: str = ""
    members: int = 0
    scores: int = 0
    followups: list[str] = field(default_factory=list)
    implementation: Counter[str] = field(default_factory=Counter)
    reports: list[tuple[str, bytes]] = field(default_factory=list)
    publication: PublishResult | None = None


def _score(ref: str, member: int, criterion: int) -> int:
    """A deterministic score around the idea's quality."""
    spread = ((member * 7 + criterion * 3 + int(ref[-2:]) * 5) % 5 - 2) * 0.4
    return max(1, min(5, round(QUALITY[ref] + spread)))


def on(day: dt.date, hour: int = 9) -> dt.datetime:
    """The moment a step of the demo is recorded: `hour` o'clock in Amman on `day`."""
    return dt.datetime.combine(day, dt.time(hour), AMMAN)


def play(
    session: Session, *, actor: str, workspace_folder: Path | None = None, site: Staging | None = None
) -> DemoResult:
    """Build the plan, its bodies, members and proposals, and play the seed's meeting cycle on its
    own calendar; with `site`, publish the national repository into it (`ogp publish`) once the
    commitments are made; then carry the plan out to `AS_OF` (`implement`)."""
    now = on(SET_UP)
    result = DemoResult()
    configure_plan(session, PLAN, actor=actor, now=now)
    published_on, co_creation_starts, url = TIMELINE
    publish_timeline(session, published_on, co_creation_starts, actor=actor, url=url, now=now)
    for name, code, rank, title in ENTITIES:
        add_entity(session, name, code, rank=rank, title=title, actor=actor, now=now)
    for name, organization, sector in MEMBERS:
        add_member(session, name, organization, sector, actor=actor, now=now)
    result.members = len(MEMBERS)
    attendees = [name for name, _, _ in MEMBERS if name not in APOLOGIES]

    def move(ref: str, event: Event, reason: str = "") -> None:
        done = advance(session, ref, event, actor=actor, reason=reason, now=now, workspace_folder=workspace_folder)
        result.letters.extend(done.letters)
        result.reached[done.proposal.state.value] += 1

    for ref, title, org, problem, solution, values, bodies, submitted in PROPOSALS:
        language = "en" if ref in ENGLISH_PROPOSERS else "ar"
        raw = ProposalInput(
            title, org, ref, f"{ref.lower()}@example.org", problem, solution, values, bodies, submitted, language
        )
        add_proposal(session, raw, actor=actor, now=on(dt.date.fromisoformat(submitted)))
        result.reached[State.SUBMITTED.value] += 1
    now = on(WITHDRAWN_ON)
    for ref, reason in WITHDRAWN.items():
        move(ref, Event.WITHDRAW, reason)
    add_meeting(
        session, FIRST_MEETING, actor=actor, now=on(FIRST_MEETING, 13), title="الاجتماع الأول لمجموعة العمل الوطنية",
        place=ZOOM, attendees=attendees, apologies=APOLOGIES,
        topics=("تقييم المقترحات المقدمة واختيار المؤهلين منها لمرحلة المقابلات",),
        outcomes=("إبلاغ مقدمي المقترحات المختارة بتأهلهم لمرحلة المقابلات بتاريخ 18/7/2021",),
    )  # fmt: skip

    waiting = list_proposals(session, State.SUBMITTED)
    now = on(INVITED_ON)
    for slot, proposal in enumerate(waiting):
        at = dt.datetime.combine(INTERVIEW_DAY, dt.time(10)) + dt.timedelta(minutes=30 * slot)
        planned = schedule_interview(
            session, proposal.ref, at, actor=actor, platform="Zoom", now=now, workspace_folder=workspace_folder
        )
        result.letters.extend(planned.letters)
    now = on(INTERVIEW_DAY, 15)
    for proposal in waiting:
        record_interview(
            session, proposal.ref, INTERVIEW_DAY, actor=actor, platform="Zoom", members=attendees, now=now,
            needs="تحديد الجهة الحكومية الشريكة ونطاق الالتزام ضمن مدة الخطة",
            plans="يرتبط بالاستراتيجية الوطنية للنزاهة وخطط التحول الرقمي",
            solves="يعالج المشكلة العامة بإتاحة المعلومات وتعزيز المساءلة والمشاركة",
        )  # fmt: skip
        move(proposal.ref, Event.INTERVIEW)

    member, ref, reason = DECLARED_CONFLICT
    declare_conflict(session, member, ref, reason=reason, actor=actor, now=now)
    criteria = list_criteria(session)
    for proposal in list_proposals(session, State.INTERVIEWED):
        for index, name in enumerate(attendees):
            for criterion in criteria:
                raw_score = ScoreInput(
                    proposal.ref, name, criterion.code, _score(proposal.ref, index, criterion.position)
                )
                if score_problems(session, raw_score).problems:
                    continue  # a conflicted member does not score
                record_score(session, raw_score, actor=actor, now=now)
                result.scores += 1
    try:  # a member of the proposing organisation is refused
        record_score(session, ScoreInput("SAMPLE-01", "هيلدا عجيلات", "importance", 5), actor=actor, now=now)
    except WorkflowError as refusal:
        result.refusals.append(str(refusal))

    result.shortlist = shortlist_top(session, 7, actor=actor, now=now, workspace_folder=workspace_folder)
    for done in result.shortlist.moves:
        result.reached[done.proposal.state.value] += 1
    for ref, reason in NOT_SHORTLISTED.items():
        move(ref, Event.REJECT, reason)
    now = on(REFERRED_ON)
    for proposal in list_proposals(session, State.SHORTLISTED):
        move(proposal.ref, Event.REFER)
    now = on(ANSWERED_ON)
    for ref, body, agreed, note in RESPONSES:
        record_response(session, ref, body, agreed=agreed, responded_on=None, note=note, actor=actor, now=now)
    ref, body, followed_up_on, answered_on, note = LATE_REPLY
    chased = follow_up(session, ref, body, actor=actor, now=on(followed_up_on), workspace_folder=workspace_folder)
    result.letters.extend(chased.letters)
    result.followups.append(f"{ref} → {body}: {chased.entry.reason}")
    record_response(
        session, ref, body, agreed=False, responded_on=answered_on, note=note, actor=actor, now=on(answered_on)
    )
    now = on(DECIDED_ON)
    for proposal in list_proposals(session, State.REFERRED):
        if proposal.ref not in NOT_COMMITTED:
            move(proposal.ref, Event.COMMIT, "وافقت الجهة الحكومية على تبني الالتزام وقيادة تنفيذه")
    for ref, reason in NOT_COMMITTED.items():
        try:  # one body declined; the plan's five places are taken: the rules refuse both
            move(ref, Event.COMMIT)
        except GuardError as refusal:
            result.refusals.append(str(refusal))
        move(ref, Event.REJECT, reason)

    meeting = add_meeting(
        session, INTERVIEW_DAY, actor=actor, now=now, title=SECOND_MEETING_TITLE, place=ZOOM,
        attendees=attendees, apologies=APOLOGIES,
        topics=SECOND_MEETING_TOPICS, outcomes=SECOND_MEETING_OUTCOMES,
    )  # fmt: skip
    plan = current_plan(session)
    made = minutes(meeting, plan.title, plan.period, str(current_head(session)))
    result.minutes = render_minutes(made, digits=plan.digits)
    result.minutes_name = f"meeting-{meeting.id}-{meeting.held_on.isoformat()}.docx"
    result.final.update(p.state.value for p in list_proposals(session))
    if site is not None:
        result.publication = publish(
            session, site, actor=actor, now=on(PUBLISHED_ON), workspace_folder=workspace_folder
        )
    implement(session, result, actor=actor)
    return result


# --- after the commitments: the plan carried out (SAMPLE) --------------------------------------------

TEMPLATED_ON = dt.date(2021, 9, 12)  # each commitment written up in OGP's template, its milestones set
SUBMITTED_ON = dt.date(2021, 9, 30)  # the plan submitted to OGP
COMMITMENT_MONTHS = ("2021-10", "2023-06")
AS_OF = dt.date(2022, 7, 15)  # where the demo's story stops: the day its picture of what is due is taken
REPORTED_HALF = HalfYear(2022, 1)

# (ref, OGP id, status quo, how it solves the problem, {OGP value: how it is relevant},
#  supporting bodies, supporting organisations)
TEMPLATES = (
    ("SAMPLE-01", "JO-SAMPLE-01",
     "تُنشر بيانات الجمعيات في تقارير سنوية بصيغة PDF، ولا تشمل بيانات التمويل.",
     "تصبح بيانات الجمعيات وأنشطتها وتمويلها متاحة للجميع بصيغة قابلة لإعادة الاستخدام ومحدثة شهرياً.",
     {"access_to_information": "نشر بيانات الجمعيات بصيغة مفتوحة",
      "technology_innovation": "واجهة برمجية على بوابة البيانات المفتوحة"},
     ("MODEE",), (JTC,)),
    ("SAMPLE-02", "JO-SAMPLE-02",
     "لا يُلزم القانون الشركات بالإفصاح عن المستفيد الحقيقي، ولا يوجد سجل عام بذلك.",
     "يتيح السجل العام معرفة من يملك الشركات ويتحكم بها فعلياً، فيسهل كشف تضارب المصالح.",
     {"accountability": "مساءلة الشركات المتعاقدة مع الحكومة عن ملكيتها الفعلية",
      "access_to_information": "سجل عام للمستفيدين الحقيقيين"},
     (), (JEF,)),
    ("SAMPLE-03", "JO-SAMPLE-03",
     "تقيس الوزارة مؤشرات الخدمات الصحية الأولية دون إشراك المجتمع المحلي ودون نشرها.",
     "تتابع المجالس الشبابية المؤشرات وتنشرها، فيشارك المجتمع المحلي في تحسين الخدمة.",
     {"public_participation": "مجالس شبابية تتابع جودة الخدمات الصحية"},
     (), (RHAS,)),
    ("SAMPLE-04", "JO-SAMPLE-04",
     "تُقر الموازنات البلدية دون جلسات استماع، وتُنشر بلغة محاسبية لا يفهمها السكان.",
     "يشارك السكان في تحديد أولويات الإنفاق ويتابعون تنفيذها في موازنات مبسطة منشورة.",
     {"public_participation": "جلسات استماع علنية حول الموازنة",
      "accountability": "نشر الموازنات البلدية المبسطة"},
     (), (ACC,)),
    ("SAMPLE-05", "JO-SAMPLE-05",
     "تُقدم طلبات الحصول على المعلومات ورقياً ولا تُعرف مددها ولا نتائجها.",
     "يقدّم المواطن طلبه ويتابعه إلكترونياً، وتُنشر الإجابات والإحصاءات.",
     {"access_to_information": "بوابة موحدة لطلبات الحصول على المعلومات",
      "technology_innovation": "متابعة إلكترونية للطلبات"},
     ("MODEE",), (JTC,)),
)  # fmt: skip

# Each commitment's milestones, named (ref, n): (title, output, start, end, responsible body).
MILESTONES: dict[tuple[str, int], tuple[str, str, str, str, str]] = {
    ("SAMPLE-01", 1): ("تحديد مجموعات بيانات الجمعيات ذات الأولوية بالتشاور مع المجتمع المدني",
                       "قائمة منشورة بمجموعات البيانات ذات الأولوية", "2021-10", "2022-03", "ROS"),
    ("SAMPLE-01", 2): ("نشر بيانات الجمعيات وتمويلها على بوابة البيانات المفتوحة",
                       "مجموعات بيانات منشورة ومحدثة شهرياً", "2022-01", "2022-12", "MODEE"),
    ("SAMPLE-01", 3): ("تقييم استخدام البيانات المنشورة مع مستخدميها", "تقرير تقييم منشور",
                       "2023-01", "2023-06", "ROS"),
    ("SAMPLE-02", 1): ("إعداد التعديلات التشريعية لسجل المستفيدين الحقيقيين",
                       "مشروع تعديل نظام مرفوع إلى مجلس الوزراء", "2021-10", "2022-06", "CCD"),
    ("SAMPLE-02", 2): ("إطلاق السجل العام للمستفيدين الحقيقيين", "سجل إلكتروني متاح للعموم",
                       "2022-07", "2023-06", "CCD"),
    ("SAMPLE-03", 1): ("تشكيل مجالس شبابية صحية في ثلاث محافظات", "ثلاثة مجالس مشكلة بقرار من الوزارة",
                       "2021-11", "2022-04", "MOH"),
    ("SAMPLE-03", 2): ("نشر تقرير نصف سنوي عن مؤشرات الخدمات الصحية الأولية", "تقريران منشوران",
                       "2022-03", "2023-03", "MOH"),
    ("SAMPLE-04", 1): ("إعداد دليل الموازنة التشاركية للبلديات", "دليل منشور", "2021-10", "2022-03", "MOLA"),
    ("SAMPLE-04", 2): ("عقد جلسات استماع علنية حول الموازنة في خمس بلديات", "محاضر خمس جلسات منشورة",
                       "2022-02", "2022-10", "MOLA"),
    ("SAMPLE-04", 3): ("منصة إلكترونية جديدة للموازنات البلدية", "منصة مطلقة", "2022-04", "2022-12", "MOLA"),
    ("SAMPLE-05", 1): ("تطوير البوابة الإلكترونية لطلبات الحصول على المعلومات ومتابعتها",
                       "بوابة تعمل في خمس جهات حكومية", "2021-10", "2022-06", "MODEE"),
    ("SAMPLE-05", 2): ("تدريب ضباط ارتباط المعلومات في الجهات الحكومية", "مئة ضابط ارتباط مدربون",
                       "2022-04", "2022-12", "NL"),
}  # fmt: skip

EVIDENCE_FILE = EvidenceItem(
    file_name="moh-youth-councils-decision.txt",
    content="SAMPLE: قرار وزير الصحة بتشكيل المجالس الشبابية الصحية في إربد والزرقاء والكرك\n".encode(),
)


def _url(name: str) -> EvidenceItem:
    return EvidenceItem(url=f"https://example.org/sample/{name}")


@dataclass(frozen=True)
class Moved:
    """A milestone move in the story."""

    event: MilestoneEvent
    reason: str = ""
    new_end: str | None = None


@dataclass(frozen=True)
class Reported:
    """A progress entry in the story."""

    side: str
    percent: int
    note: str
    evidence: tuple[EvidenceItem, ...] = ()


START = Moved(MilestoneEvent.START)
COMPLETE = Moved(MilestoneEvent.COMPLETE)

# The milestones' life in the order it happened: (day, milestone, what happened).
# H1-2022's round: the government reports on 20 June, civil society on 28 June, on every milestone
# open in the half-year; SAMPLE-05's portal, due in June, is late and not delayed: `ogp due` says so.
G, CS = GOVERNMENT, CIVIL_SOCIETY
STORY: tuple[tuple[dt.date, tuple[str, int], Moved | Reported], ...] = (
    (dt.date(2021, 10, 5), ("SAMPLE-01", 1), START),
    (dt.date(2021, 10, 12), ("SAMPLE-02", 1), START),
    (dt.date(2021, 10, 18), ("SAMPLE-04", 1), START),
    (dt.date(2021, 10, 20), ("SAMPLE-05", 1), START),
    (dt.date(2021, 11, 7), ("SAMPLE-03", 1), START),
    (dt.date(2022, 1, 10), ("SAMPLE-01", 2), START),
    (dt.date(2022, 2, 14), ("SAMPLE-04", 2), START),
    (dt.date(2022, 3, 15), ("SAMPLE-03", 2), START),
    (dt.date(2022, 3, 20), ("SAMPLE-04", 1),
     Reported(G, 100, "نُشر دليل الموازنة التشاركية على موقع الوزارة", (_url("mola-participatory-budget-guide"),))),
    (dt.date(2022, 3, 24), ("SAMPLE-04", 1), COMPLETE),
    (dt.date(2022, 3, 27), ("SAMPLE-01", 1),
     Reported(G, 100, "نُشرت قائمة مجموعات البيانات ذات الأولوية بعد ورشة تشاورية مع الجمعيات",
              (_url("ros-priority-datasets"),))),
    (dt.date(2022, 3, 30), ("SAMPLE-01", 1), COMPLETE),
    (dt.date(2022, 4, 10), ("SAMPLE-05", 2), START),
    (dt.date(2022, 4, 18), ("SAMPLE-03", 1),
     Reported(G, 100, "شُكلت المجالس الثلاثة في إربد والزرقاء والكرك", (EVIDENCE_FILE,))),
    (dt.date(2022, 4, 20), ("SAMPLE-03", 1), COMPLETE),
    (dt.date(2022, 5, 10), ("SAMPLE-04", 3),
     Moved(MilestoneEvent.CANCEL,
           "قررت مجموعة العمل نشر الموازنات المبسطة على مواقع البلديات القائمة بدلاً من بناء منصة جديدة")),
    (dt.date(2022, 6, 15), ("SAMPLE-02", 1),
     Moved(MilestoneEvent.DELAY,
           "طلب ديوان التشريع والرأي مشاورات إضافية مع القطاع الخاص قبل رفع التعديلات إلى مجلس الوزراء",
           "2022-12")),
    (dt.date(2022, 6, 20), ("SAMPLE-01", 2),
     Reported(G, 45, "نُشرت أربع مجموعات بيانات من تسع", (_url("opendata-societies"),))),
    (dt.date(2022, 6, 20), ("SAMPLE-02", 1), Reported(G, 60, "أُعدت مسودة التعديلات وأحيلت إلى ديوان التشريع والرأي")),
    (dt.date(2022, 6, 20), ("SAMPLE-03", 2), Reported(G, 25, "جُمعت مؤشرات الربع الأول، والتقرير الأول قيد الإعداد")),
    (dt.date(2022, 6, 20), ("SAMPLE-04", 2), Reported(G, 40, "عُقدت جلستان من خمس")),
    (dt.date(2022, 6, 20), ("SAMPLE-05", 1),
     Reported(G, 70, "اكتمل تطوير البوابة وبدأ تشغيلها تجريبياً", (_url("modee-information-requests-portal"),))),
    (dt.date(2022, 6, 20), ("SAMPLE-05", 2), Reported(G, 30, "دُرب ثلاثون ضابط ارتباط")),
    (dt.date(2022, 6, 28), ("SAMPLE-01", 1), Reported(CS, 90, "القائمة منشورة، لكنها لا تشمل بيانات التمويل الأجنبي")),
    (dt.date(2022, 6, 28), ("SAMPLE-01", 2), Reported(CS, 40, "البيانات المنشورة لا تُحدَّث شهرياً بعد")),
    (dt.date(2022, 6, 28), ("SAMPLE-02", 1), Reported(CS, 40, "لم تُنشر مسودة التعديلات للتشاور العام")),
    (dt.date(2022, 6, 28), ("SAMPLE-03", 1), Reported(CS, 100, "شاركت الجمعية في اختيار أعضاء المجالس")),
    (dt.date(2022, 6, 28), ("SAMPLE-03", 2), Reported(CS, 20, "لم يُنشر أي تقرير بعد")),
    (dt.date(2022, 6, 28), ("SAMPLE-04", 1), Reported(CS, 100, "الدليل واضح ومنشور")),
    (dt.date(2022, 6, 28), ("SAMPLE-04", 2),
     Reported(CS, 40, "حضرنا الجلستين، ونطالب بنشر محاضرهما", (_url("acc-hearings-notes"),))),
    (dt.date(2022, 6, 28), ("SAMPLE-05", 1), Reported(CS, 50, "البوابة تعمل تجريبياً في جهتين فقط من خمس")),
    (dt.date(2022, 6, 28), ("SAMPLE-05", 2), Reported(CS, 30, "التدريب جيد، والمطلوب توسيعه للمحافظات")),
)  # fmt: skip

# The working group's meetings on implementation (OGP 1.1 and 5.1): (day, title, topics, outcomes).
IMPLEMENTATION_MEETINGS = (
    (dt.date(2022, 1, 20), "اجتماع مجموعة العمل لمتابعة تنفيذ التزامات الخطة الوطنية الخامسة",
     ("استعراض بدء تنفيذ الالتزامات الخمسة ومراحلها",),
     ("الاتفاق على جولة تقارير التقدم من الحكومة والمجتمع المدني في حزيران 2022",)),
    (dt.date(2022, 7, 5), "اجتماع مجموعة العمل لمراجعة تقرير التقييم الذاتي للنصف الأول من عام 2022",
     ("استعراض تقارير التقدم من الجهات الحكومية وملاحظات المجتمع المدني",
      "مناقشة تأخر التعديلات التشريعية لسجل المستفيدين الحقيقيين وإلغاء منصة الموازنات البلدية"),
     ("متابعة وزارة الاقتصاد الرقمي والريادة لاستكمال البوابة الإلكترونية لطلبات المعلومات",)),
)  # fmt: skip


def implement(session: Session, result: DemoResult, *, actor: str) -> None:
    """Carry the plan past its commitments, on its own calendar: each commitment in OGP's template
    with its milestones, the plan's submission, the milestones' life and a progress round from each
    side, the implementation meetings; then the reports, and what is due, as of `AS_OF`."""
    now = on(TEMPLATED_ON)
    attendees = [name for name, _, _ in MEMBERS if name not in APOLOGIES]
    start, end = COMMITMENT_MONTHS
    for ref, ogp_id, status_quo, how, relevance, supporting, orgs in TEMPLATES:
        changes = CommitmentChanges(
            ogp_id=ogp_id, status_quo=status_quo, how_it_solves=how, relevance=tuple(relevance.items()),
            supporting=supporting, supporting_orgs=orgs, start=start, end=end,
        )  # fmt: skip
        edit_commitment(session, ref, changes, actor=actor, now=now)
        result.implementation["commitments"] += 1
    ids: dict[tuple[str, int], int] = {}
    for key, (title, output, first, last, responsible) in MILESTONES.items():
        milestone = add_milestone(
            session, key[0], title=title, output=output, start=first, end=last, responsible=responsible,
            actor=actor, now=now,
        )  # fmt: skip
        ids[key] = milestone.id
    configure_plan(session, PlanSettings(submitted_on=SUBMITTED_ON), actor=actor, now=on(SUBMITTED_ON))
    meetings = iter(IMPLEMENTATION_MEETINGS)
    upcoming = next(meetings, None)
    for day, key, happened in STORY:
        while upcoming is not None and upcoming[0] <= day:
            _meet(session, upcoming, attendees, actor)
            upcoming = next(meetings, None)
        mid, now = ids[key], on(day)
        if isinstance(happened, Reported):
            record_progress(
                session, mid, percent=happened.percent, note=happened.note, side=happened.side, reported_on=day,
                evidence=happened.evidence, actor=actor, now=now,
            )  # fmt: skip
            result.implementation[f"progress from {happened.side}"] += 1
        else:
            advance_milestone(
                session, mid, happened.event, actor=actor, reason=happened.reason, new_end=happened.new_end,
                dated=day, now=now,
            )  # fmt: skip
    while upcoming is not None:
        _meet(session, upcoming, attendees, actor)
        upcoming = next(meetings, None)
    for milestone in list_milestones(session):
        result.implementation[f"milestones {standing_on(milestone, AS_OF).state.value}"] += 1
    result.reports = [
        (f"progress-{REPORTED_HALF}.ar.docx",
         render_progress_report(reports.progress_report(session, REPORTED_HALF, "ar", AS_OF))),
        ("plan.ar.docx", render_plan_report(reports.plan_report(session, "ar", AS_OF))),
    ]  # fmt: skip


def _meet(
    session: Session, meeting: tuple[dt.date, str, tuple[str, ...], tuple[str, ...]], attendees: list[str], actor: str
) -> None:
    day, title, topics, outcomes = meeting
    add_meeting(
        session, day, actor=actor, now=on(day, 13), title=title, place=ZOOM, attendees=attendees,
        apologies=APOLOGIES, topics=topics, outcomes=outcomes,
    )  # fmt: skip


# --- the demo's folder ------------------------------------------------------------------------------

DEMO_MARKER = ".ogp-demo"
# What a demo makes before it has written its letters (listed in the marker first, so that a demo
# that stops half-way can still be replaced).
DATABASE_FILES = ("ogp.db", "ogp.db-wal", "ogp.db-shm")


def prepare_folder(folder: Path) -> None:
    """Make `folder` ready for a new demo: new, empty, or holding an earlier demo, whose own files
    (listed in its marker, `DEMO_MARKER`) are removed. Nothing else is ever removed: a folder that
    is not empty and holds no marker, or files the earlier demo did not make where the new one
    writes, are refused (WorkflowError)."""
    if not os.path.lexists(folder):
        return
    if folder.is_symlink() or not folder.is_dir():
        raise WorkflowError(f"{folder} is not a folder; choose another --dir.")
    if not any(folder.iterdir()):
        return
    made = _made_by_earlier_demo(folder)
    if made is None:
        raise WorkflowError(f"{folder} is not empty and holds no earlier demo; choose another --dir.")
    root = folder.resolve()
    for relative in made:
        path = folder / relative
        if root not in path.parent.resolve().parents and path.parent.resolve() != root:
            continue  # a marker edited to point elsewhere: never followed
        if path.is_file() and not path.is_symlink():
            path.unlink()
    for sub in ("letters", "minutes", "reports"):
        with contextlib.suppress(OSError):
            (folder / sub).rmdir()  # only if the demo's files were all it held
    (folder / DEMO_MARKER).unlink()
    kept = [name for name in DATABASE_FILES if os.path.lexists(folder / name)]
    if kept:
        raise WorkflowError(
            f"{folder} holds {', '.join(kept)}, which the earlier demo did not make; nothing else was removed. "
            "Choose another --dir."
        )


def _made_by_earlier_demo(folder: Path) -> list[str] | None:
    marker = folder / DEMO_MARKER
    if marker.is_symlink() or not marker.is_file():
        return None
    try:
        listed = json.loads(marker.read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        return None
    return [item for item in listed if item and not Path(item).is_absolute() and ".." not in Path(item).parts]


def mark_folder(folder: Path, made: list[Path]) -> None:
    """Record in `folder`'s marker what the demo made there (paths inside `folder`)."""
    root = folder.resolve()
    listed = [*DATABASE_FILES, *(str(path.resolve().relative_to(root)) for path in made)]
    note = "Made by 'ogp demo'; the next 'ogp demo' here removes the files listed, and nothing else."
    content = json.dumps({"note": note, "files": listed}, ensure_ascii=False, indent=1) + "\n"
    write_atomic(folder, DEMO_MARKER, content.encode("utf-8"))
