"""Crash safety of acknowledging on receipt: every message acknowledged is recorded once, even
when ``thinkfamily serve`` is killed while the journal worker is busy."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugin_core.store import open_store
from tests.hl7.mllp_peer import RawPeer
from tests.hl7.test_journal import JOURNAL_TOML, message
from tests.peers.ports import wait_for
from tests.peers.service import ServiceProcess, write_trust_config

pytestmark = pytest.mark.integration

COUNT = 400


@pytest.fixture
def processes() -> Iterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    yield started
    for process in started:
        process.stop()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_serve_killed_after_acknowledging_records_every_message_once_after_restart(
    tmp_path: Path, processes: list[ServiceProcess]
) -> None:
    config = write_trust_config(tmp_path / "trust", extra_toml=JOURNAL_TOML)
    db_url = f"sqlite:///{tmp_path / 'tf.db'}"
    served = ServiceProcess(config, db_url, tmp_path / "logs", name="journal-crash")
    processes.append(served.start())
    assert served.process is not None
    workers = _children(served.process.pid)
    peer = RawPeer(served.mllp_port, timeout=60)
    try:
        for n in range(COUNT):
            peer.send_message(message(f"X-{n}"))
        replies = peer.acks(COUNT)
    finally:
        peer.close()
    assert {r.code for r in replies} == {"AA"}
    served.kill()  # SIGKILL: the journal worker may be mid-batch
    wait_for(lambda: not any(_alive(w) for w in workers), timeout=10, what="worker gone")

    restarted = ServiceProcess(config, db_url, tmp_path / "logs", name="journal-restarted")
    processes.append(restarted.start())
    keys = {f"hl7:NORTHGEN|X-{n}" for n in range(COUNT)}

    def recorded() -> int:
        store = open_store(db_url)
        try:
            return len(keys & {c.id for c in store.list_contacts(limit=COUNT * 2)})
        finally:
            store.close()

    wait_for(lambda: recorded() == COUNT, timeout=90, what="every acknowledged message recorded")
    restarted.stop()
    store = open_store(db_url)
    try:
        accepted = [
            e for e in store.audit_entries() if e.kind == "contact.accepted" and e.subject in keys
        ]
        assert len(accepted) == COUNT, "a message was applied twice"
        assert store.journal_depth() == 0
    finally:
        store.close()


def test_two_instances_on_one_postgresql_share_the_journal_and_record_each_message_once(
    pg_url: str, tmp_path: Path, processes: list[ServiceProcess]
) -> None:
    config = write_trust_config(tmp_path / "trust", extra_toml=JOURNAL_TOML)
    first = ServiceProcess(config, pg_url, tmp_path / "logs", name="journal-pg-a")
    second = ServiceProcess(config, pg_url, tmp_path / "logs", name="journal-pg-b")
    processes += [first.start(), second.start()]
    count = 150
    for n, served in enumerate((first, second, first)):
        peer = RawPeer(served.mllp_port, timeout=60)
        try:
            for i in range(count):
                peer.send_message(message(f"PG{n}-{i}"))
            assert {r.code for r in peer.acks(count)} == {"AA"}
        finally:
            peer.close()
    keys = {f"hl7:NORTHGEN|PG{n}-{i}" for n in range(3) for i in range(count)}

    def recorded() -> int:
        store = open_store(pg_url)
        try:
            return len(keys & {c.id for c in store.list_contacts(limit=len(keys) * 2)})
        finally:
            store.close()

    wait_for(lambda: recorded() == len(keys), timeout=120, what="every message recorded")
    store = open_store(pg_url)
    try:
        accepted = [
            e for e in store.audit_entries() if e.kind == "contact.accepted" and e.subject in keys
        ]
        assert len(accepted) == len(keys), "a message was applied twice"
        assert store.journal_depth() == 0
    finally:
        store.close()
