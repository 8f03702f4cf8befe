"""Checkpoints: the trail's head, signed with the audit key, for keeping outside the database.

The head row lives in the database, so whoever can rewrite the trail can usually also rewind
it. A checkpoint kept elsewhere (another system, the lead's mailbox, write-once storage) proves
what the trail held when it was made: a later trail with fewer entries, or with a different
seal at the checkpoint's last entry, was cut or rewritten.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from plugin_core.errors import ThinkFamilyError
from plugin_core.store.audit import Break, StoredEntry
from plugin_core.store.audit_key import AuditKey, AuditKeys
from plugin_core.store.base import ts

FORMAT = "thinkfamily-audit-checkpoint/1"


class CheckpointError(ThinkFamilyError, ValueError):
    """The checkpoint is not one (``unreadable``), or no configured key signed it as it is."""

    def __init__(self, message: str, *, unreadable: bool = False) -> None:
        super().__init__(message)
        self.unreadable = unreadable


@dataclass(frozen=True, slots=True)
class Checkpoint:
    entries: int
    last_seq: int
    last_mac: str
    at: str
    key_id: str
    signature: str = ""

    def _signed_part(self) -> str:
        fields = asdict(self) | {"format": FORMAT}
        del fields["signature"]
        return json.dumps(fields, sort_keys=True, separators=(",", ":"))

    def to_json(self) -> str:
        return json.dumps(asdict(self) | {"format": FORMAT}, indent=2, sort_keys=True)


def make_checkpoint(
    key: AuditKey, entries: int, last: StoredEntry | None, at: datetime
) -> Checkpoint:
    unsigned = Checkpoint(
        entries,
        last.seq if last else 0,
        last.hash if last else "genesis",
        ts(at),
        key.id,
    )
    signature = key.mac("checkpoint", unsigned._signed_part())
    return Checkpoint(**(asdict(unsigned) | {"signature": signature}))


def read_checkpoint(text: str, keys: AuditKeys) -> Checkpoint:
    """The checkpoint in ``text``, once its signature is checked.

    Raises :class:`CheckpointError` naming what is wrong."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.pop("format", None) != FORMAT:
            raise ValueError
        found = Checkpoint(
            entries=int(data["entries"]),
            last_seq=int(data["last_seq"]),
            last_mac=str(data["last_mac"]),
            at=str(data["at"]),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
        )
    except (ValueError, KeyError, TypeError):
        raise CheckpointError("not a ThinkFamily audit checkpoint", unreadable=True) from None
    key = keys.find(found.key_id)
    if key is None:
        raise CheckpointError(
            f"the checkpoint is signed with audit key {found.key_id}, which is not configured:"
            " it was made with another key, or forged"
        )
    expected = key.mac("checkpoint", found._signed_part())
    if not hmac.compare_digest(expected, found.signature):
        raise CheckpointError("the checkpoint's signature does not match: the file was altered")
    return found


def compare(checkpoint: Checkpoint, entries: list[StoredEntry]) -> Break | None:
    """Where the trail departs from what the checkpoint recorded, if it does."""
    if len(entries) < checkpoint.entries:
        return Break(
            len(entries) + 1,
            f"the trail has {len(entries)} entries but held {checkpoint.entries} at the"
            f" checkpoint of {checkpoint.at}: entries {len(entries) + 1} to"
            f" {checkpoint.entries} were cut",
        )
    if checkpoint.last_seq == 0:
        return None
    at = entries[checkpoint.last_seq - 1] if checkpoint.last_seq <= len(entries) else None
    if at is None or at.seq != checkpoint.last_seq or at.hash != checkpoint.last_mac:
        return Break(
            checkpoint.last_seq,
            f"differs from the checkpoint of {checkpoint.at}: the trail was rewritten up to it",
        )
    return None
