"""Schema migrations, applied in order; each is a list of statements valid on both backends.

Times are ISO 8601 UTC text with microseconds, so they sort as text on either backend.
"""

from __future__ import annotations

from plugin_core.model import ContactState, ReferralStatus

_CANCELLED = ReferralStatus.CANCELLED.value
_SENT = ", ".join(
    f"'{s.value}'"
    for s in (ReferralStatus.DELIVERED, ReferralStatus.ACKNOWLEDGED, ReferralStatus.CALL_REQUIRED)
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE contacts (
            id TEXT PRIMARY KEY,
            received_at TEXT NOT NULL,
            source TEXT NOT NULL,
            message_key TEXT UNIQUE,
            state TEXT NOT NULL,
            top_severity TEXT,
            prompt_codes TEXT NOT NULL,
            contact TEXT NOT NULL,
            assessment TEXT NOT NULL
        )""",
        "CREATE INDEX contacts_state ON contacts (state, received_at)",
        """CREATE TABLE decisions (
            id TEXT PRIMARY KEY,
            contact_id TEXT NOT NULL REFERENCES contacts (id),
            decided_at TEXT NOT NULL,
            share INTEGER NOT NULL,
            decision TEXT NOT NULL
        )""",
        """CREATE TABLE referrals (
            id TEXT PRIMARY KEY,
            decision_id TEXT NOT NULL REFERENCES decisions (id),
            contact_id TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            urgent INTEGER NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            due_by TEXT NOT NULL,
            claimed_by TEXT,
            claim_expires_at TEXT,
            delivered_at TEXT,
            acknowledged_at TEXT,
            escalated_at TEXT,
            receipt TEXT,
            prompt TEXT,
            referral TEXT NOT NULL
        )""",
        "CREATE INDEX referrals_due ON referrals (status, next_attempt_at)",
        """CREATE TABLE delivery_attempts (
            referral_id TEXT NOT NULL REFERENCES referrals (id),
            attempt INTEGER NOT NULL,
            attempted_at TEXT NOT NULL,
            worker TEXT NOT NULL,
            outcome TEXT NOT NULL,
            detail TEXT NOT NULL,
            PRIMARY KEY (referral_id, attempt, worker)
        )""",
        """CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            subject TEXT NOT NULL,
            details TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        "CREATE TABLE audit_head (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL)",
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, 'genesis')",
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    ),
    (
        # Keys that may be used once until they expire (JWT ids of CDS Hooks calls), shared by
        # every instance so a token replayed to another instance is still refused.
        "CREATE TABLE once_keys (key TEXT PRIMARY KEY, expires_at TEXT NOT NULL)",
        "CREATE INDEX once_keys_expiry ON once_keys (expires_at)",
    ),
    (
        # Write-backs to a host's record that failed after the decision was committed, retried by
        # the worker for the one plugin that failed until it succeeds.
        """CREATE TABLE host_tasks (
            id TEXT PRIMARY KEY,
            hook TEXT NOT NULL,
            plugin TEXT NOT NULL,
            subject TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            claimed_by TEXT,
            claim_expires_at TEXT,
            done_at TEXT,
            last_error TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX host_tasks_due ON host_tasks (done_at, next_attempt_at)",
    ),
    (
        # The re-check period. What each decision was made on, by adult, so a later contact for
        # the same adult can be compared with it; ``since`` starts the period.
        """CREATE TABLE decision_facts (
            decision_id TEXT PRIMARY KEY REFERENCES decisions (id),
            patient_key TEXT NOT NULL,
            since TEXT NOT NULL,
            facts TEXT NOT NULL
        )""",
        "CREATE INDEX decision_facts_patient ON decision_facts (patient_key, since)",
        # A contact whose prompts were not shown names the decision it relied on.
        "ALTER TABLE contacts ADD COLUMN relies_on TEXT",
        # Repeated calls in one encounter with the same facts reuse the open contact; at most
        # one open contact holds a given key, even when two instances answer at once.
        "ALTER TABLE contacts ADD COLUMN reuse_key TEXT",
        # DDL takes no parameters: the state's value is written in, from the enum.
        "CREATE UNIQUE INDEX contacts_open_reuse ON contacts (reuse_key)"
        f" WHERE state = '{ContactState.OPEN.value}'",
    ),
    (
        # Decisions not to share put before a safeguarding lead: ids, kind, and the lead as
        # named, never the reasons (free text, kept with the decision).
        """CREATE TABLE decision_escalations (
            id TEXT PRIMARY KEY,
            decision_id TEXT NOT NULL REFERENCES decisions (id),
            contact_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            created_at TEXT NOT NULL,
            escalation TEXT NOT NULL
        )""",
        "CREATE INDEX decision_escalations_created ON decision_escalations (created_at)",
        "CREATE INDEX decision_escalations_contact ON decision_escalations (contact_id)",
    ),
    (
        # A digest of the message each contact came in, so a resend can be told from a
        # different message sent under the same key; contacts from before have none.
        "ALTER TABLE contacts ADD COLUMN message_hash TEXT",
        # Messages refused because their key (or contact id) was held by a different message,
        # kept for review once per distinct message. ``message`` is as received: patient data,
        # kept like the contacts are.
        """CREATE TABLE conflicting_resends (
            message_key TEXT NOT NULL,
            message_hash TEXT NOT NULL,
            contact_id TEXT NOT NULL,
            first_received_at TEXT NOT NULL,
            last_received_at TEXT NOT NULL,
            times INTEGER NOT NULL,
            message TEXT NOT NULL,
            PRIMARY KEY (message_key, message_hash)
        )""",
        "CREATE INDEX conflicting_resends_received ON conflicting_resends (last_received_at)",
    ),
    (
        # The head's seal under the audit key (empty while the trail is unkeyed): moving the
        # head back after cutting entries from the end needs a seal only the key can make.
        "ALTER TABLE audit_head ADD COLUMN seal TEXT NOT NULL DEFAULT ''",
    ),
    (
        # A decision that replaces another names it, so a contact's decisions form one line:
        # one first decision, and at most one successor to each. Two decisions made at once on
        # one contact cannot both stand; the second is refused, naming the first.
        "ALTER TABLE decisions ADD COLUMN supersedes TEXT",
        # Decisions recorded before this each replace the one before them on their contact.
        "UPDATE decisions SET supersedes = (SELECT p.id FROM decisions p"
        " WHERE p.contact_id = decisions.contact_id AND (p.decided_at < decisions.decided_at"
        " OR (p.decided_at = decisions.decided_at AND p.id < decisions.id))"
        " ORDER BY p.decided_at DESC, p.id DESC LIMIT 1)",
        "CREATE UNIQUE INDEX decisions_first ON decisions (contact_id) WHERE supersedes IS NULL",
        "CREATE UNIQUE INDEX decisions_successor ON decisions (supersedes)"
        " WHERE supersedes IS NOT NULL",
        # A referral cancelled by a message before this kept its old state; it is cancelled, so
        # it is never cancelled twice. The stored JSON is compact with sorted keys; ``%%`` is
        # one wildcard to the PostgreSQL driver and two (the same) to SQLite.
        f"UPDATE referrals SET status = '{_CANCELLED}' WHERE status IN ({_SENT})"
        " AND EXISTS (SELECT 1 FROM referrals c"
        """ WHERE c.referral LIKE '%%"action":"cancel"%%'"""
        """ AND c.referral LIKE '%%"amends":"' || referrals.id || '"%%')""",
    ),
    (
        # Households recorded by a professional, by adult so a later contact can find the
        # latest; ``answer`` holds the children's details (patient data, kept like contacts).
        """CREATE TABLE household_answers (
            id TEXT PRIMARY KEY,
            contact_id TEXT NOT NULL REFERENCES contacts (id),
            patient_key TEXT NOT NULL,
            outcome TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            answer TEXT NOT NULL
        )""",
        "CREATE INDEX household_answers_patient ON household_answers (patient_key, recorded_at)",
        "CREATE INDEX household_answers_contact ON household_answers (contact_id)",
        # Phone calls made about referrals: who answered, the reference given, the advice.
        """CREATE TABLE phone_calls (
            id TEXT PRIMARY KEY,
            referral_id TEXT NOT NULL REFERENCES referrals (id),
            called_at TEXT NOT NULL,
            call TEXT NOT NULL
        )""",
        "CREATE INDEX phone_calls_referral ON phone_calls (referral_id, called_at)",
    ),
    (
        # A contact's decisions found by its id, not by reading every decision: the decision
        # in force is looked up each time one is recorded.
        "CREATE INDEX decisions_contact ON decisions (contact_id, decided_at)",
    ),
    (
        # Referrals withdrawn before they were sent: when, by whom and why, by referral, for
        # the referral's document (the audit trail has no index by subject). Written only on
        # a withdrawal; those made before this have none. ``superseded_by`` is the later
        # decision that withdrew it, when one did.
        """CREATE TABLE referral_withdrawals (
            referral_id TEXT PRIMARY KEY REFERENCES referrals (id),
            withdrawn_at TEXT NOT NULL,
            withdrawn_by TEXT NOT NULL,
            reasons TEXT NOT NULL,
            superseded_by TEXT
        )""",
    ),
)
