"""The tamper-evident audit trail: each entry's hash covers the entry and the previous hash.

Editing an entry breaks its own hash; deleting or reordering entries breaks the chain of
``prev_hash`` and sequence numbers. Details hold ids and codes only, never names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "genesis"


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


def canonical_details(details: dict[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":"), default=str)


def entry_hash(
    seq: int, at: str, kind: str, actor: str, subject: str, details: str, prev_hash: str
) -> str:
    body = "\x1f".join((str(seq), at, kind, actor, subject, details, prev_hash))
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Break:
    """The first entry at which the trail no longer verifies, and why."""

    seq: int
    reason: str


def verify(entries: Iterable[StoredEntry]) -> tuple[int, Break | None]:
    """Check the chain in sequence order; returns (entries checked, first break or None)."""
    expected_prev = GENESIS
    expected_seq = 1
    count = 0
    for entry in entries:
        count += 1
        if entry.seq != expected_seq:
            return count, Break(
                entry.seq,
                f"sequence jumps from {expected_seq - 1} to {entry.seq}: entries deleted or reordered",
            )
        if entry.prev_hash != expected_prev:
            return count, Break(
                entry.seq,
                "previous-hash link does not match: an entry before it was deleted, reordered or edited",
            )
        actual = entry_hash(
            entry.seq,
            entry.at,
            entry.kind,
            entry.actor,
            entry.subject,
            entry.details,
            entry.prev_hash,
        )
        if actual != entry.hash:
            return count, Break(entry.seq, "content does not match its hash: the entry was edited")
        expected_prev = entry.hash
        expected_seq += 1
    return count, None


def verify_head(count: int, last_hash: str, head_seq: int, head_hash: str) -> Break | None:
    """Entries removed from the end leave the head pointing past the last entry."""
    if head_seq != count or (count and head_hash != last_hash):
        return Break(
            count + 1,
            f"the trail ends at entry {count} but {head_seq} were written: entries deleted from the end",
        )
    return None
