"""A household recorded by a professional, written back into the EHR in one transaction: a
RelatedPerson for each child and a QuestionnaireResponse with the whole answer.

Each is a conditional create on an identifier made from the answer's id, so a repeated write
(a retry after a fault) creates nothing new. A declined answer writes the QuestionnaireResponse
only: nobody knows the household, and an empty list of RelatedPersons would read as none.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle, BundleEntry, BundleEntryRequest
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse,
    QuestionnaireResponseItem,
    QuestionnaireResponseItemAnswer,
)
from fhir.resources.R4B.relatedperson import RelatedPerson

from adapters.fhir import codes
from adapters.fhir.outbound import builds, coding, concept, ref, text_concept, urn, wire
from adapters.fhir.referral_parties import ROLE_CODES, ROLE_TEXTS
from plugin_core.model import HouseholdAnswer, HouseholdChild, HouseholdOutcome
from plugin_core.rules.household_entry import age_band

Item = QuestionnaireResponseItem
Answer = QuestionnaireResponseItemAnswer

OUTCOME_TEXT = {
    HouseholdOutcome.NO_CHILDREN: "No children under 18 in the household",
    HouseholdOutcome.CHILDREN: "Children recorded",
    HouseholdOutcome.DECLINED: "Patient declined or unable to answer",
}


def child_identifier(answer: HouseholdAnswer, number: int) -> str:
    return f"{answer.id}-{number}"


def practitioner(professional_id: str) -> str:
    return (
        professional_id
        if professional_id.startswith("Practitioner/")
        else f"Practitioner/{professional_id}"
    )


def _relationship(child: HouseholdChild) -> CodeableConcept:
    code = ROLE_CODES.get(child.relationship)
    if code is None:
        text = ROLE_TEXTS.get(child.relationship, child.relationship.value.replace("_", " "))
        return text_concept(text)
    return concept(codes.V3_ROLE, code)


def _lives(child: HouseholdChild) -> CodeableConcept:
    if child.lives_with_patient:
        return concept(codes.TF_SYSTEM, "lives-with-adult", "Lives with the adult")
    return concept(codes.TF_SYSTEM, "lives-elsewhere", "Lives elsewhere")


@builds("RelatedPerson")
def child_person(
    answer: HouseholdAnswer, number: int, child: HouseholdChild, patient_ref: str
) -> RelatedPerson:
    return RelatedPerson(
        identifier=[
            Identifier(system=codes.TF_HOUSEHOLD_IDENTIFIER, value=child_identifier(answer, number))
        ],
        active=True,
        patient=ref(patient_ref),
        relationship=[_relationship(child), _lives(child)],
        name=[HumanName(text=child.name)] if child.name.strip() else None,
        birthDate=child.birth_date,
    )


def _item(link_id: str, text: str, answer: Answer | None) -> Item | None:
    return Item(linkId=link_id, text=text, answer=[answer]) if answer is not None else None


def _child_item(number: int, child: HouseholdChild, person_url: str) -> Item:
    estimate = child.estimated_age if child.birth_date is None else None
    parts = [
        _item("child-person", "Child", Answer(valueReference=ref(person_url))),
        _item("child-name", "Name", Answer(valueString=child.name) if child.name else None),
        _item(
            "child-birth-date",
            "Date of birth",
            Answer(valueDate=child.birth_date) if child.birth_date else None,
        ),
        _item(
            "child-estimated-age",
            "Estimated age in years",
            Answer(valueInteger=estimate) if estimate is not None else None,
        ),
        _item(
            "child-age-band",
            "Age band (estimated)",
            Answer(valueString=age_band(estimate)) if estimate is not None else None,
        ),
        _item(
            "child-relationship",
            "Relationship",
            Answer(valueCoding=coding(codes.TF_SYSTEM, child.relationship.value)),
        ),
        _item(
            "child-lives-with",
            "Lives with the patient",
            Answer(valueBoolean=child.lives_with_patient),
        ),
        _item(
            "child-school",
            "School or nursery",
            Answer(valueString=child.school) if child.school.strip() else None,
        ),
    ]
    return Item(linkId=f"child-{number}", text="Child", item=[p for p in parts if p])


@builds("QuestionnaireResponse")
def household_response(
    answer: HouseholdAnswer, patient_ref: str, encounter_ref: str | None, people: list[str]
) -> QuestionnaireResponse:
    """The answer as the professional gave it; ``people`` are the children's entry URLs."""
    items = [
        _item(
            "household-outcome",
            "Household",
            Answer(
                valueCoding=coding(
                    codes.TF_SYSTEM, answer.outcome.value, OUTCOME_TEXT[answer.outcome]
                )
            ),
        ),
        _item(
            "pregnant",
            "The patient is pregnant",
            Answer(valueBoolean=answer.pregnant) if answer.pregnant is not None else None,
        ),
        *(
            _child_item(number, child, url)
            for number, (child, url) in enumerate(zip(answer.children, people, strict=True), 1)
        ),
    ]
    return QuestionnaireResponse(
        identifier=Identifier(system=codes.TF_HOUSEHOLD_IDENTIFIER, value=answer.id),
        questionnaire=codes.TF_HOUSEHOLD_QUESTIONNAIRE,
        status="completed",
        subject=ref(patient_ref),
        encounter=ref(encounter_ref) if encounter_ref else None,
        authored=answer.recorded_at,
        author=ref(practitioner(answer.recorded_by.id)),
        item=[i for i in items if i is not None],
    )


@builds("Bundle")
def household_transaction(
    answer: HouseholdAnswer, patient_id: str, encounter_id: str | None
) -> Bundle:
    patient_ref = f"Patient/{patient_id}"
    encounter_ref = f"Encounter/{encounter_id}" if encounter_id else None
    entries: list[BundleEntry] = []
    people: list[str] = []
    for number, child in enumerate(answer.children, start=1):
        ident = child_identifier(answer, number)
        url = urn("household-child:" + ident)
        people.append(url)
        entries.append(
            BundleEntry(
                fullUrl=url,
                resource=child_person(answer, number, child, patient_ref),
                request=BundleEntryRequest(
                    method="POST",
                    url="RelatedPerson",
                    ifNoneExist=f"identifier={codes.TF_HOUSEHOLD_IDENTIFIER}|{ident}",
                ),
            )
        )
    entries.append(
        BundleEntry(
            fullUrl=urn("household:" + answer.id),
            resource=household_response(answer, patient_ref, encounter_ref, people),
            request=BundleEntryRequest(
                method="POST",
                url="QuestionnaireResponse",
                ifNoneExist=f"identifier={codes.TF_HOUSEHOLD_IDENTIFIER}|{answer.id}",
            ),
        )
    )
    return Bundle(type="transaction", entry=entries)


def household_bundle(
    answer: HouseholdAnswer, patient_id: str, encounter_id: str | None
) -> dict[str, Any]:
    """The transaction Bundle as sent."""
    return wire(household_transaction(answer, patient_id, encounter_id))
