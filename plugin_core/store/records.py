"""What the store takes and gives back, besides the domain model: rows as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from plugin_core.contract import ReceivedMessage
from plugin_core.formats import serialise
from plugin_core.formats.kept import loads_kept
from plugin_core.model import (
    Assessment,
    ContactState,
    FirstContact,
    Prompt,
    Receipt,
    Referral,
    ReferralStatus,
)
from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import opt_ts, parse_ts


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
    state: ContactState
    top_severity: str | None
    prompt_codes: tuple[str, ...]
    contact: FirstContact
    assessment: Assessment
    relies_on: str | None = None
    """For a contact whose prompts were not shown: the decision it relied on."""


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


CONTACT_COLUMNS = (
    "id, received_at, state, top_severity, prompt_codes, contact, assessment, relies_on"
)
REFERRAL_COLUMNS = (
    "referral, status, attempts, next_attempt_at, delivered_at, acknowledged_at,"
    " escalated_at, receipt, prompt"
)


def stored_contact(row: Any) -> StoredContact:
    """A row of ``CONTACT_COLUMNS``."""
    return StoredContact(
        id=row[0],
        received_at=parse_ts(row[1]),
        state=ContactState(row[2]),
        top_severity=row[3],
        prompt_codes=tuple(c for c in row[4].split(",") if c),
        contact=loads_kept(FirstContact, row[5]),
        assessment=loads_kept(Assessment, row[6]),
        relies_on=row[7],
    )


def stored_referral(row: Any) -> StoredReferral:
    """A row of ``REFERRAL_COLUMNS``."""
    return StoredReferral(
        referral=serialise.loads(Referral, row[0]),
        status=ReferralStatus(row[1]),
        attempts=int(row[2]),
        next_attempt_at=parse_ts(row[3]),
        delivered_at=opt_ts(row[4]),
        acknowledged_at=opt_ts(row[5]),
        escalated_at=opt_ts(row[6]),
        receipt=serialise.loads(Receipt, row[7]) if row[7] else None,
        prompt=serialise.loads(Prompt, row[8]) if row[8] else None,
    )
