"""The reasoned response as a .docx in the letters' style: letterhead, right to left in Arabic (left to
right in English), every proposal with the decision on it and the reasons, grouped by outcome.

Written from the site's plain data (`documents.site.data`); paragraphs are assembled on the letters'
skeleton (documents/docx_writer.py), so ten thousand proposals cost string building, not a document
model, and the same record gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from documents.dates import gregorian_ar, gregorian_en, hijri_ar, hijri_en
from documents.docx_writer import LetterStyle, Para, Skeleton
from documents.package import zip_parts

if TYPE_CHECKING:
    from documents.site.data import ProposalEntry, SiteData

FONTS = {"ar": "Simplified Arabic", "en": "Times New Roman"}
ORDINALS_AR = ("أولاً", "ثانياً", "ثالثاً", "رابعاً", "خامساً", "سادساً")

WORDS: dict[str, dict[str, str]] = {
    "ar": {
        "title": "الرد المعلل على المساهمات المقدمة",
        "date": "التاريخ",
        "corresponding": "الموافق",
        "head": "رأس سجل التدقيق عند النشر",
        "intro": "يبيّن هذا الرد كيف نظرت مجموعة العمل في كل مقترح قُدّم إلى الخطة: ما اعتُمد منها التزاماً، وما لم "
        "يُعتمد وسبب ذلك كما سُجّل عند اتخاذ القرار.",
        "decision": "القرار",
        "on": "بتاريخ",
        "reason": "السبب",
        "standing": "التقييم",
        "weighted": "المتوسط الموزون",
        "rank": "الترتيب",
        "of": "من",
        "cut_line": "خط القطع (أدنى متوسط في القائمة المختصرة)",
        "bodies": "الجهات التي خوطبت",
        "lead": "الجهة القائدة",
        "agreed": "وافقت",
        "declined": "اعتذرت",
        "waiting": "لم ترد بعد",
        "open": "لم يُتخذ قرار نهائي بعد؛ حالته الآن",
        "sep": "؛ ",
        "committed": "اعتُمدت التزاماتٍ في الخطة",
        "not_adopted": "لم تُعتمد",
        "withdrawn": "سحبها مقدّموها",
        "discarded": "أُلغيت لتسجيلها خطأً",
        "open_group": "قيد الدراسة",
    },
    "en": {
        "title": "Reasoned response to the contributions received",
        "date": "Date",
        "head": "Audit chain head at publication",
        "intro": "This shows how the working group considered each proposal submitted to the plan: which became "
        "commitments, and which were not adopted and why, as recorded when the decision was taken.",
        "decision": "Decision",
        "on": "on",
        "reason": "Reason",
        "standing": "Evaluation",
        "weighted": "weighted mean",
        "rank": "rank",
        "of": "of",
        "cut_line": "cut-line (the lowest mean on the shortlist)",
        "bodies": "Bodies written to",
        "lead": "Lead body",
        "agreed": "agreed",
        "declined": "declined",
        "waiting": "no answer yet",
        "open": "No final decision yet; it is now",
        "sep": "; ",
        "committed": "Adopted as commitments of the plan",
        "not_adopted": "Not adopted",
        "withdrawn": "Withdrawn by their proposers",
        "discarded": "Discarded: registered by mistake",
        "open_group": "Still under consideration",
    },
}
STATES = {
    "ar": {"submitted": "مقدَّم", "interviewed": "أُجريت المقابلة", "shortlisted": "في القائمة المختصرة",
           "referred": "أُحيل إلى الجهات الحكومية"},
    "en": {"submitted": "submitted", "interviewed": "interviewed", "shortlisted": "shortlisted",
           "referred": "referred to government bodies"},
}  # fmt: skip
GROUP_KEYS = {"committed": "committed", "open": "open_group", "not_adopted": "not_adopted",
              "withdrawn": "withdrawn", "discarded": "discarded"}  # fmt: skip


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _entry(p: ProposalEntry, language: str, words: dict[str, str]) -> list[Para]:
    d = p.decision
    day = gregorian_ar if language == "ar" else gregorian_en
    lines = [Para(f"{p.ref} – {p.title} – {p.organization}", bold=True, space_after=2)]
    if d.outcome == "open":
        state = STATES[language].get(d.state, d.state)
        lines.append(Para(f"{words['open']}: {state}", space_after=2))
    else:
        when = f" {words['on']} {day(d.decided_on)}" if d.decided_on else ""
        lines.append(Para(f"{words['decision']}: {words[GROUP_KEYS[d.outcome]]}{when}", space_after=2))
    if d.reason:
        lines.append(Para(f"{words['reason']}: {d.reason}", space_after=2))
    s = d.standing
    if s is not None:
        comma = "، " if language == "ar" else ", "
        text = (
            f"{words['standing']}: {words['weighted']} {_num(s.total)}{comma}"
            f"{words['rank']} {s.rank} {words['of']} {s.ranked}"
        )
        if s.event != "shortlist" and d.cut_line is not None:
            text += f"{words['sep']}{words['cut_line']} {_num(d.cut_line)}"
        lines.append(Para(text, space_after=2))
    if d.referrals:
        answers = [f"{r.body.name} ({words[r.answer] if r.answer else words['waiting']})" for r in d.referrals]
        lines.append(Para(f"{words['bodies']}: {words['sep'].join(answers)}", space_after=2))
    if d.lead is not None:
        lines.append(Para(f"{words['lead']}: {d.lead.name}", space_after=2))
    lines[-1] = Para(lines[-1].text, lines[-1].align, lines[-1].bold, space_after=10)
    return lines


def render_reasoned_response(site: SiteData, language: str, proposals: Sequence[ProposalEntry]) -> bytes:
    """The reasoned response's .docx bytes in `language` (ar or en)."""
    from documents.site.data import OUTCOMES

    words = WORDS[language]
    arabic = language == "ar"
    plan = site.plan
    letterhead = plan.letterhead.get(language, ())
    style = LetterStyle(arabic, FONTS[language], 13.0, letterhead, plan.logo, "ar-JO" if arabic else "en-GB")
    day = site.published_on
    paragraphs = [
        Para(words["title"], "center", bold=True, size=16, space_after=2),
        Para(f"{plan.title[language]} {plan.period}", "center", bold=True, space_after=10),
    ]
    if arabic:
        paragraphs += [
            Para(f"{words['date']}: {hijri_ar(day)}", "end", space_after=0),
            Para(f"{words['corresponding']}: {gregorian_ar(day)}", "end", space_after=0),
        ]
    else:
        paragraphs.append(Para(f"{words['date']}: {gregorian_en(day)} ({hijri_en(day)})", "end", space_after=0))
    paragraphs += [
        Para(f"{words['head']}: {site.head_seq}:{site.head_hash}", "end", size=9, space_after=10),
        Para(words["intro"], "both", space_after=10),
    ]
    number = 0
    for outcome in OUTCOMES:
        chosen = [p for p in proposals if p.decision.outcome == outcome]
        if not chosen:
            continue
        heading = f"{words[GROUP_KEYS[outcome]]} ({len(chosen)})"
        if arabic:
            heading = f"{ORDINALS_AR[number]}: {heading}"
        number += 1
        paragraphs.append(Para(heading, bold=True, size=15, space_after=6))
        for p in chosen:
            paragraphs += _entry(p, language, words)
    parts = Skeleton(style).assemble(paragraphs, title=words["title"], issued_on=day)
    return zip_parts(parts)
