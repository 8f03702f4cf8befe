"""Recording decisions: validated, written with their referrals and escalations in one
transaction, then written back to the host, with a retry queued for a plugin that fails."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from plugin_core import metrics
from plugin_core.contract import PluginError, ReferralDetails
from plugin_core.formats import serialise
from plugin_core.formats.referral_content import (
    ReferralContent,
    as_amended,
    as_cancelled,
    referral_content,
)
from plugin_core.host.faults import fault_fields
from plugin_core.model import (
    Decision,
    DecisionEscalation,
    Referral,
    ReferralAction,
    ReferralStatus,
)
from plugin_core.rules import recheck, supersede
from plugin_core.rules.amended import cancellation_of, standing_update
from plugin_core.rules.escalate import escalations_for
from plugin_core.service.audit import decision_audit, escalation_audit, referral_audit
from plugin_core.service.base import ServiceBase
from plugin_core.service.errors import (
    DecisionConflict,
    DuplicateDecision,
    UnknownContact,
    UnknownReferral,
)
from plugin_core.store.audit import AuditEntry
from plugin_core.store.decisions import Succession
from plugin_core.store.withdrawals import Withdrawal

log = logging.getLogger("thinkfamily.service")


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    decision: Decision
    referrals: tuple[Referral, ...]
    """What was queued: the decision's referrals, and updates of referrals already sent."""
    escalations: tuple[DecisionEscalation, ...] = ()
    withdrawn: tuple[str, ...] = ()
    """Referrals of the decision superseded, withdrawn before they were sent."""

    @property
    def referrer_unreachable(self) -> bool:
        """A referral goes to an authority with no phone or email for the referrer."""
        sent = any(r.action is not ReferralAction.CANCEL for r in self.referrals)
        return sent and not self.decision.decided_by.reachable


class Decisions(ServiceBase):
    def record_decision(self, decision: Decision) -> RecordedDecision:
        """Validate, then write the decision, its referrals, its escalations to a safeguarding
        lead and their audit entries together; plugins hear of escalations after the commit.

        Once a contact has a decision, another must name it in ``supersedes`` (raises
        DecisionConflict naming the current one otherwise; of two at once, one is recorded).
        Superseding withdraws the earlier decision's unsent referrals and updates those sent.
        """
        # One transaction from the first read, which holds the contact until the decision is
        # saved: on PostgreSQL, three round trips in all (see README, Performance).
        with metrics.commit_timed("decision"), self.store.unit():
            stored, repeat, current = self.store.before_decision(
                decision.id, decision.contact_id, hold=True
            )
            if stored is None:
                raise UnknownContact(decision.contact_id)
            if repeat:
                raise DuplicateDecision(decision.id)
            if current != decision.supersedes:
                raise DecisionConflict(current=current, supersedes=decision.supersedes)
            now = self.clock()
            outcome = self.engine.decide(decision, stored.assessment, now=now)
            escalations = escalations_for(decision, lead=self.config.safeguarding_lead, now=now)
            succession = self._succession(decision, outcome.referrals, now)
            # Each record serialised once: for its audit digest and for its row.
            texts = {r.id: serialise.dumps(r) for r in outcome.referrals}
            texts[""] = serialise.dumps(decision)
            entries = [decision_audit(decision, outcome.referrals, texts[""])]
            entries += [referral_audit(decision, r, texts[r.id]) for r in outcome.referrals]
            entries += [escalation_audit(e) for e in escalations]
            basis = recheck.Basis(
                decision.id,
                min(decision.decided_at, now),
                recheck.facts_of(stored.contact, stored.assessment),
            )
            patient = recheck.patient_key(self.config.trust_id, stored.contact.patient.id)
            saved = self.store.save_decision(
                decision,
                outcome.referrals,
                audit=entries,
                at=now,
                basis=(patient, basis),
                escalations=escalations,
                succession=[step for step, _ in succession],
                texts=texts,
            )
        if saved.duplicate:
            raise DuplicateDecision(decision.id)
        if not saved.saved:
            raise DecisionConflict(current=saved.current, supersedes=decision.supersedes)
        log.info(
            "decision recorded",
            extra={
                "decision_id": decision.id,
                "contact_id": decision.contact_id,
                "referrals": len(saved.referrals),
                "count": len(escalations),
            },
        )
        originals = {step.referral_id: original for step, original in succession}
        for referral_id in saved.withdrawn:
            self.notify(
                "referral_update",
                referral_id,
                self.engine.hooks.referral_update,
                originals[referral_id],
                ReferralStatus.CANCELLED,
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
        recorded = RecordedDecision(decision, saved.referrals, escalations, saved.withdrawn)
        if recorded.referrer_unreachable:
            # For the safeguarding lead's review: referrals the authority must call the trust's
            # lead about, since nobody gave the referrer's phone or email.
            log.warning(
                "referral without the referrer's phone or email", extra={"decision_id": decision.id}
            )
            self.count("referrals.referrer_unreachable")
        return recorded

    def _succession(
        self, decision: Decision, made: tuple[Referral, ...], now: datetime
    ) -> list[tuple[Succession, Referral]]:
        """For a decision that supersedes another: what to do with each referral the
        authority may hold from it, with that referral."""
        if decision.supersedes is None:
            return []
        rows = [
            (r.referral, r.status)
            for r in self.store.list_referrals(contact_id=decision.contact_id)
        ]
        originals = supersede.live_originals(decision.supersedes, rows)
        by = decision.decided_by.id
        steps = []
        for found in supersede.successors(
            decision, made, originals, rules=self.config.rules, now=now
        ):
            details = {"reasons": decision.reasons, "superseded_by": decision.id}
            withdrawn = AuditEntry(
                "referral.withdrawn", by, found.original.id, details | {"action": "cancel"}
            )
            updated = AuditEntry(
                "referral.update",
                by,
                found.update.id,
                details | {"action": "update", "amends": found.original.id},
            )
            step = Succession(found.original.id, found.update, found.replaces, withdrawn, updated)
            steps.append((step, found.original))
        return steps

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
        """A stored referral's dataset as it now stands (an update made since, say by a decision
        that superseded its own, is shown as the amended referral; a cancellation or a
        withdrawal is marked), routed as it was sent (or as it would be when made); None when
        its contact or decision is not stored. Raises UnknownReferral."""
        stored = self.store.get_referral(referral_id)
        if stored is None:
            raise UnknownReferral(referral_id)
        referral = stored.referral
        held = [
            (r.referral, r.status)
            for r in self.store.list_referrals(contact_id=referral.contact_id)
        ]
        update = standing_update(referral, held)
        details = self.referral_details(update or referral)
        if details is None:
            return None
        where = self.engine.destination_for(referral, stored.delivered_at or referral.created_at)
        content = referral_content(
            update or referral,
            contact=details.contact,
            assessment=details.assessment,
            decision=details.decision,
            destination=where,
            trust_name=self.config.trust_name,
            safeguarding=self.config.safeguarding_lead,
        )
        content = as_amended(content, referral) if update is not None else content
        cancellation = cancellation_of(referral, held)
        if cancellation is not None:
            return as_cancelled(content, cancellation)
        if (
            stored.status is ReferralStatus.CANCELLED
            and referral.action is not ReferralAction.CANCEL
        ):
            return as_withdrawn(content, self.store.get_withdrawal(referral.id))
        return content

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


def as_withdrawn(content: ReferralContent, withdrawal: Withdrawal | None) -> ReferralContent:
    """``content`` marked as withdrawn before it was sent, with when, by whom and why when
    they were kept (a withdrawal from before then has only the audit trail's)."""
    if withdrawal is None:
        return replace(content, withdrawn=True)
    return replace(
        content,
        withdrawn=True,
        withdrawn_at=withdrawal.withdrawn_at,
        withdrawn_by=withdrawal.withdrawn_by,
        withdrawal_reasons=withdrawal.reasons,
        replaced_by_decision=withdrawal.superseded_by,
    )
