"""One synthetic referral scene for the outbound-resource tests: a contact read from FHIR (an
adult in hospital, two children and a pregnancy), a sharing decision and its referral."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from adapters.fhir.referral_message import referral_message_bundle
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import (
    Assessment,
    Authority,
    Channel,
    Decision,
    Destination,
    FirstContact,
    Referral,
    Route,
)
from plugin_core.rules.decide import make_referrals
from plugin_core.settings.load import load_trust_config

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
CONTACT: dict[str, Any] = {
    "id": "fhir:pat-1:enc-1:hook-1",
    "occurred_at": "2026-03-03T10:00:00+00:00",
    "patient": {
        "id": "pat-1",
        "nhs_number": "9000000009",
        "name": "Alex Testperson",
        "birth_date": "1988-05-01",
        "postcode": "N7 8JL",
        "sex": "female",
    },
    "encounter": {"id": "enc-1", "kind": "inpatient"},
    "household": [
        {
            "id": "RelatedPerson/rp-1",
            "name": "Sam Testperson",
            "birth_date": "2016-06-01",
            "relationship": "child",
            "lives_with_patient": True,
        },
        {
            "id": "RelatedPerson/rp-2",
            "birth_date": "2019-02-11",
            "relationship": "stepchild",
            "lives_with_patient": False,
        },
    ],
    "pregnant": True,
}
DECISION: dict[str, Any] = {
    "id": "d-outbound-1",
    "decided_by": {"id": "nurse-17", "role": "Staff nurse"},
    "share": True,
    "level_of_need": 3,
    "reasons": "Parent admitted; children at home with a neighbour.",
    "what_shared": "Admission and the children's ages.",
    "lawful_basis": "public_task",
    "consent": "given",
    "authority_id": "islington",
}
DESTINATION = Destination(
    Authority("islington", "Islington"),
    Route.FRONT_DOOR,
    Channel.FHIR,
    "https://la.example.test/fhir",
    True,
    label="Front door",
)


@dataclass(frozen=True)
class Scene:
    contact: FirstContact
    assessment: Assessment
    decision: Decision
    referral: Referral

    def message(self, **changes: Any) -> Bundle:
        """The referral message Bundle; ``changes`` replace any of the builder's arguments."""
        args: dict[str, Any] = {
            "referral": self.referral,
            "destination": DESTINATION,
            "contact": self.contact,
            "decision": self.decision,
            "assessment": self.assessment,
            "sender_id": "trust-1",
            "sender_name": "Synthetic Trust",
            "source_endpoint": "urn:thinkfamily:trust-1",
            "now": NOW,
            **changes,
        }
        return referral_message_bundle(**args)


def scene(contact: dict[str, Any] | None = None, decision: dict[str, Any] | None = None) -> Scene:
    config = load_trust_config()
    found = contact_from_dict(contact or CONTACT, config.code_lists)
    assessment = ThinkFamily(config, entry_points=False).assess(found, now=NOW, present=False)
    chosen = decision_from_dict(decision or DECISION, contact_id=found.id, now=NOW)
    referral = make_referrals(chosen, authority_id="islington", rules=config.rules, now=NOW)[0]
    return Scene(found, assessment, chosen, referral)


def references(value: Any) -> list[str]:
    """Every ``reference`` string anywhere in a serialised resource."""
    if isinstance(value, dict):
        own = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return own + [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


def unresolved(bundle: Bundle) -> set[str]:
    """References in a message Bundle that name no entry, by fullUrl or by type and id."""
    names = {e.fullUrl for e in bundle.entry} | {
        f"{e.resource.get_resource_type()}/{e.resource.id}" for e in bundle.entry if e.resource.id
    }
    return set(references(json.loads(bundle.model_dump_json()))) - names
