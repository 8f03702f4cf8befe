"""Read views over the store: what the pages, the API and the commands may look at.

``Records`` needs no plugins, so read-only commands (``contacts``, ``audit``) use it on its own;
the running :class:`~plugin_core.service.Service` has every one of these views too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from plugin_core.model import ContactState, Decision, DecisionEscalation
from plugin_core.store import Store, open_store
from plugin_core.store.audit import Break, StoredEntry
from plugin_core.store.base import ts
from plugin_core.store.records import StoredContact, StoredReferral
from plugin_core.store.referrals import SETTLED


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """One contact with everything recorded about it since."""

    contact: StoredContact
    decisions: tuple[Decision, ...]
    referrals: tuple[StoredReferral, ...]
    escalations: tuple[DecisionEscalation, ...]
    """Decisions not to share put before a safeguarding lead, newest first."""


@dataclass(frozen=True, slots=True)
class Health:
    """Whether the database answers, which backend it is, and the service counters."""

    database_ok: bool
    backend: str
    counters: dict[str, int]


class Records:
    """Read views over one store; they never change it."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def database_backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.store.backend.name

    def close(self) -> None:
        """Close this thread's database connection."""
        self.store.close()

    # Contacts and decisions ------------------------------------------------------------------

    def contact(self, contact_id: str) -> StoredContact | None:
        return self.store.get_contact(contact_id)

    def contacts(
        self, *, state: ContactState | None = None, limit: int = 100
    ) -> list[StoredContact]:
        """Newest first; only those in ``state`` when one is given."""
        return self.store.list_contacts(state=state, limit=limit)

    def contact_record(self, contact_id: str) -> ContactRecord | None:
        stored = self.store.get_contact(contact_id)
        if stored is None:
            return None
        return ContactRecord(
            stored,
            tuple(self.store.get_decisions(contact_id)),
            tuple(self.store.list_referrals(contact_id=contact_id)),
            tuple(self.store.list_decision_escalations(contact_id=contact_id)),
        )

    def decisions(self, contact_id: str) -> list[Decision]:
        """The contact's decisions, oldest first."""
        return self.store.get_decisions(contact_id)

    def decision_escalations(
        self, *, contact_id: str | None = None, limit: int = 100
    ) -> list[DecisionEscalation]:
        """Decisions not to share put before a safeguarding lead, newest first."""
        return self.store.list_decision_escalations(contact_id=contact_id, limit=limit)

    # Referrals -------------------------------------------------------------------------------

    def referral(self, referral_id: str) -> StoredReferral | None:
        return self.store.get_referral(referral_id)

    def referrals(self, *, contact_id: str | None = None) -> list[StoredReferral]:
        """By next attempt; only the contact's when one is named."""
        return self.store.list_referrals(contact_id=contact_id)

    def awaiting_calls(self) -> list[StoredReferral]:
        """Referrals with a call to make that nobody has yet confirmed was received, nor
        withdrawn."""
        return [
            r
            for r in self.store.list_referrals()
            if r.prompt is not None and r.status not in SETTLED
        ]

    def delivery_attempts(self, referral_id: str) -> list[tuple[int, str, str]]:
        """(attempt, worker, outcome) for each attempt recorded, oldest first."""
        return self.store.delivery_attempts(referral_id)

    # The service itself ----------------------------------------------------------------------

    def health(self) -> Health:
        """Raises when the database cannot be reached."""
        ok = self.store.ping()
        return Health(ok, self.store.backend.name, self.store.counters())

    def audit_entries(self, *, since: datetime | None = None, kind: str = "") -> list[StoredEntry]:
        """The audit trail in order, from ``since`` and of one ``kind`` when given."""
        after = ts(since) if since is not None else ""
        return [
            e for e in self.store.audit_entries() if e.at >= after and (not kind or e.kind == kind)
        ]

    def verify_audit(self) -> tuple[int, Break | None]:
        """Check the whole trail; returns (entries, first break or None)."""
        return self.store.verify_audit()


def open_records(url: str) -> Records:
    """Read views over an existing database; a missing SQLite file is an error, not a new one.

    Raises :class:`plugin_core.store.StoreError` when the database cannot be opened.
    """
    return Records(open_store(url, must_exist=True))
