"""Records as plain dicts: the stable shapes `--json` prints (documented in the README)."""

from __future__ import annotations

from typing import Any

from states import events_from
from workflow.models import AuditEntry, Entity, Interview, Letter, Plan, Proposal


def plan_view(plan: Plan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "title": plan.title,
        "period": plan.period,
        "shortlist_size": plan.shortlist_size,
        "commitment_target": plan.commitment_target,
        "letter_prefix": plan.letter_prefix,
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
        "recorded_by": interview.recorded_by,
        "recorded_at": interview.recorded_at,
    }


def proposal_detail(proposal: Proposal) -> dict[str, Any]:
    return {
        **proposal_view(proposal),
        "email": proposal.email,
        "problem": proposal.problem,
        "solution": proposal.solution,
        "values": list(proposal.values),
        "entities": [entity_view(entity) for entity in proposal.entities],
        "interviews": [interview_view(interview) for interview in proposal.interviews],
        "next_events": [event.value for event in events_from(proposal.state)],
    }


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
    }


def letter_view(letter: Letter) -> dict[str, Any]:
    return {
        "id": letter.id,
        "reference": letter.reference,
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
        "audit_seq": letter.audit_seq,
        "size": len(letter.content),
    }
