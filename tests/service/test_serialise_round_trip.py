"""What the store writes as JSON reads back equal: the contact, its assessment, the decision
and its referrals, through the per-type decoders of :mod:`plugin_core.formats.serialise`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from plugin_core.formats import serialise
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import Assessment, Decision, FirstContact, Referral
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
