"""Records as plain dicts: the stable shapes `--json` prints (documented in the README)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from states import State, events_from, milestone_events_from
from workflow.ledger import milestone_label
from workflow.milestones import completion
from workflow.models import (
    AuditEntry,
    Conflict,
    Criterion,
    DecidedStanding,
    Entity,
    Evidence,
    Interview,
    Letter,
    Meeting,
    Member,
    Plan,
    Progress,
    Proposal,
    Response,
    ScheduledInterview,
    Score,
    ScoreChange,
)

if TYPE_CHECKING:
    from workflow.commitments import CommitmentText
    from workflow.compliance import Finding
    from workflow.due import DueItem
    from workflow.evaluation import DecidedPlace, Standing
    from workflow.milestones import MilestoneStanding
    from workflow.status import EventCheck, MoveExplanation, Status


def plan_view(plan: Plan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "title": plan.title,
        "period": plan.period,
        "shortlist_size": plan.shortlist_size,
        "commitment_target": plan.commitment_target,
        "letter_prefix": plan.letter_prefix,
        "letter_prefix_en": plan.letter_prefix_en,
        "issuer": plan.issuer,
        "signatory_name": plan.signatory_name,
        "signatory_title": plan.signatory_title,
        "title_en": plan.title_en,
        "issuer_en": plan.issuer_en,
        "signatory_title_en": plan.signatory_title_en,
        "digits": plan.digits,
        "templates_dir": plan.templates_dir,
        "copy_to": list(plan.copy_to),
        "logo": plan.logo is not None,
        "quorum": plan.quorum,
        "reply_within": plan.reply_within,
        "submitted_on": plan.submitted_on.isoformat() if plan.submitted_on else None,
        "criteria": [
            {"code": c.code, "name_ar": c.name_ar, "name_en": c.name_en, "weight": c.weight} for c in plan.criteria
        ],
    }


def entity_view(entity: Entity) -> dict[str, Any]:
    return {
        "id": entity.id,
        "name": entity.name,
        "code": entity.code,
        "addressee": entity.addressee,
        "rank": entity.rank,
        "title": entity.title,
        "language": entity.language,
    }


def proposal_view(proposal: Proposal) -> dict[str, Any]:
    return {
        "id": proposal.id,
        "ref": proposal.ref,
        "title": proposal.title,
        "organization": proposal.organization,
        "state": proposal.state.value,
        "submitted_on": proposal.submitted_on.isoformat(),
        "entities": [entity.code or entity.name for entity in proposal.entities],
        "version": proposal.version,
        "language": proposal.language,
        "lead": (proposal.lead_entity.code or proposal.lead_entity.name) if proposal.lead_entity else None,
    }


def interview_view(interview: Interview) -> dict[str, Any]:
    return {
        "held_on": interview.held_on.isoformat(),
        "platform": interview.platform,
        "notes": interview.notes,
        "needs": interview.needs,
        "plans": interview.plans,
        "solves": interview.solves,
        "members": [link.member.name for link in interview.members],
        "recorded_by": interview.recorded_by,
        "recorded_at": interview.recorded_at,
    }


def decision_view(decided: DecidedStanding | None, late: list[Conflict]) -> dict[str, Any] | None:
    """The standing a proposal was decided on, and who declared a conflict after the decision."""
    if decided is None:
        return None
    return {
        "event": decided.event,
        "rank": decided.rank,
        "ranked": decided.ranked,
        "total": _fraction(decided.total),
        "criteria": {
            code: {"mean": _fraction(c["mean"]), "scorers": c["scorers"], "weight": c["weight"]}
            for code, c in decided.criteria.items()
        },
        "scorers": decided.scorers,
        "eligible": decided.eligible,
        "quorum": decided.quorum,
        "complete": decided.complete,
        "late_conflicts": [{"member": c.member.name, "reason": c.reason, "declared_at": c.declared_at} for c in late],
    }


def _fraction(text: str | None) -> float | None:
    if text is None:
        return None
    numerator, _, denominator = text.partition("/")
    return round(int(numerator) / int(denominator or 1), 3)


def decided_place_view(place: DecidedPlace) -> dict[str, Any]:
    """A decided proposal as `ranking --all` lists it: its standing then, marked as decided."""
    decision = decision_view(place.decided, place.late)
    assert decision is not None
    return {
        "rank": decision["rank"],
        "id": place.proposal.id,
        "ref": place.proposal.ref,
        "title": place.proposal.title,
        "state": place.proposal.state.value,
        "total": decision["total"],
        "criteria": decision["criteria"],
        "scorers": decision["scorers"],
        "eligible": decision["eligible"],
        "quorum": decision["quorum"],
        "complete": decision["complete"],
        "decided": decision["event"],
        "ranked": decision["ranked"],
        "late_conflicts": [c["member"] for c in decision["late_conflicts"]],
    }


def correction_view(entry: AuditEntry) -> dict[str, Any]:
    """A correction of a proposal: when, by whom, why, and each field's old and new value."""
    fields: dict[str, Any] = {}
    for change in entry_changes(entry):
        if change["table"] == "proposals" and change["op"] == "update":
            fields.update(change["fields"])
        elif change["table"] == "proposal_entities":
            fields["entities"] = {"old": None, "new": None}  # the bodies' list; history --json has each row
    return {"seq": entry.seq, "at": entry.at, "actor": entry.actor, "reason": entry.reason, "fields": fields}


def proposal_detail(
    proposal: Proposal,
    decided: DecidedStanding | None = None,
    late: list[Conflict] | None = None,
    corrections: list[AuditEntry] | None = None,
) -> dict[str, Any]:
    return {
        **proposal_view(proposal),
        "email": proposal.email,
        "problem": proposal.problem,
        "solution": proposal.solution,
        "values": list(proposal.values),
        "entities": [entity_view(entity) for entity in proposal.entities],
        "interviews": [interview_view(interview) for interview in proposal.interviews],
        "next_events": [event.value for event in events_from(proposal.state)],
        "decision": decision_view(decided, late or []),
        "corrections": [correction_view(entry) for entry in corrections or []],
    }


def entry_changes(entry: AuditEntry) -> list[dict[str, Any]]:
    """The values an entry's step wrote, as its body records them: per row, the table, the kind of
    change, the row's key, and the fields with their old and new values (none for a checkpoint)."""
    if entry.body is None:
        return []
    body = json.loads(entry.body)
    if body.get("step") == "checkpoint":
        return []
    changes = []
    for change in body.get("changes", []):
        old, new = change.get("old") or {}, change.get("new") or change.get("row") or {}
        fields = sorted({*old, *new}) if change["op"] != "delete" else sorted(old)
        changes.append(
            {
                "table": change["t"],
                "op": change["op"],
                "key": change["key"],
                "fields": {name: {"old": old.get(name), "new": new.get(name)} for name in fields},
            }
        )
    return changes


def audit_view(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at,
        "actor": entry.actor,
        "proposal_id": entry.proposal_id,
        "ref": entry.proposal_ref,
        "event": entry.event,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "reason": entry.reason,
        "letters": list(entry.letters),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
        "db_role": entry.db_role,
        "changes": entry_changes(entry),
    }


def letter_view(letter: Letter) -> dict[str, Any]:
    return {
        "id": letter.id,
        "reference": letter.reference,
        "year": letter.year,
        "number": letter.number,
        "proposal_id": letter.proposal_id,
        "ref": letter.proposal.ref,
        "kind": letter.kind,
        "entity": (letter.entity.code or letter.entity.name) if letter.entity else None,
        "addressee": letter.recipient,
        "language": letter.language,
        "issued_on": letter.issued_on.isoformat(),
        "subject": letter.subject,
        "file_name": letter.file_name,
        "sha256": letter.sha256,
        "digest": letter.digest,
        "audit_seq": letter.audit_seq,
        "void_reason": letter.void_reason,
        "replaces": letter.replaces,
        "size": len(letter.content),
    }


def member_view(member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "name": member.name,
        "organization": member.organization,
        "sector": member.sector,
        "active": member.active,
    }


def meeting_view(meeting: Meeting) -> dict[str, Any]:
    return {
        "id": meeting.id,
        "held_on": meeting.held_on.isoformat(),
        "title": meeting.title,
        "place": meeting.place,
        "attendees": [p.member.name for p in meeting.people if p.role == "attendee"],
        "apologies": [p.member.name for p in meeting.people if p.role == "apology"],
        "topics": list(meeting.topics),
        "outcomes": list(meeting.outcomes),
    }


def held_view(interview: Interview) -> dict[str, Any]:
    """An interview recorded as held, with the proposal it was held about (`interview list --held`)."""
    proposal = interview.proposal
    return {"id": interview.id, "ref": proposal.ref, "title": proposal.title, **interview_view(interview)}


def schedule_view(planned: ScheduledInterview) -> dict[str, Any]:
    held = [i.held_on.isoformat() for i in planned.proposal.interviews]
    return {
        "id": planned.id,
        "ref": planned.proposal.ref,
        "title": planned.proposal.title,
        "at": planned.at.isoformat(timespec="minutes"),
        "platform": planned.platform,
        "state": planned.proposal.state.value,
        "held_on": held[-1] if held else None,
        "scheduled_by": planned.scheduled_by,
        "cancelled": planned.cancelled_reason or None,  # why it was called off; null while it stands
    }


def criterion_view(criterion: Criterion) -> dict[str, Any]:
    return {
        "code": criterion.code,
        "position": criterion.position,
        "name_ar": criterion.name_ar,
        "name_en": criterion.name_en,
        "weight": criterion.weight,
        "scale": [criterion.scale_min, criterion.scale_max],
    }


def score_view(score: Score) -> dict[str, Any]:
    return {
        "member": score.member.name,
        "criterion": score.criterion.code,
        "value": score.value,
        "note": score.note,
        "updated_at": score.updated_at,
        "updated_by": score.updated_by,
    }


def score_change_view(change: ScoreChange, members: dict[int, str], criteria: dict[int, str]) -> dict[str, Any]:
    return {
        "member": members[change.member_id],
        "criterion": criteria[change.criterion_id],
        "old_value": change.old_value,
        "new_value": change.new_value,
        "note": change.note,
        "at": change.at,
        "actor": change.actor,
    }


def conflict_view(conflict: Conflict, ref: str) -> dict[str, Any]:
    return {
        "member": conflict.member.name,
        "ref": ref,
        "reason": conflict.reason,
        "declared_at": conflict.declared_at,
        "declared_by": conflict.declared_by,
        "late": conflict.late,
    }


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def standing_view(place: Standing) -> dict[str, Any]:
    return {
        "rank": place.rank,
        "id": place.proposal.id,
        "ref": place.proposal.ref,
        "title": place.proposal.title,
        "state": place.proposal.state.value,
        "total": _number(place.total),
        "criteria": {
            c.code: {"mean": _number(c.mean), "scorers": c.scorers, "weight": c.weight} for c in place.criteria
        },
        "scorers": place.scorers,
        "eligible": place.eligible,
        "quorum": place.quorum,
        "complete": place.complete,
        "decided": None,
        "ranked": None,
        "late_conflicts": [],
    }


def response_view(response: Response, ref: str) -> dict[str, Any]:
    return {
        "ref": ref,
        "entity": response.entity.code or response.entity.name,
        "agreed": response.agreed,
        "on": response.responded_on.isoformat(),
        "note": response.note,
        "recorded_by": response.recorded_by,
        "recorded_at": response.recorded_at,
    }


# --- after the commitment ----------------------------------------------------------------------------


def evidence_view(item: Evidence) -> dict[str, Any]:
    return {
        "url": item.url or None,
        "file_name": item.file_name or None,
        "size": item.size,
        "sha256": item.sha256 or None,
    }


def progress_view(entry: Progress) -> dict[str, Any]:
    return {
        "id": entry.id,
        "side": entry.side,
        "percent": entry.percent,
        "note": entry.note,
        "on": entry.reported_on.isoformat(),
        "evidence": [evidence_view(e) for e in entry.evidence],
        "recorded_by": entry.recorded_by,
    }


def milestone_view(standing: MilestoneStanding, *, progress: bool = False) -> dict[str, Any]:
    """A milestone as it stands (`progress`: with every progress entry, as `commitment show` gives it)."""
    milestone = standing.milestone
    view = {
        "id": milestone.id,
        "label": milestone_label(milestone.id),
        "ref": milestone.proposal.ref,
        "position": milestone.position,
        "title": milestone.title,
        "output": milestone.output,
        "responsible": milestone.responsible.code or milestone.responsible.name,
        "start": milestone.start_month,
        "end": standing.end_month,
        "planned_end": milestone.planned_end_month,
        "state": standing.state.value,
        "percent": standing.percent,
        "civil_society_percent": standing.civil_society.percent if standing.civil_society else None,
        "next_events": [e.value for e in milestone_events_from(standing.state)],
        "delays": [
            {"dated": d.dated.isoformat(), "reason": d.reason, "new_end": d.new_end_month} for d in standing.delays
        ],
    }
    if progress:
        view["progress"] = [progress_view(p) for p in milestone.progress]
    return view


def commitment_view(text: CommitmentText, standings: list[MilestoneStanding], *, full: bool = False) -> dict[str, Any]:
    """A commitment: the summary `commitment list` gives, or (`full`) its whole template and
    milestones with their progress, as `commitment show` gives it."""
    proposal = text.proposal
    level, percent = completion(standings)
    view: dict[str, Any] = {
        "id": proposal.id,
        "ref": proposal.ref,
        "ogp_id": text.ogp_id or None,
        "title": proposal.title,
        "lead": (proposal.lead_entity.code or proposal.lead_entity.name) if proposal.lead_entity else None,
        "start": text.start or None,
        "end": text.end or None,
        "completion": level.value,
        "percent": percent,
        "milestones": len(standings),
        "edited": text.edited,
    }
    if full:
        view |= {
            "problem": text.problem,
            "status_quo": text.status_quo,
            "description": text.description,
            "how_it_solves": text.how_it_solves,
            "relevance": dict(text.relevance),
            "supporting": list(text.supporting_codes),
            "supporting_orgs": list(text.supporting_orgs),
            "edited_by": text.edited_by or None,
            "edited_at": text.edited_at or None,
            "milestones": [milestone_view(s, progress=True) for s in standings],
        }
    return view


def due_view(item: DueItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "status": item.status,
        "due_on": item.due_on.isoformat() if item.due_on else None,
        "ref": item.ref,
        "subject": item.subject,
        "what": item.what,
        "resolve": item.resolve,
    }


def finding_view(finding: Finding) -> dict[str, Any]:
    return {
        "requirement": finding.requirement,
        "title": finding.title,
        "status": finding.status.value,
        "detail": finding.detail,
        "due_on": finding.due_on.isoformat() if finding.due_on else None,
        "dates": dict(finding.dates),
        "resolve": finding.resolve,
    }


def event_check_view(check: EventCheck) -> dict[str, Any]:
    return {"event": check.event, "allowed": check.allowed, "blockers": list(check.blockers), "needs": check.needs}


def explanation_view(explained: MoveExplanation) -> dict[str, Any]:
    return {
        "ref": explained.ref,
        "event": explained.event,
        "from_state": explained.from_state,
        "to_state": explained.to_state,
        "allowed": explained.allowed,
        "blockers": list(explained.blockers),
        "letters": [{"kind": kind, "addressee": addressee} for kind, addressee in explained.letters],
    }


def status_view(status: Status, quorum: int) -> dict[str, Any]:
    plan = status.plan
    return {
        "plan": plan_view(plan),
        "counts": {state.value: status.counts.get(state.value, 0) for state in State},
        "shortlist": {"taken": status.shortlist_places, "size": plan.shortlist_size},
        "commitments": {"made": status.counts.get(State.COMMITTED.value, 0), "target": plan.commitment_target},
        "active_members": status.active_members,
        "quorum": quorum,
        "waiting": [
            {
                "ref": w.ref,
                "state": w.state,
                "next_event": w.next_event,
                "waits_for": list(w.waits_for),
                "command": w.command,
            }
            for w in status.waiting
        ],
        "warnings": list(status.warnings),
    }
