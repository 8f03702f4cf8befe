"""The listener's journal files on SQLite: a message acknowledged is in a flushed record, and
every record reaches the journal table exactly once, under the id it was given on receipt,
whatever a crash left behind."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.hl7.ingest import Reader
from adapters.hl7.journal_worker import entry_of
from adapters.hl7.settings import load_settings
from plugin_core.journal import Journaled, JournalItem
from plugin_core.rules.clock import utc_now
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import StoreError, journal_file, open_store
from plugin_core.store.journal_records import Record, decode, encode, segments
from tests.hl7.conftest import HL7_TOML, corpus_bytes
from tests.peers.service import write_trust_config

BASIC = corpus_bytes("a01_v2_3_basic").decode()


def item(reader: Reader, n: int, *, ward: str = "") -> JournalItem:
    text = BASIC.replace("C23-0001", f"F-{n}")
    if ward:
        text = text.replace("|I|", f"|I|{ward}", 1)
    outcome = reader.receive(text.encode())
    assert outcome.message is not None
    return JournalItem(outcome.header.message_key, outcome.message.digest, outcome.message.text)


class Opened:
    """Services on one SQLite file, opened one after another as restarts of the listener."""

    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "tf.db"
        self.config = load_trust_config(write_trust_config(tmp_path / "trust", extra_toml=HL7_TOML))
        self.reader = Reader(load_settings(self.config), self.config.code_lists)
        self.services: list[Service] = []

    def service(self) -> Service:
        svc = Service(self.config, open_store(f"sqlite:///{self.db}"), entry_points=False)
        self.services.append(svc)
        return svc


@pytest.fixture
def opened(tmp_path: Path) -> Iterator[Opened]:
    found = Opened(tmp_path)
    yield found
    for svc in found.services:
        svc.store.close()


def crash(svc: Service) -> None:
    """Leave the files as a killed process leaves them: nothing more moved, the lock let go."""
    store = svc.store
    files, owner = store._journal_file, store._journal_owner
    assert files is not None and owner is not None
    with files._lock:  # the moving thread ends without moving anything more
        files._stopping = True
        files._wake.notify_all()
    store._journal_file = store._journal_owner = None
    for segment in [*files._segments, *([files._spare] if files._spare else [])]:
        segment.close()
    owner.release()


@pytest.fixture
def no_moving(monkeypatch: pytest.MonkeyPatch) -> None:
    """The moving thread waits, as it does while messages keep coming."""
    monkeypatch.setattr(journal_file, "MOVE_QUIET", 3600.0)
    monkeypatch.setattr(journal_file, "MOVE_AFTER", 3600.0)


def test_a_record_torn_by_a_crash_ends_the_file_and_the_records_before_it_are_kept() -> None:
    records = [
        Record(n, "hl7", f"F|{n}", "d" * 64, "2026-03-01T10:00:00Z", "utf-8", BASIC)
        for n in range(1, 4)
    ]
    data = b"".join(encode(r) for r in records)
    last = len(encode(records[-1]))
    assert decode(data + bytes(4096)) == records
    assert decode(data[:-10]) == records[:2]  # the last write stopped part way
    flipped = bytearray(data)
    flipped[-last // 2] ^= 0x01  # a block of the last record never reached the disk
    assert decode(bytes(flipped)) == records[:2]
    assert decode(bytes(4096)) == []


def test_a_message_is_in_its_flushed_file_before_the_journal_call_returns(
    opened: Opened, no_moving: None
) -> None:
    svc = opened.service()
    assert svc.open_journal_file()
    [receipt] = svc.journal_messages("hl7", [item(opened.reader, 1)])
    [found] = [r for path in segments(str(opened.db)) for r in decode(path.read_bytes())]
    assert (found.id, found.message_key) == (receipt.id, "NORTHGEN|F-1")
    assert svc.journal_depth() == 1  # counted while it waits in the file
    assert opened.service().journal_depth() == 1  # by another process too


@pytest.mark.parametrize("direct", [True, False], ids=["direct-writes", "flushed-writes"])
def test_records_left_by_a_crash_reach_the_table_once_under_their_ids_after_a_restart(
    opened: Opened, no_moving: None, direct: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not direct:  # a file system without direct writes: each write flushed on its own
        monkeypatch.delattr(os, "O_DIRECT", raising=False)
    first = opened.service()
    assert first.open_journal_file()
    assert first.store._journal_file is not None
    assert first.store._journal_file._segments[-1].direct is direct
    receipts = first.journal_messages("hl7", [item(opened.reader, n) for n in range(2)])
    receipts += first.journal_messages("hl7", [item(opened.reader, 2)])  # a write of its own
    copies = {p: p.read_bytes() for p in segments(str(opened.db))}
    crash(first)

    second = opened.service()
    assert second.open_journal_file()  # moves what the crash left before anything else
    rows = second.claim_journal("hl7", "w", limit=10)
    assert [r.id for r in rows] == [r.id for r in receipts]
    second.settle_journal("w", [entry_of(opened.reader, r) for r in rows])
    assert segments(str(opened.db)) == [p for p in segments(str(opened.db)) if p not in copies]
    second.close_journal_file()

    for path, data in copies.items():  # a deletion the crash kept from reaching the disk
        path.write_bytes(data)
    third = opened.service()
    assert third.open_journal_file()
    assert third.journal_depth() == 0 and third.claim_journal("hl7", "w", limit=10) == []
    [later] = third.journal_messages("hl7", [item(opened.reader, 9)])
    assert later.id is not None and later.id > max(r.id or 0 for r in receipts)
    accepted = [e for e in third.store.audit_entries() if e.kind == "contact.accepted"]
    assert len(accepted) == 3


def test_a_resend_is_journaled_once_whether_it_waits_in_the_file_or_the_table(
    opened: Opened, no_moving: None
) -> None:
    svc = opened.service()
    assert svc.open_journal_file()
    once, again = svc.journal_messages("hl7", [item(opened.reader, 1), item(opened.reader, 1)])
    assert once.id is not None and again.duplicate and again.id is None
    [waiting] = svc.journal_messages("hl7", [item(opened.reader, 1)])
    assert waiting.duplicate
    svc.close_journal_file()  # moved to the table
    assert svc.open_journal_file()
    [moved] = svc.journal_messages("hl7", [item(opened.reader, 1)])
    assert moved.duplicate
    rows = svc.claim_journal("hl7", "w", limit=10)
    svc.settle_journal("w", [entry_of(opened.reader, r) for r in rows])
    [recorded] = svc.journal_messages("hl7", [item(opened.reader, 1)])
    assert recorded.duplicate
    [other] = svc.journal_messages("hl7", [item(opened.reader, 1, ward="X")])
    assert other.conflict and other.id is not None  # kept for review, answered AE


def test_many_messages_fill_file_after_file_and_each_file_goes_once_moved(
    opened: Opened, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_file, "SEGMENT_BYTES", 16384)
    svc = opened.service()
    assert svc.open_journal_file()
    receipts = [svc.journal_messages("hl7", [item(opened.reader, n)])[0] for n in range(40)]
    assert len({r.id for r in receipts}) == 40
    svc.close_journal_file()
    assert segments(str(opened.db)) == []
    rows = svc.claim_journal("hl7", "w", limit=100)
    assert [r.id for r in rows] == [r.id for r in receipts]


def test_the_worker_sees_the_listener_busy_while_new_messages_wait_in_its_files(
    opened: Opened, no_moving: None
) -> None:
    listener, worker = opened.service(), opened.service()
    now = utc_now()
    listener.clock = lambda: now - timedelta(seconds=30)  # as if received long ago
    assert listener.open_journal_file()
    listener.journal_messages("hl7", [item(opened.reader, 1)])
    listener.close_journal_file()  # in the table now
    assert listener.open_journal_file()
    listener.journal_messages("hl7", [item(opened.reader, 2)])  # waits in the file
    backlog = worker.store.journal_backlog("hl7", now)
    assert backlog.waiting == 1 and backlog.quiet_seconds is not None
    assert backlog.quiet_seconds < 5  # the file was written just now: not quiet
    listener.close_journal_file()
    moved = worker.store.journal_backlog("hl7", now)
    assert moved.quiet_seconds is not None and moved.quiet_seconds > 25  # by the table alone


def test_a_second_listener_on_the_same_file_journals_to_the_table_under_new_ids(
    opened: Opened, no_moving: None
) -> None:
    first, second = opened.service(), opened.service()
    assert first.open_journal_file()
    assert not second.open_journal_file()  # the files have one owner
    [waiting] = first.journal_messages("hl7", [item(opened.reader, 1)])
    [direct] = second.journal_messages("hl7", [item(opened.reader, 2)])
    assert direct.id is not None and direct.id == waiting.id  # the table gave the same number
    first.close_journal_file()
    rows = second.claim_journal("hl7", "w", limit=10)
    assert sorted(r.message_key for r in rows) == ["NORTHGEN|F-1", "NORTHGEN|F-2"]
    assert len({r.id for r in rows}) == 2  # the moved one took a number of its own
    second.settle_journal("w", [entry_of(opened.reader, r) for r in rows])
    # Each listener's application ACK reads its own message's outcome under its receipt id.
    by_key = {r.message_key: r.id for r in rows}
    (mine,) = first.journal_outcomes([waiting.id]).values()
    assert mine.id == by_key["NORTHGEN|F-1"] != waiting.id
    (theirs,) = second.journal_outcomes([direct.id]).values()
    assert theirs.id == by_key["NORTHGEN|F-2"] == direct.id


def test_a_message_both_listeners_journaled_is_answered_from_its_one_row(
    opened: Opened, no_moving: None
) -> None:
    first, second = opened.service(), opened.service()
    assert first.open_journal_file()
    second.journal_messages("hl7", [item(opened.reader, 0)])  # the other takes the first id
    [waiting] = first.journal_messages("hl7", [item(opened.reader, 1)])
    [direct] = second.journal_messages("hl7", [item(opened.reader, 1)])  # sent to both
    assert waiting.id is not None and direct.id is not None
    first.close_journal_file()
    rows = second.claim_journal("hl7", "w", limit=10)
    assert sorted(r.message_key for r in rows) == ["NORTHGEN|F-0", "NORTHGEN|F-1"]  # once
    second.settle_journal("w", [entry_of(opened.reader, r) for r in rows])
    (answer,) = first.journal_outcomes([waiting.id]).values()
    assert answer.id == direct.id == {r.message_key: r.id for r in rows}["NORTHGEN|F-1"]


def test_a_write_the_disk_refuses_is_not_acknowledged_and_the_next_goes_to_a_new_file(
    opened: Opened, no_moving: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = opened.service()
    assert svc.open_journal_file()
    real = os.pwritev
    failing = iter([True])

    def pwritev(fd: int, buffers: list[memoryview], offset: int) -> int:
        if next(failing, False):
            raise OSError(5, "Input/output error")
        return real(fd, buffers, offset)

    monkeypatch.setattr(os, "pwritev", pwritev)
    before = segments(str(opened.db))
    with pytest.raises(StoreError):
        svc.journal_messages("hl7", [item(opened.reader, 1)])
    [again] = svc.journal_messages("hl7", [item(opened.reader, 1)])  # the sender sends again
    assert again.id is not None and not again.duplicate
    assert len(segments(str(opened.db))) == len(before) + 1
    svc.close_journal_file()
    rows = svc.claim_journal("hl7", "w", limit=10)
    assert [(r.id, r.message_key) for r in rows] == [(again.id, "NORTHGEN|F-1")]


def test_messages_from_many_connections_while_files_fill_and_move_each_reach_the_table_once(
    opened: Opened, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_file, "SEGMENT_BYTES", 32768)
    monkeypatch.setattr(journal_file, "MOVE_AT", 5)
    svc = opened.service()
    assert svc.open_journal_file()
    items = {n: item(opened.reader, n) for n in range(120)}
    receipts: dict[int, Journaled] = {}
    failures: list[BaseException] = []

    def connection(first: int) -> None:
        try:
            for n in range(first, 120, 4):
                [receipts[n]] = svc.journal_messages("hl7", [items[n]])
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=connection, args=(c,)) for c in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures and len(receipts) == 120
    svc.close_journal_file()
    assert segments(str(opened.db)) == []
    rows = svc.claim_journal("hl7", "w", limit=500)
    assert sorted((r.id, r.message_key) for r in rows) == sorted(
        (r.id, f"NORTHGEN|F-{n}") for n, r in receipts.items()
    )
