"""The audit entries the service writes: ids, codes and the professional's own words only."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from plugin_core.formats import serialise
from plugin_core.model import (
    Assessment,
    Decision,
    DecisionEscalation,
    FirstContact,
    Lead,
    Referral,
)
from plugin_core.rules import recheck
from plugin_core.rules.routing import routes_for
from plugin_core.store.audit import AuditEntry


def contact_audit(
    contact: FirstContact, assessment: Assessment, found: recheck.Recheck | None = None
) -> AuditEntry:
    details: dict[str, Any] = {
        "household_known": assessment.household_known,
        "children": len(assessment.children),
        "indicators": sorted({i.kind.value for i in assessment.indicators}),
        "unclassified_codes": len(assessment.unclassified),
        "prompts": [f"{p.code.value}:{p.severity.value}" for p in assessment.prompts],
        "authority": assessment.authority.authority.id if assessment.authority.authority else None,
    }
    if found is not None:
        # The earlier decision in its re-check period, and whether the prompts were shown.
        details["recheck"] = {
            "decision": found.decision_id,
            "shown": not found.suppresses,
            "changed": [c.value for c in found.changes],
        }
    return AuditEntry(
        kind="contact.accepted",
        actor=contact.source,
        subject=contact.id,
        details=details,
    )


def decision_audit(
    decision: Decision, referrals: Sequence[Referral], stored: str | None = None
) -> AuditEntry:
    """``stored``: the decision as ``serialise.dumps`` gives it, when already made."""
    return AuditEntry(
        kind="decision.recorded",
        actor=decision.decided_by.id,
        subject=decision.id,
        details={
            "contact": decision.contact_id,
            "role": decision.decided_by.role,
            "decided_at": decision.decided_at.isoformat(),
            "share": decision.share,
            "level_of_need": decision.level_of_need,
            "lawful_basis": decision.lawful_basis.value if decision.lawful_basis else None,
            "consent": decision.consent.value if decision.consent else None,
            "consent_not_sought_reason": decision.consent_not_sought_reason,
            "immediate_danger": decision.immediate_danger,
            "lado": decision.concerns_person_working_with_children,
            "lado_criteria": [c.value for c in decision.lado_criteria],
            "consent_basis_confirmed": decision.consent_basis_confirmed,
            "escalated_to": _lead_data(decision.escalated_to),
            "advice_sought": _advice_data(decision),
            "reasons": decision.reasons,
            "what_shared": decision.what_shared,
            "override": decision.no_action_override_reason,
            "with_whom": [f"{r.authority_id or 'police'}:{r.route.value}" for r in referrals],
            "routes": [r.value for r in routes_for(decision)],
            "record_sha256": record_digest(stored or serialise.dumps(decision)),
        },
    )


def record_digest(stored: str) -> str:
    """The digest of a row's record exactly as stored: an edit to the row no longer matches the
    digest its audit entry holds."""
    return hashlib.sha256(stored.encode("utf-8")).hexdigest()


def referral_audit(decision: Decision, referral: Referral, stored: str | None = None) -> AuditEntry:
    """``stored``: the referral as ``serialise.dumps`` gives it, when already made."""
    return AuditEntry(
        "referral.created",
        decision.decided_by.id,
        referral.id,
        {
            "route": referral.route.value,
            "authority": referral.authority_id,
            "urgent": referral.urgent,
            "due_by": referral.due_by.isoformat(),
            "record_sha256": record_digest(stored or serialise.dumps(referral)),
        },
    )


def escalation_audit(escalation: DecisionEscalation) -> AuditEntry:
    return AuditEntry(
        kind="decision.escalated",
        actor=escalation.escalated_by,
        subject=escalation.id,
        details={
            "decision": escalation.decision_id,
            "contact": escalation.contact_id,
            "kind": escalation.kind.value,
            "level_of_need": escalation.level_of_need,
            "immediate_danger": escalation.immediate_danger,
            "lead": _lead_data(escalation.lead),
        },
    )


def _lead_data(lead: Lead | None) -> dict[str, str] | None:
    if lead is None:
        return None
    return {"name": lead.name, "role": lead.role, "contact": lead.contact}


def _advice_data(decision: Decision) -> dict[str, str | None] | None:
    advice = decision.advice_sought
    if advice is None:
        return None
    return {
        "name": advice.name,
        "role": advice.role,
        "sought_at": advice.sought_at.isoformat() if advice.sought_at else None,
        "advice": advice.advice,
    }
