"""The pages' sign-in sessions in the store, on SQLite and PostgreSQL: kept by digest, ended by
idle time and by their absolute end, a sign-in's state used once, shared across instances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from tests.peers.service import write_trust_config

from .conftest import TEST_AUTHORITIES, FakeClock

COOKIE = "cookie-value-" + "x" * 30
START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def make_service(tmp_path: Path, db_url: str, clock: FakeClock) -> object:
    config = load_trust_config(
        write_trust_config(tmp_path / "config", authorities=TEST_AUTHORITIES)
    )

    def make() -> Service:
        return Service(config, open_store(db_url), entry_points=False, clock=clock)

    return make


def test_a_session_is_kept_by_digest_and_shared_by_a_second_instance(
    make_service: object, db_url: str
) -> None:
    first: Service = make_service()  # type: ignore[operator]
    first.open_web_session(COOKIE, "session", '{"subject": "n-1"}', lasts=timedelta(hours=1))
    second: Service = make_service()  # type: ignore[operator]
    assert second.web_session(COOKIE, "session") == '{"subject": "n-1"}'
    assert second.web_session(COOKIE, "signin") is None  # another kind is another thing
    store = open_store(db_url)
    with store.transaction() as tx:  # the raw table: the cookie itself is never stored
        (stored,) = tx.all("SELECT id, data FROM web_sessions")
    store.shutdown()
    assert COOKIE not in stored[0] and len(stored[0]) == 64


def test_a_session_ends_when_idle_too_long_and_at_its_absolute_end(
    make_service: object, clock: FakeClock
) -> None:
    service: Service = make_service()  # type: ignore[operator]
    idle = timedelta(minutes=30)
    service.open_web_session(COOKIE, "session", "{}", lasts=timedelta(hours=1))
    for _ in range(2):
        clock.now += timedelta(minutes=29)
        assert service.web_session(COOKIE, "session", idle=idle) == "{}"
    clock.now += timedelta(minutes=3)  # 61 minutes after it began
    assert service.web_session(COOKIE, "session", idle=idle) is None

    service.open_web_session(COOKIE, "session", "{}", lasts=timedelta(hours=1))
    clock.now += timedelta(minutes=31)
    assert service.web_session(COOKIE, "session", idle=idle) is None
    assert service.web_session(COOKIE, "session") is None  # removed, not only refused


def test_a_sign_in_state_is_taken_once_and_a_closed_session_is_gone(
    make_service: object, clock: FakeClock
) -> None:
    service: Service = make_service()  # type: ignore[operator]
    service.open_web_session("state-1", "signin", '{"nonce": "n"}', lasts=timedelta(minutes=10))
    assert service.take_web_session("state-1", "signin") == '{"nonce": "n"}'
    assert service.take_web_session("state-1", "signin") is None
    service.open_web_session("state-2", "signin", "{}", lasts=timedelta(minutes=10))
    clock.now += timedelta(minutes=11)
    assert service.take_web_session("state-2", "signin") is None

    service.open_web_session(COOKIE, "session", "{}", lasts=timedelta(hours=1))
    service.close_web_session(COOKIE)
    assert service.web_session(COOKIE, "session") is None
