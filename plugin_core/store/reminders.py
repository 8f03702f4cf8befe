"""Escalations raised while their route was closed, told again once it opens.

The prompt of such an escalation says to ring from when the route opens; when it has opened,
the prompt is replaced by the one to ring now, once: a conditional ``UPDATE`` on the prompt as
it was read, so two workers never both tell it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from plugin_core.formats import serialise
from plugin_core.model import Prompt, Referral, ReferralStatus
from plugin_core.rules import referral_states as states
from plugin_core.rules.referral_states import SETTLED
from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import StoreBase, parse_ts, placeholders
from plugin_core.store.trail import append


@dataclass(frozen=True, slots=True)
class OpenEscalation:
    """An escalated referral still waiting, with the call prompt it holds."""

    referral: Referral
    status: ReferralStatus
    escalated_at: datetime
    prompt: Prompt
    prompt_text: str
    """The prompt as stored: the condition under which it is replaced."""


class Reminders(StoreBase):
    def open_escalations(self) -> list[OpenEscalation]:
        """Escalated referrals not settled whose call prompt is still standing."""
        with self.reading() as tx:
            rows = tx.all(
                "SELECT referral, status, escalated_at, prompt FROM referrals"
                f" WHERE status NOT IN ({placeholders(SETTLED)})"
                " AND escalated_at IS NOT NULL AND prompt IS NOT NULL",
                states.values(SETTLED),
            )
        return [
            OpenEscalation(
                serialise.loads(Referral, r[0]),
                ReferralStatus(r[1]),
                parse_ts(r[2]),
                serialise.loads(Prompt, r[3]),
                r[3],
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
