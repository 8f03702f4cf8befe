"""Contact and decision JSON are checked like the configuration: every fault at once, each as a
JSON path and a reason, never the value sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from plugin_core.formats.contact_json import ContactJsonError, contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.rules.decide import DecisionInvalid
from plugin_core.settings.config import TrustConfig

NAME = "Alexandra Synthetic"
NHS = "9990000018"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_contact_json_names_every_fault_by_path_and_never_the_value(config: TrustConfig) -> None:
    doc: dict[str, Any] = {
        "id": " ",
        "occurred_at": "2026-03-01T10:00:00",
        "patient": {"id": "p1", "name": NAME, "nhs_number": 9990000018, "birth_date": NHS},
        "household": [NAME, {"name": NAME, "lives_with_patient": "yes"}],
        "indicators": [{"kind": "nonsense"}],
        "pregnant": "no",
    }
    with pytest.raises(ContactJsonError) as caught:
        contact_from_dict(doc, config.code_lists)
    message = str(caught.value)
    assert message.split("; ") == [
        "$.id: is required",
        "$.occurred_at: must include a UTC offset, for example +00:00",
        "$.patient.nhs_number: must be a string",
        "$.patient.birth_date: must be a date like 2016-06-01",
        "$.household[0]: must be an object",
        "$.household[1].lives_with_patient: must be true or false",
        "$.indicators[0].kind: must be one of substance_misuse, mental_health, domestic_abuse, "
        "child_protection, pregnancy, pregnancy_ended, postnatal, other",
        "$.pregnant: must be true or false",
    ]
    assert NAME not in message and NHS not in message


def test_contact_json_reads_null_as_absent_and_ignores_unknown_keys(config: TrustConfig) -> None:
    doc = {
        "id": "c-1",
        "occurred_at": "2026-03-01T10:00:00+00:00",
        "patient": {"id": "p1", "name": None, "colour": "blue"},
        "household": None,
        "indicators": [{"kind": None, "system": "ICD-10", "code": "F10.2"}],
        "pregnant": None,
    }
    contact = contact_from_dict(doc, config.code_lists)
    assert contact.household is None and contact.patient.name is None
    assert contact.pregnant is None and contact.indicators[0].kind.value == "other"


def test_decision_json_names_every_wrongly_typed_field_at_once() -> None:
    doc = {
        "decided_by": {"id": 7},
        "share": "yes",
        "level_of_need": "3",
        "child_refs": "child-1",
        "lawful_basis": "because",
        "immediate_danger": "no",
        "escalated_to": {"name": ["Jo"]},
        "advice_sought": {"sought_at": "tomorrow"},
    }
    with pytest.raises(DecisionInvalid) as caught:
        decision_from_dict(doc, contact_id="c-1", now=NOW)
    assert [p.field for p in caught.value.problems] == [
        "decided_by",
        "level_of_need",
        "share",
        "child_refs",
        "lawful_basis",
        "immediate_danger",
        "escalated_to.name",
        "advice_sought.sought_at",
    ]
    assert "because" not in str(caught.value) and "tomorrow" not in str(caught.value)
