"""The worker's look at the backlog, every tenth of a second, costs the same however long the
journal grows: it never sorts the table to find the newest message."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from plugin_core.journal import JournalItem
from plugin_core.rules.clock import utc_now
from plugin_core.store import open_store
from plugin_core.store.journal import NEWEST


def test_the_newest_message_is_found_from_the_end_of_the_table_without_a_sort(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.db"
    store = open_store(f"sqlite:///{path}")
    try:
        store.journal_messages("hl7", [JournalItem("F|1", "d1", "MSH|1")], at=utc_now())
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        plan = " ".join(
            str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {NEWEST}", ("hl7",))
        )
    conn.close()
    assert "TEMP B-TREE" not in plan and "sqlite_autoindex_journal" not in plan


def test_the_quiet_time_is_since_the_newest_message_of_the_source_asked_about(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'journal.db'}")
    try:
        start = utc_now() - timedelta(minutes=10)
        for n in range(5):
            item = JournalItem(f"F|{n}", f"d{n}", "MSH|x")
            store.journal_messages("hl7", [item], at=start + timedelta(minutes=n))
        store.journal_messages(
            "other", [JournalItem("F|9", "d9", "x")], at=start + timedelta(minutes=9)
        )
        backlog = store.journal_backlog("hl7", start + timedelta(minutes=10))
        assert backlog.quiet_seconds is not None and 359 < backlog.quiet_seconds < 361
    finally:
        store.close()
