"""A recorded decision written back into the EHR: QuestionnaireResponse, Flag and Provenance.

One transaction Bundle carries all three, so the EHR shows the whole decision or none of it.
The QuestionnaireResponse and Flag are conditional creates on the decision's identifier and
the Provenance has an id derived from the decision, so a repeated write creates nothing new.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from adapters.fhir import codes
from plugin_core.model import Assessment, Decision

FLAG_LEVEL = 2
"""A Flag is written when sharing, or when the level of need is additional needs or above."""


def records_concern(decision: Decision) -> bool:
    return decision.share or (decision.level_of_need or 0) >= FLAG_LEVEL


def derived_id(prefix: str, value: str) -> str:
    return f"{prefix}-{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _item(link_id: str, text: str, answer: dict[str, Any] | None) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": link_id, "text": text}
    if answer is not None:
        item["answer"] = [answer]
    return item


def questionnaire_response(
    decision: Decision,
    assessment: Assessment | None,
    patient_ref: str,
    encounter_ref: str | None,
) -> dict[str, Any]:
    """The household answers and the decision, as the clinician gave them."""
    items: list[dict[str, Any]] = []
    if assessment is not None:
        items.append(
            _item(
                "household-known",
                "Household recorded",
                {"valueBoolean": assessment.household_known},
            )
        )
        items.append(
            _item(
                "children-count",
                "Children under 18 (including unborn) in the household",
                {"valueInteger": len(assessment.children)},
            )
        )
        for i, child in enumerate(assessment.children):
            parts = [
                _item("child-ref", "Reference", {"valueString": child.ref}),
                _item(
                    "child-relationship", "Relationship", {"valueString": child.relationship.value}
                ),
                _item("child-unborn", "Unborn", {"valueBoolean": child.unborn}),
            ]
            if child.age is not None:
                parts.append(_item("child-age", "Age in years", {"valueInteger": child.age}))
            if child.lives_with_patient is not None:
                parts.append(
                    _item(
                        "child-lives-with",
                        "Lives with the patient",
                        {"valueBoolean": child.lives_with_patient},
                    )
                )
            items.append({"linkId": f"child-{i + 1}", "text": "Child", "item": parts})
    items.append(
        _item(
            "share",
            "Share information with children's social care",
            {"valueBoolean": decision.share},
        )
    )
    if decision.level_of_need is not None:
        items.append(
            _item("level-of-need", "Level of need", {"valueInteger": decision.level_of_need})
        )
    if decision.lawful_basis is not None:
        items.append(
            _item(
                "lawful-basis",
                "Lawful basis",
                {"valueCoding": {"system": codes.TF_SYSTEM, "code": decision.lawful_basis.value}},
            )
        )
    if decision.consent is not None:
        items.append(
            _item(
                "consent",
                "Consent",
                {"valueCoding": {"system": codes.TF_SYSTEM, "code": decision.consent.value}},
            )
        )
    if decision.consent_not_sought_reason:
        items.append(
            _item(
                "consent-not-sought-reason",
                "Why consent was not sought",
                {"valueString": decision.consent_not_sought_reason},
            )
        )
    items.append(
        _item("immediate-danger", "Immediate danger", {"valueBoolean": decision.immediate_danger})
    )
    items.append(_item("reasons", "Reasons for the decision", {"valueString": decision.reasons}))
    if decision.what_shared:
        items.append(_item("what-shared", "What was shared", {"valueString": decision.what_shared}))
    if decision.authority_id:
        items.append(_item("authority", "Local authority", {"valueString": decision.authority_id}))
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": codes.TF_IDENTIFIER, "value": decision.id},
        "questionnaire": codes.TF_QUESTIONNAIRE,
        "status": "completed",
        "subject": {"reference": patient_ref},
        "authored": decision.decided_at.isoformat(),
        "author": {"reference": f"Practitioner/{decision.decided_by.id}"},
        "item": items,
    }
    if encounter_ref:
        resource["encounter"] = {"reference": encounter_ref}
    return resource


def safeguarding_flag(
    decision: Decision, patient_ref: str, encounter_ref: str | None
) -> dict[str, Any]:
    flag: dict[str, Any] = {
        "resourceType": "Flag",
        "identifier": [{"system": codes.TF_IDENTIFIER, "value": decision.id}],
        "status": "active",
        "category": [
            {"coding": [{"system": codes.FLAG_CATEGORY, "code": "safety", "display": "Safety"}]}
        ],
        "code": {
            "coding": [
                {
                    "system": codes.SAFEGUARDING_CONCERN[0],
                    "code": codes.SAFEGUARDING_CONCERN[1],
                    "display": "Safeguarding concern about children recorded (Think Family)",
                }
            ],
            "text": "Think Family: safeguarding concern about children recorded",
        },
        "subject": {"reference": patient_ref},
        "period": {"start": decision.decided_at.isoformat()},
        "author": {"reference": f"Practitioner/{decision.decided_by.id}"},
    }
    if encounter_ref:
        flag["encounter"] = {"reference": encounter_ref}
    return flag


def provenance(
    decision: Decision, targets: list[str], organisation_ods: str = ""
) -> dict[str, Any]:
    agent: dict[str, Any] = {
        "type": {
            "coding": [
                {"system": codes.PROVENANCE_PARTICIPANT, "code": "author", "display": "Author"}
            ]
        },
        "who": {"reference": f"Practitioner/{decision.decided_by.id}"},
    }
    if decision.decided_by.role:
        agent["role"] = [{"text": decision.decided_by.role}]
    if organisation_ods:
        agent["onBehalfOf"] = {
            "identifier": {
                "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                "value": organisation_ods,
            }
        }
    return {
        "resourceType": "Provenance",
        "id": derived_id("tf", decision.id),
        "target": [{"reference": t} for t in targets],
        "recorded": decision.decided_at.isoformat(),
        "activity": {"text": "Think Family information-sharing decision"},
        "reason": [{"text": "sharing" if decision.share else "not sharing"}],
        "agent": [agent],
    }


def write_back_bundle(
    decision: Decision,
    assessment: Assessment | None,
    patient_id: str,
    encounter_id: str | None,
    organisation_ods: str = "",
) -> dict[str, Any]:
    """The transaction Bundle that records ``decision`` for the patient."""
    patient_ref = f"Patient/{patient_id}"
    encounter_ref = f"Encounter/{encounter_id}" if encounter_id else None
    ident = f"identifier={codes.TF_IDENTIFIER}|{decision.id}"
    qr_url = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'qr:' + decision.id)}"
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": qr_url,
            "resource": questionnaire_response(decision, assessment, patient_ref, encounter_ref),
            "request": {"method": "POST", "url": "QuestionnaireResponse", "ifNoneExist": ident},
        }
    ]
    targets = [qr_url]
    if records_concern(decision):
        flag_url = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'flag:' + decision.id)}"
        entries.append(
            {
                "fullUrl": flag_url,
                "resource": safeguarding_flag(decision, patient_ref, encounter_ref),
                "request": {"method": "POST", "url": "Flag", "ifNoneExist": ident},
            }
        )
        targets.append(flag_url)
    prov = provenance(decision, targets, organisation_ods)
    entries.append(
        {"resource": prov, "request": {"method": "PUT", "url": f"Provenance/{prov['id']}"}}
    )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
