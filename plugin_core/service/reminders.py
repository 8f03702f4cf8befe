"""Telling again, once the route opens, a call prompt raised while it was closed.

A routine referral's deadline counts working hours, so it usually passes as the route closes:
the escalation then says to ring from when it opens, and the professional who hears it may be
off shift by then. A referral that can only go by phone, made out of hours, says the same. When
the route has opened, the prompt becomes the one to ring now and plugins are told again (with
that prompt: ``escalated`` for an escalation, ``call_required`` otherwise), once, with an audit
entry. Nothing is sent to the authority again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from plugin_core.model import Prompt, ReferralStatus
from plugin_core.service.base import ServiceBase
from plugin_core.store.audit import AuditEntry
from plugin_core.store.reminders import StandingCall

log = logging.getLogger("thinkfamily.service")

REMINDED_KIND = "referral.reminded"


class Reminders(ServiceBase):
    def remind_opened(self, worker: str) -> int:
        """Tell again each call prompt whose route was closed when it was raised and is open
        now; returns how many this worker told."""
        now = self.clock()
        told = 0
        for held in self.store.standing_calls():
            opened = self._opened_at(held)
            if opened is None or opened > now:
                continue  # rung now when raised, or the route has not opened yet
            referral = held.referral
            where = self.engine.destination_for(referral, now)
            if where.opens_at is not None:
                continue  # closed again: the prompt already says from when
            prompt = self.engine.call_prompt(referral, where)
            if prompt == held.prompt:
                continue  # already told
            entry = AuditEntry(
                REMINDED_KIND,
                worker,
                referral.id,
                {"phones": list(where.phones), "route": where.route.value},
            )
            if not self.store.replace_prompt(
                referral.id, held.prompt_text, prompt, audit=[entry], at=now
            ):
                continue
            told += 1
            log.warning("call prompt told again: route open", extra={"referral_id": referral.id})
            self._tell(held, prompt)
        return told

    def _opened_at(self, held: StandingCall) -> datetime | None:
        """When the route was due to open as the prompt was raised; None when it was open."""
        if held.escalated_at is not None:
            return self.engine.destination_for(held.referral, held.escalated_at).opens_at
        return held.receipt.opens_at if held.receipt is not None else None

    def _tell(self, held: StandingCall, prompt: Prompt) -> None:
        if held.escalated_at is not None:
            self.notify_escalated(held.referral, prompt)
            return
        self.notify(
            "referral_update",
            held.referral.id,
            self.engine.hooks.referral_update,
            held.referral,
            ReferralStatus.CALL_REQUIRED,
            held.receipt,
            prompt,
        )
