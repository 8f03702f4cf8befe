"""The store's one writer: requests committed together keep their own durability and failures,
readers see only what is committed, and a unit of work commits a request's writes at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import Store, StoreError, open_store
from plugin_core.store.audit import AuditEntry

from .conftest import FakeClock, PresentSpy, contact_doc, decision_doc, until

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
UNTIL = NOW + timedelta(minutes=5)


def _grouped(store: Store, calls: list[Callable[[], object]]) -> list[object]:
    """Run ``calls`` at once while one request holds the writer, so they queue for one group."""
    results: list[object] = [None] * len(calls)
    release = threading.Event()

    def holder() -> None:
        with store.transaction() as tx:
            tx.execute("INSERT INTO counters (name, value) VALUES (?, ?)", ("holder", 1))
            release.wait(10)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc

    first = threading.Thread(target=holder)
    first.start()
    until(lambda: store.writer.current() is None and store.writer._group is not None, "holder")
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    until(lambda: store.writer.waiting() == len(calls), "the requests to queue")
    release.set()
    first.join(10)
    for t in threads:
        t.join(10)
    return results


def test_failing_request_in_a_group_neither_fails_nor_loses_the_others(store: Store) -> None:
    store.add_counter("taken")
    before = store.writer.commits

    def clash() -> None:
        with store.transaction() as tx:
            tx.execute("INSERT INTO counters (name, value) VALUES (?, ?)", ("lost", 1))
            tx.execute("INSERT INTO counters (name, value) VALUES (?, ?)", ("taken", 1))

    calls: list[Callable[[], object]] = [
        lambda i=i: store.use_once(f"k{i}", until=UNTIL, now=NOW)  # type: ignore[misc]
        for i in range(6)
    ]
    calls.insert(3, clash)
    results = _grouped(store, calls)
    assert isinstance(results[3], Exception) and store.backend.is_unique_violation(results[3])
    assert [r for i, r in enumerate(results) if i != 3] == [True] * 6
    found = store.counters()
    assert "lost" not in found and found["holder"] == 1 and found["taken"] == 1
    assert all(store.use_once(f"k{i}", until=UNTIL, now=NOW) is False for i in range(6))
    # Seven requests and the holder needed fewer flushes to disk than requests.
    assert store.writer.commits - before < 8


def test_reader_sees_committed_writes_and_never_an_open_group(store: Store) -> None:
    entered, release = threading.Event(), threading.Event()

    def writer() -> None:
        with store.transaction() as tx:
            tx.execute("INSERT INTO counters (name, value) VALUES (?, ?)", ("pending", 5))
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert entered.wait(10)
    # The read does not wait for the writer, and does not see its uncommitted row.
    assert "pending" not in store.counters()
    release.set()
    thread.join(10)
    assert store.counters()["pending"] == 5


@pytest.fixture
def service(db_url: str, make_config) -> Iterator[tuple[Service, PresentSpy]]:  # type: ignore[no-untyped-def]
    spy = PresentSpy()
    made = Service(
        load_trust_config(make_config(2525)),
        open_store(db_url),
        entry_points=False,
        extra=[("spy", spy)],
        clock=FakeClock(NOW),
    )
    yield made, spy
    made.store.shutdown()


def test_unit_commits_a_requests_writes_once_and_tells_plugins_after(
    service: tuple[Service, PresentSpy],
) -> None:
    made, spy = service
    contact = contact_from_dict(contact_doc("c-unit"), made.config.code_lists)
    before = made.store.writer.commits
    with made.unit():
        assert made.use_once("jti:ehr|one", UNTIL)
        accepted = made.accept_contact(contact)
        made.append_audit("cds.cards", "ehr|user", accepted.contact_id, {"cards": ["u1"]})
        assert spy.shown == []  # not yet committed: plugins wait
        assert made.store.get_contact("c-unit") is not None  # its own writes are seen
    assert made.store.writer.commits - before == 1
    assert spy.shown == ["c-unit"]
    assert made.use_once("jti:ehr|one", UNTIL) is False
    assert [e.kind for e in made.store.audit_entries()][-1] == "cds.cards"


def test_unit_left_by_an_exception_writes_nothing_and_tells_no_plugin(
    service: tuple[Service, PresentSpy],
) -> None:
    made, spy = service
    contact = contact_from_dict(contact_doc("c-undone"), made.config.code_lists)
    entries = len(made.store.audit_entries())
    with pytest.raises(RuntimeError), made.unit():
        made.use_once("jti:ehr|two", UNTIL)
        made.accept_contact(contact)
        raise RuntimeError("the token was refused after all")
    assert made.store.get_contact("c-undone") is None
    assert len(made.store.audit_entries()) == entries
    assert spy.shown == []
    assert made.use_once("jti:ehr|two", UNTIL) is True


def test_failed_call_inside_a_unit_undoes_only_its_own_writes(store: Store) -> None:
    store.add_counter("taken")
    with store.unit():
        assert store.use_once("kept", until=UNTIL, now=NOW)
        with pytest.raises(Exception) as failed, store.transaction() as tx:
            tx.execute("INSERT INTO counters (name, value) VALUES (?, ?)", ("taken", 1))
        assert store.backend.is_unique_violation(failed.value)
        store.append_audit([AuditEntry("cds.cards", "ehr", "c-1", {})], NOW)
    assert store.use_once("kept", until=UNTIL, now=NOW) is False
    assert store.audit_entries()[-1].kind == "cds.cards"


def test_lost_connection_fails_every_request_of_its_group_and_the_next_reconnects(
    store: Store,
) -> None:
    with pytest.raises(StoreError), store.unit():
        store.add_counter("doomed")
        store.writer._conn.close()  # the database goes away before the commit
    assert "doomed" not in store.counters()
    store.add_counter("after")
    assert store.counters()["after"] == 1


def test_two_instances_writing_at_once_record_every_decision(db_url: str, make_config) -> None:  # type: ignore[no-untyped-def]
    config = load_trust_config(make_config(2525))
    instances = [
        Service(config, open_store(db_url), entry_points=False, clock=FakeClock(NOW))
        for _ in range(2)
    ]
    ids = [f"c-two-{i}" for i in range(16)]
    for contact_id in ids:
        instances[0].accept_contact(contact_from_dict(contact_doc(contact_id), config.code_lists))
    failures: list[BaseException] = []

    def record(service: Service, mine: list[str]) -> None:
        for contact_id in mine:
            try:
                service.record_decision(
                    decision_from_dict(decision_doc(), contact_id=contact_id, now=NOW)
                )
            except BaseException as exc:
                failures.append(exc)

    threads = [
        threading.Thread(target=record, args=(instances[i % 2], ids[i::4])) for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []
    assert all(len(instances[1].store.get_decisions(c)) == 1 for c in ids)
    assert instances[1].verify_audit().intact
    for service in instances:
        service.store.shutdown()


def test_two_instances_claiming_at_once_never_share_a_referral(db_url: str, make_config) -> None:  # type: ignore[no-untyped-def]
    config = load_trust_config(make_config(2525))
    first = Service(config, open_store(db_url), entry_points=False, clock=FakeClock(NOW))
    for i in range(12):
        contact = contact_from_dict(contact_doc(f"c-claim-{i}"), config.code_lists)
        first.accept_contact(contact)
        first.record_decision(decision_from_dict(decision_doc(), contact_id=contact.id, now=NOW))
    stores = [first.store, open_store(db_url)]
    claims: dict[str, list[str]] = {}
    barrier = threading.Barrier(4)

    def claim(worker: str, store: Store) -> None:
        barrier.wait()
        got: list[str] = []
        for _ in range(6):
            got += [
                c.referral.id for c in store.claim_referrals(worker, NOW, lease_seconds=60, limit=1)
            ]
        claims[worker] = got

    threads = [threading.Thread(target=claim, args=(f"w{i}", stores[i % 2])) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    everything = [rid for got in claims.values() for rid in got]
    assert len(everything) == 12 and len(set(everything)) == 12
    for store in stores:
        store.shutdown()


def test_sqlite_log_is_folded_in_by_its_own_thread_not_on_a_commit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        for i in range(120):
            store.use_once(f"k{i}", until=UNTIL, now=NOW)
        with store.transaction() as tx:
            assert tx.one("PRAGMA wal_autocheckpoint")[0] == 0
        assert store.wal is not None
        until(lambda: store.wal is not None and store.wal.runs >= 1, "the log to be folded in")
    finally:
        store.shutdown()
    assert not (tmp_path / "wal.db-wal").exists() or (tmp_path / "wal.db-wal").stat().st_size == 0
