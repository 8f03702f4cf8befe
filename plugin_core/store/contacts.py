"""Contacts: recorded once per message key or id, answered again while open in one encounter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from plugin_core.formats.kept import dumps_kept, loads_kept
from plugin_core.model import Assessment, ContactState
from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import StoreBase, Tx, parse_ts, ts
from plugin_core.store.counters import count
from plugin_core.store.records import (
    CONTACT_COLUMNS,
    ConflictingResend,
    NewContact,
    SavedContact,
    StoredContact,
    stored_contact,
)
from plugin_core.store.trail import append


class Contacts(StoreBase):
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
        with self.transaction() as tx:
            return save_in(tx, items, at)

    def get_contact(self, contact_id: str) -> StoredContact | None:
        with self.reading() as tx:
            row = tx.one(f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = ?", (contact_id,))
        return stored_contact(row) if row else None

    def list_contacts(
        self, *, state: ContactState | None = None, limit: int = 100
    ) -> list[StoredContact]:
        sql = f"SELECT {CONTACT_COLUMNS} FROM contacts"
        params: tuple[Any, ...] = ()
        if state:
            sql += " WHERE state = ?"
            params = (ContactState(state).value,)
        sql += " ORDER BY received_at DESC LIMIT ?"
        with self.reading() as tx:
            rows = tx.all(sql, (*params, limit))
        return [stored_contact(r) for r in rows]

    def count_contacts(self, *, state: ContactState | None = None) -> int:
        """How many contacts there are, or how many in ``state``."""
        sql = "SELECT COUNT(*) FROM contacts"
        params: tuple[Any, ...] = ()
        if state:
            sql += " WHERE state = ?"
            params = (ContactState(state).value,)
        with self.reading() as tx:
            row = tx.one(sql, params)
        return int(row[0])

    def conflicting_resends(self, *, limit: int = 100) -> list[ConflictingResend]:
        """Messages refused because their key was held by a different message, newest first."""
        with self.reading() as tx:
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


def encode(items: Sequence[NewContact]) -> list[tuple[str, str]]:
    """Each item's contact and assessment as stored: done before a transaction, it keeps the
    write lock for the SQL alone."""
    return [(dumps_kept(i.contact), dumps_kept(i.assessment)) for i in items]


def save_in(
    tx: Tx,
    items: Sequence[NewContact],
    at: datetime,
    encoded: Sequence[tuple[str, str]] | None = None,
) -> list[SavedContact]:
    """Record contacts inside the caller's transaction (see ``Contacts.save_contacts``);
    ``encoded`` is :func:`encode` of the items, when done beforehand."""
    texts = iter(encoded) if encoded is not None else None
    results: list[SavedContact] = []
    written: dict[str, SavedContact] = {}
    digests: dict[str, str | None] = {}
    for item in items:
        text = next(texts) if texts is not None else None
        found = _stored_contact_for(tx, item, written, digests)
        if found is not None:
            if found.conflict:
                _keep_conflict(tx, item, at)
            results.append(found)
            continue
        with tx.batch():
            _insert_contact(tx, item, at, text)
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
    tx: Tx, item: NewContact, written: dict[str, SavedContact], digests: dict[str, str | None]
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
            saved = SavedContact(False, item.contact.id, loads_kept(Assessment, row[0]), row[1])
            return _resent(saved, item, row[2])
    if item.contact.id in written:
        return written[item.contact.id]
    row = tx.one(
        "SELECT assessment, relies_on, message_key FROM contacts WHERE id = ?",
        (item.contact.id,),
    )
    if row is not None:
        saved = SavedContact(False, item.contact.id, loads_kept(Assessment, row[0]), row[1])
        # A message's contact id held by a contact from elsewhere: not this message's copy.
        taken = item.message is not None and row[2] != item.message_key
        return replace(saved, conflict=True) if taken else saved
    if item.reuse_key is None:
        return None
    if f"reuse:{item.reuse_key}" in written:
        return written[f"reuse:{item.reuse_key}"]
    row = tx.one(
        "SELECT id, assessment FROM contacts WHERE reuse_key = ? AND state = ?",
        (item.reuse_key, ContactState.OPEN.value),
    )
    if row is None:
        return None
    return SavedContact(False, row[0], loads_kept(Assessment, row[1]), reused=True)


def _state_of(item: NewContact) -> ContactState:
    if not item.assessment.prompts:
        return ContactState.NO_ACTION_NEEDED
    if item.relies_on is not None:
        return ContactState.SUPPRESSED
    return ContactState.OPEN


def _insert_contact(
    tx: Tx, item: NewContact, at: datetime, text: tuple[str, str] | None = None
) -> None:
    contact, assessment = text or (dumps_kept(item.contact), dumps_kept(item.assessment))
    prompts = item.assessment.prompts
    top = max(prompts, key=lambda p: p.severity.rank, default=None)
    state = _state_of(item)
    tx.execute(
        "INSERT INTO contacts (id, received_at, source, message_key, state, top_severity,"
        " prompt_codes, contact, assessment, relies_on, reuse_key, message_hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            item.contact.id,
            ts(at),
            item.contact.source,
            item.message_key,
            state.value,
            top.severity.value if top else None,
            ",".join(p.code.value for p in prompts),
            contact,
            assessment,
            item.relies_on if state is ContactState.SUPPRESSED else None,
            item.reuse_key if state is ContactState.OPEN else None,
            item.message.digest if item.message is not None else None,
        ),
    )
    for name in item.counters:
        count(tx, name, 1)
    append(tx, item.audit, at)


def _keep_conflict(tx: Tx, item: NewContact, at: datetime) -> None:
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
    append(tx, [entry], at)


def _resent(saved: SavedContact, item: NewContact, stored_digest: str | None) -> SavedContact:
    """The stored contact for a key seen before, or a conflict when the message differs.

    A contact stored without a digest (before digests were kept, or by a sender that gives
    none) cannot be compared and is taken as the same message, as it always was.
    """
    if item.message is None or stored_digest is None or stored_digest == item.message.digest:
        return saved
    return replace(saved, conflict=True)
