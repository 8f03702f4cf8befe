"""Recording decisions: validated, written with their referrals and escalations in one
transaction, then written back to the host, with a retry queued for a plugin that fails."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from plugin_core.contract import PluginError, ReferralDetails
from plugin_core.formats.referral_content import ReferralContent, referral_content
from plugin_core.host.faults import fault_fields
from plugin_core.model import Decision, DecisionEscalation, Referral
from plugin_core.rules import recheck
from plugin_core.rules.escalate import escalations_for
from plugin_core.service.audit import decision_audit, escalation_audit, referral_audit
from plugin_core.service.base import ServiceBase
from plugin_core.service.errors import DuplicateDecision, UnknownContact, UnknownReferral
from plugin_core.store.audit import AuditEntry

log = logging.getLogger("thinkfamily.service")


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    decision: Decision
    referrals: tuple[Referral, ...]
    escalations: tuple[DecisionEscalation, ...] = ()


class Decisions(ServiceBase):
    def record_decision(self, decision: Decision) -> RecordedDecision:
        """Validate, then write the decision, its referrals, its escalations to a safeguarding
        lead and their audit entries together; plugins hear of escalations after the commit."""
        stored = self.store.get_contact(decision.contact_id)
        if stored is None:
            raise UnknownContact(decision.contact_id)
        now = self.clock()
        outcome = self.engine.decide(decision, stored.assessment, now=now)
        escalations = escalations_for(decision, lead=self.config.safeguarding_lead, now=now)
        entries = [decision_audit(decision, outcome.referrals)]
        entries += [referral_audit(decision, r) for r in outcome.referrals]
        entries += [escalation_audit(e) for e in escalations]
        basis = recheck.Basis(
            decision.id,
            min(decision.decided_at, now),
            recheck.facts_of(stored.contact, stored.assessment),
        )
        patient = recheck.patient_key(self.config.trust_id, stored.contact.patient.id)
        if not self.store.save_decision(
            decision,
            outcome.referrals,
            audit=entries,
            at=now,
            basis=(patient, basis),
            escalations=escalations,
        ):
            raise DuplicateDecision(decision.id)
        log.info(
            "decision recorded",
            extra={
                "decision_id": decision.id,
                "contact_id": decision.contact_id,
                "referrals": len(outcome.referrals),
                "count": len(escalations),
            },
        )
        for escalation in escalations:
            log.warning(
                "decision not to share escalated to a safeguarding lead",
                extra={"decision_id": decision.id, "reason": escalation.kind.value},
            )
            self.count(f"decisions.escalated.{escalation.kind.value}")
            self.notify(
                "decision_escalated",
                escalation.id,
                self.engine.hooks.decision_escalated,
                escalation,
            )
        for failure in self.engine.recorded(outcome, stored.assessment):
            self._write_back_failed(failure, decision.id)
        return RecordedDecision(decision, outcome.referrals, escalations)

    def referral_details(self, referral: Referral) -> ReferralDetails | None:
        """The contact, assessment and decision behind a referral, or None if not stored."""
        stored = self.store.get_contact(referral.contact_id)
        if stored is None:
            return None
        decision = next(
            (
                d
                for d in self.store.get_decisions(referral.contact_id)
                if d.id == referral.decision_id
            ),
            None,
        )
        if decision is None:
            return None
        return ReferralDetails(stored.contact, stored.assessment, decision)


    def referral_content(self, referral_id: str) -> ReferralContent | None:
        """A stored referral's dataset, routed as it was sent (or as it would be when made);
        None when its contact or decision is not stored. Raises UnknownReferral."""
        stored = self.store.get_referral(referral_id)
        if stored is None:
            raise UnknownReferral(referral_id)
        referral = stored.referral
        details = self.referral_details(referral)
        if details is None:
            return None
        where = self.engine.destination_for(referral, stored.delivered_at or referral.created_at)
        return referral_content(
            referral,
            contact=details.contact,
            assessment=details.assessment,
            decision=details.decision,
            destination=where,
            trust_name=self.config.trust_name,
        )
    def _write_back_failed(self, failure: PluginError, decision_id: str) -> None:
        """Queue a retry for the one plugin that could not write the decision back."""
        fields = fault_fields(failure)
        log.warning("write-back failed; will retry", extra={"decision_id": decision_id, **fields})
        entry = AuditEntry("writeback.failed", failure.plugin, decision_id, fields)
        self.store.add_host_task(
            "record",
            failure.plugin,
            decision_id,
            error=failure.error,
            at=self.clock(),
            audit=[entry],
        )
