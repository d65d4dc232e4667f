"""The reports' plain data, from the record: the self-assessment progress report for a half-year
and the action plan in OGP's template (rendered by documents/reports.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from documents.reports import (
    REPORT_LANGUAGES,
    CommitmentPart,
    DelayEntry,
    EvidenceItem,
    MilestoneLine,
    PlanReport,
    ProgressEntry,
    ProgressReport,
    ReportFrame,
)
from workflow import audit
from workflow.commitments import commitment_text, list_commitments
from workflow.milestones import completion, label, milestones_of, standing_on
from workflow.models import Evidence, Milestone, Plan, Proposal
from workflow.outbox import letterhead
from workflow.periods import HalfYear
from workflow.plans import current_plan
from workflow.vocabulary import VALUE_NAMES_AR, VALUE_NAMES_EN, OgpValue


def frame(session: Session, plan: Plan, language: str, day: dt.date) -> ReportFrame:
    """The report's frame: the letterhead as letters carry it, the plan, the date, the chain's head."""
    arabic = language == "ar"
    lines = letterhead(plan, language) if language in REPORT_LANGUAGES else ()
    return ReportFrame(
        language, lines, plan.title if arabic else plan.title_en, plan.period, day,
        str(audit.current_head(session)),
    )  # fmt: skip


def _evidence(item: Evidence) -> EvidenceItem:
    return EvidenceItem(item.url) if item.url else EvidenceItem(item.file_name, item.sha256)


def _milestone(milestone: Milestone, day: dt.date, period: HalfYear | None) -> MilestoneLine:
    standing = standing_on(milestone, day)
    reported = [
        p for p in milestone.progress if p.reported_on <= day and (period is None or period.contains(p.reported_on))
    ]
    entries = tuple(
        ProgressEntry(p.side, p.percent, p.note, p.reported_on, tuple(_evidence(e) for e in p.evidence))
        for p in sorted(reported, key=lambda p: (p.reported_on, p.id))
    )
    return MilestoneLine(
        label(milestone.id), milestone.title, milestone.output,
        milestone.responsible.code or milestone.responsible.name, milestone.start_month, standing.end_month,
        milestone.planned_end_month, standing.state.value, standing.percent,
        standing.civil_society.percent if standing.civil_society is not None else None,
        entries, tuple(DelayEntry(d.dated, d.reason, d.new_end_month) for d in standing.delays),
    )  # fmt: skip


def commitment_part(
    session: Session, proposal: Proposal, language: str, day: dt.date, period: HalfYear | None = None
) -> CommitmentPart:
    """One commitment as a report shows it, its milestones as they stood on `day` (with the
    progress reported in `period`, or all of it)."""
    text = commitment_text(session, proposal)
    milestones = milestones_of(session, proposal)
    level, percent = completion([standing_on(m, day) for m in milestones])
    names = VALUE_NAMES_AR if language == "ar" else VALUE_NAMES_EN
    lead = proposal.lead_entity
    return CommitmentPart(
        ref=proposal.ref,
        ogp_id=text.ogp_id,
        title=proposal.title,
        lead=lead.name if lead else "",
        start=text.start,
        end=text.end,
        problem=text.problem,
        status_quo=text.status_quo,
        description=text.description,
        how_it_solves=text.how_it_solves,
        relevance=tuple((names[OgpValue(code)], said) for code, said in text.relevance.items()),
        supporting=tuple(text.supporting),
        supporting_orgs=tuple(text.supporting_orgs),
        completion=level.value,
        percent=percent,
        milestones=tuple(_milestone(m, day, period) for m in milestones),
    )


def progress_report(session: Session, period: HalfYear, language: str, today: dt.date) -> ProgressReport:
    """The self-assessment report for `period`: each commitment as it stood at the period's end
    (or today, if the period is under way), with the progress reported in the period."""
    plan = current_plan(session)
    day = min(period.end, today)
    parts = tuple(commitment_part(session, p, language, day, period) for p in list_commitments(session))
    return ProgressReport(
        frame(session, plan, language, today), period.year, period.half, period.start, period.end, parts
    )


def plan_report(session: Session, language: str, today: dt.date) -> PlanReport:
    """The action plan in OGP's template, one section per commitment."""
    plan = current_plan(session)
    parts = tuple(commitment_part(session, p, language, today) for p in list_commitments(session))
    return PlanReport(frame(session, plan, language, today), parts)
