"""The tamper-evident audit trail: each entry's seal covers the entry and the previous seal.

Two entry formats share one chain:

- **unkeyed** (written before there was an audit key): ``hash`` is the SHA-256 of the entry
  and the previous hash. Edits, deletions and reordering break it, but anyone who can write to
  the database can recompute it.
- **keyed**: ``hash`` is ``hmac-sha256:<key id>:<HMAC>`` under the audit key, which the
  database never holds, so a rewrite cannot be sealed again without the key. Once an entry is
  keyed, every later one must be: an unkeyed entry after a keyed one is a rewrite.

A keyed entry's seal covers the previous seal, so it also protects the unkeyed entries before
it. The head row (count, last seal) is sealed too: cutting entries from the end and moving the
head back needs a seal only the key can make. Details hold ids and codes only, never names.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from plugin_core.store.audit_key import AuditKey, AuditKeys

GENESIS = "genesis"
KEYED = "hmac-sha256:"
"""The prefix of a keyed entry's seal."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """An entry to append: what happened, who did it, what it concerns, and why."""

    kind: str
    actor: str
    subject: str
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredEntry:
    seq: int
    at: str
    kind: str
    actor: str
    subject: str
    details: str
    prev_hash: str
    hash: str

    @property
    def key_id(self) -> str | None:
        """The id of the key that sealed it; None for an unkeyed entry."""
        return key_id_of(self.hash)


def canonical_details(details: dict[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":"), default=str)


def key_id_of(seal: str) -> str | None:
    if not seal.startswith(KEYED):
        return None
    return seal.removeprefix(KEYED).partition(":")[0]


def entry_hash(
    seq: int, at: str, kind: str, actor: str, subject: str, details: str, prev_hash: str
) -> str:
    """The unkeyed format, kept so trails written before the key still verify."""
    body = "\x1f".join((str(seq), at, kind, actor, subject, details, prev_hash))
    return hashlib.sha256(body.encode()).hexdigest()


def entry_seal(
    key: AuditKey,
    seq: int,
    at: str,
    kind: str,
    actor: str,
    subject: str,
    details: str,
    prev_hash: str,
) -> str:
    """The keyed format: an HMAC under the audit key, naming the key by its id."""
    mac = key.mac("entry", key.id, str(seq), at, kind, actor, subject, details, prev_hash)
    return f"{KEYED}{key.id}:{mac}"


def head_seal(key: AuditKey, seq: int, last_hash: str) -> str:
    """Seals the head: how many entries were written and the last one's seal."""
    return f"{KEYED}{key.id}:{key.mac('head', key.id, str(seq), last_hash)}"


def seal_for(key: AuditKey | None, entry: StoredEntry) -> str:
    fields = (entry.seq, entry.at, entry.kind, entry.actor, entry.subject, entry.details)
    if key is None:
        return entry_hash(*fields, entry.prev_hash)
    return entry_seal(key, *fields, entry.prev_hash)


@dataclass(frozen=True, slots=True)
class Break:
    """The first entry at which the trail no longer verifies, and why."""

    seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """What checking the chain found."""

    count: int
    unkeyed: int
    """Entries written without a key (they all come before the first keyed one)."""
    last_hash: str
    broken: Break | None = None
    unknown_key: str | None = None
    """The id of a key that sealed an entry but is not configured: the check could not finish."""


def verify(entries: Iterable[StoredEntry], keys: AuditKeys) -> ChainCheck:
    """Check the chain in sequence order; stops at the first break or unknown key."""
    expected_prev = GENESIS
    expected_seq = 1
    count = unkeyed = 0

    def stop(seq: int, reason: str) -> ChainCheck:
        return ChainCheck(count, unkeyed, expected_prev, Break(seq, reason))

    for entry in entries:
        count += 1
        if entry.seq != expected_seq:
            return stop(
                entry.seq,
                f"sequence jumps from {expected_seq - 1} to {entry.seq}: entries deleted or reordered",
            )
        if entry.prev_hash != expected_prev:
            return stop(
                entry.seq,
                "previous-hash link does not match: an entry before it was deleted, reordered or edited",
            )
        key_id = entry.key_id
        key: AuditKey | None = None
        if key_id is None:
            if unkeyed != count - 1:
                return stop(
                    entry.seq,
                    "an unkeyed entry follows keyed ones: the trail was rewritten without the key",
                )
            unkeyed += 1
        else:
            key = keys.find(key_id)
            if key is None:
                return ChainCheck(count - 1, unkeyed, expected_prev, unknown_key=key_id)
        if not hmac.compare_digest(seal_for(key, entry), entry.hash):
            why = "its seal" if key is not None else "its hash"
            return stop(entry.seq, f"content does not match {why}: the entry was edited")
        expected_prev = entry.hash
        expected_seq += 1
    return ChainCheck(count, unkeyed, expected_prev)


def verify_head(
    check: ChainCheck, head_seq: int, head_hash: str, seal: str, keys: AuditKeys
) -> ChainCheck:
    """Entries removed from the end leave the head pointing past the last entry; a head moved
    back to match lacks the seal only the key can make."""
    count, last = check.count, check.last_hash
    cut = Break(
        count + 1,
        f"the trail ends at entry {count} but {head_seq} were written: entries deleted from the end",
    )
    if head_seq != count or (count and head_hash != last):
        return ChainCheck(count, check.unkeyed, last, cut)
    head_key = key_id_of(seal)
    if head_key is None:
        if key_id_of(last) is not None:
            return ChainCheck(count, check.unkeyed, last, _unsealed_head(count))
        return check
    key = keys.find(head_key)
    if key is None:
        return ChainCheck(count, check.unkeyed, last, unknown_key=head_key)
    if not hmac.compare_digest(head_seal(key, count, last), seal):
        return ChainCheck(count, check.unkeyed, last, _unsealed_head(count))
    return check


def _unsealed_head(count: int) -> Break:
    return Break(
        count + 1,
        f"the head says {count} entries but does not carry their seal: entries after"
        f" entry {count} were deleted and the head moved back",
    )
