"""Statements the writer holds back to send with the next one, and writes sent as one statement,
keep the meaning they have when sent one by one, on both backends."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import Store, StoreError, open_store
from plugin_core.store.tx import joined

from .conftest import contact_doc, decision_doc, until

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


INSERT = "INSERT INTO counters (name, value) VALUES (?, ?)"


def test_independent_writes_all_land_and_a_read_among_them_sees_those_before_it(
    store: Store,
) -> None:
    with store.transaction() as tx, tx.batch(independent=True):
        tx.execute(INSERT, ("first", 1))
        tx.execute(INSERT, ("second", 2))
        seen = tx.one("SELECT value FROM counters WHERE name = ?", ("second",))
        tx.execute(INSERT, ("third", 3))
    assert seen == (2,)
    assert store.counters() == {"first": 1, "second": 2, "third": 3}


def test_a_clash_among_independent_writes_fails_the_request_and_keeps_none_of_them(
    store: Store,
) -> None:
    store.add_counter("taken")
    with (
        pytest.raises(Exception) as raised,
        store.transaction() as tx,
        tx.batch(independent=True),
    ):
        tx.execute(INSERT, ("lost", 1))
        tx.execute(INSERT, ("taken", 1))
    assert store.backend.is_unique_violation(raised.value)
    assert store.counters() == {"taken": 1}
    store.add_counter("after")  # the writer goes on
    assert store.counters() == {"after": 1, "taken": 1}


def test_dependent_writes_inside_independent_ones_see_what_came_before(store: Store) -> None:
    with store.transaction() as tx, tx.batch(independent=True):
        tx.execute(INSERT, ("grown", 1))
        with tx.batch():
            tx.execute("UPDATE counters SET value = value + 1 WHERE name = ?", ("grown",))
            tx.execute("UPDATE counters SET value = value * 10 WHERE name = ?", ("grown",))
        tx.execute(INSERT, ("beside", 5))
    assert store.counters() == {"beside": 5, "grown": 20}


def test_writes_are_joined_as_one_statement_in_their_order() -> None:
    sql, params = joined(
        [
            ("INSERT INTO a (x) VALUES (?)", (1,)),
            ("UPDATE b SET y = ? WHERE id = ?", (2, 3)),
            ("DELETE FROM c WHERE id = ?", (4,)),
        ]
    )
    assert sql == (
        "WITH w0 AS (INSERT INTO a (x) VALUES (?)),"
        " w1 AS (UPDATE b SET y = ? WHERE id = ?) DELETE FROM c WHERE id = ?"
    )
    assert params == [1, 2, 3, 4]
    with pytest.raises(AssertionError):
        joined([("SELECT 1", ()), ("INSERT INTO a (x) VALUES (?)", (1,))])


def test_a_request_joining_a_group_whose_first_wrote_nothing_writes_inside_the_group(
    pg_url: str,
) -> None:
    """The group's BEGIN and lock wait for its first statement: when the first request sends
    none, the next one of the same group sends them, so its writes are neither committed on
    their own nor made without the lock on the audit head."""
    import psycopg
    import psycopg.errors

    store = open_store(pg_url)
    store.add_counter("before")  # the writer's connection is open
    release = threading.Event()
    seen: dict[str, object] = {}

    def idle_first() -> None:
        with store.transaction():
            release.wait(10)

    def second() -> None:
        with store.transaction() as tx:
            tx.execute(INSERT, ("joined", 1))
            with psycopg.connect(pg_url, autocommit=True) as other:
                seen["visible"] = other.execute(
                    "SELECT 1 FROM counters WHERE name = 'joined'"
                ).fetchone()
                try:
                    other.execute("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE NOWAIT")
                    seen["locked"] = False
                except psycopg.errors.LockNotAvailable:
                    seen["locked"] = True

    first = threading.Thread(target=idle_first)
    first.start()
    until(lambda: store.writer.current() is None and store.writer._group is not None, "first")
    follower = threading.Thread(target=second)
    follower.start()
    until(lambda: store.writer.waiting() == 1, "the second request to queue")
    release.set()
    first.join(10)
    follower.join(10)
    try:
        assert seen == {"visible": None, "locked": True}
        assert store.counters() == {"before": 1, "joined": 1}
    finally:
        store.shutdown()


def test_a_clash_after_the_held_read_fails_the_whole_decision(
    db_url: str, make_config: Any
) -> None:
    """A decision checked by the read that holds its contact is written without a savepoint:
    a clash there (a referral already stored) fails the request, and none of it is kept."""
    service = Service(load_trust_config(make_config(2525)), open_store(db_url), entry_points=False)
    try:
        config = service.config
        service.accept_contact(contact_from_dict(contact_doc("c-held"), config.code_lists))
        first = decision_from_dict(decision_doc(decision_id="d-held"), contact_id="c-held", now=NOW)
        clash = service.record_decision(first).referrals[0]
        second = decision_from_dict(
            decision_doc(decision_id="d-held2") | {"supersedes": "d-held"},
            contact_id="c-held",
            now=NOW,
        )
        with pytest.raises(StoreError, match="clashed"), service.store.unit():
            held = service.store.before_decision(second.id, second.contact_id, hold=True)
            assert held[1:] == (False, "d-held")
            service.store.save_decision(second, [clash], audit=[], at=NOW)
        assert [d.id for d in service.store.get_decisions("c-held")] == ["d-held"]
        service.record_decision(second)  # the writer goes on
        assert [d.id for d in service.store.get_decisions("c-held")] == ["d-held", "d-held2"]
    finally:
        service.store.shutdown()
