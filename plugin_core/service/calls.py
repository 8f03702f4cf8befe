"""Phone calls about referrals: the number to ring now, what to say, and the call recorded."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from plugin_core.formats.call_script import ScriptLine, call_script
from plugin_core.model import Call, PhoneCall, Prompt
from plugin_core.rules import phone_call
from plugin_core.rules import referral_states as states
from plugin_core.service.base import ServiceBase
from plugin_core.service.errors import ReferralConflict, UnknownReferral
from plugin_core.store.audit import AuditEntry
from plugin_core.store.records import StoredReferral
from plugin_core.store.referrals import ChangeOutcome

log = logging.getLogger("thinkfamily.service")


@dataclass(frozen=True, slots=True)
class CallSheet:
    """Everything the call page shows for one referral, worked out now."""

    stored: StoredReferral
    needs_call: bool
    calls: tuple[Call, ...]
    """Numbers answered now first, then the route's own from when it next opens."""
    prompt: Prompt | None
    """The call prompt as it stands now, when a call is needed."""
    script: tuple[ScriptLine, ...]
    """Empty when the referral's contact or decision is not stored."""
    made: tuple[PhoneCall, ...]
    """Calls already recorded, oldest first."""


class Calls(ServiceBase):
    def call_sheet(self, referral_id: str) -> CallSheet:
        """The number to ring now and the script to read out. Raises UnknownReferral."""
        stored = self.store.get_referral(referral_id)
        if stored is None:
            raise UnknownReferral(referral_id)
        now = self.clock()
        referral = stored.referral
        where = self.engine.destination_for(referral, now)
        needed = phone_call.needs_call(stored.status, stored.prompt, where)
        # The composed Service has the Decisions part, which settles a referral's content.
        content = self.referral_content(referral_id)  # type: ignore[attr-defined]
        return CallSheet(
            stored,
            needed,
            self.engine.calls_for(referral, now),
            self.engine.call_prompt(referral, where) if needed else None,
            call_script(content) if content is not None else (),
            tuple(self.store.phone_calls(referral_id)),
        )

    def record_call(self, call: PhoneCall) -> StoredReferral:
        """Record a call: the referral delivered (acknowledged when a reference was given),
        its call prompt cleared, with an audit entry. The same call id again writes nothing.

        Raises CallInvalid naming each field, UnknownReferral, or ReferralConflict when the
        referral's state does not allow it (a cancelled referral) or a worker is sending it.
        """
        now = self.clock()
        problems = phone_call.call_problems(call, now=now)
        if problems:
            raise phone_call.CallInvalid(problems)
        entry = AuditEntry(
            "referral.called",
            call.recorded_by.id,
            call.referral_id,
            {
                "call": call.id,
                "number": call.number,
                "answered_by": call.answered_by,
                "called_at": call.called_at.isoformat(),
                "reference": call.reference,
                "advice": call.advice,
                "acknowledged": call.acknowledged,
                "role": call.recorded_by.role,
            },
        )
        result = self.store.record_call(call, audit=[entry], at=now)
        if result is None:
            raise UnknownReferral(call.referral_id)
        if result.outcome is ChangeOutcome.REFUSED:
            raise ReferralConflict(
                states.refusal(states.Change.CALL, result.status), status=result.status.value
            )
        if result.outcome is ChangeOutcome.BUSY:
            raise ReferralConflict(
                "this referral is being sent now: ask again in a minute",
                status=result.status.value,
                busy=True,
            )
        found = self.store.get_referral(call.referral_id)
        assert found is not None
        if result.outcome is ChangeOutcome.DONE:
            log.info(
                "phone call recorded",
                extra={"referral_id": call.referral_id, "status": result.status.value},
            )
            self.count("referrals.called")
            self.notify(
                "referral_update",
                call.referral_id,
                self.engine.hooks.referral_update,
                found.referral,
                result.status,
            )
        return found

    def phone_calls(self, referral_id: str) -> list[PhoneCall]:
        """Calls recorded about a referral, oldest first."""
        return self.store.phone_calls(referral_id)
