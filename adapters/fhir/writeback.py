"""A recorded decision written back into the EHR: QuestionnaireResponse, Flag and Provenance.

One transaction Bundle carries all three, so the EHR shows the whole decision or none of it.
The QuestionnaireResponse and Flag are conditional creates on the decision's identifier and
the Provenance has an id derived from the decision, so a repeated write creates nothing new.
Each resource is an R4B model, validated as it is built (see ``adapters.fhir.outbound``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from fhir.resources.R4B.bundle import Bundle, BundleEntry, BundleEntryRequest
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.provenance import Provenance, ProvenanceAgent
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse,
    QuestionnaireResponseItem,
    QuestionnaireResponseItemAnswer,
)
from fhir.resources.R4B.reference import Reference

from adapters.fhir import codes
from adapters.fhir.outbound import builds, coding, concept, ref, text_concept, urn, wire
from plugin_core.model import Assessment, Child, Decision

FLAG_LEVEL = 2
"""A Flag is written when sharing, or when the level of need is additional needs or above."""
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"

Item = QuestionnaireResponseItem
Answer = QuestionnaireResponseItemAnswer


def records_concern(decision: Decision) -> bool:
    return decision.share or (decision.level_of_need or 0) >= FLAG_LEVEL


def derived_id(prefix: str, value: str) -> str:
    return f"{prefix}-{hashlib.sha256(value.encode()).hexdigest()[:32]}"


# QuestionnaireResponse ------------------------------------------------------------------------


def _item(link_id: str, text: str, answer: Answer | None) -> Item:
    return Item(linkId=link_id, text=text, answer=[answer] if answer is not None else None)


def _string(value: str | None) -> Answer | None:
    """FHIR strings cannot be empty: an empty answer is left out."""
    return Answer(valueString=value) if value else None


def _integer(value: int | None) -> Answer | None:
    return Answer(valueInteger=value) if value is not None else None


def _tf_code(code: str | None) -> Answer | None:
    return Answer(valueCoding=coding(codes.TF_SYSTEM, code)) if code else None


def _child_item(number: int, child: Child) -> Item:
    parts = [
        ("child-ref", "Reference", _string(child.ref)),
        ("child-relationship", "Relationship", _string(child.relationship.value)),
        ("child-unborn", "Unborn", Answer(valueBoolean=child.unborn)),
        ("child-age", "Age in years", _integer(child.age)),
        (
            "child-lives-with",
            "Lives with the patient",
            None
            if child.lives_with_patient is None
            else Answer(valueBoolean=child.lives_with_patient),
        ),
    ]
    items = [_item(link, text, answer) for link, text, answer in parts if answer is not None]
    return Item(linkId=f"child-{number}", text="Child", item=items)


def _household_items(assessment: Assessment | None) -> list[Item]:
    if assessment is None:
        return []
    return [
        _item(
            "household-known",
            "Household recorded",
            Answer(valueBoolean=assessment.household_known),
        ),
        _item(
            "children-count",
            "Children under 18 (including unborn) in the household",
            Answer(valueInteger=len(assessment.children)),
        ),
        *(_child_item(i + 1, child) for i, child in enumerate(assessment.children)),
    ]


def _decision_items(decision: Decision) -> list[Item]:
    """The decision's answers, in the form's order; an answer not given leaves its item out."""
    basis = decision.lawful_basis.value if decision.lawful_basis else None
    consent = decision.consent.value if decision.consent else None
    answers = [
        (
            "share",
            "Share information with children's social care",
            Answer(valueBoolean=decision.share),
        ),
        ("level-of-need", "Level of need", _integer(decision.level_of_need)),
        ("lawful-basis", "Lawful basis", _tf_code(basis)),
        ("consent", "Consent", _tf_code(consent)),
        (
            "consent-not-sought-reason",
            "Why consent was not sought",
            _string(decision.consent_not_sought_reason),
        ),
        ("immediate-danger", "Immediate danger", Answer(valueBoolean=decision.immediate_danger)),
        ("reasons", "Reasons for the decision", _string(decision.reasons)),
        ("what-shared", "What was shared", _string(decision.what_shared)),
        ("authority", "Local authority", _string(decision.authority_id)),
    ]
    return [_item(link, text, answer) for link, text, answer in answers if answer is not None]


@builds("QuestionnaireResponse")
def questionnaire_response(
    decision: Decision,
    assessment: Assessment | None,
    patient_ref: str,
    encounter_ref: str | None,
) -> QuestionnaireResponse:
    """The household answers and the decision, as the clinician gave them."""
    return QuestionnaireResponse(
        identifier=Identifier(system=codes.TF_IDENTIFIER, value=decision.id),
        questionnaire=codes.TF_QUESTIONNAIRE,
        status="completed",
        subject=ref(patient_ref),
        encounter=ref(encounter_ref) if encounter_ref else None,
        authored=decision.decided_at,
        author=_practitioner(decision),
        item=_household_items(assessment) + _decision_items(decision),
    )


# Flag and Provenance --------------------------------------------------------------------------


def _practitioner(decision: Decision) -> Reference:
    return ref(f"Practitioner/{decision.decided_by.id}")


@builds("Flag")
def safeguarding_flag(decision: Decision, patient_ref: str, encounter_ref: str | None) -> Flag:
    return Flag(
        identifier=[Identifier(system=codes.TF_IDENTIFIER, value=decision.id)],
        status="active",
        category=[concept(codes.FLAG_CATEGORY, "safety", "Safety")],
        code=concept(
            *codes.SAFEGUARDING_CONCERN,
            "Safeguarding concern about children recorded (Think Family)",
            text="Think Family: safeguarding concern about children recorded",
        ),
        subject=ref(patient_ref),
        period=Period(start=decision.decided_at),
        encounter=ref(encounter_ref) if encounter_ref else None,
        author=_practitioner(decision),
    )


@builds("Provenance")
def provenance(decision: Decision, targets: list[str], organisation_ods: str = "") -> Provenance:
    role = decision.decided_by.role
    agent = ProvenanceAgent(
        type=concept(codes.PROVENANCE_PARTICIPANT, "author", "Author"),
        role=[text_concept(role)] if role else None,
        who=_practitioner(decision),
        onBehalfOf=(
            Reference(identifier=Identifier(system=ODS_CODE, value=organisation_ods))
            if organisation_ods
            else None
        ),
    )
    return Provenance(
        id=derived_id("tf", decision.id),
        target=[ref(t) for t in targets],
        recorded=decision.decided_at,
        activity=text_concept("Think Family information-sharing decision"),
        reason=[text_concept("sharing" if decision.share else "not sharing")],
        agent=[agent],
    )


# The transaction ------------------------------------------------------------------------------


@builds("Bundle")
def write_back_transaction(
    decision: Decision,
    assessment: Assessment | None,
    patient_id: str,
    encounter_id: str | None,
    organisation_ods: str = "",
) -> Bundle:
    """The transaction Bundle that records ``decision`` for the patient."""
    patient_ref = f"Patient/{patient_id}"
    encounter_ref = f"Encounter/{encounter_id}" if encounter_id else None
    ident = f"identifier={codes.TF_IDENTIFIER}|{decision.id}"
    qr_url = urn("qr:" + decision.id)
    entries = [
        BundleEntry(
            fullUrl=qr_url,
            resource=questionnaire_response(decision, assessment, patient_ref, encounter_ref),
            request=BundleEntryRequest(
                method="POST", url="QuestionnaireResponse", ifNoneExist=ident
            ),
        )
    ]
    targets = [qr_url]
    if records_concern(decision):
        flag_url = urn("flag:" + decision.id)
        entries.append(
            BundleEntry(
                fullUrl=flag_url,
                resource=safeguarding_flag(decision, patient_ref, encounter_ref),
                request=BundleEntryRequest(method="POST", url="Flag", ifNoneExist=ident),
            )
        )
        targets.append(flag_url)
    prov = provenance(decision, targets, organisation_ods)
    entries.append(
        BundleEntry(
            resource=prov, request=BundleEntryRequest(method="PUT", url=f"Provenance/{prov.id}")
        )
    )
    return Bundle(type="transaction", entry=entries)


def write_back_bundle(
    decision: Decision,
    assessment: Assessment | None,
    patient_id: str,
    encounter_id: str | None,
    organisation_ods: str = "",
) -> dict[str, Any]:
    """The transaction Bundle as sent: :func:`write_back_transaction` serialised."""
    return wire(
        write_back_transaction(decision, assessment, patient_id, encounter_id, organisation_ods)
    )
