"""Call prompts raised while their route was closed, told again once it opens.

The prompt of such an escalation, or of a referral that can only go by phone, says to ring
from when the route opens; when it has opened,
the prompt is replaced by the one to ring now, once: a conditional ``UPDATE`` on the prompt as
it was read, so two workers never both tell it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from plugin_core.formats import serialise
from plugin_core.model import Prompt, Receipt, Referral, ReferralStatus
from plugin_core.rules import referral_states as states
from plugin_core.rules.referral_states import SETTLED
from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import StoreBase, opt_ts, placeholders
from plugin_core.store.trail import append


@dataclass(frozen=True, slots=True)
class StandingCall:
    """A referral not settled that holds a call prompt: escalated, or one that can only go by
    phone, with the prompt as stored."""

    referral: Referral
    status: ReferralStatus
    escalated_at: datetime | None
    receipt: Receipt | None
    """For a referral that must be phoned: its last attempt's, with when a closed route opens."""
    prompt: Prompt
    prompt_text: str
    """The prompt as stored: the condition under which it is replaced."""


class Reminders(StoreBase):
    def standing_calls(self) -> list[StandingCall]:
        """Referrals not settled, escalated or waiting on a phone call, whose call prompt is
        still standing."""
        with self.reading() as tx:
            rows = tx.all(
                "SELECT referral, status, escalated_at, receipt, prompt FROM referrals"
                f" WHERE status NOT IN ({placeholders(SETTLED)}) AND prompt IS NOT NULL"
                " AND (escalated_at IS NOT NULL OR status = ?)",
                (*states.values(SETTLED), ReferralStatus.CALL_REQUIRED.value),
            )
        return [
            StandingCall(
                serialise.loads(Referral, r[0]),
                ReferralStatus(r[1]),
                opt_ts(r[2]),
                serialise.loads(Receipt, r[3]) if r[3] else None,
                serialise.loads(Prompt, r[4]),
                r[4],
            )
            for r in rows
        ]

    def replace_prompt(
        self,
        referral_id: str,
        was: str,
        prompt: Prompt,
        *,
        audit: Sequence[AuditEntry],
        at: datetime,
    ) -> bool:
        """Put ``prompt`` in place of the stored prompt ``was``; False when it changed since
        (acknowledged, a call recorded, or another worker replaced it)."""
        with self.transaction() as tx:
            row = tx.one(
                "UPDATE referrals SET prompt = ? WHERE id = ? AND prompt = ?"
                f" AND status NOT IN ({placeholders(SETTLED)}) RETURNING id",
                (serialise.dumps(prompt), referral_id, was, *states.values(SETTLED)),
            )
            if row is None:
                return False
            append(tx, audit, at)
        return True
