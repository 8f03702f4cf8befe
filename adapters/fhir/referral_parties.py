"""The people, organisations and agreement a referral message names, one builder each.

Each builder returns an R4B model validated as it is built (see ``adapters.fhir.outbound``).
References inside a message point at the entries' fullUrls, so a resource whose local id
cannot be a FHIR id goes without one and is still linked.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.address import Address
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.consent import Consent, ConsentProvision
from fhir.resources.R4B.contactpoint import ContactPoint
from fhir.resources.R4B.encounter import Encounter as FhirEncounter
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.organization import Organization, OrganizationContact
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.relatedperson import RelatedPerson

from adapters.fhir import codes
from adapters.fhir.outbound import builds, coding, concept, fhir_id, ref, text_concept
from plugin_core.formats.referral_content import BASIS_TEXT, ChildEntry
from plugin_core.model import (
    Child,
    Decision,
    Destination,
    Encounter,
    Person,
    Professional,
    Referral,
    Relationship,
)
from plugin_core.rules.escalate import SafeguardingLead

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
SAFEGUARDING_CONTACT = "If the referrer cannot be reached"
"""The purpose of the sending trust's contact: its safeguarding lead or team."""
CLASS_CODES = {v: k for k, v in reversed(codes.ENCOUNTER_KINDS.items())}
GENDERS = frozenset({"male", "female", "other", "unknown"})


def _names(text: str | None) -> list[HumanName] | None:
    return [HumanName(text=text)] if text else None


def _postcode(postcode: str | None) -> list[Address] | None:
    return [Address(postalCode=postcode)] if postcode else None


@builds("Patient")
def patient(person: Person, patient_id: str) -> Patient:
    """The adult, with the id the EHR knows them by when it is a FHIR id."""
    nhs = person.nhs_number
    return Patient(
        id=fhir_id(patient_id),
        identifier=[Identifier(system=codes.NHS_NUMBER, value=nhs)] if nhs else None,
        name=_names(person.name),
        gender=person.sex if person.sex in GENDERS else None,
        birthDate=person.birth_date,
        address=_postcode(person.postcode),
    )


def relationship_concept(child: Child | ChildEntry) -> CodeableConcept:
    """The child's relationship to the adult: a v3 RoleCode, or words when none fits."""
    code = ROLE_CODES.get(child.relationship)
    if code is None:  # a partner's child, someone else's, or not known: say so in words
        text = ROLE_TEXTS.get(child.relationship, child.relationship.value.replace("_", " "))
        return text_concept(text)
    return concept(codes.V3_ROLE, code)


LIVES_CODES = {True: "lives-with-adult", False: "lives-elsewhere", None: "lives-not-known"}
"""Who the child lives with, as a second relationship: FHIR has no element of its own for it."""


def lives_concept(child: ChildEntry) -> CodeableConcept:
    """Whether the child lives with the adult, elsewhere, or nobody knows."""
    words = f"Lives {child.lives_text}" if child.lives_with_adult is not None else "Home not known"
    return concept(codes.TF_SYSTEM, LIVES_CODES[child.lives_with_adult], words)


@builds("RelatedPerson")
def related_person(child: ChildEntry, patient_url: str) -> RelatedPerson:
    """A born child concerned: name, relationship, who they live with, birth date, postcode."""
    local = child.ref.split("/", 1)[1] if child.ref.startswith("RelatedPerson/") else None
    return RelatedPerson(
        id=fhir_id(local),
        patient=ref(patient_url),
        relationship=[relationship_concept(child), lives_concept(child)],
        name=_names(child.name),
        birthDate=child.birth_date,
        address=_postcode(child.postcode),
    )


@builds("Consent")
def consent(
    decision: Decision, referral: Referral, patient_url: str, practitioner_url: str
) -> Consent:
    """The lawful basis for sharing (UK GDPR Article 6) and what the adult agreed to."""
    basis = decision.lawful_basis or referral.lawful_basis
    agreed = decision.consent.value if decision.consent else "unknown"
    return Consent(
        status="active",
        scope=concept(codes.CONSENT_SCOPE, "patient-privacy"),
        category=[
            concept(
                codes.TF_SYSTEM,
                f"consent-{agreed}",
                text="Information sharing for safeguarding children",
            )
        ],
        patient=ref(patient_url),
        dateTime=decision.decided_at,
        performer=[ref(practitioner_url)],
        policyRule=concept(
            codes.TF_SYSTEM,
            basis.value if basis else "unknown",
            BASIS_TEXT[basis] if basis else None,
            text="UK GDPR Article 6 lawful basis",
        ),
        provision=ConsentProvision(type="permit"),
    )


def _telecom(who: Professional | SafeguardingLead) -> list[ContactPoint] | None:
    found = [
        ContactPoint(system=system, value=value, use="work")
        for system, value in (("phone", who.phone), ("email", who.email))
        if value
    ]
    return found or None


@builds("Practitioner")
def practitioner(who: Professional) -> Practitioner:
    """Who referred, with their direct phone and email; the identifier keeps the host's id
    even when it cannot be a FHIR id."""
    return Practitioner(
        id=fhir_id(who.id),
        identifier=(
            [Identifier(system=codes.TF_SYSTEM + "/professional", value=who.id)] if who.id else None
        ),
        name=_names(who.name),
        telecom=_telecom(who),
    )


@builds("PractitionerRole")
def practitioner_role(
    who: Professional, practitioner_url: str, organisation_url: str
) -> PractitionerRole:
    """The referrer's role, in the team (or trust) the organisation reference names."""
    return PractitionerRole(
        active=True,
        practitioner=ref(practitioner_url),
        organization=ref(organisation_url),
        code=[text_concept(who.role)] if who.role else None,
        telecom=_telecom(who),
    )


@builds("Organization")
def team(name: str, sender_url: str) -> Organization:
    """The referrer's team, part of the sending trust."""
    return Organization(
        name=name,
        type=[concept(codes.ORGANIZATION_TYPE, "team", "Organizational team")],
        partOf=ref(sender_url),
    )


@builds("Organization")
def sender(
    sender_id: str, sender_name: str, safeguarding: SafeguardingLead | None = None
) -> Organization:
    """The trust sending the referral, with its safeguarding team as the contact for when the
    referrer cannot be reached."""
    contact = None
    if safeguarding is not None:
        contact = [
            OrganizationContact(
                purpose=text_concept(
                    f"{SAFEGUARDING_CONTACT}: {safeguarding.role}"
                    if safeguarding.role
                    else SAFEGUARDING_CONTACT
                ),
                name=HumanName(text=safeguarding.name),
                telecom=_telecom(safeguarding),
            )
        ]
    return Organization(id=fhir_id(sender_id), name=sender_name or None, contact=contact)


@builds("Organization")
def receiver(destination: Destination) -> Organization:
    """The authority's children's services, or the route's label when no authority is known."""
    authority = destination.authority
    name = authority.name if authority else (destination.label or "children's services")
    return Organization(id=fhir_id(authority.id) if authority else None, name=name)


@builds("Encounter")
def encounter(found: Encounter, patient_url: str) -> FhirEncounter:
    """The contact's encounter, in progress, with its v3 ActCode class."""
    # ``class`` is a Python keyword, so it goes in by its FHIR name.
    fields: dict[str, Any] = {"class": coding(codes.V3_ACT, CLASS_CODES.get(found.kind, "AMB"))}
    return FhirEncounter(
        id=fhir_id(found.id), status="in-progress", subject=ref(patient_url), **fields
    )
