"""The inbound journal: messages committed as received, then processed by a worker process.

A listener journals a message and acknowledges it; the worker claims rows, its adapter reads
them, and :meth:`Journal.settle_journal` records their contacts and settles the rows in one
transaction, so a row's effect is applied exactly once. Content errors found then are counted
and kept for the integrator (``journal_errors``); the sender was already acknowledged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from plugin_core.journal import (
    JournalBacklog,
    Journaled,
    JournalEntry,
    JournalError,
    JournalItem,
    JournalOutcome,
    JournalRow,
)
from plugin_core.service.contacts import Contacts
from plugin_core.store.backends import sqlite_path
from plugin_core.store.records import NewContact, SavedContact

log = logging.getLogger("thinkfamily.service")

LEASE_SECONDS = 120.0
MAX_ATTEMPTS = 5
"""A row whose contact could not be assessed (a plugin failed, say) is tried this many times."""
CONFLICT_REASON = "the message key is held by a different message; kept for review"
FAILED_REASON = "the contact could not be assessed (an internal error); see the service log"


class Journal(Contacts):
    def journal_messages(self, source: str, items: Sequence[JournalItem]) -> list[Journaled]:
        return self.store.journal_messages(source, items, at=self.clock())

    def open_journal_file(self) -> bool:
        """Journal into files of this process from now on (a listener on a SQLite file)."""
        return self.store.open_journal_file()

    def close_journal_file(self) -> None:
        self.store.close_journal_file()

    def claim_journal(self, source: str, worker: str, *, limit: int) -> list[JournalRow]:
        return self.store.claim_journal(
            source, worker, self.clock(), lease_seconds=LEASE_SECONDS, limit=limit
        )

    def journal_outcomes(self, ids: Sequence[int]) -> dict[int, JournalOutcome]:
        return self.store.journal_outcomes(ids)

    def journal_errors(self, *, limit: int = 100) -> list[JournalError]:
        return self.store.journal_errors(limit=limit)

    def journal_depth(self) -> int:
        return self.store.journal_depth()

    def journal_backlog(self, source: str) -> JournalBacklog:
        return self.store.journal_backlog(source, self.clock())

    def prune_journal(self, before: datetime) -> int:
        return self.store.prune_journal(before)

    def settle_journal(self, worker: str, entries: Sequence[JournalEntry]) -> list[JournalOutcome]:
        """Assess the entries' contacts, record them and settle every row, in one transaction.

        Raises (writing nothing) when the commit fails or a row was taken by another worker.
        """
        readable = [e for e in entries if e.contact is not None]
        items = [(e.contact, e.message_key) for e in readable if e.contact is not None]
        settled: list[JournalOutcome] = []
        counts: dict[str, int] = {}

        def save(batch: list[NewContact], at: datetime) -> list[SavedContact]:
            def settle(saved: list[SavedContact]) -> list[JournalOutcome]:
                found = {id(item.contact): s for item, s in zip(batch, saved, strict=True)}
                settled[:] = [_outcome_of(e, found, at) for e in entries]
                counts["journal.content_errors"] = sum(1 for o in settled if o.error)
                counts["journal.skipped"] = sum(1 for o in settled if o.outcome == "skipped")
                return settled

            return self.store.settle_journal(
                worker, [e.id for e in entries], batch, settle, at=at, counters=counts
            )

        self._accept_with(items, None, [e.message for e in readable], save)
        for outcome in settled:
            if outcome.error:
                log.warning(
                    "journal: content error found after acknowledging",
                    extra={"code": outcome.outcome, "reason": outcome.reason},
                )
        return settled

    def worker_settings(self) -> tuple[Path, str] | None:
        """The trust file and database a worker process opens a service of its own on; None
        for a database held in memory, which no other process can reach."""
        url = self.store.backend.url
        return None if sqlite_path(url) == ":memory:" else (self.config.path, url)


def _outcome_of(
    entry: JournalEntry, saved: dict[int, SavedContact], at: datetime
) -> JournalOutcome:
    if entry.contact is None:
        assert entry.outcome is not None
        return entry.outcome
    stored = saved.get(id(entry.contact))
    if stored is None:  # not assessed: try again later, then give up and say so
        if entry.attempts + 1 >= MAX_ATTEMPTS:
            return JournalOutcome(entry.id, "failed", "AE", reason=FAILED_REASON)
        wait = timedelta(seconds=min(300, 5 * 2**entry.attempts))
        return JournalOutcome(entry.id, "retry", reason=FAILED_REASON, retry_at=at + wait)
    if stored.conflict:
        return JournalOutcome(entry.id, "conflict", "AE", reason=CONFLICT_REASON)
    kind = "accepted" if stored.new else "duplicate"
    return JournalOutcome(entry.id, kind, contact_id=stored.contact_id)
