"""What the store writes as JSON reads back equal: the contact, its assessment, the decision
and its referrals, through the per-type decoders of :mod:`plugin_core.formats.serialise`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from plugin_core.formats import kept, serialise
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import (
    Assessment,
    Channel,
    Decision,
    FirstContact,
    Receipt,
    Referral,
    Route,
)
from plugin_core.rules.clock import LONDON
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store

from .conftest import contact_doc, decision_doc

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def service(make_config: Any, tmp_path: Path) -> Any:
    config = load_trust_config(make_config(2525))
    service = Service(config, open_store(f"sqlite:///{tmp_path / 'tf.db'}"), entry_points=False)
    yield service
    service.store.shutdown()


def test_a_stored_contact_assessment_decision_and_referrals_read_back_equal(
    service: Service,
) -> None:
    contact = contact_from_dict(contact_doc("c-round-trip"), service.config.code_lists)
    accepted = service.accept_contact(contact)
    decision = decision_from_dict(decision_doc(level=4), contact_id=contact.id, now=NOW)
    recorded = service.record_decision(decision)
    stored = service.store.get_contact(contact.id)
    assert stored is not None
    assert stored.contact == contact
    assert stored.assessment == accepted.assessment
    assert recorded.referrals, "a level 4 decision refers"
    for value, kind in [
        (contact, FirstContact),
        (accepted.assessment, Assessment),
        (decision, Decision),
        *((r, Referral) for r in recorded.referrals),
    ]:
        assert serialise.loads(kind, serialise.dumps(value)) == value


def test_optional_and_container_fields_read_back_as_their_own_types() -> None:
    assert serialise.from_data(tuple[int, ...], [1, 2]) == (1, 2)
    assert serialise.from_data(frozenset[str], ["a"]) == frozenset({"a"})
    assert serialise.from_data(dict[str, datetime], {"at": "2026-03-03T10:00:00+00:00"}) == {
        "at": NOW
    }
    assert serialise.from_data(datetime | None, None) is None
    assert serialise.from_data(list[int] | None, [3]) == [3]


def _generic(value: Any) -> str:
    """The stored text as the generic conversion makes it, one field at a time."""
    return json.dumps(serialise.to_data(value), separators=(",", ":"), sort_keys=True)


def test_the_stored_text_is_the_same_as_the_generic_conversion_gives(service: Service) -> None:
    contact = contact_from_dict(contact_doc("c-same-text"), service.config.code_lists)
    accepted = service.accept_contact(contact)
    decision = decision_from_dict(decision_doc(level=4), contact_id=contact.id, now=NOW)
    recorded = service.record_decision(decision)
    receipt = Receipt(
        Channel("x-acme-filedrop"),
        delivered=True,
        reference="ref-1",
        extra={"b": "2", "a": "é"},
        opens_at=datetime(2026, 3, 3, 9, 0, tzinfo=LONDON),
    )
    values: list[Any] = [
        contact,
        accepted.assessment,
        decision,
        *recorded.referrals,
        receipt,
        {"when": NOW, Route.POLICE: frozenset({"x"}), 3: (1, None, True, 2.5)},
    ]
    for value in values:
        assert serialise.dumps(value) == _generic(value)


def test_a_contact_just_written_is_read_back_without_decoding_it_again(service: Service) -> None:
    contact = contact_from_dict(contact_doc("c-kept"), service.config.code_lists)
    service.accept_contact(contact)
    stored = service.store.get_contact(contact.id)
    assert stored is not None
    assert stored.contact is contact
    kept.forget()
    again = service.store.get_contact(contact.id)
    assert again is not None
    assert again.contact is not contact
    assert again.contact == contact


def test_only_the_latest_decoded_records_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kept, "KEEP", 2)
    kept.forget()
    texts = [kept.dumps_kept(NOW.replace(minute=m)) for m in range(3)]
    assert kept.loads_kept(datetime, texts[2]) == NOW.replace(minute=2)
    assert len(kept._kept) == 2
    assert (datetime, texts[0]) not in kept._kept
    kept.forget()
