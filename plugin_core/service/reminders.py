"""Telling again, once the route opens, an escalation raised while it was closed.

A routine referral's deadline counts working hours, so it usually passes as the route closes:
the escalation then says to ring from when it opens, and the professional who hears it may be
off shift by then. When the route has opened, the escalation's prompt becomes the one to ring
now and plugins are told again (``escalated``, with that prompt), once, with an audit entry.
Nothing is sent to the authority again: it already has the referral.
"""

from __future__ import annotations

import logging

from plugin_core.service.base import ServiceBase
from plugin_core.store.audit import AuditEntry

log = logging.getLogger("thinkfamily.service")

REMINDED_KIND = "referral.reminded"


class Reminders(ServiceBase):
    def remind_opened(self, worker: str) -> int:
        """Tell again each escalation whose route was closed when it was raised and is open
        now; returns how many this worker told."""
        now = self.clock()
        told = 0
        for held in self.store.open_escalations():
            referral = held.referral
            then = self.engine.destination_for(referral, held.escalated_at)
            if then.opens_at is None or then.opens_at > now:
                continue  # rung now when raised, or the route has not opened yet
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
            log.warning("escalation told again: route open", extra={"referral_id": referral.id})
            self.notify_escalated(referral, prompt)
        return told
