"""The site's open data: each table as CSV (UTF-8 with a BOM, as Excel opens it; formula-looking cells
neutralised) and as JSON, and a Frictionless Data package (data/datapackage.json) describing them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from documents.site.data import Label, ProposalEntry, SiteData
from documents.text import neutralise

Row = dict[str, Any]


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # a Table Schema type: string, integer, number, boolean, date, array, object
    description: Label


@dataclass(frozen=True)
class Resource:
    """One table of the open data: its files, its fields, and how a row is made."""

    name: str
    title: Label
    fields: tuple[Field, ...]
    rows: Callable[[SiteData, Sequence[ProposalEntry]], list[Row]]

    @property
    def files(self) -> tuple[str, str]:
        return f"{self.name}.csv", f"{self.name}.json"


def _f(name: str, kind: str, ar: str, en: str) -> Field:
    return Field(name, kind, Label(ar, en))


def _body(b: Any) -> str:
    return str(b.key) if b is not None else ""


def _proposal_rows(site: SiteData, proposals: Sequence[ProposalEntry]) -> list[Row]:
    return [
        {
            "ref": p.ref, "title": p.title, "organization": p.organization,
            "submitted_on": p.submitted_on.isoformat(), "state": p.state, "values": list(p.value_codes),
            "bodies": [b.key for b in p.bodies], "problem": p.problem, "solution": p.solution,
        }
        for p in proposals
    ]  # fmt: skip


def _response_rows(site: SiteData, proposals: Sequence[ProposalEntry]) -> list[Row]:
    rows = []
    for p in proposals:
        d, s = p.decision, p.decision.standing
        rows.append(
            {
                "ref": p.ref, "title": p.title, "organization": p.organization, "outcome": d.outcome,
                "state": d.state, "event": d.event, "decided_on": d.decided_on.isoformat() if d.decided_on else None,
                "left_at": d.left_at, "reason": d.reason,
                "rank": s.rank if s else None, "ranked": s.ranked if s else None,
                "weighted_mean": s.total if s else None, "cut_line": d.cut_line,
                "scorers": s.scorers if s else None, "eligible": s.eligible if s else None,
                "criteria": {c.code: {"mean": c.mean, "scorers": c.scorers} for c in s.criteria} if s else {},
                "referred_to": [r.body.key for r in d.referrals],
                "answers": {r.body.key: r.answer or None for r in d.referrals},
                "lead": _body(d.lead) or None, "conflicts": d.conflicts, "late_conflicts": d.late_conflicts,
            }
        )  # fmt: skip
    return rows


def _letter_rows(site: SiteData, proposals: Sequence[ProposalEntry]) -> list[Row]:
    return [
        {
            "reference": letter.reference, "issued_on": letter.issued_on.isoformat(), "kind": letter.kind,
            "body": _body(letter.body) or None, "body_name": letter.body.name if letter.body else None,
            "ref": letter.ref, "language": letter.language, "void": letter.void, "replaces": letter.replaces,
        }
        for letter in site.letters
    ]  # fmt: skip


def _meeting_rows(site: SiteData, proposals: Sequence[ProposalEntry]) -> list[Row]:
    return [
        {
            "id": m.id, "held_on": m.held_on.isoformat(), "title": m.title, "place": m.place,
            "attendees": list(m.attendees), "apologies": list(m.apologies), "topics": list(m.topics),
            "outcomes": list(m.outcomes), "minutes": f"downloads/minutes/{m.minutes_file}",
        }
        for m in site.meetings
    ]  # fmt: skip


def _member_rows(site: SiteData, proposals: Sequence[ProposalEntry]) -> list[Row]:
    return [
        {"name": m.name, "organization": m.organization, "sector": m.sector, "active": m.active} for m in site.members
    ]


def _publication_rows(site: SiteData, proposals: Sequence[ProposalEntry]) -> list[Row]:
    return [
        {
            "published_on": p.published_on.isoformat(), "head_seq": p.head_seq, "head_hash": p.head_hash,
            "manifest_sha256": p.manifest_sha256 or None, "languages": list(p.languages),
        }
        for p in site.publications
    ]  # fmt: skip


def _score_rows(site: SiteData, proposals: Sequence[ProposalEntry]) -> list[Row]:
    return [
        {"ref": p.ref, "member": s.member, "criterion": s.criterion, "value": s.value, "counted": s.counted}
        for p in proposals
        for s in p.scores
    ]


_REF = _f("ref", "string", "الرقم المرجعي للمقترح", "the proposal's reference")
_TITLE = _f("title", "string", "عنوان المقترح", "the proposal's title")
_ORG = _f("organization", "string", "الجهة مقدمة المقترح", "the proposing organisation")
_STATES = "submitted, interviewed, shortlisted, referred, committed, rejected, withdrawn, discarded"
_STATE = _f("state", "string", f"الحالة: {_STATES}", f"the state: {_STATES}")

RESOURCES: tuple[Resource, ...] = (
    Resource("proposals", Label("سجل المساهمات", "Contribution register"), (
        _REF, _TITLE, _ORG,
        _f("submitted_on", "date", "تاريخ التقديم", "the date it was submitted"),
        _STATE,
        _f("values", "array", "قيم الشراكة التي يخدمها (رموز، يفصل بينها ; في CSV)",
           "the OGP values it serves (codes; separated by ; in CSV)"),
        _f("bodies", "array", "الجهات الحكومية ذات العلاقة (رموزها، يفصل بينها ;)",
           "the relevant government bodies (their codes; separated by ;)"),
        _f("problem", "string", "المشكلة العامة", "the public problem"),
        _f("solution", "string", "الحل المقترح", "the proposed solution"),
    ), _proposal_rows),
    Resource("response", Label("الرد المعلل", "Reasoned response"), (
        _REF, _TITLE, _ORG,
        _f("outcome", "string", "النتيجة: committed, open, not_adopted, withdrawn, discarded",
           "the outcome: committed, open, not_adopted, withdrawn, discarded"),
        _STATE,
        _f("event", "string", "الخطوة التي حسمت أمره (commit, reject, withdraw, discard)",
           "the move that decided it (commit, reject, withdraw, discard)"),
        _f("decided_on", "date", "تاريخ القرار", "the date of the decision"),
        _f("left_at", "string", "الحالة التي كان فيها عند القرار", "the state it was in when decided"),
        _f("reason", "string", "السبب المسجل", "the reason recorded"),
        _f("rank", "integer", "ترتيبه عند قرار مجموعة العمل", "its rank when the working group decided on it"),
        _f("ranked", "integer", "عدد المقترحات المرتبة حينها", "how many proposals were ranked then"),
        _f("weighted_mean", "number", "المتوسط الموزون لمتوسطات المعايير", "the weighted mean of the criteria means"),
        _f("cut_line", "number", "أدنى متوسط موزون في القائمة المختصرة (لما لم يُختر)",
           "the lowest weighted mean on the shortlist (for proposals not shortlisted)"),
        _f("scorers", "integer", "عدد الأعضاء المؤهلين الذين قيّموه", "eligible members who scored it"),
        _f("eligible", "integer", "عدد الأعضاء المؤهلين لتقييمه", "members eligible to score it"),
        _f("mean_CRITERION", "number", "متوسط كل معيار (عمود لكل معيار في CSV؛ وفي JSON الحقل criteria)",
           "each criterion's mean (a column per criterion in CSV; the field criteria in JSON)"),
        _f("referred_to", "array", "الجهات التي أُحيل إليها", "the bodies it was referred to"),
        _f("answers", "object", "رد كل جهة: agreed أو declined (في CSV: ROS:agreed;…)",
           "each body's answer: agreed or declined (in CSV: ROS:agreed;…)"),
        _f("lead", "string", "الجهة القائدة للالتزام", "the body leading the commitment"),
        _f("conflicts", "integer", "أعضاء استُبعدوا لتضارب المصالح", "members left out for a conflict of interest"),
        _f("late_conflicts", "integer", "تضارب مصالح أُعلن بعد القرار", "conflicts declared after the decision"),
    ), _response_rows),
    Resource("letters", Label("سجل الكتب الرسمية", "Letters register"), (
        _f("reference", "string", "رقم الكتاب", "the letter's number"),
        _f("issued_on", "date", "تاريخ الكتاب", "its date"),
        _f("kind", "string",
           "نوعه: referral, commitment, acceptance, referral_closed, rejection, invitation, cancellation, followup",
           "its kind: referral, commitment, acceptance, referral_closed, rejection, invitation, cancellation, "
           "followup"),
        _f("body", "string", "رمز الجهة الحكومية المرسل إليها؛ فارغ للكتب إلى مقدّمي المقترحات",
           "the code of the government body addressed; empty for letters to proposers"),
        _f("body_name", "string", "اسم الجهة", "the body's name"),
        _REF,
        _f("language", "string", "لغة الكتاب", "the letter's language"),
        _f("void", "boolean", "ملغى", "void"),
        _f("replaces", "string", "رقم الكتاب الذي حل محله", "the number of the letter it replaces"),
    ), _letter_rows),
    Resource("meetings", Label("اجتماعات مجموعة العمل", "Meetings of the working group"), (
        _f("id", "integer", "رقم الاجتماع", "the meeting's number"),
        _f("held_on", "date", "تاريخه", "its date"),
        _f("title", "string", "عنوانه", "its title"),
        _f("place", "string", "مكانه", "its place"),
        _f("attendees", "array", "الحضور", "who attended"),
        _f("apologies", "array", "المعتذرون", "who sent apologies"),
        _f("topics", "array", "المواضيع", "the topics discussed"),
        _f("outcomes", "array", "المخرجات", "the outcomes"),
        _f("minutes", "string", "ملف المحضر", "the minutes' file"),
    ), _meeting_rows),
    Resource("members", Label("أعضاء مجموعة العمل", "Members of the working group"), (
        _f("name", "string", "الاسم", "the name"),
        _f("organization", "string", "الجهة", "the organisation"),
        _f("sector", "string", "القطاع: government, civil-society, private",
           "the sector: government, civil-society, private"),
        _f("active", "boolean", "عضو حالي", "a current member"),
    ), _member_rows),
    Resource("publications", Label("سجل تحديثات المستودع", "The repository's update log"), (
        _f("published_on", "date", "تاريخ النشر", "the date of publication"),
        _f("head_seq", "integer", "رقم رأس سجل التدقيق المنشور", "the sequence number of the chain head published"),
        _f("head_hash", "string", "بصمته", "its hash"),
        _f("manifest_sha256", "string", "بصمة manifest.sha256 لتلك النسخة (فارغ لهذه النسخة)",
           "the sha256 of that publication's manifest.sha256 (empty for this one)"),
        _f("languages", "array", "لغات النسخة", "its languages"),
    ), _publication_rows),
)  # fmt: skip
SCORES = Resource("scores", Label("التقييمات بأسماء الأعضاء", "Scores by member"), (
    _REF,
    _f("member", "string", "العضو", "the member"),
    _f("criterion", "string", "رمز المعيار", "the criterion's code"),
    _f("value", "integer", "الدرجة", "the score"),
    _f("counted", "boolean", "محتسبة في المتوسطات", "counted in the means"),
), _score_rows)  # fmt: skip


def resources(site: SiteData) -> tuple[Resource, ...]:
    """The tables this publication carries (scores by member only with `--name-scorers`)."""
    return (*RESOURCES, SCORES) if site.name_scorers else RESOURCES


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    if isinstance(value, dict):
        return ";".join(f"{key}:{'' if item is None else item}" for key, item in value.items())
    return str(value)


def _csv(rows: list[Row], columns: list[str]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralise(_cell(row.get(column))) for column in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _columns(resource: Resource, site: SiteData) -> list[str]:
    columns = []
    for f in resource.fields:
        if f.name == "mean_CRITERION":
            columns += [f"mean_{c.code}" for c in site.plan.criteria]
        else:
            columns.append(f.name)
    return columns


def _flat(row: Row) -> Row:
    """A response row for CSV: each criterion's mean as its own column."""
    flat = {k: v for k, v in row.items() if k != "criteria"}
    for code, values in row.get("criteria", {}).items():
        flat[f"mean_{code}"] = values["mean"]
    return flat


def _json(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def files(site: SiteData, proposals: Sequence[ProposalEntry]) -> dict[str, bytes]:
    """data/*.csv, data/*.json and data/datapackage.json."""
    out: dict[str, bytes] = {}
    package: list[dict[str, Any]] = []
    for resource in resources(site):
        rows = resource.rows(site, proposals)
        columns = _columns(resource, site)
        csv_name, json_name = resource.files
        out[f"data/{csv_name}"] = _csv([_flat(r) for r in rows], columns)
        out[f"data/{json_name}"] = _json(rows)
        fields = []
        for column in columns:
            spec = next((f for f in resource.fields if f.name == column), None)
            if spec is None:  # a criterion's mean
                code = column.removeprefix("mean_")
                fields.append({"name": column, "type": "number", "description": f"the mean score on {code}"})
            else:
                kind = "string" if spec.type in ("array", "object") else spec.type
                fields.append({"name": column, "type": kind, "description": spec.description.en})
        package.append(
            {
                "name": resource.name,
                "title": resource.title.en,
                "path": csv_name,
                "format": "csv",
                "encoding": "utf-8-sig",
                "schema": {"fields": fields},
            }
        )
    out["data/datapackage.json"] = _json(
        {
            "name": "ogp-national-repository",
            "title": site.plan.title.en or site.plan.title.ar,
            "created": site.published_on.isoformat(),
            "resources": package,
        }
    )
    return out
