"""The journal in the store, on SQLite and on PostgreSQL: claims, settling exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest

from adapters.hl7.ingest import Reader
from adapters.hl7.journal_worker import entry_of, settle
from adapters.hl7.settings import load_settings
from plugin_core.journal import (
    JournalClaimLost,
    JournalEntry,
    JournalItem,
    JournalOutcome,
    JournalPort,
)
from plugin_core.rules.clock import utc_now
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from tests.hl7.conftest import HL7_TOML, corpus_bytes
from tests.peers.service import write_trust_config

BASIC = corpus_bytes("a01_v2_3_basic").decode()


def item(reader: Reader, n: int) -> JournalItem:
    outcome = reader.receive(BASIC.replace("C23-0001", f"S-{n}").encode())
    assert outcome.message is not None
    return JournalItem(outcome.header.message_key, outcome.message.digest, outcome.message.text)


@pytest.fixture
def two(db_url: str, tmp_path: Path) -> Iterator[tuple[Service, Service, Reader]]:
    """Two services on one database, as two instances are."""
    config = load_trust_config(write_trust_config(tmp_path / "trust", extra_toml=HL7_TOML))
    first = Service(config, open_store(db_url), entry_points=False)
    second = Service(config, open_store(db_url), entry_points=False)
    yield first, second, Reader(load_settings(config), config.code_lists)
    first.store.close()
    second.store.close()


def test_a_settled_row_records_its_contact_in_the_same_commit_and_only_once(
    two: tuple[Service, Service, Reader],
) -> None:
    first, second, reader = two
    first.journal_messages("hl7", [item(reader, n) for n in range(3)])
    rows = first.claim_journal("hl7", "a", limit=10)
    outcomes = first.settle_journal("a", [entry_of(reader, r) for r in rows])
    assert [o.outcome for o in outcomes] == ["accepted"] * 3
    assert first.journal_depth() == 0
    assert {f"hl7:NORTHGEN|S-{n}" for n in range(3)} <= {c.id for c in second.store.list_contacts()}
    with pytest.raises(JournalClaimLost):  # settled already: a second settling writes nothing
        second.settle_journal("b", [entry_of(reader, r) for r in rows])
    accepted = [e for e in first.store.audit_entries() if e.kind == "contact.accepted"]
    assert len(accepted) == 3


def test_a_worker_whose_rows_were_settled_elsewhere_writes_nothing(
    two: tuple[Service, Service, Reader],
) -> None:
    first, _, reader = two
    first.journal_messages("hl7", [item(reader, n) for n in range(2)])
    rows = first.claim_journal("hl7", "a", limit=10)
    first.settle_journal("a", [entry_of(reader, r) for r in rows[:1]])
    before = len(first.store.audit_entries())
    with pytest.raises(JournalClaimLost):
        first.settle_journal("a", [entry_of(reader, r) for r in rows])
    assert len(first.store.audit_entries()) == before
    assert first.journal_depth() == 1


def test_the_same_message_is_journaled_once_and_a_recorded_one_not_at_all(
    two: tuple[Service, Service, Reader],
) -> None:
    first, _, reader = two
    once, again = first.journal_messages("hl7", [item(reader, 1), item(reader, 1)])
    assert once.id is not None and again.duplicate and again.id is None
    rows = first.claim_journal("hl7", "a", limit=10)
    first.settle_journal("a", [entry_of(reader, r) for r in rows])
    [late] = first.journal_messages("hl7", [item(reader, 1)])
    assert late.duplicate and first.journal_depth() == 0


def test_the_backlog_tells_how_many_wait_how_long_and_how_long_since_the_last_came(
    two: tuple[Service, Service, Reader],
) -> None:
    first, _, reader = two
    empty = first.store.journal_backlog("hl7", utc_now())
    assert (empty.waiting, empty.quiet_seconds) == (0, None)
    first.journal_messages("hl7", [item(reader, n) for n in range(3)])
    later = utc_now() + timedelta(seconds=30)
    backlog = first.store.journal_backlog("hl7", later)
    assert backlog.waiting == 3
    assert 29 < backlog.oldest_seconds < 60 and backlog.quiet_seconds is not None
    assert 29 < backlog.quiet_seconds < 60
    rows = first.claim_journal("hl7", "a", limit=10)
    first.settle_journal("a", [entry_of(reader, r) for r in rows])
    settled = first.store.journal_backlog("hl7", later)
    assert settled.waiting == 0 and settled.quiet_seconds == backlog.quiet_seconds


def test_two_instances_on_postgresql_claim_different_rows(pg_url: str, tmp_path: Path) -> None:
    config = load_trust_config(write_trust_config(tmp_path / "trust", extra_toml=HL7_TOML))
    first = Service(config, open_store(pg_url), entry_points=False)
    second = Service(config, open_store(pg_url), entry_points=False)
    reader = Reader(load_settings(config), config.code_lists)
    try:
        first.journal_messages("hl7", [item(reader, n) for n in range(10)])
        a = first.claim_journal("hl7", "a", limit=6)
        b = second.claim_journal("hl7", "b", limit=6)
        assert len(a) == 6 and len(b) == 4
        assert not {r.id for r in a} & {r.id for r in b}
        first.settle_journal("a", [entry_of(reader, r) for r in a])
        second.settle_journal("b", [entry_of(reader, r) for r in b])
        assert first.journal_depth() == 0
        assert len({c.id for c in first.store.list_contacts(limit=100)}) == 10
    finally:
        first.store.close()
        second.store.close()


class _OneBadRow:
    """A service whose store refuses any batch holding row 2, as with a row it cannot take."""

    def __init__(self) -> None:
        self.settled: dict[int, str] = {}

    def settle_journal(self, worker: str, entries: list[JournalEntry]) -> list[JournalOutcome]:
        if any(e.id == 2 and e.outcome is None for e in entries):
            raise RuntimeError("refused")
        for e in entries:
            self.settled[e.id] = e.outcome.outcome if e.outcome else "accepted"
        return []


def test_one_row_the_store_refuses_is_listed_failed_and_does_not_hold_up_the_rest() -> None:
    port = _OneBadRow()
    settle(cast(JournalPort, port), "w", [JournalEntry(n) for n in (1, 2, 3)])
    assert port.settled == {1: "accepted", 2: "failed", 3: "accepted"}
