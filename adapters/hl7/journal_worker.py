"""The journal worker: reads journaled HL7 messages in a process of its own, in batches.

Started and stopped by ``thinkfamily serve`` (through the MLLP listener). Each batch of rows is
read with the same reader as ``after-processing`` mode and settled in one transaction: the
contacts recorded and the rows marked, together, so a row killed mid-batch is simply claimed
again and never applied twice.

Every message it reads was already acknowledged, so it reads while the listener is quiet: its
commits would hold the database's write lock and the disk while senders wait for ACKs, and its
reading would take a processor from the listener. While messages keep arriving it waits, up to
``MAX_LAG_SECONDS`` or ``MAX_BACKLOG`` rows; past either it reads batch after batch anyway.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import cast

from adapters.hl7.errors import APPLICATION_INTERNAL_ERROR
from adapters.hl7.handling import SOURCE
from adapters.hl7.ingest import Reader
from adapters.hl7.settings import load_settings
from plugin_core.journal import (
    JournalBacklog,
    JournalClaimLost,
    JournalEntry,
    JournalOutcome,
    JournalPort,
    JournalRow,
)
from plugin_core.rules.clock import utc_now
from plugin_core.service import Service

log = logging.getLogger("adapters.hl7.journal")

BATCH = 64
"""Rows read and settled together: enough to share a disk flush, few enough that the
listener never waits long on the batch's commit."""
POLL_SECONDS = 0.1
"""Between looks at the journal while there is nothing to read (or the listener is busy)."""
QUIET_SECONDS = 0.2
"""No message journaled for this long: the listener is quiet, read what is waiting."""
MAX_LAG_SECONDS = 5.0
"""Read anyway once a row has waited this long, however busy the listener."""
MAX_BACKLOG = 4096
"""Read anyway once this many rows are waiting."""
PRUNE_SECONDS = 600.0
RETRY_SECONDS = 1.0
FAILED_ROW = "the message could not be recorded (an internal error); see the service log"
DRAIN_SECONDS = 10.0
"""On a clean stop, how long the worker goes on reading what is left in the journal."""


def entry_of(reader: Reader, row: JournalRow) -> JournalEntry:
    """A journal row read in full: its contact, or the outcome already known."""
    outcome = reader.read_text(row.text, row.encoding)
    if outcome.contact is not None:
        return JournalEntry(
            row.id,
            outcome.contact,
            outcome.header.message_key,
            outcome.message,
            attempts=row.attempts,
        )
    if outcome.skipped is not None:
        return JournalEntry(
            row.id, outcome=JournalOutcome(row.id, "skipped", reason=outcome.skipped)
        )
    error = outcome.error
    return JournalEntry(
        row.id,
        outcome=JournalOutcome(
            row.id,
            "refused",
            outcome.ack_code,
            error.code if error else 0,
            error.reason if error else "",
            error.segment if error else "",
            error.field if error else 0,
        ),
    )


def settle(port: JournalPort, name: str, entries: list[JournalEntry]) -> None:
    """Settle a batch together; if that fails, each row alone, so one row the store cannot
    take is listed as failed instead of holding up every row behind it."""
    try:
        port.settle_journal(name, entries)
        return
    except JournalClaimLost:
        raise
    except Exception as exc:
        if len(entries) == 1:
            raise
        log.warning(
            "hl7: journal batch failed; settling row by row", extra={"error": type(exc).__name__}
        )
    for entry in entries:
        try:
            port.settle_journal(name, [entry])
        except JournalClaimLost:
            continue
        except Exception as exc:
            log.error("hl7: journal row failed", extra={"error": type(exc).__name__})
            failed = JournalOutcome(
                entry.id, "failed", "AE", APPLICATION_INTERNAL_ERROR, FAILED_ROW
            )
            port.settle_journal(name, [JournalEntry(entry.id, outcome=failed)])


def time_to_read(backlog: JournalBacklog) -> bool:
    """Whether to read now: the listener is quiet, or the worker is too far behind to wait."""
    if backlog.waiting == 0:
        return False
    quiet = backlog.quiet_seconds is None or backlog.quiet_seconds >= QUIET_SECONDS
    return quiet or backlog.waiting >= MAX_BACKLOG or backlog.oldest_seconds >= MAX_LAG_SECONDS


def run(service: Service, should_stop: Callable[[], bool]) -> None:
    """Process the journal until told to stop (or the serving process is gone)."""
    port = cast(JournalPort, service)
    settings = load_settings(service.config)
    reader = Reader(settings, service.config.code_lists)
    name = f"hl7-journal-{service.instance}"
    log.info("hl7: journal worker started", extra={"worker": name})
    next_prune = 0.0
    stop_by: float | None = None
    while True:
        if stop_by is None and should_stop():
            stop_by = time.monotonic() + DRAIN_SECONDS
        if stop_by is not None and time.monotonic() >= stop_by:
            break
        rows: list[JournalRow] = []
        try:
            if stop_by is not None or time_to_read(port.journal_backlog(SOURCE)):
                rows = port.claim_journal(SOURCE, name, limit=BATCH)
            if rows:
                settle(port, name, [entry_of(reader, r) for r in rows])
            if time.monotonic() >= next_prune:
                keep = timedelta(days=settings.journal_keep_days)
                port.prune_journal(utc_now() - keep)
                next_prune = time.monotonic() + PRUNE_SECONDS
        except JournalClaimLost:
            log.info("hl7: journal rows taken by another worker", extra={"worker": name})
            continue
        except Exception as exc:
            log.error(
                "hl7: journal batch failed", extra={"worker": name, "error": type(exc).__name__}
            )
            time.sleep(RETRY_SECONDS)
            continue
        if stop_by is not None and not rows:
            break  # stopping, and nothing is left to read
        if len(rows) < BATCH:
            time.sleep(POLL_SECONDS if stop_by is None else 0)
    log.info("hl7: journal worker stopped", extra={"worker": name})
