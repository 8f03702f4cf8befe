"""What recording a decision costs in round trips to a real PostgreSQL server, counted from the
messages the client library sends and receives, so a change that adds one fails here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.service import DuplicateDecision, Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import Store, open_store

from .conftest import FakeClock, contact_doc, decision_doc

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
WARM = 6
"""Decisions recorded before counting: past the client library's threshold for preparing."""
NOT_SHARING = {
    "share": False,
    "level_of_need": 2,
    "reasons": "The other parent has taken the children home and their needs are met there.",
}

PHONE = "020 7946 0017"
"""The referrer's phone: a referral without one is also counted, a write after the commit."""


class Traced:
    """Every PostgreSQL connection a store uses while the block runs, traced by libpq."""

    def __init__(self, store: Store, folder: Path) -> None:
        self.store = store
        self.folder = folder
        self.files: dict[str, Path] = {}
        self.conns: list[Any] = []
        self.handles: list[Any] = []

    def trace(self, conn: Any, name: str) -> None:
        import psycopg

        path = self.folder / f"{name}-{len(self.files)}.trace"
        handle = path.open("w")
        conn.pgconn.trace(handle.fileno())
        conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        self.handles.append(handle)  # open until the trace stops: libpq writes to it
        self.files[path.name] = path
        self.conns.append(conn)

    def stop(self) -> None:
        for conn in self.conns:
            conn.pgconn.untrace()
        for handle in self.handles:
            handle.close()

    def round_trips(self, role: str) -> int:
        """Times the client waited for the server: each turn from sending to receiving."""
        total = 0
        for name, path in self.files.items():
            if not name.startswith(role):
                continue
            last = ""
            for line in path.read_text().splitlines():
                direction = line.split("\t", 1)[0]
                if direction == "B" and last == "F":
                    total += 1
                if direction in ("F", "B"):
                    last = direction
        return total


@contextmanager
def traced(store: Store, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Traced]:
    """Trace the writer's connection, the pooled readers, and any reader opened meanwhile."""
    found = Traced(store, folder)
    assert store.writer._conn is not None, "record something first: the writer connects lazily"
    found.trace(store.writer._conn, "writer")
    pooled = []
    while not store._readers.empty():
        pooled.append(store._readers.get_nowait())
    for conn in pooled:
        found.trace(conn, "reader")
        store._readers.put(conn)
    prepare = store.backend.prepare_reader

    def prepare_traced(conn: Any) -> None:
        prepare(conn)
        found.trace(conn, "reader")

    monkeypatch.setattr(store.backend, "prepare_reader", prepare_traced)
    try:
        yield found
    finally:
        found.stop()


@pytest.fixture
def service(pg_url: str, make_config: Any) -> Iterator[Service]:
    made = Service(
        load_trust_config(make_config(2525)),
        open_store(pg_url),
        entry_points=False,
        clock=FakeClock(NOW),
    )
    yield made
    made.store.shutdown()


def _contacts(service: Service, count: int) -> list[str]:
    ids = [f"c-trips-{i}" for i in range(count)]
    for contact_id in ids:
        service.accept_contact(
            contact_from_dict(contact_doc(contact_id), service.config.code_lists)
        )
    return ids


def test_a_decision_with_a_referral_costs_three_round_trips_on_postgresql(
    service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All on the writer: BEGIN, the group's lock and the read that holds the contact
    together; every write as one statement (with its savepoint); COMMIT. Counted once the
    client library prepares the statements (from their fifth use)."""
    ids = _contacts(service, WARM + 3)
    for contact_id in ids[:WARM]:
        service.record_decision(
            decision_from_dict(decision_doc(phone=PHONE), contact_id=contact_id, now=NOW)
        )
    with traced(service.store, tmp_path, monkeypatch) as trips:
        for contact_id in ids[WARM:]:
            recorded = service.record_decision(
                decision_from_dict(decision_doc(phone=PHONE), contact_id=contact_id, now=NOW)
            )
            assert len(recorded.referrals) == 1
    assert trips.round_trips("reader") == 0
    assert trips.round_trips("writer") == 3 * 3


def test_a_decision_not_to_share_costs_the_same_round_trips(
    service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _contacts(service, WARM + 2)
    for contact_id in ids[:WARM]:
        service.record_decision(
            decision_from_dict(decision_doc(phone=PHONE), contact_id=contact_id, now=NOW)
        )
    with traced(service.store, tmp_path, monkeypatch) as trips:
        for contact_id in ids[WARM:]:
            recorded = service.record_decision(
                decision_from_dict(
                    decision_doc(phone=PHONE) | NOT_SHARING, contact_id=contact_id, now=NOW
                )
            )
            assert recorded.referrals == ()
    assert trips.round_trips("reader") == 0
    assert trips.round_trips("writer") == 3 * 2


def test_a_repeated_decision_costs_its_read_and_a_rollback(
    service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decision already recorded is answered from the read that holds the contact; the
    transaction it opened is rolled back, having written nothing."""
    (contact_id,) = _contacts(service, 1)
    decision = decision_from_dict(decision_doc(phone=PHONE), contact_id=contact_id, now=NOW)
    service.record_decision(decision)
    with traced(service.store, tmp_path, monkeypatch) as trips, pytest.raises(DuplicateDecision):
        service.record_decision(decision)
    assert trips.round_trips("reader") == 0
    assert trips.round_trips("writer") == 2
    assert len(service.store.get_decisions(contact_id)) == 1
