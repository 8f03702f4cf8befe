"""Update and cancel messages keep the original referral's identity and carry their own key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.fhir import codes
from adapters.fhir.referral_message import referral_message
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import Channel, Destination, ReferralAction, Route
from plugin_core.rules.decide import amendment, make_referrals
from plugin_core.settings.load import load_trust_config

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
CONTACT = {
    "id": "c-fhir-amend",
    "occurred_at": "2026-03-03T10:00:00+00:00",
    "patient": {"id": "p1", "postcode": "IG1 2ZZ"},
    "household": [
        {
            "id": "k1",
            "birth_date": "2017-01-01",
            "relationship": "child",
            "lives_with_patient": True,
        }
    ],
}
DECISION = {
    "id": "d-fhir-amend",
    "decided_by": {"id": "nurse-17"},
    "share": True,
    "level_of_need": 3,
    "reasons": "Parent admitted; child home alone.",
    "what_shared": "Admission and the child's age.",
    "lawful_basis": "public_task",
    "consent": "given",
}


def _messages() -> dict[str, dict[str, Any]]:
    config = load_trust_config()
    contact = contact_from_dict(CONTACT, config.code_lists)
    assessment = ThinkFamily(config, entry_points=False).assess(contact, now=NOW, present=False)
    decision = decision_from_dict(DECISION, contact_id=contact.id, now=NOW)
    (original,) = make_referrals(decision, authority_id="redbridge", rules=config.rules, now=NOW)
    destination = Destination(None, Route.FRONT_DOOR, Channel.FHIR, "https://la.example/fhir", True)
    out = {}
    for label, referral in (
        ("new", original),
        (
            "update",
            amendment(
                original,
                action=ReferralAction.UPDATE,
                amendment_id="u1",
                reasons="More detail.",
                rules=config.rules,
                now=NOW,
            ),
        ),
        (
            "cancel",
            amendment(
                original,
                action=ReferralAction.CANCEL,
                amendment_id="c1",
                reasons="Sent in error.",
                rules=config.rules,
                now=NOW,
            ),
        ),
    ):
        out[label] = referral_message(
            referral, destination, contact, decision, assessment,
            sender_id="trust", sender_name="Trust", source_endpoint="urn:trust", now=NOW,
        )  # fmt: skip
    return out


def _service_request(bundle: dict[str, Any]) -> dict[str, Any]:
    return next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest"
    )


def test_update_and_cancel_name_the_original_service_request_with_their_own_bundle_identifier() -> (
    None
):
    messages = _messages()
    original_id = _service_request(messages["new"])["identifier"][0]["value"]
    bundle_ids = {label: m["identifier"]["value"] for label, m in messages.items()}
    assert len(set(bundle_ids.values())) == 3
    for label in ("update", "cancel"):
        assert _service_request(messages[label])["identifier"][0]["value"] == original_id


def test_cancel_revokes_the_service_request_and_update_keeps_it_active() -> None:
    messages = _messages()
    assert _service_request(messages["cancel"])["status"] == "revoked"
    assert _service_request(messages["update"])["status"] == "active"
    header = messages["update"]["entry"][0]["resource"]
    assert header["resourceType"] == "MessageHeader"
    assert header["reason"]["coding"][0] == {"system": codes.BARS_REASON, "code": "update"}
