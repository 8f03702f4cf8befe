"""Referral message Bundles shaped like the NHS Booking and Referral Standard (BaRS).

A message Bundle: MessageHeader (event ``servicerequest-request``, reason ``new`` or
``update``) first, then the ServiceRequest it focuses on and what the receiver needs to act:
the Patient, a RelatedPerson for each child, the Consent for the lawful basis, the safeguarding
Flag, the Encounter, the Practitioner who decided and the sending and receiving Organizations.
The referral's idempotency key is the Bundle identifier, so receivers de-duplicate re-sends.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from adapters.fhir import codes
from adapters.fhir.mapping import split_contact_id
from adapters.fhir.writeback import safeguarding_flag
from plugin_core.model import (
    Assessment,
    Child,
    Decision,
    Destination,
    FirstContact,
    Referral,
    Relationship,
)

ROLE_CODES = {
    Relationship.CHILD: "CHILD",
    Relationship.STEPCHILD: "STPCHLD",
    Relationship.FOSTER_CHILD: "FCHILD",
    Relationship.GRANDCHILD: "GRNDCHILD",
    Relationship.WARD: "WARD",
    Relationship.ADOPTED_CHILD: "CHLDADOPT",
    Relationship.NIECE_NEPHEW: "NIENEPH",
    Relationship.SIBLING: "SIB",
    Relationship.OTHER_RELATIVE: "EXT",
}
"""v3 RoleCode for each relationship a child can have; the others go as text, never as CHILD."""
ROLE_TEXTS = {
    Relationship.PARTNERS_CHILD: "partner's child",
    Relationship.UNKNOWN: "relationship not known",
}
CLASS_CODES = {v: k for k, v in reversed(codes.ENCOUNTER_KINDS.items())}


def _urn(*parts: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, '|'.join(parts))}"


def relationship_concept(child: Child) -> dict[str, Any]:
    """The child's relationship to the adult as a RelatedPerson.relationship concept."""
    code = ROLE_CODES.get(child.relationship)
    if code is None:  # a partner's child, someone else's, or not known: say so in words
        text = ROLE_TEXTS.get(child.relationship, child.relationship.value.replace("_", " "))
        return {"text": text}
    return {"coding": [{"system": codes.V3_ROLE, "code": code}]}


def message_identifier(referral: Referral, reason: str) -> str:
    """The Bundle identifier: the idempotency key of this message (new, update or cancel).

    A stand-alone update or cancel built for a new referral gets a suffix, so it never reuses
    the original message's identifier.
    """
    if referral.amends or reason == "new":
        return referral.idempotency_key
    return f"{referral.idempotency_key}-{reason}"


def referral_message(
    referral: Referral,
    destination: Destination,
    contact: FirstContact,
    decision: Decision,
    assessment: Assessment | None,
    *,
    sender_id: str,
    sender_name: str,
    source_endpoint: str,
    now: datetime,
    reason: str | None = None,
) -> dict[str, Any]:
    """The message Bundle for one referral; ``reason`` (default: the referral's action) is new,
    update or cancel. The ServiceRequest keeps the original referral's identifier."""
    reason = reason or referral.action.value
    key = message_identifier(referral, reason)
    ids = split_contact_id(contact.id)
    patient_id = ids[0] if ids else contact.patient.id
    patient_url = _urn(key, "patient")
    sr_url = _urn(key, "service-request")
    sender_url = _urn(key, "sender")
    receiver_url = _urn(key, "receiver")
    practitioner_url = _urn(key, "practitioner")
    consent_url = _urn(key, "consent")
    flag_url = _urn(key, "flag")
    encounter_url = _urn(key, "encounter") if contact.encounter else None

    wanted = set(referral.child_refs)
    children = [
        c for c in (assessment.children if assessment else ()) if not wanted or c.ref in wanted
    ]
    members = {m.id: m for m in contact.household or () if m.id}
    related: list[tuple[str, dict[str, Any]]] = []
    for child in children:
        if child.unborn:
            continue
        member = members.get(child.ref)
        person: dict[str, Any] = {
            "resourceType": "RelatedPerson",
            "patient": {"reference": patient_url},
            "relationship": [relationship_concept(child)],
        }
        if child.ref.startswith("RelatedPerson/"):
            person["id"] = child.ref.split("/", 1)[1]
        if member is not None and member.name:
            person["name"] = [{"text": member.name}]
        birth = child.birth_date or (member.birth_date if member else None)
        if birth is not None:
            person["birthDate"] = birth.isoformat()
        postcode = child.postcode or (member.postcode if member else None)
        if postcode:
            person["address"] = [{"postalCode": postcode}]
        related.append((_urn(key, "child", child.ref), person))

    unborn = any(c.unborn for c in children)
    status = "revoked" if reason == "cancel" else "active"
    priority = "stat" if decision.immediate_danger else ("urgent" if referral.urgent else "routine")
    notes = [{"text": referral.reasons or decision.reasons}]
    if unborn:
        notes.append({"text": "The referral includes an unborn child."})
    if decision.what_shared:
        notes.append({"text": f"What is shared: {decision.what_shared}"})
    service_request: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "identifier": [{"system": codes.TF_REFERRAL_ID, "value": referral.original_key}],
        "status": status,
        "intent": "order",
        "priority": priority,
        "category": [
            {
                "coding": [
                    {
                        "system": codes.TF_SYSTEM,
                        "code": f"route-{referral.route.value}",
                        "display": destination.label or referral.route.value,
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": codes.TF_SYSTEM,
                    "code": "safeguarding-referral",
                    "display": "Referral to children's social care",
                }
            ]
        },
        "subject": {"reference": patient_url},
        "authoredOn": referral.created_at.isoformat(),
        "requester": {"reference": practitioner_url},
        "performer": [{"reference": receiver_url}],
        "supportingInfo": [{"reference": consent_url}, {"reference": flag_url}]
        + [{"reference": url} for url, _ in related],
        "note": notes,
    }
    if referral.level_of_need is not None:
        service_request["orderDetail"] = [
            {"text": f"Level of need {referral.level_of_need}"},
        ]
    if encounter_url:
        service_request["encounter"] = {"reference": encounter_url}

    header: dict[str, Any] = {
        "resourceType": "MessageHeader",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, key + "|header")),
        "eventCoding": {
            "system": codes.BARS_EVENT,
            "code": "servicerequest-request",
            "display": "Service Request - Request",
        },
        "reason": {
            "coding": [
                {"system": codes.BARS_REASON, "code": "new" if reason == "new" else "update"}
            ]
        },
        "destination": [{"endpoint": destination.address, "receiver": {"reference": receiver_url}}],
        "sender": {"reference": sender_url},
        "source": {"name": sender_name, "endpoint": source_endpoint},
        "focus": [{"reference": sr_url}],
    }

    patient: dict[str, Any] = {"resourceType": "Patient", "id": patient_id}
    person_ = contact.patient
    if person_.nhs_number:
        patient["identifier"] = [{"system": codes.NHS_NUMBER, "value": person_.nhs_number}]
    if person_.name:
        patient["name"] = [{"text": person_.name}]
    if person_.birth_date:
        patient["birthDate"] = person_.birth_date.isoformat()
    if person_.postcode:
        patient["address"] = [{"postalCode": person_.postcode}]
    if person_.sex in ("male", "female", "other", "unknown"):
        patient["gender"] = person_.sex

    basis = decision.lawful_basis or referral.lawful_basis
    consent: dict[str, Any] = {
        "resourceType": "Consent",
        "status": "active",
        "scope": {"coding": [{"system": codes.CONSENT_SCOPE, "code": "patient-privacy"}]},
        "category": [
            {
                "coding": [
                    {
                        "system": codes.TF_SYSTEM,
                        "code": f"consent-{(decision.consent.value if decision.consent else 'unknown')}",
                    }
                ],
                "text": "Information sharing for safeguarding children",
            }
        ],
        "patient": {"reference": patient_url},
        "dateTime": decision.decided_at.isoformat(),
        "performer": [{"reference": practitioner_url}],
        "policyRule": {
            "coding": [
                {
                    "system": codes.TF_SYSTEM,
                    "code": basis.value if basis else "unknown",
                }
            ],
            "text": "UK GDPR Article 6 lawful basis",
        },
        "provision": {"type": "permit"},
    }
    flag = safeguarding_flag(decision, patient_url, encounter_url)

    practitioner: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": decision.decided_by.id,
        "identifier": [
            {"system": codes.TF_SYSTEM + "/professional", "value": decision.decided_by.id}
        ],
    }
    if decision.decided_by.name:
        practitioner["name"] = [{"text": decision.decided_by.name}]
    sender = {
        "resourceType": "Organization",
        "id": sender_id,
        "name": sender_name,
    }
    authority = destination.authority
    receiver: dict[str, Any] = {
        "resourceType": "Organization",
        "name": authority.name if authority else (destination.label or "children's services"),
    }
    if authority is not None:
        receiver["id"] = authority.id

    entries: list[tuple[str, dict[str, Any]]] = [
        (_urn(key, "header"), header),
        (sr_url, service_request),
        (patient_url, patient),
        *related,
        (consent_url, consent),
        (flag_url, flag),
    ]
    if encounter_url and contact.encounter is not None:
        encounter: dict[str, Any] = {
            "resourceType": "Encounter",
            "id": contact.encounter.id,
            "status": "in-progress",
            "class": {
                "system": codes.V3_ACT,
                "code": CLASS_CODES.get(contact.encounter.kind, "AMB"),
            },
            "subject": {"reference": patient_url},
        }
        entries.append((encounter_url, encounter))
    entries += [(practitioner_url, practitioner), (sender_url, sender), (receiver_url, receiver)]
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, key)),
        "identifier": {"system": codes.TF_REFERRAL_ID, "value": key},
        "type": "message",
        "timestamp": now.isoformat(),
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries],
    }
