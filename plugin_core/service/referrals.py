"""Changing a referral already made: an update or cancellation, or a person's acknowledgement.

Which change a referral's state allows is in ``rules.referral_states``; the store applies it
conditionally, so a refusal here holds even when two instances are asked at once.
"""

from __future__ import annotations

from plugin_core.model import Referral, ReferralAction, ReferralStatus
from plugin_core.rules import referral_states as states
from plugin_core.rules.decide import DecisionInvalid, FieldProblem, amendment
from plugin_core.service.base import ServiceBase
from plugin_core.service.errors import ReferralConflict, UnknownReferral
from plugin_core.store.audit import AuditEntry
from plugin_core.store.records import StoredReferral
from plugin_core.store.referrals import Changed, ChangeOutcome

_CHANGE = {ReferralAction.UPDATE: states.Change.UPDATE, ReferralAction.CANCEL: states.Change.CANCEL}


class Referrals(ServiceBase):
    def amend_referral(
        self, referral_id: str, *, action: ReferralAction, amendment_id: str, by: str, reasons: str
    ) -> Referral | None:
        """Update or cancel a referral already made.

        A cancellation of a referral not yet sent withdraws it and sends nothing; otherwise the
        update or cancellation is queued in the outbox like any referral. Returns the queued
        message, or None when nothing needed sending. Each is made once: cancelling again is
        answered with the first cancellation (None for one withdrawn), and an update with an
        id already used with the first update. Raises ReferralConflict when the referral's
        state does not allow the change (a cancelled referral is never updated).
        """
        stored = self.store.get_referral(referral_id)
        if stored is None:
            raise UnknownReferral(referral_id)
        if not reasons.strip():
            raise DecisionInvalid([FieldProblem("reasons", "say why the referral is changed")])
        now = self.clock()
        original = stored.referral
        try:
            change = amendment(
                original,
                action=action,
                amendment_id=amendment_id,
                reasons=reasons,
                rules=self.config.rules,
                now=now,
            )
        except ValueError as exc:
            raise DecisionInvalid([FieldProblem("referral", str(exc))]) from None
        details = {"action": action.value, "reasons": reasons}
        sent = AuditEntry(
            f"referral.{action.value}", by, change.id, details | {"amends": original.id}
        )
        if action is ReferralAction.CANCEL:
            withdrawn = AuditEntry("referral.withdrawn", by, original.id, details)
            result = self.store.cancel_referral(
                original.id, change, withdrawn=[withdrawn], sent=[sent], at=now
            )
        else:
            result = self.store.update_referral(change, audit=[sent], at=now)
        self._check(result, _CHANGE[action], referral_id)
        assert result is not None
        if result.outcome is ChangeOutcome.DONE and result.message is None:
            self.notify(
                "referral_update",
                original.id,
                self.engine.hooks.referral_update,
                original,
                ReferralStatus.CANCELLED,
            )
        return result.message

    def acknowledge_referral(
        self, referral_id: str, *, by: str, note: str
    ) -> StoredReferral | None:
        """A person confirms the authority has the referral (a phone call made, a reply seen).

        Acknowledging again writes nothing; None when the referral is not stored. Raises
        ReferralConflict for a referral that is cancelled.
        """
        now = self.clock()
        entry = AuditEntry("referral.acknowledged", by, referral_id, {"how": note})
        result = self.store.acknowledge(referral_id, audit=[entry], at=now)
        if result is None:
            return None
        self._check(result, states.Change.ACKNOWLEDGE, referral_id)
        found = self.store.get_referral(referral_id)
        if found is not None and result.outcome is ChangeOutcome.DONE:
            self.notify(
                "referral_update",
                referral_id,
                self.engine.hooks.referral_update,
                found.referral,
                ReferralStatus.ACKNOWLEDGED,
            )
        return found

    @staticmethod
    def _check(result: Changed | None, change: states.Change, referral_id: str) -> None:
        if result is None:
            raise UnknownReferral(referral_id)
        if result.outcome is ChangeOutcome.REFUSED:
            raise ReferralConflict(
                states.refusal(change, result.status), status=result.status.value
            )
        if result.outcome is ChangeOutcome.BUSY:
            raise ReferralConflict(
                f"this referral is {result.status.value} and being sent now: ask again in a minute",
                status=result.status.value,
                busy=True,
            )
