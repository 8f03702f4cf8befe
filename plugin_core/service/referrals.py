"""Changing a referral already made: an update or cancellation, or a person's acknowledgement."""

from __future__ import annotations

from plugin_core.model import Referral, ReferralAction, ReferralStatus
from plugin_core.rules.decide import DecisionInvalid, FieldProblem, amendment
from plugin_core.service.base import ServiceBase
from plugin_core.service.errors import UnknownReferral
from plugin_core.store.audit import AuditEntry
from plugin_core.store.records import StoredReferral


class Referrals(ServiceBase):
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
