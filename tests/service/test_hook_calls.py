"""A decision-support call writes its one-time key, its contact and its audit entry in one
transaction, on both backends; a replayed key writes nothing; a call that loses a race to
another instance (a unique key taken while it wrote) is undone whole and tried again, so what
it writes is written once, never half."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from plugin_core.contract import Accepted, AuditNote
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.service import Service, hook_calls
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from plugin_core.store.base import Tx, ts
from plugin_core.store.records import NewContact, SavedContact

from .conftest import FakeClock, PresentSpy, contact_doc

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def service(db_url: str, make_config: Any) -> Iterator[Service]:
    made = Service(
        load_trust_config(make_config(2525)),
        open_store(db_url),
        entry_points=False,
        extra=[("spy", PresentSpy())],
        clock=FakeClock(NOW),
    )
    yield made
    made.store.shutdown()


def _note(accepted: Accepted) -> AuditNote | None:
    codes = [p.code.value for p in accepted.prompts_to_show]
    return AuditNote("cds.cards", "ehr|sub", {"prompts": codes}) if codes else None


def _call(service: Service, contact_id: str, jti: str, hook: str = "h-1") -> Accepted | None:
    return service.accept_hook_call(
        contact_from_dict(contact_doc(contact_id), service.config.code_lists),
        once_key=f"jti:{jti}",
        once_until=NOW + timedelta(minutes=5),
        message_key=f"cds:{hook}",
        encounter_key=None,
        audit=_note,
    )


def _commits(service: Service) -> int:
    """Commits the store's writer has made: each one a wait for the disk."""
    return service.store.writer.commits


def test_a_hook_call_commits_its_key_contact_and_cards_entry_in_one_transaction(
    service: Service,
) -> None:
    before = _commits(service)
    accepted = _call(service, "c-hook-1", "jti-1")
    assert accepted is not None and not accepted.duplicate
    assert _commits(service) - before == 1
    assert service.store.get_contact("c-hook-1") is not None
    kinds = [e.kind for e in service.audit_entries() if e.subject == "c-hook-1"]
    assert kinds == ["contact.accepted", "cds.cards"]
    assert service.use_once("jti:jti-1", NOW + timedelta(minutes=5)) is False


def test_a_replayed_key_is_answered_none_and_records_nothing(service: Service) -> None:
    assert _call(service, "c-hook-2", "jti-2", hook="h-2") is not None
    before = len(service.audit_entries())
    assert _call(service, "c-hook-3", "jti-2", hook="h-3") is None
    assert service.store.get_contact("c-hook-3") is None
    assert len(service.audit_entries()) == before


def test_a_hook_call_sent_again_is_counted_a_duplicate_in_the_same_transaction(
    service: Service,
) -> None:
    assert _call(service, "c-hook-4", "jti-4", hook="h-4") is not None
    before = _commits(service)
    again = _call(service, "c-hook-4", "jti-5", hook="h-4")
    assert again is not None and again.duplicate
    assert _commits(service) - before == 1
    assert service.store.counters().get("contacts.duplicate") == 1


def test_a_hook_call_that_loses_a_race_is_retried_whole_and_writes_once(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = hook_calls.save_in
    tries: list[int] = []

    def racing(tx: Tx, items: list[NewContact], at: datetime) -> list[SavedContact]:
        saved = real(tx, items, at)
        tries.append(1)
        if len(tries) == 1:  # a key another instance has just taken: a real unique violation
            tx.execute(
                "INSERT INTO once_keys (key, expires_at) VALUES (?, ?)",
                ("jti:race-1", ts(NOW + timedelta(hours=1))),
            )
        return saved

    monkeypatch.setattr(hook_calls, "save_in", racing)
    accepted = service.accept_hook_call(
        contact_from_dict(contact_doc("c-race-1"), service.config.code_lists),
        once_key="jti:race-1",
        once_until=NOW + timedelta(hours=1),
        message_key="cds:h-race-1",
        encounter_key="e-1",
        audit=_note,
    )
    assert len(tries) == 2
    assert accepted is not None and not accepted.duplicate
    kinds = [e.kind for e in service.audit_entries() if e.subject == "c-race-1"]
    assert kinds == ["contact.accepted", "cds.cards"]
    assert service.verify_audit().intact
    assert service.use_once("jti:race-1", NOW + timedelta(hours=1)) is False
