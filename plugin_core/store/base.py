"""The store: one interface, one body of SQL, two backends.

SQL is written once with ``?`` placeholders; a backend supplies connections, the locking
statements its engine needs, and the placeholder style. Every method is one transaction, so
a decision and its referrals, or a contact and its message key, commit together or not at all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from plugin_core.contract import ReceivedMessage
from plugin_core.formats import serialise
from plugin_core.model import (
    Assessment,
    Decision,
    DecisionEscalation,
    FirstContact,
    Prompt,
    Receipt,
    Referral,
    ReferralStatus,
)
from plugin_core.rules.recheck import Basis, Facts
from plugin_core.store.audit import (
    GENESIS,
    AuditEntry,
    Break,
    StoredEntry,
    canonical_details,
    entry_hash,
    verify,
    verify_head,
)
from plugin_core.store.schema import MIGRATIONS

# Contact states written here; a decision moves a contact to "decided" or "referred".
OPEN = "open"
NO_ACTION_NEEDED = "no-action-needed"
SUPPRESSED = "suppressed"


class StoreError(RuntimeError):
    """The database could not do what was asked; the message carries no patient data."""


def ts(value: datetime) -> str:
    """UTC text with fixed width, so times sort correctly as text on both backends."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=UTC)


class Backend(Protocol):
    """What differs between SQLite and PostgreSQL."""

    url: str
    name: str
    skip_locked: str
    for_update: str
    migration_lock: str
    writer: AbstractContextManager[Any]

    def connect(self) -> Any: ...
    def begin(self, conn: Any) -> None: ...
    def sql(self, text: str) -> str: ...
    def is_unique_violation(self, exc: BaseException) -> bool: ...


@dataclass(frozen=True, slots=True)
class NewContact:
    """A contact to record, with its assessment, the sender's message key and audit entries."""

    contact: FirstContact
    assessment: Assessment
    message_key: str | None
    audit: tuple[AuditEntry, ...]
    relies_on: str | None = None
    """The decision whose re-check period covers this contact: its prompts are not shown."""
    reuse_key: str | None = None
    """An open contact already holding this key is answered instead of recording this one."""
    counters: tuple[str, ...] = ()
    """Counters to add to when this contact is recorded, in the same transaction."""
    message: ReceivedMessage | None = None
    """The message it came in: its digest is stored to tell a resend from a reused key."""


@dataclass(frozen=True, slots=True)
class SavedContact:
    """What the store did with one contact: recorded it, or answered with one it holds."""

    new: bool
    contact_id: str
    assessment: Assessment
    relies_on: str | None = None
    reused: bool = False
    conflict: bool = False
    """The key or id is held by a different message: nothing recorded, the message kept."""


@dataclass(frozen=True, slots=True)
class Claim:
    """A referral a worker now holds, with the attempts already made."""

    referral: Referral
    attempts: int


@dataclass(frozen=True, slots=True)
class HostTask:
    """A hook call to retry for one plugin: for now, writing a decision back to the host."""

    id: str
    hook: str
    plugin: str
    subject: str
    attempts: int


@dataclass(frozen=True, slots=True)
class StoredContact:
    id: str
    received_at: datetime
    state: str
    top_severity: str | None
    prompt_codes: tuple[str, ...]
    contact: FirstContact
    assessment: Assessment
    relies_on: str | None = None
    """For a contact whose prompts were not shown: the decision it relied on."""


@dataclass(frozen=True, slots=True)
class ConflictingResend:
    """A message refused because its key was held by a different message, kept for review."""

    message_key: str
    contact_id: str
    first_received_at: datetime
    last_received_at: datetime
    times: int
    digest: str
    message: str
    """As received: patient data."""

    def __repr__(self) -> str:
        return f"ConflictingResend({self.message_key!r}, times={self.times})"


@dataclass(frozen=True, slots=True)
class StoredReferral:
    referral: Referral
    status: ReferralStatus
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    acknowledged_at: datetime | None
    escalated_at: datetime | None
    receipt: Receipt | None
    prompt: Prompt | None


class Store:
    """Contacts, decisions, referrals (the outbox), delivery attempts, audit trail, counters."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._local = threading.local()

    # Connections and transactions -----------------------------------------------------------

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.backend.connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[_Tx]:
        conn = self._conn()
        with self.backend.writer:
            try:
                self.backend.begin(conn)
                yield _Tx(conn, self.backend)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def migrate(self) -> int:
        """Apply pending migrations; returns the schema version."""
        with self.transaction() as tx:
            if self.backend.migration_lock:
                tx.one(self.backend.migration_lock)
            tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = tx.one("SELECT MAX(version) FROM schema_version")
            current = row[0] if row and row[0] is not None else 0
            for version, statements in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in statements:
                    tx.execute(statement)
                tx.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        return len(MIGRATIONS)

    def ping(self) -> bool:
        with self.transaction() as tx:
            return tx.one("SELECT 1") is not None

    # Audit ----------------------------------------------------------------------------------

    def _append(self, tx: _Tx, entries: Sequence[AuditEntry], at: datetime) -> None:
        if not entries:
            return
        head = tx.one(f"SELECT seq, hash FROM audit_head WHERE id = 1{self.backend.for_update}")
        seq, prev = int(head[0]), str(head[1])
        stamp = ts(at)
        for entry in entries:
            seq += 1
            details = canonical_details(entry.details)
            digest = entry_hash(seq, stamp, entry.kind, entry.actor, entry.subject, details, prev)
            tx.execute(
                "INSERT INTO audit (seq, at, kind, actor, subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, stamp, entry.kind, entry.actor, entry.subject, details, prev, digest),
            )
            prev = digest
        tx.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (seq, prev))

    def append_audit(self, entries: Sequence[AuditEntry], at: datetime) -> None:
        with self.transaction() as tx:
            self._append(tx, entries, at)

    def audit_entries(self) -> list[StoredEntry]:
        with self.transaction() as tx:
            rows = tx.all(
                "SELECT seq, at, kind, actor, subject, details, prev_hash, hash FROM audit ORDER BY seq"
            )
        return [StoredEntry(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]

    def verify_audit(self) -> tuple[int, Break | None]:
        """Check the whole trail; returns (entries, first break or None)."""
        entries = self.audit_entries()
        count, broken = verify(entries)
        if broken:
            return count, broken
        with self.transaction() as tx:
            head = tx.one("SELECT seq, hash FROM audit_head WHERE id = 1")
        last = entries[-1].hash if entries else GENESIS
        return count, verify_head(count, last, int(head[0]), str(head[1]))

    # Contacts -------------------------------------------------------------------------------

    def save_contacts(self, items: Sequence[NewContact], *, at: datetime) -> list[SavedContact]:
        """Record contacts durably in one transaction (one disk flush for the lot).

        Returns what was done with each, in order: an already-seen message key or contact id,
        even earlier in the same batch, answers with the stored contact and writes nothing; so
        does an open contact with the same reuse key.
        """
        try:
            return self._save_contacts(items, at)
        except Exception as exc:
            if not self.backend.is_unique_violation(exc):
                raise
        # Another instance committed one of these first: the retry answers with its copy.
        return self._save_contacts(items, at)

    def _save_contacts(self, items: Sequence[NewContact], at: datetime) -> list[SavedContact]:
        results: list[SavedContact] = []
        written: dict[str, SavedContact] = {}
        digests: dict[str, str | None] = {}
        with self.transaction() as tx:
            for item in items:
                found = self._stored_contact_for(tx, item, written, digests)
                if found is not None:
                    if found.conflict:
                        self._keep_conflict(tx, item, at)
                    results.append(found)
                    continue
                self._insert_contact(tx, item, at)
                saved = SavedContact(True, item.contact.id, item.assessment, item.relies_on)
                answer = replace(saved, new=False)
                written[item.contact.id] = answer
                if item.message_key is not None:
                    written[f"key:{item.message_key}"] = answer
                    digests[item.message_key] = item.message.digest if item.message else None
                if item.reuse_key is not None:
                    written[f"reuse:{item.reuse_key}"] = replace(answer, reused=True)
                results.append(saved)
        return results

    def _stored_contact_for(
        self,
        tx: _Tx,
        item: NewContact,
        written: dict[str, SavedContact],
        digests: dict[str, str | None],
    ) -> SavedContact | None:
        if item.message_key is not None:
            if f"key:{item.message_key}" in written:
                earlier = written[f"key:{item.message_key}"]
                return _resent(earlier, item, digests.get(item.message_key))
            row = tx.one(
                "SELECT assessment, relies_on, message_hash FROM contacts WHERE message_key = ?",
                (item.message_key,),
            )
            if row is not None:
                # The sender's own id for the contact, as before: a resend is answered in kind.
                saved = SavedContact(
                    False, item.contact.id, serialise.loads(Assessment, row[0]), row[1]
                )
                return _resent(saved, item, row[2])
        if item.contact.id in written:
            return written[item.contact.id]
        row = tx.one(
            "SELECT assessment, relies_on, message_key FROM contacts WHERE id = ?",
            (item.contact.id,),
        )
        if row is not None:
            saved = SavedContact(
                False, item.contact.id, serialise.loads(Assessment, row[0]), row[1]
            )
            # A message's contact id held by a contact from elsewhere: not this message's copy.
            taken = item.message is not None and row[2] != item.message_key
            return replace(saved, conflict=True) if taken else saved
        if item.reuse_key is None:
            return None
        if f"reuse:{item.reuse_key}" in written:
            return written[f"reuse:{item.reuse_key}"]
        row = tx.one(
            "SELECT id, assessment FROM contacts WHERE reuse_key = ? AND state = ?",
            (item.reuse_key, OPEN),
        )
        if row is None:
            return None
        return SavedContact(False, row[0], serialise.loads(Assessment, row[1]), reused=True)

    def _insert_contact(self, tx: _Tx, item: NewContact, at: datetime) -> None:
        prompts = item.assessment.prompts
        top = max(prompts, key=lambda p: p.severity.rank, default=None)
        if not prompts:
            state = NO_ACTION_NEEDED
        elif item.relies_on is not None:
            state = SUPPRESSED
        else:
            state = OPEN
        tx.execute(
            "INSERT INTO contacts (id, received_at, source, message_key, state, top_severity,"
            " prompt_codes, contact, assessment, relies_on, reuse_key, message_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item.contact.id,
                ts(at),
                item.contact.source,
                item.message_key,
                state,
                top.severity.value if top else None,
                ",".join(p.code.value for p in prompts),
                serialise.dumps(item.contact),
                serialise.dumps(item.assessment),
                item.relies_on if state == SUPPRESSED else None,
                item.reuse_key if state == OPEN else None,
                item.message.digest if item.message is not None else None,
            ),
        )
        for name in item.counters:
            self._count(tx, name, 1)
        self._append(tx, item.audit, at)

    def _keep_conflict(self, tx: _Tx, item: NewContact, at: datetime) -> None:
        """Keep a message refused for a key held by another, once per distinct message."""
        assert item.message is not None
        key = item.message_key or item.contact.id
        stamp = ts(at)
        tx.execute(
            "INSERT INTO conflicting_resends (message_key, message_hash, contact_id,"
            " first_received_at, last_received_at, times, message) VALUES (?, ?, ?, ?, ?, 1, ?)"
            " ON CONFLICT (message_key, message_hash) DO UPDATE SET"
            " last_received_at = excluded.last_received_at,"
            " times = conflicting_resends.times + 1",
            (key, item.message.digest, item.contact.id, stamp, stamp, item.message.text),
        )
        entry = AuditEntry(
            "contact.conflicting_resend",
            item.contact.source,
            item.contact.id,
            {"message_key": key, "digest": item.message.digest},
        )
        self._append(tx, [entry], at)

    def conflicting_resends(self, *, limit: int = 100) -> list[ConflictingResend]:
        """Messages refused because their key was held by a different message, newest first."""
        with self.transaction() as tx:
            rows = tx.all(
                "SELECT message_key, contact_id, first_received_at, last_received_at, times,"
                " message_hash, message FROM conflicting_resends"
                " ORDER BY last_received_at DESC LIMIT ?",
                (limit,),
            )
        return [
            ConflictingResend(r[0], r[1], parse_ts(r[2]), parse_ts(r[3]), int(r[4]), r[5], r[6])
            for r in rows
        ]

    def get_contact(self, contact_id: str) -> StoredContact | None:
        with self.transaction() as tx:
            row = tx.one(
                "SELECT id, received_at, state, top_severity, prompt_codes, contact, assessment, relies_on FROM contacts WHERE id = ?",
                (contact_id,),
            )
        return _stored_contact(row) if row else None

    def list_contacts(self, *, state: str | None = None, limit: int = 100) -> list[StoredContact]:
        sql = "SELECT id, received_at, state, top_severity, prompt_codes, contact, assessment, relies_on FROM contacts"
        params: tuple[Any, ...] = ()
        if state:
            sql += " WHERE state = ?"
            params = (state,)
        sql += " ORDER BY received_at DESC LIMIT ?"
        with self.transaction() as tx:
            rows = tx.all(sql, (*params, limit))
        return [_stored_contact(r) for r in rows]

    # Decisions and the outbox -------------------------------------------------------------

    def save_decision(
        self,
        decision: Decision,
        referrals: Sequence[Referral],
        *,
        audit: Sequence[AuditEntry],
        at: datetime,
        basis: tuple[str, Basis] | None = None,
        escalations: Sequence[DecisionEscalation] = (),
    ) -> bool:
        """Record a decision, its referrals, its escalations and audit entries in one transaction.

        :param basis: (patient key, what the decision was made on), which starts the adult's
            re-check period.
        Returns False (writing nothing) when a decision with this id is already recorded.
        """
        with self.transaction() as tx:
            if tx.one("SELECT 1 FROM decisions WHERE id = ?", (decision.id,)) is not None:
                return False
            tx.execute(
                "INSERT INTO decisions (id, contact_id, decided_at, share, decision) VALUES (?, ?, ?, ?, ?)",
                (
                    decision.id,
                    decision.contact_id,
                    ts(decision.decided_at),
                    int(decision.share),
                    serialise.dumps(decision),
                ),
            )
            for referral in referrals:
                self._insert_referral(tx, referral)
            if basis is not None:
                patient, found = basis
                tx.execute(
                    "INSERT INTO decision_facts (decision_id, patient_key, since, facts) VALUES (?, ?, ?, ?)",
                    (decision.id, patient, ts(found.since), found.facts.to_json()),
                )
            for escalation in escalations:
                tx.execute(
                    "INSERT INTO decision_escalations (id, decision_id, contact_id, kind, created_at,"
                    " escalation) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        escalation.id,
                        escalation.decision_id,
                        escalation.contact_id,
                        escalation.kind.value,
                        ts(escalation.created_at),
                        serialise.dumps(escalation),
                    ),
                )
            tx.execute(
                "UPDATE contacts SET state = ? WHERE id = ?",
                ("referred" if referrals else "decided", decision.contact_id),
            )
            self._append(tx, audit, at)
        return True

    def save_amendment(
        self, referral: Referral, *, audit: Sequence[AuditEntry], at: datetime
    ) -> bool:
        """Queue an update or cancellation with its audit entries; False if already queued."""
        with self.transaction() as tx:
            if tx.one("SELECT 1 FROM referrals WHERE id = ?", (referral.id,)) is not None:
                return False
            self._insert_referral(tx, referral)
            self._append(tx, audit, at)
        return True

    def withdraw_unsent(
        self, referral_id: str, *, audit: Sequence[AuditEntry], at: datetime
    ) -> bool:
        """Cancel a referral that has not been sent and is not being sent now.

        Returns False when it was delivered, is claimed by a worker, or is not waiting; the
        caller then sends a cancellation message instead.
        """
        stamp = ts(at)
        with self.transaction() as tx:
            row = tx.one(
                "UPDATE referrals SET status = 'cancelled' WHERE id = ? AND status IN ('pending', 'failed')"
                " AND delivered_at IS NULL AND (claim_expires_at IS NULL OR claim_expires_at < ?) RETURNING id",
                (referral_id, stamp),
            )
            if row is None:
                return False
            self._append(tx, audit, at)
        return True

    def _insert_referral(self, tx: _Tx, referral: Referral) -> None:
        tx.execute(
            "INSERT INTO referrals (id, decision_id, contact_id, idempotency_key, urgent, status,"
            " next_attempt_at, due_by, referral) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                referral.id,
                referral.decision_id,
                referral.contact_id,
                referral.idempotency_key,
                int(referral.urgent),
                ReferralStatus.PENDING.value,
                ts(referral.created_at),
                ts(referral.due_by),
                serialise.dumps(referral),
            ),
        )

    def get_decision(self, decision_id: str) -> Decision | None:
        with self.transaction() as tx:
            row = tx.one("SELECT decision FROM decisions WHERE id = ?", (decision_id,))
        return serialise.loads(Decision, row[0]) if row else None

    def get_decisions(self, contact_id: str) -> list[Decision]:
        with self.transaction() as tx:
            rows = tx.all(
                "SELECT decision FROM decisions WHERE contact_id = ? ORDER BY decided_at",
                (contact_id,),
            )
        return [serialise.loads(Decision, r[0]) for r in rows]

    def latest_bases(self, patients: Sequence[str], *, after: datetime) -> dict[str, Basis]:
        """Each adult's latest decision made after ``after``, with the facts it was made on."""
        found: dict[str, Basis] = {}
        with self.transaction() as tx:
            for patient in dict.fromkeys(patients):
                row = tx.one(
                    "SELECT decision_id, since, facts FROM decision_facts WHERE patient_key = ?"
                    " AND since > ? ORDER BY since DESC, decision_id DESC LIMIT 1",
                    (patient, ts(after)),
                )
                if row is not None:
                    found[patient] = Basis(row[0], parse_ts(row[1]), Facts.from_json(row[2]))
        return found

    def list_decision_escalations(
        self, *, contact_id: str | None = None, limit: int = 100
    ) -> list[DecisionEscalation]:
        """Decisions not to share put before a safeguarding lead, newest first."""
        sql = "SELECT escalation FROM decision_escalations"
        params: tuple[Any, ...] = ()
        if contact_id:
            sql += " WHERE contact_id = ?"
            params = (contact_id,)
        sql += " ORDER BY created_at DESC, id LIMIT ?"
        with self.transaction() as tx:
            rows = tx.all(sql, (*params, limit))
        return [serialise.loads(DecisionEscalation, r[0]) for r in rows]

    def claim_referrals(
        self, worker: str, now: datetime, *, lease_seconds: float, limit: int
    ) -> list[Claim]:
        """Claim up to ``limit`` referrals due for an attempt; a claim is never shared.

        A claim lasts ``lease_seconds``; a worker that dies leaves its claims to expire, and
        another worker then takes them up.
        """
        stamp = ts(now)
        expires = ts(datetime.fromtimestamp(now.timestamp() + lease_seconds, UTC))
        with self.transaction() as tx:
            rows = tx.all(
                "SELECT id FROM referrals WHERE status IN ('pending', 'failed') AND next_attempt_at <= ?"
                " AND (claim_expires_at IS NULL OR claim_expires_at < ?) ORDER BY urgent DESC, next_attempt_at LIMIT ?"
                + self.backend.skip_locked,
                (stamp, stamp, limit),
            )
            claimed: list[Claim] = []
            for (referral_id,) in rows:
                row = tx.one(
                    "UPDATE referrals SET claimed_by = ?, claim_expires_at = ? WHERE id = ?"
                    " AND (claim_expires_at IS NULL OR claim_expires_at < ?) RETURNING referral, attempts",
                    (worker, expires, referral_id, stamp),
                )
                if row is not None:
                    claimed.append(Claim(serialise.loads(Referral, row[0]), int(row[1])))
        return claimed

    def finish_attempt(
        self,
        referral: Referral,
        worker: str,
        *,
        status: ReferralStatus,
        receipt: Receipt | None,
        prompt: Prompt | None,
        next_attempt_at: datetime | None,
        audit: Sequence[AuditEntry],
        at: datetime,
    ) -> bool:
        """Record the outcome of a claimed attempt. Returns False, writing nothing, when the
        claim was lost or the referral was already delivered: one delivery is recorded."""
        with self.transaction() as tx:
            row = tx.one(
                f"SELECT status, claimed_by, attempts FROM referrals WHERE id = ?{self.backend.for_update}",
                (referral.id,),
            )
            if row is None or row[1] != worker or row[0] not in ("pending", "failed"):
                return False
            attempt = int(row[2]) + 1
            stamp = ts(at)
            delivered = status in (ReferralStatus.DELIVERED, ReferralStatus.ACKNOWLEDGED)
            tx.execute(
                "UPDATE referrals SET status = ?, attempts = ?, next_attempt_at = ?, claimed_by = NULL,"
                " claim_expires_at = NULL, receipt = ?, prompt = COALESCE(?, prompt),"
                " delivered_at = CASE WHEN ? = 1 THEN ? ELSE delivered_at END,"
                " acknowledged_at = CASE WHEN ? = 1 THEN ? ELSE acknowledged_at END WHERE id = ?",
                (
                    status.value,
                    attempt,
                    ts(next_attempt_at) if next_attempt_at else stamp,
                    serialise.dumps(receipt) if receipt else None,
                    serialise.dumps(prompt) if prompt else None,
                    int(delivered),
                    stamp,
                    int(status is ReferralStatus.ACKNOWLEDGED),
                    stamp,
                    referral.id,
                ),
            )
            tx.execute(
                "INSERT INTO delivery_attempts (referral_id, attempt, attempted_at, worker, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    referral.id,
                    attempt,
                    stamp,
                    worker,
                    status.value,
                    receipt.detail[:500] if receipt else "",
                ),
            )
            self._append(tx, audit, at)
        return True

    def acknowledge(
        self, referral_id: str, *, audit: Sequence[AuditEntry], at: datetime
    ) -> StoredReferral | None:
        """Mark a referral acknowledged by a person (a call made, a reply received)."""
        with self.transaction() as tx:
            row = tx.one(
                f"SELECT status FROM referrals WHERE id = ?{self.backend.for_update}",
                (referral_id,),
            )
            if row is None:
                return None
            if row[0] != ReferralStatus.ACKNOWLEDGED.value:
                tx.execute(
                    "UPDATE referrals SET status = ?, acknowledged_at = ?, claimed_by = NULL, claim_expires_at = NULL WHERE id = ?",
                    (ReferralStatus.ACKNOWLEDGED.value, ts(at), referral_id),
                )
                self._append(tx, audit, at)
        return self.get_referral(referral_id)

    def due_escalations(self, now: datetime) -> list[Referral]:
        """Urgent referrals past their deadline, not acknowledged and not yet escalated."""
        with self.transaction() as tx:
            rows = tx.all(
                "SELECT referral FROM referrals WHERE urgent = 1 AND status NOT IN ('acknowledged', 'cancelled')"
                " AND escalated_at IS NULL AND due_by <= ?",
                (ts(now),),
            )
        return [serialise.loads(Referral, r[0]) for r in rows]

    def mark_escalated(
        self, referral: Referral, prompt: Prompt, *, audit: Sequence[AuditEntry], at: datetime
    ) -> bool:
        """Record an escalation once; returns False when another worker already did."""
        with self.transaction() as tx:
            row = tx.one(
                "UPDATE referrals SET escalated_at = ?, prompt = ? WHERE id = ? AND escalated_at IS NULL RETURNING id",
                (ts(at), serialise.dumps(prompt), referral.id),
            )
            if row is None:
                return False
            self._append(tx, audit, at)
        return True

    def get_referral(self, referral_id: str) -> StoredReferral | None:
        with self.transaction() as tx:
            row = tx.one(
                "SELECT referral, status, attempts, next_attempt_at, delivered_at, acknowledged_at, escalated_at, receipt, prompt FROM referrals WHERE id = ?",
                (referral_id,),
            )
        return _stored_referral(row) if row else None

    def list_referrals(self, *, contact_id: str | None = None) -> list[StoredReferral]:
        sql = "SELECT referral, status, attempts, next_attempt_at, delivered_at, acknowledged_at, escalated_at, receipt, prompt FROM referrals"
        params: tuple[Any, ...] = ()
        if contact_id:
            sql += " WHERE contact_id = ?"
            params = (contact_id,)
        with self.transaction() as tx:
            rows = tx.all(sql + " ORDER BY next_attempt_at", params)
        return [_stored_referral(r) for r in rows]

    def delivery_attempts(self, referral_id: str) -> list[tuple[int, str, str]]:
        with self.transaction() as tx:
            rows = tx.all(
                "SELECT attempt, worker, outcome FROM delivery_attempts WHERE referral_id = ? ORDER BY attempted_at",
                (referral_id,),
            )
        return [(int(r[0]), r[1], r[2]) for r in rows]

    # Host write-backs to retry ------------------------------------------------------------

    def add_host_task(
        self,
        hook: str,
        plugin: str,
        subject: str,
        *,
        error: str,
        at: datetime,
        audit: Sequence[AuditEntry],
    ) -> None:
        """Queue a retry of ``hook`` for one plugin about ``subject`` (a decision id)."""
        task_id = f"{hook}|{plugin}|{subject}"
        with self.transaction() as tx:
            tx.execute(
                "INSERT INTO host_tasks (id, hook, plugin, subject, attempts, next_attempt_at, last_error)"
                " VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT (id) DO NOTHING",
                (task_id, hook, plugin, subject, ts(at), error),
            )
            self._append(tx, audit, at)

    def claim_host_tasks(
        self, worker: str, now: datetime, *, lease_seconds: float, limit: int
    ) -> list[HostTask]:
        stamp = ts(now)
        expires = ts(datetime.fromtimestamp(now.timestamp() + lease_seconds, UTC))
        claimed: list[HostTask] = []
        with self.transaction() as tx:
            rows = tx.all(
                "SELECT id FROM host_tasks WHERE done_at IS NULL AND next_attempt_at <= ?"
                " AND (claim_expires_at IS NULL OR claim_expires_at < ?) ORDER BY next_attempt_at LIMIT ?"
                + self.backend.skip_locked,
                (stamp, stamp, limit),
            )
            for (task_id,) in rows:
                row = tx.one(
                    "UPDATE host_tasks SET claimed_by = ?, claim_expires_at = ? WHERE id = ?"
                    " RETURNING id, hook, plugin, subject, attempts",
                    (worker, expires, task_id),
                )
                if row is not None:
                    claimed.append(HostTask(row[0], row[1], row[2], row[3], int(row[4])))
        return claimed

    def finish_host_task(
        self,
        task: HostTask,
        *,
        ok: bool,
        error: str,
        retry_at: datetime,
        at: datetime,
        audit: Sequence[AuditEntry],
    ) -> None:
        with self.transaction() as tx:
            if ok:
                tx.execute(
                    "UPDATE host_tasks SET done_at = ?, claimed_by = NULL, claim_expires_at = NULL WHERE id = ?",
                    (ts(at), task.id),
                )
            else:
                tx.execute(
                    "UPDATE host_tasks SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?,"
                    " claimed_by = NULL, claim_expires_at = NULL WHERE id = ?",
                    (ts(retry_at), error, task.id),
                )
            self._append(tx, audit, at)

    def host_tasks(self) -> list[tuple[HostTask, bool]]:
        """Every queued write-back, with whether it is done."""
        with self.transaction() as tx:
            rows = tx.all(
                "SELECT id, hook, plugin, subject, attempts, done_at FROM host_tasks ORDER BY id"
            )
        return [(HostTask(r[0], r[1], r[2], r[3], int(r[4])), r[5] is not None) for r in rows]

    # Keys used once -------------------------------------------------------------------------

    def use_once(self, key: str, *, until: datetime, now: datetime) -> bool:
        """True the first time ``key`` is used before it expires; False on every reuse."""
        with self.transaction() as tx:
            tx.execute("DELETE FROM once_keys WHERE key = ? AND expires_at < ?", (key, ts(now)))
            row = tx.one(
                "INSERT INTO once_keys (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING RETURNING key",
                (key, ts(until)),
            )
        return row is not None

    def purge_once_keys(self, now: datetime) -> None:
        with self.transaction() as tx:
            tx.execute("DELETE FROM once_keys WHERE expires_at < ?", (ts(now),))

    # Counters -------------------------------------------------------------------------------

    def add_counter(self, name: str, amount: int = 1) -> None:
        with self.transaction() as tx:
            self._count(tx, name, amount)

    def _count(self, tx: _Tx, name: str, amount: int) -> None:
        tx.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value",
            (name, amount),
        )

    def counters(self) -> dict[str, int]:
        with self.transaction() as tx:
            rows = tx.all("SELECT name, value FROM counters ORDER BY name")
        return {r[0]: int(r[1]) for r in rows}


class _Tx:
    """A transaction's cursor with the backend's placeholder style applied."""

    def __init__(self, conn: Any, backend: Backend) -> None:
        self.cursor = conn.cursor()
        self.backend = backend

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(self.backend.sql(sql), tuple(params))

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self.cursor.execute(self.backend.sql(sql), tuple(params))
        return self.cursor.fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        self.cursor.execute(self.backend.sql(sql), tuple(params))
        return list(self.cursor.fetchall())


def _resent(saved: SavedContact, item: NewContact, stored_digest: str | None) -> SavedContact:
    """The stored contact for a key seen before, or a conflict when the message differs.

    A contact stored without a digest (before digests were kept, or by a sender that gives
    none) cannot be compared and is taken as the same message, as it always was.
    """
    if item.message is None or stored_digest is None or stored_digest == item.message.digest:
        return saved
    return replace(saved, conflict=True)


def _opt_ts(text: str | None) -> datetime | None:
    return parse_ts(text) if text else None


def _stored_contact(row: Any) -> StoredContact:
    return StoredContact(
        id=row[0],
        received_at=parse_ts(row[1]),
        state=row[2],
        top_severity=row[3],
        prompt_codes=tuple(c for c in row[4].split(",") if c),
        contact=serialise.loads(FirstContact, row[5]),
        assessment=serialise.loads(Assessment, row[6]),
        relies_on=row[7],
    )


def _stored_referral(row: Any) -> StoredReferral:
    return StoredReferral(
        referral=serialise.loads(Referral, row[0]),
        status=ReferralStatus(row[1]),
        attempts=int(row[2]),
        next_attempt_at=parse_ts(row[3]),
        delivered_at=_opt_ts(row[4]),
        acknowledged_at=_opt_ts(row[5]),
        escalated_at=_opt_ts(row[6]),
        receipt=serialise.loads(Receipt, row[7]) if row[7] else None,
        prompt=serialise.loads(Prompt, row[8]) if row[8] else None,
    )
