"""The JSON shapes of the API's answers: ids, codes, times and counts, as hosts parse them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from plugin_core.contract import Accepted
from plugin_core.formats import serialise
from plugin_core.formats.contact_json import assessment_to_dict
from plugin_core.model import Call, DecisionEscalation, Referral
from plugin_core.service import (
    AwaitedCall,
    ContactRecord,
    RecordedDecision,
    StoredContact,
    StoredReferral,
)


def contact_summary(stored: StoredContact) -> dict[str, Any]:
    return {
        "id": stored.id,
        "received_at": stored.received_at.isoformat(),
        "state": stored.state.value,
        "top_severity": stored.top_severity,
        "prompts": list(stored.prompt_codes),
        "children": len(stored.assessment.children),
        "relies_on": stored.relies_on,
    }


def contact_record(record: ContactRecord) -> dict[str, Any]:
    stored = record.contact
    superseded = {d.supersedes for d in record.decisions}
    current = [d.id for d in record.decisions if d.id not in superseded]
    return {
        "id": stored.id,
        "state": stored.state.value,
        "relies_on": stored.relies_on,
        "assessment": assessment_to_dict(stored.assessment),
        "current_decision": current[-1] if current else None,
        "decisions": [
            {
                "id": d.id,
                "share": d.share,
                "level_of_need": d.level_of_need,
                "decided_at": d.decided_at.isoformat(),
                "supersedes": d.supersedes,
            }
            for d in record.decisions
        ],
        "referrals": [referral(r) for r in record.referrals],
        "decision_escalations": [escalation(e) for e in record.escalations],
    }


def accepted(found: Accepted) -> dict[str, Any]:
    """The assessment with the prompts to show, and why prompts are withheld when they are."""
    shown = replace(found.assessment, prompts=found.prompts_to_show)
    suppressed = None
    if found.suppressed_by is not None:
        suppressed = {
            "decision_id": found.suppressed_by,
            "prompts": [p.code.value for p in found.assessment.prompts],
        }
    return assessment_to_dict(shown) | {
        "duplicate": found.duplicate,
        "prompts_suppressed": suppressed,
        "changed_since_decision": list(found.changes),
    }


def recorded(found: RecordedDecision) -> dict[str, Any]:
    """The decision, what it queued (updates of referrals already sent among them, naming the
    referral each amends) and the superseded decision's referrals withdrawn unsent."""
    return {
        "decision_id": found.decision.id,
        "supersedes": found.decision.supersedes,
        "referrals": [
            {
                "id": r.id,
                "route": r.route.value,
                "authority": r.authority_id,
                "urgent": r.urgent,
                "idempotency_key": r.idempotency_key,
                "action": r.action.value,
                "amends": r.amends,
            }
            for r in found.referrals
        ],
        "withdrawn": list(found.withdrawn),
        "escalations": [escalation(e) for e in found.escalations],
        "warnings": _warnings(found),
    }


UNREACHABLE = (
    "no phone or email for the referrer: the referral asks the authority to call the trust's"
    " safeguarding lead instead"
)


def _warnings(found: RecordedDecision) -> list[dict[str, str]]:
    """What the host should mend next time, though the decision is recorded as sent."""
    if found.referrer_unreachable:
        return [{"field": "decided_by.phone", "reason": UNREACHABLE}]
    return []


def amended(change: Referral) -> dict[str, Any]:
    return {
        "withdrawn": None,
        "sent": {"id": change.id, "action": change.action.value, "amends": change.amends},
    }


def escalation(found: DecisionEscalation) -> dict[str, Any]:
    return {
        "id": found.id,
        "decision_id": found.decision_id,
        "contact_id": found.contact_id,
        "kind": found.kind.value,
        "level_of_need": found.level_of_need,
        "immediate_danger": found.immediate_danger,
        "lead": {
            "name": found.lead.name,
            "role": found.lead.role,
            "contact": found.lead.contact,
        },
        "escalated_by": found.escalated_by,
        "created_at": found.created_at.isoformat(),
    }


def referral(stored: StoredReferral) -> dict[str, Any]:
    r = stored.referral
    return {
        "id": r.id,
        "contact_id": r.contact_id,
        "decision_id": r.decision_id,
        "route": r.route.value,
        "authority": r.authority_id,
        "urgent": r.urgent,
        "status": stored.status.value,
        "attempts": stored.attempts,
        "due_by": r.due_by.isoformat(),
        "delivered_at": stored.delivered_at.isoformat() if stored.delivered_at else None,
        "acknowledged_at": stored.acknowledged_at.isoformat() if stored.acknowledged_at else None,
        "escalated_at": stored.escalated_at.isoformat() if stored.escalated_at else None,
        "prompt": serialise.to_data(stored.prompt) if stored.prompt else None,
        "idempotency_key": r.idempotency_key,
        "action": r.action.value,
        "amends": r.amends,
        "opens_at": _opens_at(stored),
    }


def _opens_at(stored: StoredReferral) -> str | None:
    """For a referral sent while its route was closed: when the route opens, London time."""
    receipt = stored.receipt
    return receipt.opens_at.isoformat() if receipt and receipt.opens_at else None


def awaited_call(found: AwaitedCall) -> dict[str, Any]:
    """A referral waiting on a call: the referral, the prompt as it stands now, and the
    numbers as fields, the first to ring as ``call``."""
    calls = [call(c) for c in found.calls]
    return referral(found.stored) | {
        "prompt": serialise.to_data(found.prompt),
        "call": calls[0] if calls else None,
        "calls": calls,
    }


def call(found: Call) -> dict[str, Any]:
    return {
        "number": found.number,
        "label": found.label,
        "available_now": found.available_now,
        "available_from": found.available_from.isoformat() if found.available_from else None,
    }
