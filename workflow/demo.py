"""The demo: the seed's Fifth National Action Plan played through every state, on SAMPLE data.

The bodies and organisations are those of the seed; the proposals, their wording and outcomes are
invented for the demo and marked SAMPLE in their refs.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from states import Event, State
from workflow.errors import GuardError
from workflow.moves import PendingLetter, advance
from workflow.plans import PlanSettings, add_entity, configure_plan
from workflow.proposals import ProposalInput, add_proposal, list_proposals, record_interview

PLAN = PlanSettings(
    title="الخطة الوطنية الخامسة لمبادرة شراكة الحكومات الشفافة",
    period="2021-2023",
    shortlist_size=7,
    commitment_target=5,
    signatory_title="وزير التخطيط والتعاون الدولي",
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

INTERVIEW_DAY = dt.date(2021, 7, 28)  # the seed's second meeting, held on Zoom
CONSENSUS = "باختيار مجموعة العمل وبإجماع معظم أعضائها"
WITHDRAWN = {"SAMPLE-10": "انسحبت الجهة مقدمة المقترح قبل المقابلة لعدم جاهزيتها للتنفيذ ضمن مدة الخطة"}
NOT_SHORTLISTED = {
    "SAMPLE-08": "يتقاطع المقترح مع منظومة الشكاوى الحكومية القائمة؛ أوصت المجموعة بدمجه فيها",
    "SAMPLE-09": "لم يحقق المقترح الحد الأدنى في معيار الانسجام مع الأولويات الاستراتيجية الوطنية",
}
NOT_COMMITTED = {
    "SAMPLE-06": "اعتذرت الجهة الحكومية لارتباط المقترح بمشروع نظام شراء جديد قيد الإعداد",
    "SAMPLE-07": "لم يتسن الاتفاق مع الجهة الحكومية على نطاق الالتزام ضمن مدة الخطة",
}


@dataclass
class DemoResult:
    """What the demo did, for its summary."""

    letters: list[PendingLetter] = field(default_factory=list)
    reached: Counter[str] = field(default_factory=Counter)
    final: Counter[str] = field(default_factory=Counter)
    refusals: list[str] = field(default_factory=list)


def play(
    session: Session, *, actor: str, now: dt.datetime | None = None, workspace_folder: Path | None = None
) -> DemoResult:
    """Build the plan, its bodies and proposals, and move every proposal to its end."""
    now = now or dt.datetime.now(dt.UTC)
    result = DemoResult()
    configure_plan(session, PLAN)
    for name, code, rank, title in ENTITIES:
        add_entity(session, name, code, rank=rank, title=title)

    def move(ref: str, event: Event, reason: str = "") -> None:
        done = advance(session, ref, event, actor=actor, reason=reason, now=now, workspace_folder=workspace_folder)
        result.letters.extend(done.letters)
        result.reached[done.proposal.state.value] += 1

    for ref, title, org, problem, solution, values, bodies, submitted in PROPOSALS:
        language = "en" if ref in ENGLISH_PROPOSERS else "ar"
        raw = ProposalInput(
            title, org, ref, f"{ref.lower()}@example.org", problem, solution, values, bodies, submitted, language
        )
        add_proposal(session, raw, actor=actor, now=now)
        result.reached[State.SUBMITTED.value] += 1
    for ref, reason in WITHDRAWN.items():
        move(ref, Event.WITHDRAW, reason)
    for proposal in list_proposals(session, State.SUBMITTED):
        record_interview(session, proposal.ref, INTERVIEW_DAY, actor=actor, platform="Zoom", now=now)
        move(proposal.ref, Event.INTERVIEW)
    for ref, reason in NOT_SHORTLISTED.items():
        move(ref, Event.REJECT, reason)
    for proposal in list_proposals(session, State.INTERVIEWED):
        move(proposal.ref, Event.SHORTLIST, CONSENSUS)
    for proposal in list_proposals(session, State.SHORTLISTED):
        move(proposal.ref, Event.REFER)
    for proposal in list_proposals(session, State.REFERRED):
        if proposal.ref not in NOT_COMMITTED:
            move(proposal.ref, Event.COMMIT, "وافقت الجهة الحكومية على تبني الالتزام")
    for ref, reason in NOT_COMMITTED.items():
        try:  # the plan's five places are taken: the rules refuse a sixth commitment
            move(ref, Event.COMMIT)
        except GuardError as refusal:
            result.refusals.append(str(refusal))
        move(ref, Event.REJECT, reason)
    result.final.update(p.state.value for p in list_proposals(session))
    return result
