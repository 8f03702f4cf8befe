"""Code systems and codes the FHIR adapter reads and writes. Facts from the specifications."""

from __future__ import annotations

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
V3_ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
V3_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
PROVENANCE_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"

# Pregnancy status (LOINC 82810-3) answered with SNOMED CT Pregnant / Not pregnant.
PREGNANCY_STATUS = (LOINC, "82810-3")
PREGNANT = (SNOMED, "77386006")
NOT_PREGNANT = (SNOMED, "60001007")

# ThinkFamily's own codes, for what no public code system names precisely.
TF_SYSTEM = "https://thinkfamily.example/fhir/CodeSystem/thinkfamily"
TF_IDENTIFIER = "https://thinkfamily.example/fhir/Id/decision"
TF_REFERRAL_ID = "https://thinkfamily.example/fhir/Id/referral"
TF_QUESTIONNAIRE = "https://thinkfamily.example/fhir/Questionnaire/think-family"
TF_HOUSEHOLD_IDENTIFIER = "https://thinkfamily.example/fhir/Id/household"
TF_HOUSEHOLD_QUESTIONNAIRE = (
    "https://thinkfamily.example/fhir/Questionnaire/think-family-household"
)
HOUSEHOLD_COMPOSITION = (TF_SYSTEM, "household-composition")
SAFEGUARDING_CONCERN = (TF_SYSTEM, "safeguarding-concern")

# NHS Booking and Referral Standard (BaRS) message codes.
BARS_EVENT = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
BARS_REASON = "https://fhir.nhs.uk/CodeSystem/message-reason-bars"

ENCOUNTER_KINDS = {
    "IMP": "inpatient",
    "ACUTE": "inpatient",
    "NONAC": "inpatient",
    "EMER": "emergency",
    "AMB": "outpatient",
    "OBSENC": "observation",
    "PRENC": "pre-admission",
    "HH": "home",
    "VR": "virtual",
    "SS": "day-case",
}
