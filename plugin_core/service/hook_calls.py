"""Decision-support calls: the caller's one-time key, the contact and its audit entry written
in one transaction, so a call waits for the database once.

The writes go through the statements the store's own methods use (``use_once_in``,
``save_in``, ``append``, ``count``) on the one transaction, rather than through the methods
themselves: inside a unit each method would open and release a savepoint of its own, four
round trips that a call which is retried whole on any failure does not need.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from plugin_core import metrics
from plugin_core.contract import Accepted, AuditNote, PluginError
from plugin_core.model import FirstContact
from plugin_core.rules import recheck
from plugin_core.service.contacts import Contacts, _accepted
from plugin_core.store.audit import AuditEntry
from plugin_core.store.contacts import save_in
from plugin_core.store.counters import count, use_once_in
from plugin_core.store.records import NewContact, SavedContact
from plugin_core.store.trail import append

log = logging.getLogger("thinkfamily.service")


class HookCalls(Contacts):
    def accept_hook_call(
        self,
        contact: FirstContact,
        *,
        once_key: str,
        once_until: datetime,
        message_key: str,
        encounter_key: str | None,
        audit: Callable[[Accepted], AuditNote | None],
    ) -> Accepted | None:
        now = self.clock()
        try:
            assessment = self.engine.assess(contact, now=now, present=False)
        except PluginError as failure:
            self.plugin_failed(failure, contact.id)
            raise
        patient = recheck.patient_key(self.config.trust_id, contact.patient.id)
        facts = recheck.facts_of(contact, assessment)
        after = now - timedelta(days=self.config.recheck_days)
        for attempt in (1, 2):
            try:
                with metrics.commit_timed("hook_call"), self.store.transaction() as tx:
                    if not use_once_in(tx, once_key, until=once_until, now=now):
                        return None
                    # Read on this transaction's own connection, so it sees what it writes.
                    basis = self.store.latest_bases([patient], after=after).get(patient)
                    found = recheck.judge(
                        facts, basis, now=now, recheck_days=self.config.recheck_days
                    )
                    item = self._new_contact(
                        contact, message_key, assessment, facts, found, encounter_key
                    )
                    stored = save_in(tx, [item], now)[0]
                    accepted = _accepted(item, stored, found)
                    note = audit(accepted)
                    if note is not None:
                        entry = AuditEntry(note.kind, note.actor, accepted.contact_id, note.details)
                        append(tx, [entry], now)
                    counter = _counter(stored)
                    if counter is not None:
                        count(tx, counter, 1)
                break
            except Exception as exc:
                # Another instance recorded the same contact first: the retry answers with it.
                if attempt == 2 or not self._lost_race(exc):
                    raise
        if counter is not None:
            metrics.counted(counter)
        self._told(item, stored)
        return accepted

    def _lost_race(self, exc: BaseException) -> bool:
        backend = self.store.backend
        return backend.is_unique_violation(exc) or (
            exc.__context__ is not None and backend.is_unique_violation(exc.__context__)
        )

    def _told(self, item: NewContact, stored: SavedContact) -> None:
        """Logs and plugins, once the call's transaction is committed."""
        if stored.new:
            self._accepted_new(item)
        elif stored.reused:
            log.info("open contact answered again", extra={"contact_id": stored.contact_id})
        elif not stored.conflict:
            log.info("contact already recorded", extra={"contact_id": item.contact.id})


def _counter(stored: SavedContact) -> str | None:
    if stored.new or stored.conflict:
        return None
    return "contacts.reused" if stored.reused else "contacts.duplicate"
