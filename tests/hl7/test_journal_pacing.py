"""When the journal worker reads: while the listener is quiet, or once it is too far behind."""

from __future__ import annotations

from adapters.hl7.journal_worker import (
    MAX_BACKLOG,
    MAX_LAG_SECONDS,
    QUIET_SECONDS,
    time_to_read,
)
from plugin_core.journal import JournalBacklog

BUSY = QUIET_SECONDS / 4


def test_the_worker_reads_what_waits_once_the_listener_is_quiet() -> None:
    assert time_to_read(JournalBacklog(5, 0.5, QUIET_SECONDS))
    assert time_to_read(JournalBacklog(1, 0.0, None))


def test_the_worker_leaves_the_listener_alone_while_messages_keep_coming() -> None:
    assert not time_to_read(JournalBacklog(200, MAX_LAG_SECONDS / 2, BUSY))


def test_the_worker_reads_anyway_once_a_message_waited_too_long_or_too_many_wait() -> None:
    assert time_to_read(JournalBacklog(3, MAX_LAG_SECONDS, BUSY))
    assert time_to_read(JournalBacklog(MAX_BACKLOG, 0.1, BUSY))


def test_nothing_waiting_means_nothing_to_read() -> None:
    assert not time_to_read(JournalBacklog(0, 0.0, 60.0))
