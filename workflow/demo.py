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
from documents.site import Staging
from states import Event, State
from workflow.audit import current_head
from workflow.errors import GuardError, WorkflowError
from workflow.evaluation import (
    ScoreInput,
    declare_conflict,
    list_criteria,
    record_response,
    record_score,
    score_problems,
)
from workflow.interviews import record_interview, schedule_interview
from workflow.members import add_meeting, add_member, minutes
from workflow.moves import PendingLetter, advance
from workflow.plans import PlanSettings, add_entity, configure_plan, current_plan
from workflow.proposals import ProposalInput, add_proposal, list_proposals
from workflow.publish import PublishResult, publish
from workflow.shortlist import ShortlistResult, shortlist_top

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
    ("SAMPLE-06", "GTD", False, "المقترح مرتبط بنظام شراء جديد قيد الإعداد"),
    ("SAMPLE-07", "ROS", True, ""),
)
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
    own calendar; with `site`, end by publishing the national repository into it (`ogp publish`)."""
    now = on(SET_UP)
    result = DemoResult()
    configure_plan(session, PLAN, actor=actor, now=now)
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
    result.minutes = render_minutes(minutes(meeting, plan.title, plan.period, str(current_head(session))))
    result.minutes_name = f"meeting-{meeting.id}-{meeting.held_on.isoformat()}.docx"
    result.final.update(p.state.value for p in list_proposals(session))
    if site is not None:
        result.publication = publish(
            session, site, actor=actor, now=on(PUBLISHED_ON), workspace_folder=workspace_folder
        )
    return result


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
    for sub in ("letters", "minutes"):
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
