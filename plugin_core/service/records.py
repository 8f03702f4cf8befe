"""Read views over the store: what the pages, the API and the commands may look at.

``Records`` needs no plugins, so read-only commands (``contacts``, ``audit``) use it on its own;
the running :class:`~plugin_core.service.Service` has every one of these views too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from plugin_core.model import ContactState, Decision, DecisionEscalation
from plugin_core.rules.referral_states import SETTLED
from plugin_core.service.audit_check import AuditVerdict, row_mismatches
from plugin_core.store import Store, open_store
from plugin_core.store.audit import StoredEntry
from plugin_core.store.audit_key import AuditKeyError, AuditKeys
from plugin_core.store.base import ts
from plugin_core.store.checkpoint import Checkpoint, compare, make_checkpoint, read_checkpoint
from plugin_core.store.records import StoredContact, StoredReferral


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

    def count_contacts(self, *, state: ContactState | None = None) -> int:
        """How many contacts there are; only those in ``state`` when one is given."""
        return self.store.count_contacts(state=state)

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

    def current_decision(self, contact_id: str) -> str | None:
        """The contact's decision in force (the one no later decision supersedes), or None."""
        return self.store.current_decision(contact_id)

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
        """Referrals with a call to make that nobody has yet confirmed was received, and that
        were not cancelled."""
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

    @property
    def audit_keys(self) -> AuditKeys:
        return self.store.audit_keys

    def verify_audit(self, checkpoint: str | None = None) -> AuditVerdict:
        """Check the sealed chain, the trail against ``checkpoint`` (a checkpoint's text) when
        given, and every decision and referral row against its audit entries.

        Raises :class:`~plugin_core.store.checkpoint.CheckpointError` when the checkpoint
        cannot be read or its signature does not match.
        """
        found = read_checkpoint(checkpoint, self.audit_keys) if checkpoint is not None else None
        entries = self.store.audit_entries()
        chain = self.store.check_audit(entries)
        if chain.broken or chain.unknown_key:
            return AuditVerdict(chain)
        decisions, referrals = self.store.audited_rows()
        return AuditVerdict(
            chain,
            tuple(row_mismatches(entries, decisions, referrals)),
            compare(found, entries) if found is not None else None,
            len(decisions),
            len(referrals),
        )

    def audit_checkpoint(self, at: datetime) -> tuple[Checkpoint, AuditVerdict]:
        """The trail's head signed with the audit key, once the trail verifies; the verdict
        says whether it did (no checkpoint is worth keeping of a broken trail)."""
        key = self.audit_keys.current
        if key is None:
            raise AuditKeyError("set THINKFAMILY_AUDIT_KEY: a checkpoint is signed with it")
        verdict = self.verify_audit()
        entries = self.store.audit_entries()
        last = entries[-1] if entries else None
        return make_checkpoint(key, verdict.chain.count, last, at), verdict


def open_records(url: str) -> Records:
    """Read views over an existing database; a missing SQLite file is an error, not a new one.

    Raises :class:`plugin_core.store.StoreError` when the database cannot be opened.
    """
    return Records(open_store(url, must_exist=True))
