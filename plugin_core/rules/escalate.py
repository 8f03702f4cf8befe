"""Escalating a decision not to share to a safeguarding lead.

Not sharing at level 3 or 4 is put before the lead the professional names. Overriding a
referral the rules call for (level 4, immediate danger, a concern for the LADO) also alerts the
trust's own safeguarding lead, so that no such decision rests with one person alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from plugin_core.model import Decision, DecisionEscalation, EscalationKind, Lead

UNCONFIGURED_LEAD = Lead(name="Trust safeguarding lead", role="not configured")
"""Addressee when a trust has no lead configured: the escalation is still recorded."""


@dataclass(frozen=True, slots=True)
class SafeguardingLead:
    """The trust's safeguarding lead, alerted when a referral the rules call for is overridden."""

    name: str
    role: str
    phone: str = ""
    email: str = ""

    @property
    def contact(self) -> str:
        return "; ".join(c for c in (self.phone, self.email) if c)


def escalation_id(decision_id: str, kind: EscalationKind) -> str:
    """Stable for a decision and kind, so a repeated decision never escalates twice."""
    return hashlib.sha256(f"{decision_id}\x1f{kind.value}".encode()).hexdigest()[:32]


def needs_override(decision: Decision) -> bool:
    """True when not sharing overrides a referral the rules call for."""
    return not decision.share and (
        decision.level_of_need == 4
        or decision.immediate_danger
        or decision.concerns_person_working_with_children
    )


def trust_lead(lead: SafeguardingLead | None) -> Lead:
    if lead is None:
        return UNCONFIGURED_LEAD
    return Lead(name=lead.name, role=lead.role, contact=lead.contact)


def escalations_for(
    decision: Decision, *, lead: SafeguardingLead | None, now: datetime
) -> tuple[DecisionEscalation, ...]:
    """The escalations a valid decision calls for (none when sharing)."""
    if decision.share:
        return ()
    wanted: list[tuple[EscalationKind, Lead]] = []
    if decision.escalated_to is not None:
        wanted.append((EscalationKind.NOT_SHARED, decision.escalated_to))
    if needs_override(decision):
        wanted.append((EscalationKind.OVERRIDE, trust_lead(lead)))
    return tuple(
        DecisionEscalation(
            id=escalation_id(decision.id, kind),
            decision_id=decision.id,
            contact_id=decision.contact_id,
            kind=kind,
            lead=to,
            escalated_by=decision.decided_by.id,
            created_at=now,
            level_of_need=decision.level_of_need,
            immediate_danger=decision.immediate_danger,
        )
        for kind, to in wanted
    )
