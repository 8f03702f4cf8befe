"""What the inbound journal holds and gives back, shared by the store, the service and the
adapters that journal messages (adapters never reach the store: they ask the service).

A message is journaled as received and acknowledged; a worker process reads it later and
settles its row with an outcome. Outcomes in ``ERRORS`` are content errors found after the
sender was acknowledged: they are recorded, counted and listed for the integrator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from plugin_core.contract import ReceivedMessage, ServicePort
from plugin_core.errors import ThinkFamilyError
from plugin_core.model import FirstContact

ERRORS = ("refused", "conflict", "failed")
"""Outcomes that are content errors: recorded, counted and listed for the integrator."""


class JournalClaimLost(ThinkFamilyError, RuntimeError):
    """A row of the batch was settled or claimed by another worker: nothing was written."""


@dataclass(frozen=True, slots=True)
class JournalItem:
    """A message to journal: its sender's key, its digest and its text as received."""

    message_key: str
    digest: str
    text: str
    encoding: str = "utf-8"

    def __repr__(self) -> str:
        return f"JournalItem({self.message_key!r})"


@dataclass(frozen=True, slots=True)
class Journaled:
    """What became of a message offered to the journal."""

    id: int | None
    """The row holding it; None when the same message was already journaled or recorded."""
    duplicate: bool = False
    conflict: bool = False
    """A contact already holds its key with a different message (told the sender at once)."""


@dataclass(frozen=True, slots=True)
class JournalBacklog:
    """How far the worker is behind, and whether messages are still coming in."""

    waiting: int
    """Rows due for reading now."""
    oldest_seconds: float = 0.0
    """How long the oldest of them has been due."""
    quiet_seconds: float | None = None
    """Since the last message was journaled; None when none ever was."""


@dataclass(frozen=True, slots=True)
class JournalRow:
    """A claimed row, to be read and settled."""

    id: int
    message_key: str
    received_at: datetime
    encoding: str
    text: str
    attempts: int

    def __repr__(self) -> str:
        return f"JournalRow({self.id}, {self.message_key!r})"


@dataclass(frozen=True, slots=True)
class JournalOutcome:
    """How a row was settled. ``retry_at`` keeps it pending for another attempt."""

    id: int
    outcome: str
    ack_code: str = "AA"
    code: int = 0
    reason: str = ""
    segment: str = ""
    field: int = 0
    contact_id: str | None = None
    retry_at: datetime | None = None

    @property
    def error(self) -> bool:
        return self.outcome in ERRORS


@dataclass(frozen=True, slots=True)
class JournalError:
    """A content error found after the message was acknowledged: ids and reasons, no values."""

    id: int
    message_key: str
    received_at: datetime
    processed_at: datetime
    outcome: str
    ack_code: str
    code: int
    reason: str
    segment: str
    field: int


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A claimed row as read by its adapter: a contact to record, or an outcome already known
    (skipped, refused). ``failed`` rows are tried again later."""

    id: int
    contact: FirstContact | None = None
    message_key: str | None = None
    message: ReceivedMessage | None = None
    outcome: JournalOutcome | None = None
    attempts: int = 0


class JournalPort(ServicePort, Protocol):
    """The service methods a journaling listener and its worker use."""

    def journal_messages(self, source: str, items: Sequence[JournalItem]) -> list[Journaled]:
        """Commit messages as received; returns only after the commit."""
        ...

    def claim_journal(self, source: str, worker: str, *, limit: int) -> list[JournalRow]: ...

    def settle_journal(self, worker: str, entries: Sequence[JournalEntry]) -> list[JournalOutcome]:
        """Record the entries' contacts and settle their rows in one transaction."""
        ...

    def journal_outcomes(self, ids: Sequence[int]) -> dict[int, JournalOutcome]: ...

    def journal_errors(self, *, limit: int = 100) -> list[JournalError]: ...

    def journal_depth(self) -> int: ...

    def journal_backlog(self, source: str) -> JournalBacklog: ...

    def prune_journal(self, before: datetime) -> int: ...
