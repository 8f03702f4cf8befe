"""The running service: the engine bound to a store, implementing what adapters may ask.

Every acknowledgement a sender receives follows a durable commit made here. Decisions and
their referrals are written in one transaction; delivery happens later, from the outbox.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from plugin_core.contract import Accepted, ReferralDetails, ServeOptions
from plugin_core.host.engine import ThinkFamily
from plugin_core.host.plugins import PluginError
from plugin_core.model import (
    Assessment,
    Decision,
    DecisionEscalation,
    FirstContact,
    Lead,
    Referral,
    ReferralAction,
    ReferralStatus,
)
from plugin_core.rules import recheck
from plugin_core.rules.clock import utc_now
from plugin_core.rules.decide import DecisionInvalid, FieldProblem, amendment
from plugin_core.rules.escalate import escalations_for
from plugin_core.rules.routing import routes_for
from plugin_core.settings.config import TrustConfig
from plugin_core.store import Store
from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import HostTask, NewContact, SavedContact, StoredReferral

log = logging.getLogger("thinkfamily.service")


class UnknownContact(LookupError):
    """A decision names a contact the store does not hold."""


class UnknownReferral(LookupError):
    """A request names a referral the store does not hold."""


class DuplicateDecision(ValueError):
    """A decision with this id is already recorded."""


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    decision: Decision
    referrals: tuple[Referral, ...]
    escalations: tuple[DecisionEscalation, ...] = ()


class Service:
    """One service instance: engine, store, counters. Safe to call from several threads."""

    def __init__(
        self,
        config: TrustConfig,
        store: Store,
        *,
        blocked: Iterable[str] = (),
        extra: Sequence[tuple[str, object]] = (),
        entry_points: bool = True,
        clock: Callable[[], datetime] = utc_now,
        serve: ServeOptions | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.instance = secrets.token_hex(4)
        self.engine = ThinkFamily(
            config,
            blocked=blocked,
            extra=extra,
            entry_points=entry_points,
            service=self,
            serve=serve,
            clock=clock,
        )

    def notify(self, hook: str, subject: str, call: Callable[..., None], *args: Any) -> None:
        """Tell plugins of something already committed; their failure cannot undo it.

        A sender was, or is about to be, told the work is done, so a plugin's fault here is
        logged and counted, never raised into the request or the acknowledgement.
        """
        try:
            call(*args)
        except Exception as exc:
            plugin = exc.plugin if isinstance(exc, PluginError) else "?"
            log.error(
                "plugin failed after commit",
                extra={
                    "reason": f"{hook} in {plugin}",
                    "error": type(exc.__cause__ or exc).__name__,
                    "path": subject,
                },
            )
            self.count(f"hooks.{hook}.failed")

    def _write_back_failed(self, failure: PluginError, decision_id: str) -> None:
        """Queue a retry for the one plugin that could not write the decision back."""
        error = type(failure.__cause__ or failure).__name__
        log.warning(
            "write-back failed; will retry",
            extra={"decision_id": decision_id, "reason": failure.plugin, "error": error},
        )
        entry = AuditEntry("writeback.failed", failure.plugin, decision_id, {"error": error})
        self.store.add_host_task(
            "record", failure.plugin, decision_id, error=error, at=self.clock(), audit=[entry]
        )

    def retry_write_back(self, task: HostTask) -> bool:
        """Call the one plugin's ``thinkfamily_record`` again; True when it succeeded."""
        decision = self.store.get_decision(task.subject)
        if decision is None:
            return True  # nothing to write back any more
        stored = self.store.get_contact(decision.contact_id)
        assessment = stored.assessment if stored else None
        return not self.engine.hooks.record(decision, assessment, only=task.plugin)

    @property
    def context(self) -> Any:
        return self.engine.context

    # ServicePort -----------------------------------------------------------------------------

    def accept_contact(
        self,
        contact: FirstContact,
        *,
        message_key: str | None = None,
        encounter_key: str | None = None,
    ) -> Accepted:
        result = self.accept_contacts([(contact, message_key)], encounter_key=encounter_key)[0]
        if isinstance(result, Exception):
            raise result
        return result

    def accept_contacts(
        self,
        items: Sequence[tuple[FirstContact, str | None]],
        *,
        encounter_key: str | None = None,
    ) -> list[Accepted | Exception]:
        """Assess contacts and commit them together: one disk flush for a sender's batch.

        Results are in order; a contact that could not be assessed gets its exception and the
        others are still recorded. A failed commit raises, and nothing of the batch is stored.
        A contact for an adult with a decision in its re-check period, and nothing new since,
        is recorded with its prompts not shown (see :mod:`plugin_core.rules.recheck`).

        :param encounter_key: the caller's name for one encounter (CDS Hooks passes one): an
            open contact for the same adult, encounter, facts and prompts is answered again
            instead of recording another.
        """
        now = self.clock()
        assessed: list[tuple[FirstContact, str | None, Assessment] | Exception] = []
        for contact, key in items:
            try:
                assessed.append((contact, key, self.engine.assess(contact, now=now, present=False)))
            except Exception as exc:
                assessed.append(exc)
        patients = [
            recheck.patient_key(self.config.trust_id, a[0].patient.id)
            for a in assessed
            if not isinstance(a, Exception)
        ]
        after = now - timedelta(days=self.config.recheck_days)
        bases = self.store.latest_bases(patients, after=after) if patients else {}
        batch: list[NewContact] = []
        rechecks: list[recheck.Recheck | None] = []
        for entry in assessed:
            if isinstance(entry, Exception):
                continue
            contact, key, assessment = entry
            patient = recheck.patient_key(self.config.trust_id, contact.patient.id)
            facts = recheck.facts_of(contact, assessment)
            found = recheck.judge(
                facts, bases.get(patient), now=now, recheck_days=self.config.recheck_days
            )
            rechecks.append(found)
            batch.append(self._new_contact(contact, key, assessment, facts, found, encounter_key))
        saved = iter(self.store.save_contacts(batch, at=now) if batch else [])
        duplicates = 0
        out: list[Accepted | Exception] = []
        pending = iter(zip(batch, rechecks, strict=True))
        for entry in assessed:
            if isinstance(entry, Exception):
                out.append(entry)
                continue
            (item, found), stored = next(pending), next(saved)
            out.append(_accepted(item, stored, found))
            if stored.new:
                # Debug, not info: at HL7 rates one line per contact floods the log; the
                # audit trail already records every contact accepted.
                log.debug(
                    "contact accepted",
                    extra={"contact_id": item.contact.id, "prompts": len(item.assessment.prompts)},
                )
                if item.relies_on is not None:
                    log.info(
                        "prompts not shown: decision recorded within the re-check period",
                        extra={"contact_id": item.contact.id, "decision_id": item.relies_on},
                    )
                elif item.assessment.prompts:
                    self.notify(
                        "present",
                        item.contact.id,
                        self.engine.hooks.present,
                        item.contact,
                        item.assessment,
                    )
            elif stored.reused:
                log.info(
                    "open contact answered again",
                    extra={"contact_id": stored.contact_id},
                )
                self.count("contacts.reused")
            else:
                duplicates += 1
                log.info("contact already recorded", extra={"contact_id": item.contact.id})
        if duplicates:
            self.count("contacts.duplicate", duplicates)
        return out

    def _new_contact(
        self,
        contact: FirstContact,
        key: str | None,
        assessment: Assessment,
        facts: recheck.Facts,
        found: recheck.Recheck | None,
        encounter_key: str | None,
    ) -> NewContact:
        """The contact to record, shown or not as the re-check period says."""
        if found is None or not assessment.prompts:
            reuse = self._reuse(contact, facts, assessment, encounter_key)
            audit = (_contact_audit(contact, assessment),)
            return NewContact(contact, assessment, key, audit, reuse_key=reuse)
        if found.suppresses:
            suppressed = (
                _contact_audit(contact, assessment, found),
                AuditEntry(
                    "contact.prompts_suppressed",
                    contact.source,
                    contact.id,
                    {
                        "decision": found.decision_id,
                        "prompts": [p.code.value for p in assessment.prompts],
                    },
                ),
            )
            return NewContact(
                contact,
                assessment,
                key,
                suppressed,
                relies_on=found.decision_id,
                counters=("contacts.prompts_suppressed",),
            )
        noted = recheck.with_changes_noted(assessment, found)
        return NewContact(
            contact,
            noted,
            key,
            (_contact_audit(contact, noted, found),),
            reuse_key=self._reuse(contact, facts, noted, encounter_key),
            counters=("contacts.reprompted_on_change",),
        )

    def _reuse(
        self,
        contact: FirstContact,
        facts: recheck.Facts,
        assessment: Assessment,
        encounter_key: str | None,
    ) -> str | None:
        if encounter_key is None or not assessment.prompts:
            return None
        patient = recheck.patient_key(self.config.trust_id, contact.patient.id)
        return recheck.reuse_key(patient, encounter_key, facts, assessment.prompts)

    def append_audit(self, kind: str, actor: str, subject: str, details: dict[str, Any]) -> None:
        self.store.append_audit([AuditEntry(kind, actor, subject, details)], self.clock())

    def use_once(self, key: str, until: datetime) -> bool:
        return self.store.use_once(key, until=until, now=self.clock())

    def count(self, metric: str, amount: int = 1) -> None:
        self.store.add_counter(metric, amount)

    def referral_details(self, referral: Referral) -> ReferralDetails | None:
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

    # Decisions -------------------------------------------------------------------------------

    def record_decision(self, decision: Decision) -> RecordedDecision:
        """Validate, then write the decision, its referrals, its escalations to a safeguarding
        lead and their audit entries together; plugins hear of escalations after the commit."""
        stored = self.store.get_contact(decision.contact_id)
        if stored is None:
            raise UnknownContact(decision.contact_id)
        now = self.clock()
        outcome = self.engine.decide(decision, stored.assessment, now=now)
        escalations = escalations_for(decision, lead=self.config.safeguarding_lead, now=now)
        entries = [_decision_audit(decision, outcome.referrals)]
        entries += [
            AuditEntry(
                "referral.created",
                decision.decided_by.id,
                r.id,
                {
                    "route": r.route.value,
                    "authority": r.authority_id,
                    "urgent": r.urgent,
                    "due_by": r.due_by.isoformat(),
                },
            )
            for r in outcome.referrals
        ]
        entries += [_escalation_audit(e) for e in escalations]
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

    def amend_referral(
        self, referral_id: str, *, action: ReferralAction, amendment_id: str, by: str, reasons: str
    ) -> Referral | None:
        """Update or cancel a referral already made.

        A cancellation of a referral not yet sent withdraws it and sends nothing; otherwise the
        update or cancellation is queued in the outbox like any referral. Returns the queued
        message, or None when nothing needed sending.
        """
        stored = self.store.get_referral(referral_id)
        if stored is None:
            raise UnknownReferral(referral_id)
        if not reasons.strip():
            raise DecisionInvalid([FieldProblem("reasons", "say why the referral is changed")])
        now = self.clock()
        original = stored.referral
        details = {"action": action.value, "reasons": reasons}
        if action is ReferralAction.CANCEL:
            entry = AuditEntry("referral.withdrawn", by, original.id, details)
            if self.store.withdraw_unsent(original.id, audit=[entry], at=now):
                self.notify(
                    "referral_update",
                    original.id,
                    self.engine.hooks.referral_update,
                    original,
                    ReferralStatus.CANCELLED,
                )
                return None
        try:
            change = amendment(
                original,
                action=action,
                amendment_id=amendment_id,
                reasons=reasons,
                config=self.config,
                now=now,
            )
        except ValueError as exc:
            raise DecisionInvalid([FieldProblem("referral", str(exc))]) from None
        entry = AuditEntry(
            f"referral.{action.value}", by, change.id, details | {"amends": original.id}
        )
        self.store.save_amendment(change, audit=[entry], at=now)
        return change

    def acknowledge_referral(
        self, referral_id: str, *, by: str, note: str
    ) -> StoredReferral | None:
        """A person confirms the authority has the referral (a phone call made, a reply seen)."""
        now = self.clock()
        entry = AuditEntry("referral.acknowledged", by, referral_id, {"how": note})
        found = self.store.acknowledge(referral_id, audit=[entry], at=now)
        if found is not None:
            self.notify(
                "referral_update",
                referral_id,
                self.engine.hooks.referral_update,
                found.referral,
                ReferralStatus.ACKNOWLEDGED,
            )
        return found


def _accepted(item: NewContact, stored: SavedContact, found: recheck.Recheck | None) -> Accepted:
    if stored.new:
        changes = tuple(c.value for c in found.changes) if found else ()
        return Accepted(
            item.contact.id,
            stored.assessment,
            duplicate=False,
            suppressed_by=stored.relies_on,
            changes=changes,
        )
    if stored.reused:
        return Accepted(stored.contact_id, stored.assessment, duplicate=True, reused=True)
    return Accepted(
        stored.contact_id, stored.assessment, duplicate=True, suppressed_by=stored.relies_on
    )


def _contact_audit(
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


def _decision_audit(decision: Decision, referrals: Sequence[Referral]) -> AuditEntry:
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


def _escalation_audit(escalation: DecisionEscalation) -> AuditEntry:
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
